import Glibc
import StrideCueCore

/// One note of a tone motif.
public struct ToneNote: Sendable, Equatable {
    /// Frames from the cue's start (the syllable's onset).
    public var onset: Int
    /// Frames the note sounds.
    public var length: Int
    /// Hz.
    public var frequency: Double
    /// 0...1 before the motif is normalized: the nuclear stress loudest.
    public var gain: Float
    /// Semitones above `ToneMotif.tonic`, on the major pentatonic scale.
    public var degree: Int
}

/// `style: tone`: a cue without words, one short tone per syllable, following the phrase's
/// rhythm (the syllables' onsets and lengths) and intonation (each syllable's measured F0).
///
/// The speech's pitch movement, in semitones from the phrase's median F0, is widened by
/// `contourScale` (speech moves a few semitones; a motif needs bigger steps to be heard as a
/// tune) and snapped to the major pentatonic scale around `tonic`, a register above the
/// click's thud and below its snap, and free of dissonant steps between any two notes.
public enum ToneMotif {
    /// C5: the motif's median syllable sounds here.
    public static let tonic = 523.251
    public static let contourScale = 1.5
    /// Semitones the motif may move from the tonic either way.
    public static let span = -7...12
    /// Major pentatonic degrees within an octave.
    static let scale = [0, 2, 4, 7, 9]

    /// The notes for a spoken cue, one per syllable.
    public static func notes(for cue: SpokenCue) -> [ToneNote] {
        let pitches = cue.syllables.compactMap(\.pitch).sorted()
        let reference = pitches.isEmpty ? 0 : pitches[pitches.count / 2]
        var previousDegree = 0
        return cue.syllables.enumerated().map { index, syllable in
            var degree = previousDegree
            if let pitch = syllable.pitch, reference > 0 {
                degree = snap(12 * Glibc.log2(pitch / reference) * contourScale)
            }
            previousDegree = degree
            let next = index + 1 < cue.syllables.count ? cue.syllables[index + 1].onset : cue.samples.count
            // Leave a gap before the next syllable so the notes are heard as separate.
            let room = min(syllable.length, next - syllable.onset)
            let minimum = Int(0.05 * Double(cue.sampleRate))
            let length = min(cue.samples.count - syllable.onset, max(minimum, Int(Double(room) * 0.85)))
            let gain: Float = index == cue.stressedSyllable ? 1 : syllable.stressed ? 0.8 : 0.55
            return ToneNote(
                onset: syllable.onset, length: max(0, length),
                frequency: tonic * Glibc.pow(2, Double(degree) / 12), gain: gain, degree: degree
            )
        }
    }

    /// The motif as a cue of the same length and syllable timing as `spoken`.
    public static func render(from spoken: SpokenCue) -> SpokenCue {
        var samples = [Float](repeating: 0, count: spoken.samples.count)
        let rate = Double(spoken.sampleRate)
        let attack = 0.004 * rate, release = 0.008 * rate
        for note in notes(for: spoken) where note.length > 0 {
            let length = Double(note.length)
            let step = 2 * Double.pi * note.frequency / rate
            for i in 0..<note.length {
                let t = Double(i)
                // A struck, bell-like envelope: quick attack, decay, short release to zero.
                var envelope = Glibc.exp(-t / (0.6 * length))
                if t < attack { envelope *= t / attack }
                if length - t < release { envelope *= (length - t) / release }
                let phase = step * t
                let wave = Glibc.sin(phase) + 0.25 * Glibc.sin(2 * phase) + 0.08 * Glibc.sin(3 * phase)
                samples[note.onset + i] += note.gain * Float(envelope * wave)
            }
        }
        Shaping.normalize(&samples, peak: SpokenCue.peakLevel)
        var cue = spoken
        cue.style = .tone
        cue.samples = samples
        return cue
    }

    /// Nearest pentatonic degree to `semitones`, within `span`.
    static func snap(_ semitones: Double) -> Int {
        let clamped = min(Double(span.upperBound), max(Double(span.lowerBound), semitones))
        var best = 0
        for octave in -1...1 {
            for degree in scale {
                let candidate = octave * 12 + degree
                if span.contains(candidate), abs(Double(candidate) - clamped) < abs(Double(best) - clamped) {
                    best = candidate
                }
            }
        }
        return best
    }
}
