import Glibc

/// The one monotonic clock of the project (`CLOCK_MONOTONIC`): for waits, timeouts, stalls and
/// durations, never for dates. Every thread reads it here, the playback thread included.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary start (the machine's boot).
    ///
    /// Real-time safety: allocates nothing, takes no lock. `clock_gettime` is a vDSO read that
    /// does neither; the checker cannot see into C, so it is vouched for here.
    /// The corresponding C function is `clock_gettime`.
    @_noAllocation @_noLocks
    @inline(__always)
    public static func nanoseconds() -> Int64 {
        var now = timespec()
        _ = _unsafePerformance { clock_gettime(CLOCK_MONOTONIC, &now) }
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// Whole milliseconds since the same start. Real-time safety: as `nanoseconds()`.
    @_noAllocation @_noLocks
    @inline(__always)
    public static func milliseconds() -> Int { Int(nanoseconds() / 1_000_000) }

    /// The time as a `timespec`, for a moment kept to be reported later.
    /// Real-time safety: as `nanoseconds()`.
    @_noAllocation @_noLocks
    @inline(__always)
    public static func read(into time: inout timespec) {
        _ = _unsafePerformance { clock_gettime(CLOCK_MONOTONIC, &time) }
    }
}

/// Seconds on the monotonic clock (`MonotonicClock`), for the control threads.
public func monotonicSeconds() -> Double {
    Double(MonotonicClock.nanoseconds()) / 1e9
}
