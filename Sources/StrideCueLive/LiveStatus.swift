import StrideCueCore
import Synchronization

// MARK: Status

/// What the player is doing.
public enum LivePhase: Int, Sendable, Equatable {
    case playing = 0
    /// A pause was asked for; playing on to the next step boundary.
    case pausing = 1
    /// Silent, the timeline held where it stopped.
    case paused = 2
    /// Fading out after a stop.
    case stopping = 3
    /// Nothing more to render.
    case finished = 4

    /// Spelled out, so that the playback thread's comparisons are checked real-time safe.
    @_noAllocation @_noLocks
    public static func == (a: LivePhase, b: LivePhase) -> Bool { a.rawValue == b.rawValue }
    @_noAllocation @_noLocks
    public static func != (a: LivePhase, b: LivePhase) -> Bool { a.rawValue != b.rawValue }
}

/// What the sound device is doing, as the playback thread last saw it.
public enum LiveDeviceState: Int, Sendable, Equatable {
    /// Taking frames.
    case playing = 0
    /// Not taking frames for a while (a hung driver, a stalled Bluetooth link).
    case notResponding = 1
    /// Gone (unplugged): being opened again every half second until `reconnectDeadline`.
    case reconnecting = 2

    /// Spelled out, so that the playback thread's comparisons are checked real-time safe.
    @_noAllocation @_noLocks
    public static func == (a: LiveDeviceState, b: LiveDeviceState) -> Bool { a.rawValue == b.rawValue }
    @_noAllocation @_noLocks
    public static func != (a: LiveDeviceState, b: LiveDeviceState) -> Bool { a.rawValue != b.rawValue }
}

/// Where live playback is, for a status line or a remote: one consistent snapshot.
public struct LiveStatus: Sendable, Equatable {
    /// Frames of the session rendered (held while paused); divide by the rate for its time.
    public var frame: Int64
    /// Frames handed to the device, the silence of pauses included.
    public var outputFrames: Int64
    /// The tempo of the step being heard, in steps per minute: the count-in's or the ramp's
    /// while they play, then the set's.
    public var cadence: Double
    /// The cadence the runner asked for; it differs from `cadence` until a step at it is heard
    /// (in a ramp, until the ramp reaches it).
    public var targetCadence: Double
    /// Index of the set, from 0, and how many there are.
    public var set: Int
    public var sets: Int
    /// The step being heard: the number of the last step clicked in `set`, from 1; 0 before
    /// its first step.
    public var step: Int
    /// Count-in clicks heard before the current set's first step, while counting in; else 0.
    public var countIn: Int
    /// Count-in clicks before each set.
    public var countInLength: Int
    /// Frames until the next set starts while resting, else nil.
    public var restFramesLeft: Int64?
    public var phase: LivePhase
    /// Underruns the device reported so far.
    public var underruns: Int
    /// True while the spoken caution plays, before the first count-in.
    public var caution: Bool
    /// Whether a pause waits for a spoken cue to end.
    public var pauseAfterCue: Bool
    public var device: LiveDeviceState
    /// While reconnecting: seconds left before giving up.
    public var reconnectSecondsLeft: Int
    /// The device's buffer in frames now, and how many times it grew after an underrun.
    public var bufferFrames: Int
    public var bufferGrowths: Int
    /// Peers in the Ableton Link session followed (`--link`), not counting this device; −1
    /// when not following one.
    public var linkPeers: Int

    @_noAllocation @_noLocks
    public init(frame: Int64 = 0, outputFrames: Int64 = 0, cadence: Double = 0, targetCadence: Double = 0,
                set: Int = 0, sets: Int = 0, step: Int = 0, countIn: Int = 0, countInLength: Int = 0,
                restFramesLeft: Int64? = nil, phase: LivePhase = .playing, underruns: Int = 0,
                caution: Bool = false, pauseAfterCue: Bool = false, device: LiveDeviceState = .playing,
                reconnectSecondsLeft: Int = 0, bufferFrames: Int = 0, bufferGrowths: Int = 0, linkPeers: Int = -1) {
        self.linkPeers = linkPeers
        self.caution = caution
        self.pauseAfterCue = pauseAfterCue
        self.device = device
        self.reconnectSecondsLeft = reconnectSecondsLeft
        self.bufferFrames = bufferFrames
        self.bufferGrowths = bufferGrowths
        self.frame = frame
        self.outputFrames = outputFrames
        self.cadence = cadence
        self.targetCadence = targetCadence
        self.set = set
        self.sets = sets
        self.step = step
        self.countIn = countIn
        self.countInLength = countInLength
        self.restFramesLeft = restFramesLeft
        self.phase = phase
        self.underruns = underruns
    }
}

/// A `LiveStatus` published by one writer (the audio thread) and read by others, without
/// locks: a sequence lock over atomic fields.
///
/// The writer makes the sequence odd, stores the fields, and makes it even again (release).
/// A reader loads the sequence (acquire), the fields, then the sequence again, and retries
/// when it was odd or changed. The writer never waits; a reader retries at most while a
/// publish is under way (a few nanoseconds). Every field is an atomic, so there is no data
/// race even while a reader retries.
public final class LiveStatusBoard: @unchecked Sendable {
    private let sequence = Atomic<UInt64>(0)
    private let frame = Atomic<Int64>(0)
    private let outputFrames = Atomic<Int64>(0)
    private let cadence = Atomic<UInt64>(0)
    private let targetCadence = Atomic<UInt64>(0)
    private let set = Atomic<Int>(0)
    private let sets = Atomic<Int>(0)
    private let step = Atomic<Int>(0)
    private let countIn = Atomic<Int>(0)
    private let countInLength = Atomic<Int>(0)
    /// −1 for none.
    private let restFramesLeft = Atomic<Int64>(-1)
    private let phase = Atomic<Int>(0)
    private let underruns = Atomic<Int>(0)
    private let caution = Atomic<Bool>(false)
    private let pauseAfterCue = Atomic<Bool>(false)
    private let device = Atomic<Int>(0)
    private let reconnectSecondsLeft = Atomic<Int>(0)
    private let bufferFrames = Atomic<Int>(0)
    private let bufferGrowths = Atomic<Int>(0)
    private let linkPeers = Atomic<Int>(-1)

    public init(_ initial: LiveStatus = LiveStatus()) {
        publish(initial)
    }

    /// Stores a new snapshot. One writer thread only.
    ///
    /// Real-time safety: allocates nothing, takes no lock, never waits.
    @_noAllocation @_noLocks
    public func publish(_ status: LiveStatus) {
        let s = sequence.load(ordering: .relaxed)
        sequence.store(s &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        frame.store(status.frame, ordering: .relaxed)
        outputFrames.store(status.outputFrames, ordering: .relaxed)
        cadence.store(status.cadence.bitPattern, ordering: .relaxed)
        targetCadence.store(status.targetCadence.bitPattern, ordering: .relaxed)
        set.store(status.set, ordering: .relaxed)
        sets.store(status.sets, ordering: .relaxed)
        step.store(status.step, ordering: .relaxed)
        countIn.store(status.countIn, ordering: .relaxed)
        countInLength.store(status.countInLength, ordering: .relaxed)
        restFramesLeft.store(status.restFramesLeft ?? -1, ordering: .relaxed)
        phase.store(status.phase.rawValue, ordering: .relaxed)
        underruns.store(status.underruns, ordering: .relaxed)
        caution.store(status.caution, ordering: .relaxed)
        pauseAfterCue.store(status.pauseAfterCue, ordering: .relaxed)
        device.store(status.device.rawValue, ordering: .relaxed)
        reconnectSecondsLeft.store(status.reconnectSecondsLeft, ordering: .relaxed)
        bufferFrames.store(status.bufferFrames, ordering: .relaxed)
        bufferGrowths.store(status.bufferGrowths, ordering: .relaxed)
        linkPeers.store(status.linkPeers, ordering: .relaxed)
        sequence.store(s &+ 2, ordering: .releasing)
    }

    /// The latest complete snapshot. Any thread.
    public func read() -> LiveStatus {
        while true {
            let before = sequence.load(ordering: .acquiring)
            if before & 1 == 1 { continue }
            let rest = restFramesLeft.load(ordering: .relaxed)
            let status = LiveStatus(
                frame: frame.load(ordering: .relaxed),
                outputFrames: outputFrames.load(ordering: .relaxed),
                cadence: Double(bitPattern: cadence.load(ordering: .relaxed)),
                targetCadence: Double(bitPattern: targetCadence.load(ordering: .relaxed)),
                set: set.load(ordering: .relaxed),
                sets: sets.load(ordering: .relaxed),
                step: step.load(ordering: .relaxed),
                countIn: countIn.load(ordering: .relaxed),
                countInLength: countInLength.load(ordering: .relaxed),
                restFramesLeft: rest < 0 ? nil : rest,
                phase: LivePhase(rawValue: phase.load(ordering: .relaxed)) ?? .playing,
                underruns: underruns.load(ordering: .relaxed),
                caution: caution.load(ordering: .relaxed),
                pauseAfterCue: pauseAfterCue.load(ordering: .relaxed),
                device: LiveDeviceState(rawValue: device.load(ordering: .relaxed)) ?? .playing,
                reconnectSecondsLeft: reconnectSecondsLeft.load(ordering: .relaxed),
                bufferFrames: bufferFrames.load(ordering: .relaxed),
                bufferGrowths: bufferGrowths.load(ordering: .relaxed),
                linkPeers: linkPeers.load(ordering: .relaxed))
            atomicMemoryFence(ordering: .acquiring)
            if sequence.load(ordering: .relaxed) == before { return status }
        }
    }
}
