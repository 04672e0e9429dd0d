import CFileSync
import Glibc

/// The one way to wake a thread that sleeps in `poll`: an eventfd (non-blocking, closed on
/// exec). Whoever wakes it — another thread, a signal handler, the playback thread — calls
/// `signal`; whoever sleeps polls `descriptor` for `POLLIN` and then `drain`s it. A wake-up
/// given before the sleeper reaches `poll` is kept, so none is lost.
///
/// Owned: it cannot be copied, and the eventfd is closed in `deinit`. Kept for as long as anyone
/// may signal it: a signal handler or a thread that read the descriptor must never write to a
/// closed (or reused) one.
public struct WakeUp: ~Copyable, Sendable {
    /// The eventfd, or -1 when none could be made: then a sleeper's `poll` only times out
    /// (slower to notice, nothing worse), and `signal` does nothing.
    public let descriptor: Int32

    public init() {
        descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Wakes whoever polls this. See `WakeUp.signal(_:)`.
    @_noAllocation @_noLocks
    public func signal() { WakeUp.signal(descriptor) }

    /// Takes every wake-up given so far, so that the next `poll` sleeps. See `WakeUp.drain(_:)`.
    @_noAllocation @_noLocks
    public func drain() { WakeUp.drain(descriptor) }

    /// Sleeps until woken or `milliseconds` have passed (-1: no limit), then takes the wake-ups.
    /// - Returns: whether it was woken.
    @discardableResult
    public func wait(milliseconds: Int32) -> Bool {
        var sleeper = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let woken = poll(&sleeper, 1, milliseconds) > 0
        if woken { drain() }
        return woken
    }

    /// Wakes whoever polls `descriptor` (for a signal handler or a loop that holds only the
    /// number); nothing for -1. Async-signal-safe: one `write(2)`, and errno as it was.
    ///
    /// Real-time safety: allocates nothing, takes no lock (a system call, vouched for).
    /// The corresponding C function is `write`.
    @_noAllocation @_noLocks
    public static func signal(_ descriptor: Int32) {
        guard descriptor >= 0 else { return }
        _unsafePerformance {
            var one: UInt64 = 1
            let saved = errno
            _ = write(descriptor, &one, 8)
            errno = saved
        }
    }

    /// Takes every wake-up given to `descriptor` so far. Real-time safety: as `signal`.
    /// The corresponding C function is `read`.
    @_noAllocation @_noLocks
    public static func drain(_ descriptor: Int32) {
        guard descriptor >= 0 else { return }
        _unsafePerformance {
            var count: UInt64 = 0
            _ = read(descriptor, &count, 8)
        }
    }
}
