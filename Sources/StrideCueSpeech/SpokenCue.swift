import StrideCueCore

// `CueStyle` (voice, tone, both) lives in StrideCueCore with the rest of a cue's spec; a
// `SpokenCue` is `.voice` or `.tone`: `both` is two cues, a tone and then the words.

/// A cue ready to mix: mono samples at the output rate, with the timing of its syllables.
///
/// Speech starts at frame 0 (flite's leading pause and any silent plosive closure are
/// trimmed) and ends where the last phone ends, so placing frame 0 on a step makes the cue
/// start on that step. Samples fade in and out over `fadeDuration` and peak at `peakLevel`.
public struct SpokenCue: Sendable, Equatable {
    /// Peak of every cue's samples: −1 dBFS (0.891), measured after resampling and fading,
    /// so the resampler's overshoot is included. A mixer sets the cue's level from here.
    public static let peakLevel: Float = 0.891_250_9
    /// Length of the raised-cosine fade at each end, in seconds.
    public static let fadeDuration = 0.004

    public var text: String
    public var voice: Voice
    public var style: CueStyle
    /// Frames per second of `samples`.
    public var sampleRate: Int
    public var samples: [Float]
    /// The cue's syllables, in order; onsets are frames from the cue's start.
    public var syllables: [SpokenSyllable]
    /// Index into `syllables` of the stressed syllable that `align: stress` puts on the step.
    public var stressedSyllable: Int
    /// The `duration_stretch` flite spoke with (below the voice's normal value: faster).
    public var durationStretch: Double
    /// How much faster than the voice's normal rate: 1 is normal, never more than 2.
    public var speed: Double

    /// Frames from the cue's start to the start of its stressed syllable.
    public var stressOffset: Int { syllables.isEmpty ? 0 : syllables[stressedSyllable].onset }
    /// Length in seconds.
    public var duration: Double { Double(samples.count) / Double(sampleRate) }
}

/// One syllable of a spoken cue.
public struct SpokenSyllable: Sendable, Equatable {
    /// The word it belongs to, as flite normalized it (lower case, numbers spelled out).
    public var word: String
    /// Frames from the cue's start to the syllable's first phone.
    public var onset: Int
    /// Frames from its first phone's start to its last phone's end.
    public var length: Int
    /// Lexical stress from flite's lexicon.
    public var stressed: Bool
    /// Pitch accent as flite predicts it.
    public var accented: Bool
    /// Fundamental frequency measured from the synthesized wave over the syllable's voiced
    /// phones (median, Hz), or nil where nothing was voiced.
    public var pitch: Double?
}

/// A cue that cannot be spoken in the time it is given, even at twice the normal rate.
public struct CueTooLong: Error, Sendable, Equatable, CustomStringConvertible {
    public var text: String
    public var voice: Voice
    /// The time the cue was given, in seconds.
    public var maxDuration: Double
    /// Its length at the fastest rate allowed (twice normal), in seconds.
    public var shortestDuration: Double

    /// Whole steps the cue needs at `cadence` steps per minute.
    public func stepsNeeded(cadence: Double) -> Int {
        let steps = shortestDuration * cadence / 60
        // A hair of tolerance so 2.0000001 steps (rounding in flite's timing) is still 2.
        return max(1, Int((steps - 1e-6).rounded(.up)))
    }

    /// The preset checker's message, without its `file:line:column:` prefix:
    /// `'relax the shoulders' needs 3 steps at 180 spm; give it 'steps: 3' or a shorter text`.
    public func message(cadence: Double) -> String {
        let steps = stepsNeeded(cadence: cadence)
        let spm = cadence == cadence.rounded() ? String(Int(cadence)) : String(cadence)
        return "'\(text)' needs \(steps) steps at \(spm) spm; give it 'steps: \(steps)' or a shorter text"
    }

    public var description: String {
        "'\(text)' takes \(milliseconds(shortestDuration)) ms at twice the normal rate; "
            + "it has \(milliseconds(maxDuration)) ms"
    }

    private func milliseconds(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }
}
