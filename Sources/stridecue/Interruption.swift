import Glibc
import Synchronization

/// The signal that asked us to stop (SIGINT, SIGTERM), or 0.
let receivedSignal = Atomic<Int32>(0)

/// Installs handlers that only note the signal; long loops check `interruption` and unwind,
/// so temporary files are removed and the terminal is restored on the normal exit path.
func catchInterrupts() {
    let handler: @convention(c) (Int32) -> Void = { signal in
        receivedSignal.store(signal, ordering: .relaxed)
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
