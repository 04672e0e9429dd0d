import Glibc
import StrideCueCore

/// Where the shipped `Presets/` and `Sounds/` live.
///
/// Looked for, in order: `$STRIDECUE_DATA`; next to the executable; under the install prefix
/// (`<prefix>/share/stridecue` for `<prefix>/bin/stridecue`); the source tree this binary was
/// built from. Bundling them as SwiftPM resources is fragile on Linux, so they are found at run time.
struct DataFolder {
    let path: String

    var presets: String { path + "/Presets" }
    var clickSounds: String { path + "/Sounds/clicks" }

    static func locate() -> DataFolder? {
        var candidates: [String] = []
        if let env = getenv("STRIDECUE_DATA") { candidates.append(String(cString: env)) }
        if let exe = executableFolder() {
            candidates.append(exe)
            candidates.append(exe + "/../share/stridecue")
        }
        // Sources/stridecue/DataFolder.swift → the package root.
        let source = "\(#filePath)"
        var parts = source.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 3 {
            parts.removeLast(3)
            candidates.append(parts.joined(separator: "/"))
        }
        return candidates.first(where: { isDirectory($0 + "/Presets") || isDirectory($0 + "/Sounds") })
            .map(DataFolder.init(path:))
    }

    private static func executableFolder() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let path = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}

/// Reads a whole file, refusing anything over `limit` bytes without reading it.
func readFile(_ path: String, limit: Int) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
        let code = errno
        throw Failure("\(path): \(String(cString: strerror(code)))",
                      exitCode: code == ENOENT ? ExitStatus.noInput : ExitStatus.noInput)
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
        throw Failure("\(path): \(String(cString: strerror(errno)))", exitCode: ExitStatus.ioError)
    }
    if (st.st_mode & S_IFMT) == S_IFDIR {
        throw Failure("\(path): is a folder, not a file", exitCode: ExitStatus.noInput)
    }
    if st.st_size > limit {
        // Keep the decoder's message and position for an oversized file: hand it a prefix.
        return try readPrefix(fd, path: path, count: limit + 1)
    }
    return try readPrefix(fd, path: path, count: Int(st.st_size) + 1)
}

private func readPrefix(_ fd: Int32, path: String, count: Int) throws -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var total = 0
    while total < count {
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, count - total) }
        if n < 0 {
            if errno == EINTR { continue }
            throw Failure("\(path): \(String(cString: strerror(errno)))", exitCode: ExitStatus.ioError)
        }
        if n == 0 { break }
        total += n
    }
    return Array(bytes.prefix(total))
}
