import Glibc

// Files StrideCue writes whole (presets, pictures, playlists, cue sheets): folders made as
// needed, and each file replaced atomically, so a failure never leaves half a file behind.

/// Creates a folder and its missing parents, like `mkdir -p`.
func makeFolders(_ path: String) throws {
    var current = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
        current += "/" + part
        if mkdir(current, 0o755) != 0 && errno != EEXIST {
            throw Failure("cannot create the folder \(current): \(String(cString: strerror(errno)))", exitCode: ExitStatus.cannotCreate)
        }
    }
    guard isDirectory(path) else {
        throw Failure("\(path) is not a folder", exitCode: ExitStatus.cannotCreate)
    }
}

/// Replaces (or creates) `path` with `bytes` so that it holds either the old or the new
/// contents, never a mix: the bytes go to a temporary file in the same folder, which is
/// flushed to disk and then renamed over `path`; the folder is flushed too, so the rename
/// survives a crash. On any failure the temporary file is removed and `path` is untouched.
/// An existing file keeps its permissions. The corresponding C calls are `mkstemp`, `write`,
/// `fsync` and `rename`.
func replaceFile(_ path: String, with bytes: [UInt8]) throws {
    let slash = path.lastIndex(of: "/")
    let folder = slash.map { String(path[..<$0]) } ?? "."
    let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
    var template = Array("\(folder.isEmpty ? "" : folder)/.\(base).tmp-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw fileFailure(path, "create a file in its folder", errno, ExitStatus.cannotCreate) }
    let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    var committed = false
    defer {
        if !committed { unlink(temporary) }
    }
    // mkstemp makes the file 0600; a preset or picture is read like any other file, so it
    // gets the old file's permissions, or what the umask allows a new one.
    var existing = stat()
    let mode: mode_t
    if stat(path, &existing) == 0 {
        mode = existing.st_mode & 0o7777
    } else {
        let mask = umask(0)
        umask(mask)
        mode = 0o666 & ~mask
    }
    fchmod(fd, mode)

    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { raw in
            injectedFailure("write") ?? write(fd, raw.baseAddress! + offset, bytes.count - offset)
        }
        if n < 0 {
            if errno == EINTR { continue }
            let code = errno
            close(fd)
            throw fileFailure(path, "write", code, ExitStatus.ioError)
        }
        offset += n
    }
    if (injectedFailure("fsync").map(Int32.init) ?? fsync(fd)) != 0 {
        let code = errno
        close(fd)
        throw fileFailure(path, "flush", code, ExitStatus.ioError)
    }
    guard close(fd) == 0 else { throw fileFailure(path, "write", errno, ExitStatus.ioError) }
    if (injectedFailure("rename").map(Int32.init) ?? rename(temporary, path)) != 0 {
        throw fileFailure(path, "replace", errno, ExitStatus.cannotCreate)
    }
    committed = true
    let folderFD = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folderFD >= 0 {
        fsync(folderFD)
        close(folderFD)
    }
}

private func fileFailure(_ path: String, _ action: String, _ code: Int32, _ exitCode: Int32) -> Failure {
    Failure("cannot \(action) \(path): \(String(cString: strerror(code))); nothing was changed", exitCode: exitCode)
}

/// In debug builds, `STRIDECUE_FAIL_FILE_CALL=write` (or `fsync`, `rename`) makes that call
/// fail with EIO, so tests can check that a failed write leaves the old file in place.
private func injectedFailure(_ call: String) -> Int? {
    #if DEBUG
    if environment("STRIDECUE_FAIL_FILE_CALL") == call {
        errno = EIO
        return -1
    }
    #endif
    return nil
}
