import ArgumentParser
import StrideCueCore
import StrideCueLoudness
import StrideCueSoundFile

/// Flags for files meant for a phone — format quality, loudness, music — shared by `render`
/// and `export`.
struct PhoneOptions: ParsableArguments {
    @Option(help: "For .mp3, .ogg and .opus: 0 (smallest file) to 10 (best sound). Default 7 (MP3 ≈ LAME -V3).")
    var quality: String?

    @Option(parsing: .unconditional,
            help: "Integrated loudness to normalize to, in LUFS, from -40 to -5 (default -16), with true peaks kept at or under -1 dBTP.")
    var loudness: String?

    @Flag(name: .customLong("no-normalize"), help: "Keep the renderer's own levels: no loudness normalization.")
    var noNormalize = false

    @Option(help: "A music file (any format libsndfile reads) to play under the clicks and cues, looped or cut to the track's length.")
    var music: String?

    @Option(name: .customLong("music-level"), parsing: .unconditional,
            help: "The music's loudness relative to the clicks and cues, in dB, from -40 to 0 (default -6).")
    var musicLevel: String?

    @Option(parsing: .unconditional, help: "How far the music dips while a spoken cue plays, in dB, 0 to 40 (default 10).")
    var duck: String?

    static let defaultLoudness = -16.0
    static let loudnessRange = -40.0 ... -5.0
    static let defaultMusicLevel = -6.0
    static let musicLevelRange = -40.0 ... 0.0
    static let duckRange = 0.0 ... 40.0

    /// What to write for `output`, checked against the format before any work.
    ///
    /// - Parameters:
    ///   - output: the file to write; its extension picks the container and codec.
    ///   - alwaysForPhone: true for `export`, where every file is a phone file.
    ///
    /// A `.wav` from `render` with neither `--loudness` nor `--music` is the renderer's exact
    /// output, untagged, byte for byte what `render` has always written (and what `play`
    /// sounds like). Every other file — the compressed formats, FLAC, anything `export`
    /// writes, a WAV with `--loudness` or `--music` — is a phone file: tagged, and normalized
    /// unless `--no-normalize`.
    func settings(for output: String, format: RenderFormat, encoding: SampleEncoding) throws -> PhoneSettings {
        guard let type = SoundFileType(path: output) else {
            let name = output.split(separator: "/").last.map(String.init) ?? output
            let ext = name.contains(".") ? "'.\(name.split(separator: ".").last!)'" : "a file without an extension"
            throw Failure.flag("-o", "\(output): cannot write \(ext); use a \(SoundFileType.extensionList) name")
        }
        return try settings(for: type, format: format, encoding: encoding, named: ("-o", output))
    }

    /// What to write as `type`; `named` is the flag and value a problem is reported against.
    func settings(for type: SoundFileType, format: RenderFormat, encoding: SampleEncoding,
                  alwaysForPhone: Bool = false, named: (flag: String, value: String)) throws -> PhoneSettings {
        if let problem = type.problem(with: format, encoding: encoding) {
            throw Failure.flag(named.flag, "\(named.value): \(problem)")
        }
        var quality: Int? = nil
        if let text = self.quality {
            guard type.isLossy else {
                throw Failure.flag("--quality", "applies to .mp3, .ogg and .opus; \(type.displayName) is lossless")
            }
            quality = try parseWhole("--quality", text, SoundFileType.qualityRange)
        }
        let target = try loudness.map {
            try parseFlag("--loudness", $0, "a loudness in LUFS such as -16", range: Self.loudnessRange, unit: " LUFS") { Double($0) }
        }
        if target != nil && noNormalize {
            throw Failure.flag("--loudness", "cannot be used with --no-normalize")
        }
        let level = try musicLevel.map {
            try parseFlag("--music-level", $0, "a level in dB such as -6", range: Self.musicLevelRange, unit: " dB") { Double($0) }
        }
        let depth = try duck.map {
            try parseFlag("--duck", $0, "a number of dB such as 10", range: Self.duckRange, unit: " dB") { Double($0) }
        }
        if music == nil, musicLevel != nil || duck != nil {
            throw Failure.flag(musicLevel != nil ? "--music-level" : "--duck", "needs --music")
        }
        let forPhone = alwaysForPhone || type != .wav || target != nil || music != nil
        return PhoneSettings(
            type: type, encoding: encoding, quality: quality,
            loudness: forPhone && !noNormalize ? (target ?? Self.defaultLoudness) : nil,
            tagged: forPhone,
            music: music.map { MusicSettings(path: $0, level: level ?? Self.defaultMusicLevel, duck: depth ?? Ducker.defaultDepth) })
    }
}

/// A music bed: which file, how loud, how far it ducks under cues.
struct MusicSettings: Equatable {
    var path: String
    /// dB relative to the loudness of the clicks and cues.
    var level: Double
    /// dB the music is lowered by while a cue plays.
    var duck: Double
}

/// How one file is written: the outcome of `PhoneOptions.settings(for:…)`.
struct PhoneSettings: Equatable {
    var type: SoundFileType
    var encoding: SampleEncoding
    /// 0–10 for the lossy codecs, nil for the default.
    var quality: Int?
    /// Integrated loudness target in LUFS, or nil to keep the renderer's levels.
    var loudness: Double?
    /// Write title, artist, album, comment and date.
    var tagged: Bool
    var music: MusicSettings?

    /// The largest true peak let into the file, in dBTP.
    ///
    /// The promise is −1 dBTP in the file a phone plays. The limiter's detector and the
    /// meters' interpolators differ by a tenth of a dB or two, and a lossy encoder adds
    /// overshoot of its own around sharp transients (a click is all transient), so the
    /// limiter aims lower, by a margin measured on StrideCue's own clicks.
    var peakCeiling: Double {
        switch type {
        case .wav, .flac: return -1.3
        case .ogg, .opus, .mp3: return -2.0
        }
    }
}

/// Title, artist, album, comment and date for a track of `plan`.
func trackTags(for plan: SessionPlan, trackNumber: String = "") -> TrackTags {
    TrackTags(title: "\(plan.name) — \(format(plan.cadence)) spm", comment: planLine(plan), trackNumber: trackNumber)
}

/// The plan in one line, for a file's comment: what a runner will hear.
func planLine(_ plan: SessionPlan) -> String {
    var parts: [String] = []
    let length: String
    switch plan.setLength {
    case .steps(let n): length = "\(n) steps"
    case .duration(let seconds): length = seconds >= 60 ? clock(seconds) : "\(format(seconds)) s"
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
