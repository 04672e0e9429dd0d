import Glibc
import StrideCueCore

/// Finds the gain at which the limited mix reaches the target loudness, by the secant method.
public struct GainSearch {
    public let target: Double
    private(set) var points: [(gain: Double, loudness: Double)] = []
    /// d(loudness)/d(gain) near the answer: 1 while the limiter rests, less when it acts
    /// (each dB of gain then buys only part of a dB of loudness).
    private(set) var slope = 1.0
    private var limited = false

    public init(target: Double) { self.target = target }

    public mutating func record(gain: Double, loudness: Double, limited: Bool) {
        points.append((gain, loudness))
        self.limited = limited
        if points.count >= 2 {
            let a = points[points.count - 2], b = points[points.count - 1]
            if b.gain != a.gain { slope = min(1, max(0.2, (b.loudness - a.loudness) / (b.gain - a.gain))) }
        } else if limited {
            // A limited click track gains about half a dB of loudness per dB of gain at first.
            slope = 0.5
        }
    }

    /// Within 0.05 LU of the target, without the limiter
    /// (loudness is then exactly linear in gain), or out of tries.
    public var needsMore: Bool {
        guard let last = points.last else { return true }
        if points.count >= 8 { return false }
        if !limited { return abs(last.loudness - target) > 0.01 }
        return abs(best.loudness - target) > 0.05
    }

    /// The next gain to measure: from the point nearest the target, along the slope; never
    /// more than `maximumLimiting` past the gain the limiter-free mix would need.
    public func nextGain() -> Double {
        let from = best
        let next = from.gain + (target - from.loudness) / slope
        let free = points[0].gain + (target - points[0].loudness)
        return min(next, max(free, points[0].gain) + maximumLimiting)
    }

    public func tried(_ gain: Double) -> Bool { points.contains { abs($0.gain - gain) < 1e-6 } }

    /// The same measurements, aiming at another target.
    public func retargeted(_ newTarget: Double) -> GainSearch {
        var copy = GainSearch(target: newTarget)
        copy.points = points
        copy.slope = slope
        copy.limited = limited
        // With one point and the limiter barely at work, loudness follows gain dB for dB.
        if points.count == 1 { copy.slope = 1 }
        return copy
    }

    /// The point closest to the target.
    public var best: (gain: Double, loudness: Double) {
        points.min { abs($0.loudness - target) < abs($1.loudness - target) }!
    }
}
