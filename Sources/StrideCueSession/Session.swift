import StrideCueCore
import StrideCueFiles
import StrideCueSoundFile
import StrideCueSpeech
import StrideCuePresets

/// What a front end asks to play or render: a preset (or none, for a plain click track) and
/// the values that override it. Values arrive checked (the command line's option types, the
/// remote's JSON decoding); `resolve` applies them.
public struct SessionRequest: Sendable, Equatable {
    /// A preset name or a path to a `.yaml` file; nil for a plain click track.
    public var preset: String?
    /// Steps per minute, overriding the preset's cadence (default 180 without a preset).
    public var cadence: Double?
    /// Seconds: a plain track's length (default 10 minutes), or a cap on a preset's.
    public var duration: Double?
    /// A click sound name, overriding the preset's.
    public var sound: String?
    public var accentEvery: Int?
    public var subdivide: Int?
    public var countIn: Int?

    public init(preset: String? = nil, cadence: Double? = nil, duration: Double? = nil, sound: String? = nil,
                accentEvery: Int? = nil, subdivide: Int? = nil, countIn: Int? = nil) {
        self.preset = preset
        self.cadence = cadence
        self.duration = duration
        self.sound = sound
        self.accentEvery = accentEvery
        self.subdivide = subdivide
        self.countIn = countIn
    }

    /// The plan to render: the preset (or a plain track) with the overrides applied.
    public func resolve(in store: PresetLocator) throws -> ResolvedSession {
        var plan: SessionPlan
        var cap: Double? = nil
        var loaded: LoadedPreset? = nil
        if let preset {
            loaded = try store.load(preset)
            plan = loaded!.preset.plan
            cap = duration
        } else {
            plan = SessionPlan(name: "Click track", setLength: .duration(seconds: duration ?? 600))
        }
        if let cadence { plan.cadence = cadence }
        if let accentEvery { plan.accentEvery = accentEvery }
        if let subdivide { plan.subdivide = subdivide }
        if let countIn { plan.countIn = countIn }
        if let sound { plan.sound = sound }
        return ResolvedSession(plan: plan, cap: cap, preset: loaded, soundFromFlag: sound != nil)
    }
}

/// A preset as read from a file, kept for messages that point into it.
public struct LoadedPreset: Sendable {
    public var path: String
    public var preset: Preset

    public init(path: String, preset: Preset) {
        self.path = path
        self.preset = preset
    }
}

/// A plan with where it came from, before any sound is made.
public struct ResolvedSession: Sendable {
    public var plan: SessionPlan
    /// Seconds the track is cut to (`--duration` with a preset), or nil.
    public var cap: Double?
    public var preset: LoadedPreset?
    /// The click sound was named by a flag, so a bad one is the flag's fault, not the preset's.
    public var soundFromFlag: Bool

    public init(plan: SessionPlan, cap: Double? = nil, preset: LoadedPreset? = nil, soundFromFlag: Bool = false) {
        self.plan = plan
        self.cap = cap
        self.preset = preset
        self.soundFromFlag = soundFromFlag
    }
}

/// A session that passed the preflight: every sound made and every check passed. What a
/// front end renders, plays or exports.
public struct PreparedSession {
    public let plan: SessionPlan
    public let cap: Double?
    public let preset: LoadedPreset?
    public let format: RenderFormat
    public let sound: ClickSound
    /// Nil when the plan says nothing.
    public let cues: CueVoices?

    /// A fresh renderer at the start of the session.
    public func makeRenderer(stem: RenderStem = .mix) -> Renderer {
        Renderer(plan: plan, sound: sound, format: format, maxDuration: cap, cues: cues, stem: stem)
    }

    /// Frames in the whole track.
    public var totalFrames: Int64 { Renderer.totalFrames(of: plan, sampleRate: format.sampleRate, maxDuration: cap) }

    /// Where spoken cues sound, in frames: what music ducks under.
    public var spoken: [Range<Int64>] { spokenRanges(plan: plan, cues: cues) }

    /// The cue sheet of the track (see `makeCueSheet`).
    public var cueSheet: String { makeCueSheet(plan: plan, voices: cues, totalFrames: totalFrames) }
}

/// The one preflight: everything `render`, `play`, `export`, `preset check`, `preset set` and
/// the coach's remote check before a sound is made, in one place, so that what one refuses,
/// all refuse, with the same one-line message and exit status.
///
/// Checks and makes, in order: the click sound (an unknown name points at the preset's
/// `sound:` line, or at `--sound`); every cue's speech or recording, fitted to its steps; the
/// spoken count-in and caution; that no two cues talk over each other; that no cue runs past
/// the end of the plan.
/// - Parameters:
///   - resolved: the plan and where it came from.
///   - data: the shipped data folder, for click and cue sounds.
///   - format: the output's rate and channels.
public func preflight(_ resolved: ResolvedSession, data: DataFolder?, format: RenderFormat,
                      speech: SpeechSynthesizer = .shared) throws -> PreparedSession {
    let plan = resolved.plan
    let sound = try loadSound(plan.sound, flagged: resolved.soundFromFlag, preset: resolved.preset, data: data,
                              rate: format.sampleRate)
    let cues = try prepareCues(plan: plan, preset: resolved.preset, data: data, rate: format.sampleRate, speech: speech)
    return PreparedSession(plan: plan, cap: resolved.cap, preset: resolved.preset, format: format, sound: sound, cues: cues)
}

/// The format a preset is checked at by `preset check` and `preset set`: what `render` and
/// `play` write by default.
public let checkFormat = RenderFormat(sampleRate: 48_000, channels: 2)

/// Loads the click sound a plan names, with an error that points at the flag or the preset line.
///
/// A name is a built-in, or `NAME.wav` in the user's clicks folder
/// (`$XDG_DATA_HOME/stridecue/clicks`), then in the shipped `Sounds/clicks`; a path (it holds a
/// `/` or an extension) is relative to the preset's folder, or for `--sound` to the current
/// folder. A recording's accent is `NAME-accent.EXT` beside it, when there is one.
public func loadSound(_ name: String, flagged: Bool, preset: LoadedPreset?, data: DataFolder?, rate: Int) throws -> ClickSound {
    if let sound = ClickSound.builtIn(name, sampleRate: rate) { return sound }
    let candidates = clickSoundCandidates(name, flagged: flagged, preset: preset, data: data)
    for file in candidates {
        let loaded: ClickSound?
        do throws(SoundFileError) {
            loaded = try ClickSoundFiles.load(file: file, name: name, sampleRate: rate)
        } catch {
            throw clickSoundError(error, flagged: flagged, preset: preset)
        }
        if let loaded { return loaded }
    }
    if isClickSoundPath(name) {
        let file = candidates.first ?? name
        if !flagged, let preset {
            let span = preset.preset.root.entry("sound")?.value.span
            throw PresetError(file: preset.path, line: span?.line ?? 1, column: span?.column ?? 1,
                              message: "no click sound file at \(escaped(file))")
        }
        throw Failure("--sound \(escaped(name)): no such file", exitCode: ExitStatus.noInput)
    }
    let choices = availableClickSounds(data: data).joined(separator: ", ")
    if !flagged, let preset {
        let message = "unknown click sound '\(quoted(name))'; choose one of: \(choices)"
        let span = preset.preset.root.entry("sound")?.value.span
        throw PresetError(file: preset.path, line: span?.line ?? 1, column: span?.column ?? 1, message: message)
    }
    throw Failure.flag("--sound", "must be one of: \(choices); got '\(quoted(name))'")
}

/// A click sound file that exists but cannot be read. Named by `--sound` it says so; from a
/// preset it names the preset's file, line and column of `sound:` first, as every other
/// preset error does, then the sound file's own error, and keeps that error's exit status: a
/// FIFO or a device is 66 like every other input, a file no library reads 65.
private func clickSoundError(_ error: SoundFileError, flagged: Bool, preset: LoadedPreset?) -> any Error {
    if flagged { return Failure("--sound: \(error)", exitCode: error.exitCode) }
    guard let preset else { return error }
    let span = preset.preset.root.entry("sound")?.value.span
    let place = PresetError(file: preset.path, line: span?.line ?? 1, column: span?.column ?? 1, message: "sound: \(error)")
    return Failure(place.description, exitCode: error.exitCode)
}

/// A `sound:` that is a path, not a name: it names a folder or an extension.
public func isClickSoundPath(_ name: String) -> Bool { name.contains("/") || name.contains(".") }

/// The files a click sound name or path may be, in the order they are tried (none for a
/// built-in).
public func clickSoundCandidates(_ name: String, flagged: Bool, preset: LoadedPreset?, data: DataFolder?) -> [String] {
    if ClickSound.builtInNames.contains(name) { return [] }
    if isClickSoundPath(name) {
        if name.hasPrefix("/") || flagged || preset == nil { return [name] }
        let path = preset!.path
        let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        return [(folder.isEmpty ? "" : folder) + "/" + name]
    }
    return [DataFolder.userClickSounds, data?.clickSounds].compactMap { $0 }.map { "\($0)/\(name).wav" }
}

/// The files a plan's click sound is read from (the recording and its accent), for an
/// export's fingerprint: a changed recording makes the track again.
public func clickSoundFiles(_ name: String, preset: LoadedPreset?, flagged: Bool = false, data: DataFolder?) -> [String] {
    let candidates = clickSoundCandidates(name, flagged: flagged, preset: preset, data: data)
    guard let file = candidates.first(where: fileExists) ?? candidates.first else { return [] }
    return [file, ClickSoundFiles.accentFile(for: file)]
}

/// Names usable as `sound:`: the built-ins, the user's recordings, the shipped ones.
public func availableClickSounds(data: DataFolder?) -> [String] {
    var names = ClickSoundFiles.available(folder: DataFolder.userClickSounds)
    for name in ClickSoundFiles.available(folder: data?.clickSounds) where !names.contains(name) { names.append(name) }
    return names
}

extension PresetLocator {
    /// Reads and decodes the preset a name or path refers to.
    public func load(_ reference: String) throws -> LoadedPreset {
        let path = try path(for: reference)
        let bytes = try readFile(path, limit: PresetLocator.sizeLimit)
        return LoadedPreset(path: path, preset: try decodePreset(bytes, file: path))
    }
}
