import Glibc

/// The gain that turns music down while spoken cues play, frame by frame.
///
/// Given the frames where cues sound, the music falls by `depth` dB over `attack` seconds
/// *before* each cue (the track is rendered offline, so the ducking can anticipate: the first
/// syllable is never masked), stays down while it plays, and comes back over `release` seconds
/// after. Ramps are raised-cosine in dB, so the level glides without a corner; cues closer
/// together than a fall and a rise are merged, so the music does not bob up between them.
public struct Ducker: Sendable {
    /// One stretch of lowered music: ramps down over `fallStart..<downStart`, stays down until
    /// `upStart`, ramps up until `riseEnd`.
    struct Stretch: Sendable, Equatable {
        var fallStart: Int64
        var downStart: Int64
        var upStart: Int64
        var riseEnd: Int64
    }

    /// How far the music goes down, in dB (positive).
    public let depth: Double
    let stretches: [Stretch]
    /// Index of the first stretch that may still matter to the next `fill`.
    private var next = 0

    public static let defaultDepth = 10.0
    public static let defaultAttack = 0.15
    public static let defaultRelease = 0.5

    /// - Parameters:
    ///   - intervals: frames in which a cue sounds, in any order; they may overlap.
    ///   - sampleRate: frames per second.
    ///   - depth: dB the music is lowered by during a cue (0 for no ducking).
    ///   - attack: seconds the fall takes, ending when the cue starts.
    ///   - release: seconds the rise takes, starting when the cue ends.
    public init(intervals: [Range<Int64>], sampleRate: Int, depth: Double = defaultDepth,
                attack: Double = defaultAttack, release: Double = defaultRelease) {
        self.depth = depth
        let fall = Int64((attack * Double(sampleRate)).rounded())
        let rise = Int64((release * Double(sampleRate)).rounded())
        var merged: [Stretch] = []
        for interval in intervals.filter({ !$0.isEmpty }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if var last = merged.last, interval.lowerBound - fall <= last.riseEnd {
                last.upStart = max(last.upStart, interval.upperBound)
                last.riseEnd = last.upStart + rise
                merged[merged.count - 1] = last
            } else {
                merged.append(Stretch(fallStart: interval.lowerBound - fall, downStart: interval.lowerBound,
                                      upStart: interval.upperBound, riseEnd: interval.upperBound + rise))
            }
        }
        stretches = depth > 0 ? merged : []
    }

    /// True when the music is never lowered.
    public var isIdle: Bool { stretches.isEmpty }

    /// Writes the music's gain for frames `start..<start + gains.count` (linear, 1 outside
    /// cues). Calls must move forward through the track.
    public mutating func fill(_ gains: UnsafeMutableBufferPointer<Float>, from start: Int64) {
        var next = self.next
        let depth = self.depth
        stretches.withUnsafeBufferPointer { Self.fill(gains, from: start, stretches: $0, next: &next, depth: depth) }
        self.next = next
    }

    /// `fill`, on stretches in memory the real-time path may read (`DuckSchedule`, `fill`).
    @_noAllocation @_noLocks
    static func fill(_ gains: UnsafeMutableBufferPointer<Float>, from start: Int64, stretches: UnsafeBufferPointer<Stretch>,
                     next: inout Int, depth: Double) {
        guard let base = gains.baseAddress else { return }
        base.update(repeating: 1, count: gains.count)
        let end = start + Int64(gains.count)
        while next < stretches.count, stretches[next].riseEnd <= start { next += 1 }
        let floor = RealTimeMath.amplitude(decibels: -depth)
        var s = next
        while s < stretches.count, stretches[s].fallStart < end {
            let stretch = stretches[s]
            let from = max(start, stretch.fallStart), to = min(end, stretch.riseEnd)
            var f = from
            while f < to {
                let g = down(in: stretch, at: f)
                // g is how far down (0…1); the level moves evenly in dB.
                base[Int(f - start)] = Float(g >= 1 ? floor : RealTimeMath.amplitude(decibels: -depth * g))
                f += 1
            }
            s += 1
        }
    }

    /// How far down (0…1) the music is at `frame`: what `fill` turns into a gain.
    public func down(at frame: Int64) -> Double {
        for stretch in stretches where stretch.fallStart <= frame && frame < stretch.riseEnd {
            return Self.down(in: stretch, at: frame)
        }
        return 0
    }

    /// How far down a stretch has the music at frame `f` (inside it).
    @_noAllocation @_noLocks
    @inline(__always)
    static func down(in stretch: Stretch, at f: Int64) -> Double {
        if f < stretch.downStart {
            return ramp(Double(f - stretch.fallStart) / Double(stretch.downStart - stretch.fallStart))
        } else if f < stretch.upStart {
            return 1
        } else {
            return 1 - ramp(Double(f - stretch.upStart) / Double(stretch.riseEnd - stretch.upStart))
        }
    }

    /// 0 → 0, 1 → 1, with zero slope at both ends.
    @_noAllocation @_noLocks
    @inline(__always)
    static func ramp(_ x: Double) -> Double {
        0.5 - 0.5 * RealTimeMath.cos(Double.pi * min(1, max(0, x)))
    }
}

/// A `Ducker`'s stretches copied into memory of its own, so that filling gains touches no
/// array (whose reads may retain it): what `MusicUnder` ducks with, for a file and live alike.
/// The same gains as the `Ducker` it was made from, frame for frame.
public struct DuckSchedule: ~Copyable {
    public let depth: Double
    private let stretches: UnsafeMutableBufferPointer<Ducker.Stretch>
    private var next = 0

    public init(_ ducker: Ducker) {
        depth = ducker.depth
        stretches = .allocate(capacity: ducker.stretches.count)
        _ = stretches.initialize(from: ducker.stretches)
    }

    deinit { stretches.deallocate() }

    /// As `Ducker.fill`. Calls must move forward through the track.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public mutating func fill(_ gains: UnsafeMutableBufferPointer<Float>, from start: Int64) {
        Ducker.fill(gains, from: start, stretches: UnsafeBufferPointer(stretches), next: &next, depth: depth)
    }

    /// How far down (0…1) the music is at `frame`, as `Ducker.down(at:)`.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func down(at frame: Int64) -> Double {
        for i in 0..<stretches.count where stretches[i].fallStart <= frame && frame < stretches[i].riseEnd {
            return Ducker.down(in: stretches[i], at: frame)
        }
        return 0
    }
}

/// Ducking for live playback once cues no longer fall where the plan put them (a tempo key, a
/// skipped rest, a sound the coach said): driven by the cues the renderer has scheduled, which
/// it knows only a little ahead (at least the clicks' duck attack), instead of by a list made
/// from the plan before playback.
///
/// The music moves along the same ramp `Ducker` uses (raised cosine, even in dB), at the same
/// pace: down over `attack` seconds, up over `release`; a cue known less than `attack` ahead
/// is met by a steeper fall that still reaches the floor as it starts. It picks up where the
/// plan's ducking left off (`start(down:)`), so the switch is seamless.
public struct CueFollowingDucker: Sendable {
    public let depth: Double
    private let fallStep: Double
    private let riseStep: Double
    private let fallFrames: Int64
    /// The steepest fall, for a cue seen as it starts: 5 ms.
    private let shortestFall: Int64
    /// Where along the ramp the music is: 0 up, 1 down (the ramp's input, not its output).
    private var position: Double
    private let floor: Double

    public init(sampleRate: Int, depth: Double = Ducker.defaultDepth, attack: Double = Ducker.defaultAttack,
                release: Double = Ducker.defaultRelease) {
        self.depth = depth
        fallFrames = max(1, Int64((attack * Double(sampleRate)).rounded()))
        fallStep = 1 / Double(fallFrames)
        shortestFall = max(1, Int64((0.005 * Double(sampleRate)).rounded()))
        riseStep = 1 / max(1, (release * Double(sampleRate)).rounded())
        position = 0
        floor = amplitude(decibels: -depth)
    }

    /// Picks up from music `down` (0…1) down: where the plan's ducking is (`Ducker.down(at:)`).
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public mutating func start(down: Double) {
        // The ramp's input for that output: ramp(x) = (1 − cos πx) / 2.
        position = RealTimeMath.acos(1 - 2 * min(1, max(0, down))) / Double.pi
    }

    /// Writes the music's gain for frames `start..<start + gains.count`.
    /// - Parameters:
    ///   - soundingUntil: where the cues sounding at `start` end, if any do.
    ///   - nextStart: where the next cue the renderer knows of starts, if any.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public mutating func fill(_ gains: UnsafeMutableBufferPointer<Float>, from start: Int64,
                              soundingUntil: Int64?, nextStart: Int64?) {
        guard depth > 0 else {
            for i in 0..<gains.count { gains[i] = 1 }
            return
        }
        let sounding = soundingUntil ?? Int64.min
        let onset = nextStart ?? Int64.max
        for i in 0..<gains.count {
            let f = start + Int64(i)
            let ahead = onset - f
            // A cue sounding, or starting within the fall (or started since the renderer was
            // asked: its end is not known yet).
            if f < sounding || ahead <= fallFrames {
                // Down; steeper when the cue was seen late, so the floor is reached as it
                // starts (or a few milliseconds into one seen after it started: no jump).
                let step = max(fallStep, (1 - position) / Double(ahead > 0 ? ahead : shortestFall))
                position = min(1, position + step)
            } else {
                position = max(0, position - riseStep)
            }
            let g = Ducker.ramp(position)
            gains[i] = Float(g >= 1 ? floor : RealTimeMath.amplitude(decibels: -depth * g))
        }
    }
}

/// libm for the real-time path, vouched for: the checker cannot see into C, and these
/// functions compute and return, neither allocating nor locking.
enum RealTimeMath {
    @inline(__always)
    static func cos(_ x: Double) -> Double { _unsafePerformance { Glibc.cos(x) } }

    @inline(__always)
    static func acos(_ x: Double) -> Double { _unsafePerformance { Glibc.acos(x) } }

    /// As `amplitude(decibels:)`, the same `pow`.
    @inline(__always)
    static func amplitude(decibels: Double) -> Double { _unsafePerformance { Glibc.pow(10, decibels / 20) } }
}
