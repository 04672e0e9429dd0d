import Glibc
import StrideCueCore

/// Serializes edits of one file between processes: `preset set`, `new` and `rm` (and the
/// coach's remote) hold it while they read, change and replace a preset, so two editors at
/// once both land, one after the other, instead of the second overwriting the first.
///
/// The lock is an advisory `flock` on the file's folder, not on the file itself: an atomic
/// replace gives the file a new inode, and a lock on the old one would let the next editor in
/// early. Edits take milliseconds, so one lock for the folder costs nothing, and it leaves no
/// file behind; the kernel drops it when the holder exits, however it exits.
public struct EditLock: ~Copyable {
    private let descriptor: Int32

    /// How long a second editor waits before giving up (exit 75).
    public static let patience = 5.0

    /// Takes the lock for `path`, waiting while another process holds it.
    /// - Parameter cancellation: a signal ends the wait.
    /// - Throws: `FileError` 75 ("busy") when the wait runs out; 73 when the lock file cannot be made.
    public init(for path: String, cancellation: Cancellation? = nil) throws {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
        try self.init(folder: folder, naming: path, patience: Self.patience, cancellation: cancellation,
                      busy: "another edit of it has been running for \(Int(Self.patience)) s; try again")
    }

    /// Takes the lock of `folder` itself (an export holds it on its folder for the whole export).
    /// - Parameters:
    ///   - naming: the file or folder errors name.
    ///   - patience: seconds to wait for another holder; then `busy` is the reason given (exit 75).
    public init(folder: String, naming path: String, patience: Double, cancellation: Cancellation?, busy: String) throws {
        let fd = try fileCall("open", folder, "lock the folder of", status: ExitStatus.cannotCreate) {
            open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        let deadline = monotonicSeconds() + patience
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                close(fd)
                throw FileError(path: path, call: "flock", action: "lock", errno: code, exitStatus: ExitStatus.ioError)
            }
            if let stop = cancellation?.interruption(discarding: path) {
                close(fd)
                throw stop
            }
            if monotonicSeconds() > deadline {
                close(fd)
                throw FileError(path: path, call: "flock", action: "change", errno: code, exitStatus: ExitStatus.busy,
                                reason: busy)
            }
            usleep(10_000)
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
