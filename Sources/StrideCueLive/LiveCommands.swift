import StrideCueCore
import Synchronization

// What the runner (keys) and the coach (the remote) ask of a session while it plays, and the
// queue that hands it to the audio thread without a lock on its side.

/// What a runner can ask of a session while it plays.
public enum LiveCommand: Sendable, Equatable {
    /// Change the cadence by this many steps per minute, from the next step on.
    case changeCadence(by: Double)
    /// Pause on the next step boundary, or resume; while a pause is pending, cancel it.
    case togglePause
    /// End the current rest now (the next set's count-in starts at once), or the current set (its rest starts).
    case skip
    /// Fade out over `LivePlayback.stopFadeSeconds` and end (at once, when paused).
    case stop
    // The coach's remote (its page and API) asks for these too.
    /// Set the cadence to this many steps per minute (clamped to 30–300), from the next step on.
    case setCadence(to: Double)
    /// Pause on the next step boundary; nothing when already paused or pausing.
    case pause
    /// Resume, or cancel a pending pause; nothing while playing.
    case resume
    /// Say this sound on the next step on which no cue sounds (at once while resting).
    case say(SpokenSample)
}

/// A queue of `LiveCommand`s with a fixed capacity, lock-free on the consumer's side.
///
/// Control threads push (the key thread, the remote's threads), one at a time: they take a
/// lock among themselves, `producers`, so that the ring stays single-producer. One thread pops:
/// the audio thread, which never takes that lock nor any other, and allocates nothing
/// (`pop` is `@_noAllocation @_noLocks`, checked by the compiler; a `LiveCommand` holds only
/// plain values, so copying one out of its slot retains nothing). Storage is allocated in
/// `init`. A producer holding the lock can delay only another producer, never the consumer.
/// The indices count up forever (an `Int` does not wrap in any real session); a slot is
/// `index & mask`. The producer publishes a slot with a release store of `tail`, the
/// consumer frees it with a release store of `head`, and each reads the other's index with
/// an acquire load, so a slot is never read before it is written nor overwritten before it
/// is read.
public final class LiveCommandQueue: @unchecked Sendable {
    /// Commands that can wait at once; a power of two.
    public let capacity: Int
    private let mask: Int
    private let slots: UnsafeMutablePointer<LiveCommand>
    /// Next index to pop; written by the consumer only.
    private let head = Atomic<Int>(0)
    /// Next index to push; written by the producer only.
    private let tail = Atomic<Int>(0)

    /// - Parameter capacity: at least this many commands can wait; rounded up to a power of two.
    public init(capacity: Int = 64) {
        precondition(capacity > 0, "a queue needs room for one command")
        var size = 1
        while size < capacity { size <<= 1 }
        self.capacity = size
        mask = size - 1
        slots = .allocate(capacity: size)
        slots.initialize(repeating: .stop, count: size)
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    /// Serializes producers: the key thread and the coach's remote's threads push to the
    /// same queue. Only producers take it; the audio thread's `pop` never does.
    private let producers = Mutex<Void>(())

    /// Adds a command at the back. Any control thread (never the audio thread).
    /// - Returns: false, leaving the queue as it was, when it is full.
    ///
    /// Real-time safety: allocates nothing, never waits on the consumer; takes the producers'
    /// lock, which the audio thread never takes.
    @discardableResult
    public func push(_ command: LiveCommand) -> Bool {
        producers.withLock { _ in pushAlone(command) }
    }

    @_noAllocation @_noLocks
    private func pushAlone(_ command: LiveCommand) -> Bool {
        let t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        if t &- h >= capacity { return false }
        slots[t & mask] = command
        tail.store(t &+ 1, ordering: .releasing)
        return true
    }

    /// Takes the command at the front. Consumer thread only.
    /// - Returns: nil when the queue is empty.
    ///
    /// Real-time safety: allocates nothing, takes no lock, never waits.
    @_noAllocation @_noLocks
    public func pop() -> LiveCommand? {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        if h == t { return nil }
        let command = slots[h & mask]
        head.store(h &+ 1, ordering: .releasing)
        return command
    }
}
