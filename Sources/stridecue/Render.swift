import ArgumentParser
import Glibc
import StrideCueCore
import StrideCueSoundFile
import StrideCueSpeech

/// Flags that shape a session, shared by `render` and `play`.
struct SessionOptions: ParsableArguments {
    @Argument(help: "A preset name from Presets/ (e.g. bum-kicks) or a path to a .yaml file. Without one: a plain click track.")
    var preset: String?

    @Option(name: .customLong("spm"), help: "Cadence in steps per minute, 30–300; fractions allowed (172.5). Overrides the preset's cadence. Default 180.")
    var spm: String?

    @Option(help: "Length: 90s, 10m, 1h or 1:30. Without a preset, the track's length (default 10m); with one, a cap.")
    var duration: String?

    @Option(help: "Click sound: woodblock, beep, cowbell, or the name of a WAV in Sounds/clicks/.")
    var sound: String?

    @Option(name: .customLong("accent-every"), help: "Accent the first of every N steps (2 marks one foot); 0 for none.")
    var accentEvery: String?

    @Option(help: "Clicks per step, 1–4 (softer clicks between steps).")
    var subdivide: String?

    @Option(name: .customLong("count-in"), help: "Count-in clicks before each set, 0–32.")
    var countIn: String?

    /// The plan to render: the preset (or a plain track) with the flags applied.
    func resolvePlan(data: DataFolder?) throws -> (plan: SessionPlan, cap: Double?, preset: LoadedPreset?) {
        var plan: SessionPlan
        var cap: Double? = nil
        var loaded: LoadedPreset? = nil
        let length = try duration.map { try parseFlag("--duration", $0, "a length such as 90s, 10m, 1h or 1:30", range: 0.001...86_400, parseDuration) }
        if let preset {
            let path = try PresetLocator(data: data).path(for: preset)
            let bytes = try readFile(path, limit: PresetLocator.sizeLimit)
            let preset = try decodePreset(bytes, file: path)
            plan = preset.plan
            cap = length
            loaded = LoadedPreset(path: path, preset: preset)
        } else {
            plan = SessionPlan(name: "Click track", setLength: .duration(seconds: length ?? 600))
        }
        if let spm {
            plan.cadence = try parseFlag("--spm", spm, "a number of steps per minute", range: PlanLimits.cadence, unit: " steps per minute") { Double($0) }
        }
        if let accentEvery {
            plan.accentEvery = try parseWhole("--accent-every", accentEvery, PlanLimits.accentEvery)
        }
        if let subdivide {
            plan.subdivide = try parseWhole("--subdivide", subdivide, PlanLimits.subdivide)
        }
        if let countIn {
            plan.countIn = try parseWhole("--count-in", countIn, PlanLimits.countIn)
        }
        if let sound { plan.sound = sound }
        return (plan, cap, loaded)
    }
}

/// `--rate` and `--channels` of a written track, shared by `render` and `export`.
struct TrackFormatOptions: ParsableArguments {
    @Option(help: "Sample rate in Hz, 8000–192000. Opus takes 8000, 12000, 16000, 24000 or 48000; MP3 at most 48000.")
    var rate: String = "48000"

    @Option(help: "1 (mono) or 2 (stereo).")
    var channels: String = "2"

    func format() throws -> RenderFormat {
        let hz = try parseWhole("--rate", rate, PlanLimits.sampleRate)
        guard channels == "1" || channels == "2" else {
            throw Failure.flag("--channels", "must be 1 or 2, got '\(channels)'")
        }
        return RenderFormat(sampleRate: hz, channels: Int(channels)!)
    }
}

/// Parses a number-like flag value, refusing NaN, infinities and values out of range.
func parseFlag(_ flag: String, _ text: String, _ what: String, range: ClosedRange<Double>, unit: String = "",
               _ parse: (String) -> Double?) throws -> Double {
    guard let value = parse(text), value.isFinite else {
        throw Failure.flag(flag, "must be \(what), got '\(text)'")
    }
    guard range.contains(value) else {
        throw Failure.flag(flag, "must be between \(format(range.lowerBound)) and \(format(range.upperBound))\(unit), got \(text)")
    }
    return value
}

func parseWhole(_ flag: String, _ text: String, _ range: ClosedRange<Int>) throws -> Int {
    guard let value = Int(text), range.contains(value) else {
        throw Failure.flag(flag, "must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
    }
    return value
}

/// A number without a needless ".0".
func format(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
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
            --stem renders the voice or the clicks alone, aligned with the full mix. \
            Exit codes: 0 done, 64 bad flag, 65 bad preset, 66 missing input, \
            73 cannot create the output, 74 I/O error (e.g. disk full), 130 interrupted.
            """
    )

    @OptionGroup var session: SessionOptions

    @Option(name: .shortAndLong, help: "The file to write: .wav, .flac, .ogg, .opus or .mp3 (the extension picks the format).")
    var output: String

    @OptionGroup var track: TrackFormatOptions

    @Option(help: "Sample format: 16, 24 or 32f (32-bit float).")
    var bits: String = "16"

    @Flag(help: "No progress bar.")
    var quiet = false

    @Option(name: .customLong("cue-sheet"), help: ArgumentHelp(
        "Also write when each cue is heard, as CSV (start,end,step,text,style); - for standard output.",
        valueName: "file.csv"))
    var cueSheet: String?

    @Option(help: ArgumentHelp("Render one layer alone, time-aligned with the mix: voice or clicks.", valueName: "layer"))
    var stem: String?

    @OptionGroup var phone: PhoneOptions

    func run() throws {
        try reportingFailures {
            catchInterrupts()
            let format = try track.format()
            guard let encoding = SampleEncoding(rawValue: bits) else {
                throw Failure.flag("--bits", "must be 16, 24 or 32f, got '\(bits)'")
            }
            let target = try phone.settings(for: output, format: format, encoding: encoding)
            let layer = try stemLayer()
            if let cueSheet, cueSheet != "-" {
                guard cueSheet.lowercased().hasSuffix(".csv") else {
                    throw Failure.flag("--cue-sheet", "\(cueSheet): use a .csv name, or - for standard output")
                }
            }
            let timing = getenv("STRIDECUE_TIMING") != nil
            let data = DataFolder.locate()
            let (plan, cap, preset) = try session.resolvePlan(data: data)
            let sound = try loadSound(plan.sound, flagged: session.sound != nil, preset: preset, data: data, rate: format.sampleRate)
            let started = monotonicSeconds()
            let cues = try prepareCues(plan: plan, preset: preset, data: data, rate: format.sampleRate)
            let prepared = monotonicSeconds()
            let spoken = spokenRanges(plan: plan, cues: cues)
            let mixing = try writeTrack(
                makeRenderer: { Renderer(plan: plan, sound: sound, format: format, maxDuration: cap, cues: cues, stem: layer) },
                to: output, settings: target, tags: trackTags(for: plan), cues: spoken, quiet: quiet).renderSeconds
            if timing {
                let speech = SpeechSynthesizer.shared
                printError("stridecue: timing: cues \(milliseconds(prepared - started)) ms "
                    + "(\(speech.synthesisCount) syntheses, \(speech.cacheHits) cache hits), "
                    + "mixing \(milliseconds(mixing)) ms, render and write \(milliseconds(monotonicSeconds() - prepared)) ms")
            }
            if let cueSheet {
                let text = makeCueSheet(plan: plan, voices: cues,
                                        totalFrames: Renderer.totalFrames(of: plan, sampleRate: format.sampleRate, maxDuration: cap))
                if cueSheet == "-" {
                    print(text, terminator: "")
                } else {
                    try replaceFile(cueSheet, with: Array(text.utf8))
                }
            }
        }
    }

    func stemLayer() throws -> RenderStem {
        guard let stem else { return .mix }
        guard stem == "voice" || stem == "clicks", let layer = RenderStem(rawValue: stem) else {
            throw Failure.flag("--stem", "must be voice or clicks, got '\(stem)'")
        }
        return layer
    }

    private func milliseconds(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }

}

/// A preset as read from a file, kept for messages that point into it.
struct LoadedPreset {
    var path: String
    var preset: Preset
}

/// Loads the click sound a plan names, with an error that points at the flag or the preset line.
func loadSound(_ name: String, flagged: Bool, preset: LoadedPreset?, data: DataFolder?, rate: Int) throws -> ClickSound {
    if let sound = try ClickSoundFiles.load(name, folder: data?.clickSounds, sampleRate: rate) {
        return sound
    }
    let choices = ClickSoundFiles.available(folder: data?.clickSounds).joined(separator: ", ")
    if !flagged, let preset {
        let message = "unknown click sound '\(name)'; choose one of: \(choices)"
        let span = preset.preset.root.entry("sound")?.value.span
        throw PresetError(file: preset.path, line: span?.line ?? 1, column: span?.column ?? 1, message: message)
    }
    throw Failure.flag("--sound", "must be one of: \(choices); got '\(name)'")
}
