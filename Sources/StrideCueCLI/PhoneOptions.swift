import ArgumentParser
import StrideCueCore
import StrideCueFiles
import StrideCueLoudness
import StrideCueMixdown
import StrideCueSession
import StrideCueSoundFile
import StrideCueTerminal
/// Flags for files meant for a phone — format quality, loudness, music — shared by `render`
/// and `export`.
struct PhoneOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "For .mp3, .ogg and .opus: 0 (smallest file) to 10 (best sound). Default 7 (MP3 about LAME -V3).")
    var quality: WholeValue?

    @Option(parsing: .unconditional,
            help: "Integrated loudness to normalize to, in LUFS, from -40 to -5 (default -16), with true peaks kept at or under -1 dBTP.")
    var loudness: DecimalValue?

    @Flag(name: .customLong("no-normalize"), help: "Keep the renderer's own levels: no loudness normalization.")
    var noNormalize = false

    @OptionGroup var musicOptions: MusicOptions
    var music: String? { musicOptions.music }

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
            throw Failure.flag("-o", "\(escaped(output)): cannot write \(quoted(ext)); use a \(SoundFileType.extensionList) name")
        }
        return try settings(for: type, format: format, encoding: encoding, named: ("-o", output))
    }

    /// What to write as `type`; `named` is the flag and value a problem is reported against.
    func settings(for type: SoundFileType, format: RenderFormat, encoding: SampleEncoding,
                  alwaysForPhone: Bool = false, named: (flag: String, value: String)) throws -> PhoneSettings {
        if let problem = type.problem(with: format, encoding: encoding) {
            throw Failure.flag(named.flag, "\(escaped(named.value)): \(problem)")
        }
        if quality != nil, !type.isLossy {
            throw Failure.flag("--quality", "applies to .mp3, .ogg and .opus; \(type.displayName) is lossless")
        }
        try quality?.validate("--quality", SoundFileType.qualityRange)
        try loudness?.validate("--loudness", PhoneSettings.loudnessRange, unit: "LUFS")
        try musicOptions.validateValues()
        let target = loudness?.value
        if target != nil && noNormalize {
            throw Failure.flag("--loudness", "cannot be used with --no-normalize")
        }
        let music = try musicOptions.settings()
        let quality = self.quality?.value
        let forPhone = alwaysForPhone || type != .wav || target != nil || music != nil
        return PhoneSettings(
            type: type, encoding: encoding, quality: quality,
            loudness: forPhone && !noNormalize ? (target ?? PhoneSettings.defaultLoudness) : nil,
            tagged: forPhone, music: music)
    }
}


/// Music under the clicks and cues — `--music`, `--music-level`, `--duck` — shared by `render`,
/// `export` (within `PhoneOptions`), `play` and `coach`: one spelling, one check.
struct MusicOptions: ParsableArguments {
    @Option(help: "A music file (WAV, FLAC, MP3, Ogg, M4A/AAC: what libsndfile or FFmpeg reads) to play under the clicks and cues, looped or cut to the track's length.")
    var music: String?

    @Option(name: .customLong("music-level"), parsing: .unconditional,
            help: "The music's loudness relative to the clicks and cues, in dB, from -40 to 0 (default -6).")
    var musicLevel: DecimalValue?

    @Option(parsing: .unconditional, help: "How far the music dips while a spoken cue plays, in dB, 0 to 40 (default 10).")
    var duck: DecimalValue?

    /// Checks the values' ranges.
    func validateValues() throws {
        try musicLevel?.validate("--music-level", PhoneSettings.musicLevelRange, unit: "dB")
        try duck?.validate("--duck", PhoneSettings.duckRange, unit: "dB")
    }

    /// The music asked for, checked; nil without `--music`.
    func settings() throws -> MusicSettings? {
        try validateValues()
        if music == nil, musicLevel != nil || duck != nil {
            throw Failure.flag(musicLevel != nil ? "--music-level" : "--duck", "needs --music")
        }
        return music.map {
            MusicSettings(path: $0, level: musicLevel?.value ?? PhoneSettings.defaultMusicLevel, duck: duck?.value ?? Ducker.defaultDepth)
        }
    }
}
