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
        guard let base = gains.baseAddress else { return }
        base.update(repeating: 1, count: gains.count)
        let end = start + Int64(gains.count)
        while next < stretches.count, stretches[next].riseEnd <= start { next += 1 }
        let floor = amplitude(decibels: -depth)
        var s = next
        while s < stretches.count, stretches[s].fallStart < end {
            let stretch = stretches[s]
            let from = max(start, stretch.fallStart), to = min(end, stretch.riseEnd)
            var f = from
            while f < to {
                let g: Double
                if f < stretch.downStart {
                    g = ramp(Double(f - stretch.fallStart) / Double(stretch.downStart - stretch.fallStart))
                } else if f < stretch.upStart {
                    g = 1
                } else {
                    g = 1 - ramp(Double(f - stretch.upStart) / Double(stretch.riseEnd - stretch.upStart))
                }
                // g is how far down (0…1); the level moves evenly in dB.
                base[Int(f - start)] = Float(g >= 1 ? floor : amplitude(decibels: -depth * g))
                f += 1
            }
            s += 1
        }
    }

    /// 0 → 0, 1 → 1, with zero slope at both ends.
    private func ramp(_ x: Double) -> Double {
        0.5 - 0.5 * cos(Double.pi * min(1, max(0, x)))
    }
}
