import Glibc
import StrideCueCore

/// Reads a whole regular file, refusing anything over `limit` bytes without reading it all
/// (the first `limit + 1` bytes come back, so a decoder can say where the limit was passed).
///
/// The file is opened with `O_NONBLOCK` and checked with `fstat` before any read: a FIFO, a
/// device or a socket is refused (exit 66) instead of blocking forever.
public func readFile(_ path: String, limit: Int) throws(FileError) -> [UInt8] {
    let fd = try fileCall("open", path, "read", status: ExitStatus.noInput) {
        open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    }
    defer { close(fd) }
    var st = stat()
    try fileCall("fstat", path, "read", status: ExitStatus.ioError) { fstat(fd, &st) }
    try requireRegularFile(st, path: path)
    let count = st.st_size > limit ? limit + 1 : Int(st.st_size) + 1
    var bytes = [UInt8](repeating: 0, count: count)
    var total = 0
    while total < count {
        let n = try fileCall("read", path, "read", status: ExitStatus.ioError) {
            bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, count - total) }
        }
        if n == 0 { break }
        total += n
    }
    return Array(bytes.prefix(total))
}

/// Refuses what is not a regular file, in words a user understands.
public func requireRegularFile(_ st: stat, path: String) throws(FileError) {
    switch st.st_mode & S_IFMT {
    case S_IFREG: return
    case S_IFDIR:
        throw FileError(path: path, call: "fstat", action: "read", errno: EISDIR, exitStatus: ExitStatus.noInput,
                        reason: "is a folder, not a file")
    default:
        throw FileError(path: path, call: "fstat", action: "read", errno: EINVAL, exitStatus: ExitStatus.noInput,
                        reason: "not a regular file (a FIFO, device or socket)")
    }
}

public func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

public func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}

public func isRegularFile(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
}

/// A variable of the environment, or nil when it is unset.
public func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// CPU time of the whole process so far, every thread, start-up included. Exact, unlike
/// getrusage's (and so `time`'s) figures, which the kernel may sample at its timer tick.
public func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
