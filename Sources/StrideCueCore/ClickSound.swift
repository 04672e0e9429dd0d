/// The three samples a click sound needs: accent, step and subdivision, at one sample rate.
///
/// Built-in sounds are synthesized here, in code, at the output rate, so they are exact at
/// every rate. Sounds read from WAV files arrive already converted to the output rate by the
/// sound-file adapter and are shaped by `ClickSound.init(name:accent:step:subdivision:)`.
public struct ClickSound: Sendable, Equatable {
    public var name: String
    /// Mono samples at `sampleRate`, each starting and ending at zero.
    public var accent: [Float]
    public var step: [Float]
    public var subdivision: [Float]
    public var sampleRate: Int

    /// Names of the sounds synthesized in code.
    public static let builtInNames = ["woodblock", "beep", "cowbell"]

    /// Peak levels: accent −1 dBFS, step −4.4 dBFS, subdivision −10.5 dBFS.
    public static let accentPeak: Float = 0.89
    public static let stepPeak: Float = 0.60
    public static let subdivisionPeak: Float = 0.30

    /// Length of the raised-cosine attack every click starts with; a sample-to-sample jump
    /// larger than the sound's own body can only happen inside it.
    public static let attackSeconds = 0.001
    /// Length of the raised-cosine release every click ends with.
    public static let releaseSeconds = 0.004

    /// The built-in sound with this name at `sampleRate`, or nil for an unknown name.
    public static func builtIn(_ name: String, sampleRate: Int) -> ClickSound? {
        let rate = Double(sampleRate)
        switch name {
        case "woodblock":
            // A hollow "tok": two inharmonic, fast-decaying partials.
            func tok(_ f: Double, peak: Float, length: Double) -> [Float] {
                synthesize(rate: rate, length: length, peak: peak) { t in
                    _sin(2 * .pi * f * t) * _exp(-t / 0.012) + 0.45 * _sin(2 * .pi * f * 2.47 * t) * _exp(-t / 0.006)
                }
            }
            return ClickSound(name: name, sampleRate: sampleRate,
                              accent: tok(1_600, peak: accentPeak, length: 0.060),
                              step: tok(1_200, peak: stepPeak, length: 0.060),
                              subdivision: tok(1_200, peak: subdivisionPeak, length: 0.040))
        case "beep":
            // A plain sine tone with a flat top: the easiest sound to hear over traffic.
            func beep(_ f: Double, peak: Float, length: Double) -> [Float] {
                synthesize(rate: rate, length: length, peak: peak) { t in _sin(2 * .pi * f * t) }
            }
            return ClickSound(name: name, sampleRate: sampleRate,
                              accent: beep(1_500, peak: accentPeak, length: 0.050),
                              step: beep(1_000, peak: stepPeak, length: 0.050),
                              subdivision: beep(1_000, peak: subdivisionPeak, length: 0.030))
        case "cowbell":
            // Two detuned partials with a few harmonics, like the classic drum-machine bell.
            func bell(_ f: Double, peak: Float, length: Double) -> [Float] {
                synthesize(rate: rate, length: length, peak: peak) { t in
                    let body = _sin(2 * .pi * f * t) + 0.2 * _sin(2 * .pi * 3 * f * t)
                        + 0.7 * _sin(2 * .pi * f * 1.48 * t) + 0.15 * _sin(2 * .pi * 3 * f * 1.48 * t)
                    return body * (0.65 * _exp(-t / 0.010) + 0.35 * _exp(-t / 0.060))
                }
            }
            return ClickSound(name: name, sampleRate: sampleRate,
                              accent: bell(800, peak: accentPeak, length: 0.150),
                              step: bell(562, peak: stepPeak, length: 0.150),
                              subdivision: bell(562, peak: subdivisionPeak, length: 0.080))
        default:
            return nil
        }
    }

    public init(name: String, sampleRate: Int, accent: [Float], step: [Float], subdivision: [Float]) {
        self.name = name
        self.sampleRate = sampleRate
        self.accent = accent
        self.step = step
        self.subdivision = subdivision
    }

    /// A click sound made from recorded samples already at the output rate.
    ///
    /// The step sample is the recording peak-normalized to `stepPeak`; the accent is the
    /// separate accent recording when given, else the same sample at `accentPeak`; the
    /// subdivision is the step sample at `subdivisionPeak`. Each gets the standard attack and
    /// release so no recording can start or end with a jump.
    public init(name: String, sampleRate: Int, recording: [Float], accentRecording: [Float]?) {
        let rate = Double(sampleRate)
        func shaped(_ x: [Float], peak: Float) -> [Float] {
            var y = x
            // Trim leading and trailing near-silence so the click starts on its frame.
            let threshold = (x.lazy.map { abs($0) }.max() ?? 0) * 0.01
            if let first = y.firstIndex(where: { abs($0) > threshold }),
               let last = y.lastIndex(where: { abs($0) > threshold }) {
                y = Array(y[first...last])
            }
            ClickSound.applyEnvelope(&y, rate: rate)
            ClickSound.normalize(&y, to: peak)
            return y
        }
        self.init(name: name, sampleRate: sampleRate,
                  accent: shaped(accentRecording ?? recording, peak: Self.accentPeak),
                  step: shaped(recording, peak: Self.stepPeak),
                  subdivision: shaped(recording, peak: Self.subdivisionPeak))
    }

    /// The sample for a click level.
    public func samples(for level: ClickLevel) -> [Float] {
        switch level {
        case .accent, .countIn: return accent
        case .step: return step
        case .subdivision: return subdivision
        }
    }

    private static func synthesize(rate: Double, length: Double, peak: Float, _ body: (Double) -> Double) -> [Float] {
        let count = Int((length * rate).rounded())
        var y = [Float](repeating: 0, count: count)
        for i in 0..<count {
            y[i] = Float(body(Double(i) / rate))
        }
        applyEnvelope(&y, rate: rate)
        normalize(&y, to: peak)
        return y
    }

    /// Raised-cosine attack and release: the sample starts at exactly 0 and ends at exactly 0.
    static func applyEnvelope(_ y: inout [Float], rate: Double) {
        let n = y.count
        guard n > 2 else { y = [Float](repeating: 0, count: n); return }
        let attack = min(n / 2, max(1, Int((attackSeconds * rate).rounded())))
        let release = min(n / 2, max(1, Int((releaseSeconds * rate).rounded())))
        for i in 0..<attack {
            y[i] *= Float(0.5 - 0.5 * _cos(.pi * Double(i) / Double(attack)))
        }
        for i in 0..<release {
            let j = n - 1 - i
            y[j] *= Float(0.5 - 0.5 * _cos(.pi * Double(i) / Double(release)))
        }
    }

    static func normalize(_ y: inout [Float], to peak: Float) {
        let m = y.reduce(Float(0)) { max($0, abs($1)) }
        guard m > 0 else { return }
        let g = peak / m
        for i in y.indices { y[i] *= g }
    }
}
