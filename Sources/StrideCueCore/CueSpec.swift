/// One spoken (or recorded) cue of a plan, as a coach writes it in a preset's `cues:` list.
///
/// A spec says what to play and on which steps; it holds no audio. Before rendering, the
/// command line synthesizes (or reads) every cue once and hands the renderer `CueVoices`.
/// Steps are counted from 1, the first step of a set, as a runner counts them.
public struct CueSpec: Sendable, Equatable {
    /// What is heard.
    public var source: CueSource
    /// On which steps of every set the cue falls.
    public var timing: CueTiming
    /// For `.every`: the step of the first cue, counted from 1 at the set's first step.
    public var offset: Int
    /// Steps the cue may take; a spoken cue is fitted into them (spoken faster, up to twice
    /// the normal rate), a recording must already fit.
    public var steps: Int
    public var style: CueStyle
    /// A flite voice name (`slt`, `kal16`, `awb`, `rms`), or nil for the default.
    public var voice: String?
    public var align: CueAlign
    /// Decibels relative to the default balance (`CueBalance`); 0 is the loudest.
    public var level: Double

    public init(
        _ source: CueSource,
        timing: CueTiming,
        offset: Int = 1,
        steps: Int = CueSpec.defaultSteps,
        style: CueStyle = .voice,
        voice: String? = nil,
        align: CueAlign = .start,
        level: Double = 0
    ) {
        self.source = source
        self.timing = timing
        self.offset = offset
        self.steps = steps
        self.style = style
        self.voice = voice
        self.align = align
        self.level = level
    }

    /// Two steps: about 667 ms at 180 spm, room for a two-word cue.
    public static let defaultSteps = 2

    /// The text or file name, for a cue sheet and messages.
    public var label: String {
        switch source {
        case .say(let text): text
        case .sound(let file): file
        }
    }

    /// Whether the cue starts on step `k` (from 0) of a set of `n` steps.
    ///
    /// This is the rule for sets of a known number of steps (`steps:` and `distance:`);
    /// timed sets decide `halfway` and `set-end` by time, in `CueScheduler`.
    public func falls(onStep k: Int, ofSetOf n: Int) -> Bool {
        switch timing {
        case .every(let every):
            return k + 1 >= offset && (k + 1 - offset) % every == 0
        case .step(let step):
            return k + 1 == step
        case .setStart:
            return k == 0
        case .halfway:
            return k == n / 2
        case .setEnd:
            return k == Swift.max(0, n - steps)
        }
    }
}

/// What a cue plays.
public enum CueSource: Sendable, Equatable {
    /// Text spoken by flite.
    case say(String)
    /// A coach's recording: a path relative to the preset, or a name in `Sounds/cues/`.
    case sound(String)
}

/// Where a cue falls in every set.
public enum CueTiming: Sendable, Equatable {
    /// Every this many steps, from the cue's `offset`.
    case every(Int)
    /// The set's first step.
    case setStart
    /// The cue ends with the set: it starts `steps` steps before the set's end.
    case setEnd
    /// The middle step of a set of steps (step ⌊n/2⌋+1 of n); the first step at or after
    /// half the set's time for a timed set.
    case halfway
    /// This step, counted from 1.
    case step(Int)
}

/// How a cue sounds.
public enum CueStyle: String, CaseIterable, Sendable, Hashable {
    /// The words.
    case voice
    /// A short tonal motif with the words' rhythm and pitch, no words.
    case tone
    /// The tone on the step, then the words `steps` steps later.
    case both
}

/// Which point of a cue lands on its step's frame.
public enum CueAlign: String, CaseIterable, Sendable, Hashable {
    /// The cue's first sound.
    case start
    /// The start of its stressed syllable ("pull THROUGH"): the cue begins a little earlier.
    case stress
}

/// The default balance of speech and clicks, and how the clicks make room for a cue.
///
/// The click keeps playing under speech, ducked by `duckDecibels` so its snap does not mask
/// the weak consonants ("th", "f") that clicks hide first; the voice peaks at `voicePeak`.
/// With the loudest click level (the accent, −1 dBFS) ducked, a cue at `level: 0 dB` and a
/// click together peak at 0.93: the mix cannot clip, which is why `level` goes no higher.
public enum CueBalance {
    /// Every cue sound is scaled to peak here at `level: 0 dB`: −3 dBFS.
    public static let voicePeak: Float = 0.707_946
    /// Clicks are 12 dB softer while a cue sounds.
    public static let duckDecibels = 12.0
    /// `duckDecibels` as a gain: 0.251.
    public static let duckGain: Float = 0.251_189
    /// The clicks start to duck this long before a cue starts, so its first sound is clear.
    public static let duckAttackSeconds = 0.010
    /// After the last cue ends, the clicks come back over this long.
    public static let duckReleaseSeconds = 0.060
}

/// Limits of the cue keys; presets are checked against these.
public enum CueLimits {
    public static let cues: ClosedRange<Int> = 0...64
    public static let every: ClosedRange<Int> = 1...10_000
    public static let offset: ClosedRange<Int> = 1...1_000_000
    public static let step: ClosedRange<Int> = 1...1_000_000
    public static let steps: ClosedRange<Int> = 1...64
    /// Decibels: quieter than the default balance, never louder (see `CueBalance`).
    public static let level: ClosedRange<Double> = -40...0
    /// Characters of a cue's text.
    public static let textLength = 200
    /// Seconds given to the spoken caution.
    public static let cautionTime: ClosedRange<Double> = 1...120
    /// The flite voices a cue may name, as `stridecue voices` lists them.
    public static let voices = ["slt", "kal16", "awb", "rms"]
}

/// The one rule for words StrideCue speaks, wherever they come from: a preset's `say:`,
/// `stridecue say`, the coach's "say now".
public enum CueText {
    /// Characters (Unicode scalars) a cue may hold: about ten seconds of speech.
    public static var maxCharacters: Int { CueLimits.textLength }

    /// What is wrong with `text` as a cue, in words ("is longer than 200 characters"), or nil.
    public static func problem(with text: String) -> String? {
        if text.unicodeScalars.allSatisfy({ $0 == " " || $0 == "\t" }) { return "is empty" }
        let count = text.unicodeScalars.count
        if count > maxCharacters { return "must be at most \(maxCharacters) characters, got \(count)" }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0.value == 0x2028 || $0.value == 0x2029 }) {
            return "must be one line of text without control characters"
        }
        return nil
    }
}
