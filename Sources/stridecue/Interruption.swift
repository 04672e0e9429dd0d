import Glibc
import Synchronization

/// The signal that asked us to stop (SIGINT, SIGTERM), or 0.
let receivedSignal = Atomic<Int32>(0)

/// The write end of a non-blocking pipe the handler also writes a byte to, or -1: a loop
/// that sleeps in poll on the read end wakes for a signal that arrives at any moment,
/// including just before it calls poll.
let signalWakeup = Atomic<Int32>(-1)

/// Installs handlers that only note the signal; long loops check `interruption` and unwind,
/// so temporary files are removed and the terminal is restored on the normal exit path.
func catchInterrupts() {
    _ = signalWakeup.load(ordering: .relaxed)  // initialized here, never first in the handler
    let handler: @convention(c) (Int32) -> Void = { signal in
        receivedSignal.store(signal, ordering: .relaxed)
        let wakeup = signalWakeup.load(ordering: .relaxed)
        if wakeup >= 0 {
            var byte: UInt8 = 0
            let saved = errno
            _ = write(wakeup, &byte, 1)
            errno = saved
        }
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

/// The Failure to report when a signal arrived, or nil.
func interruption(discarding path: String) -> Failure? {
    let signal = receivedSignal.load(ordering: .relaxed)
    guard signal != 0 else { return nil }
    let name = signal == SIGTERM ? "terminated" : "interrupted"
    return Failure("\(name); nothing was written to \(path)", exitCode: 128 + signal)
}
