/// What a runner will hear, in the runner's terms: cadence, sets, rests, count-in, accents.
///
/// A plan is pure data. `Timeline` turns it into event frames; `Renderer` turns those into
/// samples. Presets decode into a plan; command-line flags adjust one.
public struct SessionPlan: Sendable, Equatable {
    /// Short name shown to the runner, e.g. "Bum kicks".
    public var name: String
    /// What the drill is for.
    public var about: String
    /// Said before anything else, e.g. "Not with a hamstring injury.": spoken at the start of
    /// the track, before the first count-in, in `cautionLead` seconds of its own.
    public var caution: String
    /// Seconds given to the spoken caution, or nil for `defaultCautionTime`.
    public var cautionTime: Double?
    /// Target cadence in steps per minute; fractional values are allowed (172.5).
    public var cadence: Double
    /// Optional tempo ramp at the start of every set.
    public var ramp: TempoRamp?
    /// Clicks at the set's starting tempo before each set.
    public var countIn: Int
    /// Speak the count-in ("three, two, one, go"), one word on each count-in click.
    public var countInSpoken: Bool
    /// Number of sets.
    public var sets: Int
    /// How long one set lasts.
    public var setLength: SetLength
    /// Seconds of silence between sets.
    public var rest: Double
    /// Accent the first step of every group of this many steps; 0 means no accents.
    public var accentEvery: Int
    /// Clicks per step: 1 is one click a step, up to 4 (softer clicks between steps).
    public var subdivide: Int
    /// Name of the click sound: a built-in (`ClickSound.builtInNames`) or a WAV in `Sounds/clicks/`.
    public var sound: String
    /// Spoken or recorded cues, in preset order; a cue's index is its id in `CueVoices`.
    public var cues: [CueSpec]
    /// How the click answers a running sensor (`feedback:`), and its settings; `guide` without one.
    public var feedback = FeedbackSettings()

    /// Seconds a caution gets when the preset does not say: room for two short sentences.
    public static let defaultCautionTime = 6.0

    /// Seconds before the first count-in in which the caution is spoken; 0 without a caution.
    public var cautionLead: Double {
        caution.isEmpty ? 0 : (cautionTime ?? Self.defaultCautionTime)
    }

    public init(
        name: String = "Click track",
        about: String = "",
        caution: String = "",
        cadence: Double = 180,
        ramp: TempoRamp? = nil,
        countIn: Int = 0,
        sets: Int = 1,
        setLength: SetLength = .duration(seconds: 600),
        rest: Double = 0,
        accentEvery: Int = 0,
        subdivide: Int = 1,
        sound: String = "woodblock",
        cues: [CueSpec] = [],
        countInSpoken: Bool = false,
        cautionTime: Double? = nil
    ) {
        self.name = name
        self.about = about
        self.caution = caution
        self.cadence = cadence
        self.ramp = ramp
        self.countIn = countIn
        self.sets = sets
        self.setLength = setLength
        self.rest = rest
        self.accentEvery = accentEvery
        self.subdivide = subdivide
        self.sound = sound
        self.cues = cues
        self.countInSpoken = countInSpoken
        self.cautionTime = cautionTime
    }
}

/// A change of tempo over the first steps of a set.
///
/// Step `k`'s interval is `60 / (from + (cadence − from)·k/steps)` seconds for `k < steps`,
/// then `60 / cadence`. A ramp may go down as well as up.
public struct TempoRamp: Sendable, Equatable {
    /// Cadence of the first step, in steps per minute.
    public var from: Double
    /// Number of steps over which the cadence moves from `from` to the set's cadence.
    public var steps: Int

    public init(from: Double, steps: Int) {
        self.from = from
        self.steps = steps
    }
}

/// How long a set lasts.
public enum SetLength: Sendable, Equatable {
    /// A fixed number of steps.
    case steps(Int)
    /// Every step that starts before this many seconds into the set.
    case duration(seconds: Double)
    /// Enough steps to cover a distance: `ceil(meters / stepLength)`.
    case distance(meters: Double, stepLength: Double)
}

/// The limits a plan must respect; presets and flags are checked against these.
public enum PlanLimits {
    public static let cadence: ClosedRange<Double> = 30...300
    public static let rampSteps: ClosedRange<Int> = 1...100_000
    public static let countIn: ClosedRange<Int> = 0...32
    public static let sets: ClosedRange<Int> = 1...99
    public static let setSteps: ClosedRange<Int> = 1...1_000_000
    /// Seconds; a single set may run up to 24 hours.
    public static let setDuration: ClosedRange<Double> = 0.1...86_400
    /// Metres.
    public static let distance: ClosedRange<Double> = 0.1...1_000_000
    /// Metres per step.
    public static let stepLength: ClosedRange<Double> = 0.1...5
    /// Seconds of rest between sets.
    public static let rest: ClosedRange<Double> = 0...3_600
    public static let accentEvery: ClosedRange<Int> = 0...64
    public static let subdivide: ClosedRange<Int> = 1...4
    /// Output sample rates the renderer accepts, in Hz.
    public static let sampleRate: ClosedRange<Int> = 8_000...192_000
}
