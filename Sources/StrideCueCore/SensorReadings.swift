import Synchronization

// A running sensor's measurements, from the thread that reads the sensor (one writer) to
// whoever shows or uses them: the status line, the coach's remote, the session log, and later
// the playback thread. Pure atomics: the writer never waits, a reader never takes a lock.

/// What the sensor link is doing, as its thread last saw it.
public enum SensorState: Int, Sendable, Equatable {
    /// Looking for the sensor or connecting to it; nothing measured yet.
    case connecting = 0
    /// Notifications arrive.
    case reading = 1
    /// Connected, but no notification for `SensorReadings.silentSeconds`.
    case silent = 2
    /// The link dropped (or the sensor was silent too long): connecting again.
    case reconnecting = 3
}

/// One consistent snapshot of a sensor's measurements.
public struct SensorReading: Sendable, Equatable {
    public var state: SensorState
    /// Steps per minute the sensor reported last (0: the runner stands); nil before the first.
    public var cadence: Int?
    /// Metres per second, as reported last; nil before the first.
    public var speed: Double?
    /// Metres, when the sensor reports it.
    public var strideLength: Double?
    public var totalDistance: Double?
    /// The sensor's own running (not walking) flag.
    public var running: Bool
    /// Notifications decoded, and notifications refused as malformed (counted, never used).
    public var measurements: Int
    public var malformed: Int
    /// Times the link was made again after it dropped or fell silent.
    public var reconnects: Int
    /// `monotonicSeconds()` of the last measurement (0 before the first).
    public var measuredAt: Double

    public init(state: SensorState = .connecting, cadence: Int? = nil, speed: Double? = nil, strideLength: Double? = nil,
                totalDistance: Double? = nil, running: Bool = false, measurements: Int = 0, malformed: Int = 0,
                reconnects: Int = 0, measuredAt: Double = 0) {
        self.state = state
        self.cadence = cadence
        self.speed = speed
        self.strideLength = strideLength
        self.totalDistance = totalDistance
        self.running = running
        self.measurements = measurements
        self.malformed = malformed
        self.reconnects = reconnects
        self.measuredAt = measuredAt
    }

    /// The cadence to act on: only while reading and the runner moves (not standing).
    public var liveCadence: Int? {
        guard state == .reading, let cadence, cadence > 0 else { return nil }
        return cadence
    }
}

/// A `SensorReading` published by one writer (the sensor thread) and read by any thread
/// without locks: a sequence lock over atomic fields, as `LiveStatusBoard` is.
public final class SensorReadings: Sendable {
    /// No notification for this long and the sensor is shown as silent.
    public static let silentSeconds = 3.0

    private let sequence = Atomic<UInt64>(0)
    private let state = Atomic<Int>(0)
    /// −1 for none.
    private let cadence = Atomic<Int>(-1)
    /// Bit patterns of doubles; NaN for none.
    private let speed = Atomic<UInt64>(Double.nan.bitPattern)
    private let strideLength = Atomic<UInt64>(Double.nan.bitPattern)
    private let totalDistance = Atomic<UInt64>(Double.nan.bitPattern)
    private let running = Atomic<Bool>(false)
    private let measurements = Atomic<Int>(0)
    private let malformed = Atomic<Int>(0)
    private let reconnects = Atomic<Int>(0)
    private let measuredAt = Atomic<UInt64>(0)

    public init() {}

    /// Stores a new snapshot. The sensor thread only.
    public func publish(_ r: SensorReading) {
        let s = sequence.load(ordering: .relaxed)
        sequence.store(s &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        state.store(r.state.rawValue, ordering: .relaxed)
        cadence.store(r.cadence ?? -1, ordering: .relaxed)
        speed.store((r.speed ?? .nan).bitPattern, ordering: .relaxed)
        strideLength.store((r.strideLength ?? .nan).bitPattern, ordering: .relaxed)
        totalDistance.store((r.totalDistance ?? .nan).bitPattern, ordering: .relaxed)
        running.store(r.running, ordering: .relaxed)
        measurements.store(r.measurements, ordering: .relaxed)
        malformed.store(r.malformed, ordering: .relaxed)
        reconnects.store(r.reconnects, ordering: .relaxed)
        measuredAt.store(r.measuredAt.bitPattern, ordering: .relaxed)
        sequence.store(s &+ 2, ordering: .releasing)
    }

    /// The last snapshot published. Any thread.
    ///
    /// Real-time safety: allocates nothing, takes no lock; retries only while a publish is
    /// under way.
    @_noAllocation @_noLocks
    public func read() -> SensorReading {
        while true {
            let before = sequence.load(ordering: .acquiring)
            if before & 1 == 1 { continue }
            let c = cadence.load(ordering: .relaxed)
            let r = SensorReading(
                state: SensorState(rawValue: state.load(ordering: .relaxed)) ?? .connecting,
                cadence: c < 0 ? nil : c,
                speed: optional(speed.load(ordering: .relaxed)),
                strideLength: optional(strideLength.load(ordering: .relaxed)),
                totalDistance: optional(totalDistance.load(ordering: .relaxed)),
                running: running.load(ordering: .relaxed),
                measurements: measurements.load(ordering: .relaxed),
                malformed: malformed.load(ordering: .relaxed),
                reconnects: reconnects.load(ordering: .relaxed),
                measuredAt: Double(bitPattern: measuredAt.load(ordering: .relaxed)))
            atomicMemoryFence(ordering: .acquiring)
            if sequence.load(ordering: .relaxed) == before { return r }
        }
    }

    @_noAllocation @_noLocks
    private func optional(_ bits: UInt64) -> Double? {
        let value = Double(bitPattern: bits)
        return value.isNaN ? nil : value
    }
}
