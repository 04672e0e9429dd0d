import ArgumentParser
import StrideCueCore
import StrideCueFiles
import StrideCueMixdown
import StrideCueSession
import StrideCueSoundFile
import StrideCueSpeech
import StrideCueTerminal
/// Flags that shape a session, shared by `render` and `play`.
struct SessionOptions: ParsableArguments {
    @Argument(help: "A preset name from Presets/ (e.g. bum-kicks) or a path to a .yaml file. Without one: a plain click track.")
    var preset: String?

    @Option(name: .customLong("spm"), parsing: .unconditional, help: "Cadence in steps per minute, 30 to 300; fractions allowed (172.5). Overrides the preset's cadence. Default 180.")
    var spm: CadenceValue?

    @Option(parsing: .unconditional, help: "Length: 90s, 10m, 1h or 1:30. Without a preset, the track's length (default 10m); with one, a cap.")
    var duration: LengthValue?

    @Option(help: "Click sound: woodblock, beep, cowbell, the name of a WAV in ~/.local/share/stridecue/clicks/ or Sounds/clicks/, or a path to a sound file.")
    var sound: String?

    @Option(name: .customLong("accent-every"), parsing: .unconditional, help: "Accent the first of every N steps (2 marks one foot); 0 for none.")
    var accentEvery: WholeValue?

    @Option(parsing: .unconditional, help: "Clicks per step, 1 to 4 (softer clicks between steps).")
    var subdivide: WholeValue?

    @Option(name: .customLong("count-in"), parsing: .unconditional, help: "Count-in clicks before each set, 0 to 32.")
    var countIn: WholeValue?

    func validate() throws {
        try spm?.validate("--spm")
        try duration?.validate("--duration")
        try accentEvery?.validate("--accent-every", PlanLimits.accentEvery)
        try subdivide?.validate("--subdivide", PlanLimits.subdivide)
        try countIn?.validate("--count-in", PlanLimits.countIn)
        if let sound, sound.isEmpty || sound.utf8.count > 256 {
            throw ValidationError("--sound must be a click sound name; got '\(quoted(sound))'")
        }
    }

    /// What the flags ask for, for the session library to resolve.
    var request: SessionRequest {
        SessionRequest(preset: preset, cadence: spm?.spm, duration: duration?.seconds, sound: sound,
                       accentEvery: accentEvery?.value, subdivide: subdivide?.value, countIn: countIn?.value)
    }
}

/// `--rate` and `--channels` of a written track, shared by `render` and `export`.
struct TrackFormatOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Sample rate in Hz, 8000 to 192000. Opus takes 8000, 12000, 16000, 24000 or 48000; MP3 at most 48000.")
    var rate = SampleRateValue(48_000)

    @Option(parsing: .unconditional, help: "1 (mono) or 2 (stereo).")
    var channels = ChannelsValue(2)

    var format: RenderFormat { RenderFormat(sampleRate: rate.hz, channels: channels.count) }
}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render a session to a sound file: WAV, FLAC, Ogg Vorbis, Opus or MP3.",
        discussion: """
            The file is written under a temporary name in the same folder and appears at FILE \
            only when complete. A preset's cues, spoken count-in and caution are synthesized \
            first; a cue that cannot be said in its steps is reported at its line. \
            --cue-sheet writes when each cue is heard (start,end,step,text,style) as CSV; \
            --stem renders the voice, the clicks or the music alone, aligned with the full mix, \
            with the mix's gain and limiting: the stems of a track add up to its mix. \
            Exit codes: 0 done, 64 bad flag, 65 bad preset, 66 missing input, \
            73 cannot create the output, 74 I/O error (e.g. disk full), 130 interrupted.
            """
    )

    @OptionGroup var session: SessionOptions

    @Option(name: .shortAndLong, help: "The file to write: .wav, .flac, .ogg, .opus or .mp3 (the extension picks the format).")
    var output: String?

    @OptionGroup var track: TrackFormatOptions

    @Option(help: "Sample format: 16, 24 or 32f (32-bit float).")
    var bits: SampleEncoding = .pcm16

    @Flag(help: "No progress bar.")
    var quiet = false

    @Option(name: .customLong("cue-sheet"), help: ArgumentHelp(
        "Also write when each cue is heard, as CSV (start,end,step,text,style); - for standard output.",
        valueName: "file.csv"))
    var cueSheet: String?

    @Option(help: ArgumentHelp("Render one layer alone, time-aligned with the mix: voice, clicks or music (with --music).", valueName: "layer"))
    var stem: RenderStem?

    @OptionGroup var phone: PhoneOptions

    /// Checks every flag before any work; an unknown option is reported before a missing one
    /// (ArgumentParser finds unknown options while parsing, before this runs).
    func validate() throws {
        if let output { _ = try phone.settings(for: output, format: track.format, encoding: bits) }
        if stem == .music && phone.music == nil {
            throw ValidationError("--stem music needs --music FILE: there is no music to render alone")
        }
        if let cueSheet, cueSheet != "-", !cueSheet.lowercased().hasSuffix(".csv") {
            throw ValidationError("--cue-sheet \(escaped(cueSheet)): use a .csv name, or - for standard output")
        }
    }

    func run() throws {
        try reportingFailures {
            catchInterrupts()
            // Checked here, not in validate(): ArgumentParser reports an unknown option only
            // after validate() passes, and a typo is the more useful news.
            guard let output else { throw Failure.flag("-o/--output", "is missing: name the file to write, such as -o drill.wav") }
            let format = track.format
            let target = try phone.settings(for: output, format: format, encoding: bits)
            let timing = environment("STRIDECUE_TIMING") != nil
            let data = DataFolder.locate()
            let resolved = try session.request.resolve(in: PresetLocator(data: data))
            // Every output is checked before anything is made: a cue sheet that cannot be
            // written must not leave a track behind, nor a track a cue sheet.
            try checkReplaceable(output)
            if let cueSheet, cueSheet != "-" { try checkReplaceable(cueSheet) }
            // A length the format cannot tell is refused, and a WAV past 4 GiB is RF64.
            let frames = Renderer.totalFrames(of: resolved.plan, sampleRate: format.sampleRate, maxDuration: resolved.cap)
            if let problem = target.type.lengthProblem(frames: frames, format: format) {
                let advice = "; write .wav, .ogg or .opus, or shorten it with --duration"
                throw Failure("-o \(escaped(output)): \(problem)\(advice)",
                              exitCode: session.duration != nil ? ExitStatus.usage : ExitStatus.dataError)
            }
            if target.type.needsRF64(frames: frames, format: format, encoding: target.encoding) {
                printError("stridecue: note: \(escaped(output)) passes 4 GiB, so it is written as RF64, the WAV whose header can say how long it is")
            }
            let started = monotonicSeconds()
            let prepared = try preflight(resolved, data: data, format: format)
            let cuesReady = monotonicSeconds()
            var progress = ProgressBar(total: prepared.totalFrames, rate: format.sampleRate, enabled: !quiet)
            defer { progress.finish() }
            let layer = stem ?? .mix
            let report = try writeTrack(
                makeRenderer: { prepared.makeRenderer() },
                to: output, settings: target, tags: trackTags(for: prepared.plan), cues: prepared.spoken,
                progress: { done, _ in progress.update(done) }, cancellation: interruptions,
                stem: layer, makeStemRenderer: { prepared.makeRenderer(stem: layer) })
            progress.finish()
            if timing {
                let speech = SpeechSynthesizer.shared
                printError("stridecue: timing: cues \(milliseconds(cuesReady - started)) ms "
                    + "(\(speech.synthesisCount) syntheses, \(speech.cacheHits) cache hits), "
                    + "mixing \(milliseconds(report.renderSeconds)) ms, render and write \(milliseconds(monotonicSeconds() - cuesReady)) ms; "
                    + report.phases.map { "\($0.phase) \(milliseconds($0.seconds)) ms" }.joined(separator: ", "))
            }
            if let cueSheet {
                if cueSheet == "-" {
                    print(prepared.cueSheet, terminator: "")
                } else {
                    try replaceFile(cueSheet, with: Array(prepared.cueSheet.utf8))
                }
            }
        }
    }

    private func milliseconds(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }

}

extension RenderStem: FlagValue {
    static let expectation = "voice, clicks or music"
    public init?(argument: String) {
        guard argument == "voice" || argument == "clicks" || argument == "music" else { return nil }
        self.init(rawValue: argument)
    }
}
