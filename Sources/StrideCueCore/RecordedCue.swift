/// A coach's recording made ready to play as a cue: silence trimmed, ends faded, peak set.
///
/// The sound-file adapter reads the file and converts it to the output rate; this is the
/// rest, in pure Swift so that it is tested without files.
public enum RecordedCue {
    /// Sound below this fraction of the recording's peak (−40 dB) counts as silence at the ends.
    public static let silenceThreshold: Float = 0.01
    /// Kept before the first sound above the threshold, so a soft attack is not cut: 2 ms.
    public static let leadSeconds = 0.002
    /// Kept after the last sound above the threshold, for the decay of the last word: 20 ms.
    public static let tailSeconds = 0.020
    /// Raised-cosine fade at each end: 4 ms, as for spoken cues.
    public static let fadeSeconds = 0.004
    /// Peak of the result: −1 dBFS, as for spoken cues.
    public static let peak: Float = 0.891_250_9

    /// Trims leading and trailing silence, fades the ends and scales the peak to `peak`.
    ///
    /// - Parameters:
    ///   - samples: mono, at `sampleRate`.
    /// - Returns: the shaped cue; empty when the recording is silent.
    public static func shape(_ samples: [Float], sampleRate: Int) -> [Float] {
        let loudest = samples.reduce(Float(0)) { max($0, abs($1)) }
        guard loudest > 0,
              let first = samples.firstIndex(where: { abs($0) >= loudest * silenceThreshold }),
              let last = samples.lastIndex(where: { abs($0) >= loudest * silenceThreshold })
        else { return [] }
        let rate = Double(sampleRate)
        let start = max(0, first - Int((leadSeconds * rate).rounded()))
        let end = min(samples.count, last + 1 + Int((tailSeconds * rate).rounded()))
        var y = Array(samples[start..<end])
        let fade = min(y.count / 2, Int((fadeSeconds * rate).rounded()))
        if fade > 0 {
            for i in 0..<fade {
                let g = Float(0.5 - 0.5 * _cos(.pi * Double(i) / Double(fade)))
                y[i] *= g
                y[y.count - 1 - i] *= g
            }
        }
        let shapedPeak = y.reduce(Float(0)) { max($0, abs($1)) }
        guard shapedPeak > 0 else { return [] }
        let gain = peak / shapedPeak
        for i in y.indices { y[i] *= gain }
        return y
    }
}
