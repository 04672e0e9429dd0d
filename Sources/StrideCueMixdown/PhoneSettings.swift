import StrideCueCore
import StrideCueSoundFile

/// A music bed: which file, how loud, how far it ducks under cues.
public struct MusicSettings: Equatable {
    public init(path: String, level: Double, duck: Double) {
        self.path = path
        self.level = level
        self.duck = duck
    }

    public var path: String
    /// dB relative to the loudness of the clicks and cues.
    public var level: Double
    /// dB the music is lowered by while a cue plays.
    public var duck: Double
}

/// How one file is written: the outcome of `PhoneOptions.settings(for:…)`.
public struct PhoneSettings: Equatable {
    public init(type: SoundFileType, encoding: SampleEncoding, quality: Int?, loudness: Double?, tagged: Bool, music: MusicSettings?) {
        self.type = type
        self.encoding = encoding
        self.quality = quality
        self.loudness = loudness
        self.tagged = tagged
        self.music = music
    }

    public static let defaultLoudness = -16.0
    public static let loudnessRange = -40.0 ... -5.0
    public static let defaultMusicLevel = -6.0
    public static let musicLevelRange = -40.0 ... 0.0
    public static let duckRange = 0.0 ... 40.0

    public var type: SoundFileType
    public var encoding: SampleEncoding
    /// 0–10 for the lossy codecs, nil for the default.
    public var quality: Int?
    /// Integrated loudness target in LUFS, or nil to keep the renderer's levels.
    public var loudness: Double?
    /// Write title, artist, album, comment and date.
    public var tagged: Bool
    public var music: MusicSettings?

    /// The largest true peak let into the file, in dBTP.
    ///
    /// The promise is −1 dBTP in the file a phone plays. The limiter's detector and the
    /// meters' interpolators differ by a tenth of a dB or two, and a lossy encoder adds
    /// overshoot of its own around sharp transients (a click is all transient), so the
    /// limiter aims lower, by a margin measured on StrideCue's own clicks.
    public var peakCeiling: Double {
        switch type {
        case .wav, .flac: return -1.3
        case .ogg, .opus, .mp3, .m4a: return -2.0
        }
    }
}

/// Title, artist, album, comment and date for a track of `plan`.
/// With `music`, the title says so and the album is `Drills with music`: a phone then shows
/// the two versions of a drill apart, each in an album of its own.
public func trackTags(for plan: SessionPlan, music: Bool = false, trackNumber: String = "") -> TrackTags {
    TrackTags(title: "\(plan.name) — \(format(plan.cadence)) spm\(music ? " with music" : "")",
              album: music ? "Drills with music" : "Drills", comment: planLine(plan), trackNumber: trackNumber)
}

/// The plan in one line, for a file's comment: what a runner will hear.
public func planLine(_ plan: SessionPlan) -> String {
    var parts: [String] = []
    let length: String
    switch plan.setLength {
    case .steps(let n): length = "\(n) steps"
    case .duration(let seconds): length = seconds >= 60 ? PlanText.clock(seconds) : "\(format(seconds)) s"
    case .distance(let meters, let stepLength): length = "\(format(meters)) m (\(format(stepLength)) m steps)"
    }
    parts.append(plan.sets == 1 ? "1 set of \(length)" : "\(plan.sets) sets of \(length)")
    if let ramp = plan.ramp {
        parts.append("\(format(ramp.from)) to \(format(plan.cadence)) spm over \(ramp.steps) steps")
    } else {
        parts.append("\(format(plan.cadence)) spm")
    }
    if plan.countIn > 0 { parts.append("count-in \(plan.countIn)") }
    if plan.sets > 1 && plan.rest > 0 { parts.append("rest \(format(plan.rest)) s") }
    if plan.accentEvery > 0 { parts.append("accent every \(plan.accentEvery)") }
    if plan.subdivide > 1 { parts.append("\(plan.subdivide) clicks a step") }
    parts.append(plan.sound)
    return parts.joined(separator: ", ")
}
