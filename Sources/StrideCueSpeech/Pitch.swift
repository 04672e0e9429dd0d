/// Fundamental-frequency estimation by normalized autocorrelation.
///
/// slt and the other clustergen voices keep no F0 targets in the utterance (there is no
/// `Target` relation), so the pitch of each syllable is measured from the synthesized wave.
enum Pitch {
    /// Lowest and highest F0 searched, Hz: covers the male voices' low notes and slt's highs.
    static let range: ClosedRange<Double> = 65...420
    /// Analysis frame and hop, seconds.
    static let frame = 0.030
    static let hop = 0.010
    /// A frame counts as voiced when its best normalized autocorrelation reaches this.
    static let voicingThreshold: Float = 0.6

    /// Median F0 over the voiced frames of `samples[range]`, or nil if none is voiced.
    static func median(
        _ samples: [Float], in range: Range<Int>, sampleRate: Int
    ) -> Double? {
        let frameLength = Int(frame * Double(sampleRate))
        let hopLength = Int(hop * Double(sampleRate))
        let minLag = Int((Double(sampleRate) / Pitch.range.upperBound).rounded(.down))
        let maxLag = Int((Double(sampleRate) / Pitch.range.lowerBound).rounded(.up))
        guard range.count >= minLag * 2 else { return nil }

        var estimates: [Double] = []
        var start = range.lowerBound
        repeat {
            let end = min(range.upperBound, start + frameLength)
            if let f0 = estimate(samples, start..<end, lags: minLag...maxLag, sampleRate: sampleRate) {
                estimates.append(f0)
            }
            start += hopLength
        } while start + frameLength <= range.upperBound
        guard !estimates.isEmpty else { return nil }
        estimates.sort()
        return estimates[estimates.count / 2]
    }

    /// F0 of one frame, or nil when it is not clearly periodic.
    static func estimate(
        _ x: [Float], _ frame: Range<Int>, lags: ClosedRange<Int>, sampleRate: Int
    ) -> Double? {
        let n = frame.count
        let upper = min(lags.upperBound, n / 2)
        guard upper > lags.lowerBound else { return nil }
        let base = frame.lowerBound
        var scores = [Float](repeating: 0, count: upper + 2)
        for lag in lags.lowerBound...upper + 1 where lag < n {
            var cross: Float = 0, energyA: Float = 0, energyB: Float = 0
            for i in 0..<(n - lag) {
                let a = x[base + i], b = x[base + i + lag]
                cross += a * b
                energyA += a * a
                energyB += b * b
            }
            let norm = (energyA * energyB).squareRoot()
            scores[lag] = norm > 0 ? cross / norm : 0
        }
        guard let best = scores[lags.lowerBound...upper].max(), best >= voicingThreshold else {
            return nil
        }
        // The shortest lag that is a local peak close to the best one: a period's multiples
        // score nearly as well, and picking them would put the pitch an octave low.
        for lag in lags.lowerBound...upper
        where scores[lag] >= 0.9 * best && scores[lag] >= scores[lag - 1] && scores[lag] >= scores[lag + 1] {
            return Double(sampleRate) / refine(scores, at: lag)
        }
        return nil
    }

    /// Parabolic interpolation of the peak at `lag`, for sub-sample period accuracy.
    private static func refine(_ scores: [Float], at lag: Int) -> Double {
        let left = Double(scores[lag - 1]), centre = Double(scores[lag]), right = Double(scores[lag + 1])
        let curvature = left - 2 * centre + right
        guard curvature < 0 else { return Double(lag) }
        return Double(lag) + 0.5 * (left - right) / curvature
    }
}
