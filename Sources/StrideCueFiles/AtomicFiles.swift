import Glibc
import StrideCueCore
import Synchronization
import CFileSync

// Every file StrideCue writes whole (presets, pictures, playlists, cue sheets, sound files)
// goes through `AtomicFile`: a failure never leaves half a file behind, and a crash leaves no
// hidden one either.

/// A failed system call on a file, naming the call and the file.
public struct FileError: UserFacingError, Equatable, Sendable {
    /// The file as the user named it.
    public var path: String
    /// The C call that failed, e.g. `rename`.
    public var call: String
    /// What StrideCue was doing, in words: "write", "replace", "create a file in its folder".
    public var action: String
    public var errno: Int32
    public var exitStatus: Int32
    /// Words of our own instead of strerror's, for conditions no errno names.
    public var reason: String?

    public init(path: String, call: String, action: String, errno: Int32, exitStatus: Int32, reason: String? = nil) {
        self.path = path
        self.call = call
        self.action = action
        self.errno = errno
        self.exitStatus = exitStatus
        self.reason = reason
    }

    public var description: String {
        let why = reason ?? String(cString: strerror(errno))
        // Reading, and the check of an output before anything is made: the file and the reason,
        // as a sound file's own errors read.
        return action == "read" || action == "check" ? "\(path): \(why)" : "cannot \(action) \(path): \(why); nothing was changed"
    }
}

/// The one place a file system call's `-1`/errno is checked: a negative result becomes a
/// `FileError` naming the call. EINTR is retried.
@discardableResult
public func fileCall<T: BinaryInteger>(_ call: StaticString, _ path: String, _ action: String, status: Int32,
                                       _ body: () -> T) throws(FileError) -> T {
    while true {
        if let injected = injectedFailure("\(call)") ?? injectedFault("\(call)", path) {
            throw FileError(path: path, call: "\(call)", action: action, errno: injected, exitStatus: status)
        }
        let result = body()
        if result >= 0 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw FileError(path: path, call: "\(call)", action: action, errno: code, exitStatus: status)
    }
}

/// A new version of a file, written beside it and put in its place in one step by `commit()`.
///
/// Where the file system allows it (ext4, tmpfs, xfs, btrfs), the new version is an unnamed
/// file (`O_TMPFILE`) until it is complete: a process killed mid-write, even by SIGKILL,
/// leaves nothing behind. Elsewhere it is a hidden file named `.NAME.stridecue-PID-XXXXXX`,
/// which a later `AtomicFile` in the same folder removes once process PID is gone.
///
/// The new version keeps the old file's permissions (and, for root, its owner); a new file
/// gets what the umask allows. A destination that exists but is not a regular file (a FIFO,
/// a device, a folder) is refused: replacing it would not be what the user meant.
///
/// Dropped without `commit()` (an error, Ctrl-C), the new version is discarded and the old
/// file is untouched. The corresponding C calls are `open(O_TMPFILE)` or `mkstemp`, `fchmod`,
/// `fsync`, `linkat`, `rename` and `fsync` on the folder.
public final class AtomicFile {
    /// The destination, as the user named it.
    public let path: String
    /// Open for writing (and reading) the new version.
    public private(set) var descriptor: Int32
    private let folder: String
    private let name: String
    /// The hidden name, for a named temporary file; nil for an unnamed one.
    private var temporaryPath: String?
    private var committed = false

    /// Creates the new version.
    /// - Throws: `FileError` (exit 73) when the folder is missing or not writable, or the
    ///   destination is not a regular file.
    public init(replacing path: String) throws(FileError) {
        self.path = path
        let slash = path.lastIndex(of: "/")
        folder = slash.map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
        name = slash.map { String(path[path.index(after: $0)...]) } ?? path

        var existing = stat()
        let exists = stat(path, &existing) == 0
        if exists && (existing.st_mode & S_IFMT) != S_IFREG {
            let what = (existing.st_mode & S_IFMT) == S_IFDIR ? "a folder" : "not a regular file (a FIFO, device or socket)"
            throw FileError(path: path, call: "stat", action: "replace", errno: EEXIST, exitStatus: ExitStatus.cannotCreate,
                            reason: "it is \(what)")
        }
        let mode: mode_t
        if exists {
            mode = existing.st_mode & 0o7777
        } else {
            let mask = umask(0)
            umask(mask)
            mode = 0o666 & ~mask
        }

        let unnamed = injectedFailure("O_TMPFILE") == nil
            ? open(folder, oTmpFile | O_RDWR | O_CLOEXEC, mode) : -1
        if unnamed >= 0 {
            descriptor = unnamed
        } else {
            AtomicFile.removeAbandoned(in: folder)
            var template = Array("\(folder)/.\(name).stridecue-\(getpid())-XXXXXX".utf8CString)
            let fd = try fileCall("mkstemp", path, "create a file in the folder of", status: ExitStatus.cannotCreate) {
                template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            descriptor = fd
            temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
        // mkstemp makes 0600 and O_TMPFILE applies the umask: set what was asked for.
        _ = fchmod(descriptor, mode)
        if exists && getuid() == 0 {
            _ = fchown(descriptor, existing.st_uid, existing.st_gid)
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !committed, let temporaryPath { unlink(temporaryPath) }
    }

    /// Writes all of `bytes` at the current position.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
        var offset = 0
        while offset < bytes.count {
            let n = try fileCall("write", path, "write", status: ExitStatus.ioError) {
                Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            }
            if n == 0 {
                throw FileError(path: path, call: "write", action: "write", errno: ENOSPC, exitStatus: ExitStatus.ioError)
            }
            offset += n
        }
    }

    /// Flushes the new version to disk and puts it in place of the old; then flushes the
    /// folder, so the change survives a power cut.
    /// - Parameter beforeRename: called once the new version is on disk, with its stamp (see
    ///   `fileStamp`, which the file keeps under its name), before it takes the name: an export
    ///   records the file it is about to put in place. An error there leaves the old file.
    public func commit(beforeRename: ((_ stamp: String) throws(FileError) -> Void)? = nil) throws(FileError) {
        try fileCall("fsync", path, "flush", status: ExitStatus.ioError) { fsync(descriptor) }
        if let beforeRename {
            var st = stat()
            try fileCall("fstat", path, "flush", status: ExitStatus.ioError) { fstat(descriptor, &st) }
            try beforeRename(fileStamp(st))
        }
        if let temporaryPath {
            try fileCall("rename", path, "replace", status: ExitStatus.cannotCreate) { rename(temporaryPath, path) }
        } else {
            // An unnamed file gets a name by linkat, which will not replace; so it is linked
            // under a hidden name and renamed over the destination.
            let hidden = "\(folder)/.\(name).stridecue-\(getpid())-\(UInt32.random(in: 0 ... .max))"
            try fileCall("linkat", path, "create a file in the folder of", status: ExitStatus.cannotCreate) {
                linkat(AT_FDCWD, "/proc/self/fd/\(descriptor)", AT_FDCWD, hidden, AT_SYMLINK_FOLLOW)
            }
            do throws(FileError) {
                try fileCall("rename", path, "replace", status: ExitStatus.cannotCreate) { rename(hidden, path) }
            } catch {
                unlink(hidden)
                throw error
            }
        }
        committed = true
        close(descriptor)
        descriptor = -1
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFD >= 0 {
            fsync(folderFD)
            close(folderFD)
        }
    }

    /// Removes hidden temporary files of this kind whose writer is no longer running: what a
    /// process killed mid-write left behind on a file system without `O_TMPFILE`.
    public static func removeAbandoned(in folder: String) {
        guard let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            // .NAME.stridecue-PID-XXXXXX
            let parts = entryName.split(separator: ".", omittingEmptySubsequences: false)
            guard entryName.hasPrefix("."), let last = parts.last, last.hasPrefix("stridecue-") else { continue }
            let rest = last.dropFirst("stridecue-".count).split(separator: "-")
            guard rest.count == 2, let pid = pid_t(rest[0]), pid > 0 else { continue }
            if kill(pid, 0) != 0 && Glibc.errno == ESRCH {
                unlink("\(folder)/\(entryName)")
            }
        }
    }
}

/// Size and modification time of a file, as text (`size seconds.nanoseconds`): what an export
/// folder's manifest records to know a file is still the one StrideCue wrote.
public func fileStamp(_ st: stat) -> String {
    "\(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
}

/// The stamp of `path` itself (a link's own, never its target's, unless `followingLinks`);
/// `- -` when absent.
public func fileStamp(_ path: String, followingLinks: Bool = false) -> String {
    var st = stat()
    guard (followingLinks ? stat(path, &st) : lstat(path, &st)) == 0 else { return "- -" }
    return fileStamp(st)
}

/// `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY` in Linux's generic ABI, x86-64 and arm64 among
/// them), which Glibc's module does not export without `_GNU_SOURCE`.
private let oTmpFile: Int32 = 0o20_000_000 | O_DIRECTORY

/// Replaces (or creates) `path` with `bytes` so that it holds either the old or the new
/// contents, never a mix (see `AtomicFile`).
public func replaceFile(_ path: String, with bytes: [UInt8]) throws(FileError) {
    let file = try AtomicFile(replacing: path)
    var failure: FileError?
    bytes.withUnsafeBytes { raw in
        do throws(FileError) { try file.write(raw) } catch { failure = error }
    }
    if let failure { throw failure }
    try file.commit()
}

/// Checks, before any work, that `path` could be replaced: its folder exists and takes a new
/// file, and `path` is not a folder, FIFO or device. The check makes the new version for real
/// (`AtomicFile`) and drops it, so what passes here is what `commit()` will find; nothing is
/// left behind.
/// - Throws: `FileError` (exit 73) naming `path`.
public func checkReplaceable(_ path: String) throws(FileError) {
    do throws(FileError) {
        _ = try AtomicFile(replacing: path)
    } catch {
        var error = error
        error.action = "check"
        throw error
    }
}

/// Creates a folder and its missing parents, like `mkdir -p`.
public func makeFolders(_ path: String) throws(FileError) {
    var current = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
        current += "/" + part
        if mkdir(current, 0o755) != 0 && Glibc.errno != EEXIST {
            throw FileError(path: current, call: "mkdir", action: "create the folder", errno: Glibc.errno,
                            exitStatus: ExitStatus.cannotCreate)
        }
    }
    guard isDirectory(path) else {
        throw FileError(path: path, call: "stat", action: "use the folder", errno: ENOTDIR, exitStatus: ExitStatus.cannotCreate,
                        reason: "it is not a folder")
    }
}

/// In debug builds, `STRIDECUE_FAIL_FILE_CALL=write` (or `fsync`, `rename`, `O_TMPFILE`…) makes
/// that call fail with EIO, so tests can check that a failed write leaves the old file in place.
func injectedFailure(_ call: String) -> Int32? {
    #if DEBUG
    if let asked = getenv("STRIDECUE_FAIL_FILE_CALL"), String(cString: asked) == call {
        return call == "O_TMPFILE" ? EOPNOTSUPP : EIO
    }
    #endif
    return nil
}

#if DEBUG
/// How many checked file calls this process has made, for `STRIDECUE_FAULT`.
private let checkedCalls = Atomic<Int>(0)
#endif

/// In debug builds, `STRIDECUE_FAULT=enospc@N` makes the Nth checked file call of the process
/// fail as on a full disk, and `kill@N` kills the process with SIGKILL just before it: tests
/// walk N over every step of an export. `stop@N` stops the process (SIGSTOP) just before it,
/// holding whatever it holds until a SIGCONT: a test can act while an export is at a known
/// step however loaded the machine is. `STRIDECUE_FAULT=log` prints each step to standard
/// error (`fault step N: call path`), so a test knows how many there are.
func injectedFault(_ call: String, _ path: String) -> Int32? {
    #if DEBUG
    guard let asked = getenv("STRIDECUE_FAULT") else { return nil }
    let fault = String(cString: asked)
    let n = checkedCalls.add(1, ordering: .relaxed).newValue
    if fault == "log" {
        let line = "fault step \(n): \(call) \(path)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        return nil
    }
    let parts = fault.split(separator: "@")
    guard parts.count == 2, let at = Int(parts[1]), at == n else { return nil }
    if parts[0] == "kill" { raise(SIGKILL) }
    if parts[0] == "stop" { raise(SIGSTOP) }
    if parts[0] == "enospc" { return ENOSPC }
    #endif
    return nil
}

/// Removes a file, and flushes its folder so the removal survives a power cut.
public func removeFile(_ path: String) throws(FileError) {
    try fileCall("unlink", path, "remove", status: ExitStatus.ioError) { unlink(path) }
    let slash = path.lastIndex(of: "/")
    let folder = slash.map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
    let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folderFD >= 0 {
        fsync(folderFD)
        close(folderFD)
    }
}

/// Writes a growing file back to disk while it is still being written, so that the `fsync`
/// before its rename (`AtomicFile.commit`) finds little left to do: a durable track then costs
/// about what writing its bytes costs, not that plus a disk flush at the end.
///
/// Every `chunk` bytes, the chunk just written is handed to the disk (`SYNC_FILE_RANGE_WRITE`,
/// which does not wait), and the chunk before it is waited for: the pages still dirty stay
/// under two chunks however long the track, and the waiting is done by the thread that
/// writes (the encoder's), while the renderer goes on. The corresponding C call is
/// `sync_file_range`, through `fileCall`.
public struct WriteBehind {
    public let descriptor: Int32
    public let path: String
    /// Bytes from the start handed to the disk so far.
    private var started: Int64 = 0

    /// 8 MiB: large enough that the disk sees long sequential writes, small enough that the
    /// last chunk, flushed by `fsync`, takes a few tens of milliseconds.
    public static let chunk: Int64 = 8 << 20

    public init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Tells it the file now holds `end` bytes (writes go forward; a header rewritten at the
    /// start later is left to `fsync`).
    /// - Throws: `FileError` (74) naming `sync_file_range` when the disk reports an error.
    public mutating func wrote(upTo end: Int64) throws(FileError) {
        while end - started >= Self.chunk {
            let start = started
            let fd = descriptor
            try fileCall("sync_file_range", path, "write", status: ExitStatus.ioError) {
                sync_file_range(fd, start, Self.chunk, UInt32(STRIDECUE_SYNC_FILE_RANGE_WRITE))
            }
            if start >= Self.chunk {
                let flags = STRIDECUE_SYNC_FILE_RANGE_WAIT_BEFORE | STRIDECUE_SYNC_FILE_RANGE_WRITE
                    | STRIDECUE_SYNC_FILE_RANGE_WAIT_AFTER
                try fileCall("sync_file_range", path, "write", status: ExitStatus.ioError) {
                    sync_file_range(fd, start - Self.chunk, Self.chunk, UInt32(flags))
                }
            }
            started += Self.chunk
        }
    }
}
