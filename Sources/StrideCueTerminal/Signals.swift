import Glibc
import StrideCueCore
import StrideCueFiles
import Synchronization

/// SIGINT and SIGTERM (and, while playing, SIGHUP and SIGQUIT) land here: long work checks it
/// between blocks and unwinds, so temporary files are removed and the terminal is restored on
/// the normal way out.
public let interruptions = Cancellation()

/// The descriptor of a `WakeUp` the handler also signals, or -1: a loop that sleeps in poll
/// on it wakes for a signal that arrives at any moment, including just before it calls poll.
public let signalWakeup = Atomic<Int32>(-1)

/// Installs handlers that only note the signal in `interruptions` (and wake a sleeping player).
public func catchInterrupts() {
    // Both globals are initialized here, never first in the handler (that could take a lock).
    _ = signalWakeup.load(ordering: .relaxed)
    _ = interruptions.signal
    let handler: @convention(c) (Int32) -> Void = { signal in
        noteSignal(signal)
    }
    signal(SIGINT, handler)
    signal(SIGTERM, handler)
    // A parent may hand us these signals blocked (a blocked mask survives exec); a runner's
    // Ctrl-C must still reach us.
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    sigprocmask(SIG_UNBLOCK, &set, nil)
}

/// Async-signal-safe: an atomic store and a write(2).
public func noteSignal(_ signal: Int32) {
    interruptions.cancel(signal: signal)
    wakeSignalWaiter()
}

/// Async-signal-safe: signals the wake-up descriptor, if one is set, keeping errno.
func wakeSignalWaiter() {
    WakeUp.signal(signalWakeup.load(ordering: .relaxed))
}

/// Writes one line to standard error. Control characters in it (from a file name, a preset,
/// a flag) are shown as escapes, never sent raw to the terminal.
public func printError(_ line: String) {
    writeStandardError(escaped(line) + "\n")
}

/// Writes text to file descriptor 2 as is, unbuffered (C's `stderr` is shared mutable state).
public func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// Whether standard error is a terminal (for progress bars and the status line).
public var standardErrorIsTerminal: Bool { isatty(2) == 1 }
