import Glibc

/// Fades and levels applied to every cue.
enum Shaping {
    /// Raised-cosine fade in and out over `frames` frames each, so a cue never starts or ends
    /// on a step of the waveform (which would click).
    static func fade(_ samples: inout [Float], frames: Int) {
        let length = min(frames, samples.count / 2)
        guard length > 0 else { return }
        for i in 0..<length {
            let gain = Float(0.5 - 0.5 * cos(Double.pi * Double(i) / Double(length)))
            samples[i] *= gain
            samples[samples.count - 1 - i] *= gain
        }
    }

    /// Scales so the largest magnitude is `peak`; silence stays silence.
    static func normalize(_ samples: inout [Float], peak: Float) {
        var largest: Float = 0
        for sample in samples { largest = max(largest, abs(sample)) }
        guard largest > 0 else { return }
        let gain = peak / largest
        for i in samples.indices { samples[i] *= gain }
    }

    /// RMS of `samples[range]`.
    static func rms(_ samples: [Float], _ range: Range<Int>) -> Float {
        guard !range.isEmpty else { return 0 }
        var sum: Float = 0
        for i in range { sum += samples[i] * samples[i] }
        return (sum / Float(range.count)).squareRoot()
    }
}
