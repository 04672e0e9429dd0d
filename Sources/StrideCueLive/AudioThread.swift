import Synchronization

// MARK: The audio thread, checked

/// The audio thread's own state, as NIO's `NIOLoopBound` is an event loop's: the first thread
/// that renders claims the player; in a debug build any other thread that renders or
/// publishes before the claim is given back stops the program with a precondition.
///
/// The core imports no C, so it cannot ask which thread it runs on: an adapter that owns
/// threads installs `AudioThread.current` (the playback engine does, with `pthread_self`).
/// Without it the check is off.
public enum AudioThread {
    /// Returns a number that identifies the calling thread (never 0).
    nonisolated(unsafe) public static var current: (@convention(c) () -> UInt)? = nil
}

/// Which thread may use a player's audio-thread-only functions (see `AudioThread`). A value
/// stored in the player, so the audio thread reaches it without retaining anything.
struct AudioThreadConfinement: ~Copyable, @unchecked Sendable {
    private let owner = Atomic<UInt>(0)

    /// Claims the player for the calling thread, or checks that it holds it. Debug builds only.
    ///
    /// Real-time safety: allocates nothing, takes no lock (one atomic compare-exchange).
    @_noAllocation @_noLocks
    @inline(__always)
    func check() {
        #if DEBUG
        guard let current = AudioThread.current else { return }
        let me = _unsafePerformance { current() }
        let (claimed, held) = owner.compareExchange(expected: 0, desired: me, ordering: .acquiringAndReleasing)
        precondition(claimed || held == me, "an audio-thread-only function of LivePlayback was called from another thread")
        #endif
    }

    /// Gives the claim back: the thread that rendered is done (it ends, or hands over).
    func release() { owner.store(0, ordering: .releasing) }
}
