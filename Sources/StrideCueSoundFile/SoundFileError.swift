import CSndFile
import Glibc
import StrideCueCore

/// A failure of libsndfile or of the file system underneath it, naming the file and the call.
public struct SoundFileError: UserFacingError, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The input does not exist (sysexits 66).
        case missing
        /// The input exists but is not a sound file libsndfile can read (65).
        case unreadable
        /// The output cannot be created: no folder, no permission (73).
        case cannotCreate
        /// Reading or writing failed part way: a full disk, an I/O error (74).
        case io
        /// Writing was interrupted on request (Ctrl-C); nothing was left behind.
        case interrupted
    }

    public var kind: Kind
    /// The file as the user named it.
    public var path: String
    /// The C call that failed, e.g. `sf_open`.
    public var call: String
    /// What went wrong, in words.
    public var reason: String

    public var description: String { "\(path): \(reason)" }
    public var exitStatus: Int32 { exitCode }

    /// The sysexits code a command should exit with.
    public var exitCode: Int32 {
        switch kind {
        case .missing: return 66
        case .unreadable: return 65
        case .cannotCreate: return 73
        case .io: return 74
        case .interrupted: return 130
        }
    }
}

/// Where libsndfile keeps its words for a failure, which depends on how the call failed.
enum SndFileMessage {
    /// An open that returned no handle: `sf_strerror(NULL)`, the last open's error.
    case lastOpen
    /// A call that returned a non-zero status: `sf_error_number(status)`.
    case status(Int32)
    /// A call on an open handle (a short read or write, a refused command): `sf_strerror(handle)`.
    case handle(OpaquePointer)

    /// libsndfile's message, tidied.
    var text: String {
        switch self {
        case .lastOpen: cleaned(String(cString: sf_strerror(nil)))
        case .status(let code): cleaned(String(cString: sf_error_number(code)))
        case .handle(let handle): cleaned(String(cString: sf_strerror(handle)))
        }
    }
}

/// The one place a libsndfile call's result is checked. libsndfile says a call failed in three
/// ways — an open returns no handle, a call returns a non-zero status, a read or write returns
/// fewer frames (or a command refuses) with the handle's error set — so the caller says whether
/// it failed and where the message is; the error names the call and carries libsndfile's words.
/// - Parameters:
///   - failed: whether the call failed, by its own convention.
///   - reason: the reason shown, from libsndfile's message (by default the message itself).
func sndfileCheck(_ failed: Bool, _ call: String, path: String, kind: SoundFileError.Kind = .io,
                  message: SndFileMessage, reason: (String) -> String = { $0 }) throws(SoundFileError) {
    guard failed else { return }
    throw SoundFileError(kind: kind, path: path, call: call, reason: reason(message.text))
}

/// The one place a system call's `-1`/errno is checked.
@discardableResult
func systemCheck(_ result: Int32, _ call: StaticString, path: String, kind: SoundFileError.Kind) throws(SoundFileError) -> Int32 {
    guard result < 0 else { return result }
    let code = errno
    throw SoundFileError(kind: kind, path: path, call: "\(call)", reason: String(cString: strerror(code)))
}

/// libsndfile messages end with a full stop and sometimes start with "System error : ".
func cleaned(_ message: String) -> String {
    var m = Substring(message)
    if m.hasPrefix("System error : ") { m = m.dropFirst("System error : ".count) }
    while m.last == "." || m.last == " " || m.last == "\n" { m = m.dropLast() }
    return String(m)
}
