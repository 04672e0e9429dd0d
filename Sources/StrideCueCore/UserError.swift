import Synchronization

/// Exit statuses from sysexits(3), which every command and front end uses.
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let usage: Int32 = 64
    public static let dataError: Int32 = 65
    public static let noInput: Int32 = 66
    public static let unavailable: Int32 = 69
    public static let cannotCreate: Int32 = 73
    public static let ioError: Int32 = 74
    public static let busy: Int32 = 75
    public static let interrupted: Int32 = 130
}

/// An error a person can act on: one line of text, and the sysexits status a command ends with.
///
/// Every error type StrideCue throws past a library's edge conforms, so one mapper serves every
/// front end: the command line prints `stridecue: <message>` and exits with `exitStatus`; the
/// coach's remote answers with the message.
///
/// `description` is the line a person reads (a `PresetError` puts its `file:line:column:` first).
public protocol UserFacingError: Error, CustomStringConvertible {
    var exitStatus: Int32 { get }
}

/// The plain error of the project: a one-line message and its exit status.
public struct Failure: UserFacingError, Equatable, Sendable {
    public var message: String
    public var exitStatus: Int32
    public var description: String { message }

    public init(_ message: String, exitCode: Int32) {
        self.message = message
        self.exitStatus = exitCode
    }

    /// A bad command-line value: names the flag, exits 64.
    public static func flag(_ name: String, _ message: String) -> Failure {
        Failure("\(name) \(message)", exitCode: ExitStatus.usage)
    }
}

/// The message and exit status of any error: a `UserFacingError` as it says; anything else
/// (a bug: an error nobody wrapped) as its description, status 70 (internal software error).
public func explain(_ error: any Error) -> (message: String, status: Int32) {
    if let error = error as? any UserFacingError { return (error.description, error.exitStatus) }
    return ("\(error)", 70)
}

/// Asks long work (a render, an export, a wait) to stop: set once, from a signal handler, a key
/// or another thread; read by the work between blocks. Lock-free: a signal handler may set it.
public final class Cancellation: Sendable {
    private let reason = Atomic<Int32>(0)

    public init() {}

    /// Asks the work to stop; `signal` (SIGINT, SIGTERM, …) says why. The first reason stays.
    public func cancel(signal: Int32) {
        _ = reason.compareExchange(expected: 0, desired: signal, ordering: .relaxed)
    }

    /// The signal that asked to stop, or 0.
    public var signal: Int32 { reason.load(ordering: .relaxed) }
    public var isCancelled: Bool { signal != 0 }

    /// The error to throw when cancelled, or nil: `interrupted`/`terminated` and 128 + signal.
    public func interruption(discarding path: String) -> Failure? {
        let signal = self.signal
        guard signal != 0 else { return nil }
        let name = signal == 15 ? "terminated" : "interrupted"
        return Failure("\(name); nothing was written to \(path)", exitCode: 128 + signal)
    }

    /// Throws the interruption when cancelled.
    public func check(discarding path: String) throws {
        if let stop = interruption(discarding: path) { throw stop }
    }
}
