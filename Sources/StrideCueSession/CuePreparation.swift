import Glibc
import StrideCueCore
import StrideCueFiles
import StrideCueSoundFile
import StrideCueSpeech
import StrideCuePresets

/// Makes every sound a plan says aloud — its cues, a spoken count-in, the caution — before
/// rendering starts: speech through flite (cached), recordings through libsndfile, both at
/// the output rate. Also checks what only the sounds can tell: that each cue fits its steps
/// and that no two cues talk over each other. Problems point into the preset, exit 65.
///
/// `render` and `play` both call this, so a preset sounds the same in a file and live.
/// - Returns: nil when the plan has nothing to say.
public func prepareCues(plan: SessionPlan, preset: LoadedPreset?, data: DataFolder?, rate: Int,
                 speech: SpeechSynthesizer = .shared) throws -> CueVoices? {
    let spokenCountIn = plan.countInSpoken && plan.countIn > 0
    guard !plan.cues.isEmpty || spokenCountIn || !plan.caution.isEmpty else { return nil }
    let places = PresetPlaces(preset)
    // Cues are fitted at the fastest tempo they can meet: the cadence, or a ramp's start
    // when the ramp comes down.
    let fastest = max(plan.cadence, plan.ramp?.from ?? plan.cadence)
    var voices = CueVoices(sampleRate: rate)

    for (index, spec) in plan.cues.enumerated() {
        let place = places.cueValue(index)
        let time = Double(spec.steps) * 60 / fastest
        switch spec.source {
        case .say(let text):
            let voice = Voice(name: spec.voice ?? Voice.default.rawValue) ?? .default
            func cue(_ style: CueStyle, steps: Int = spec.steps, extra: Int = 0) throws -> SpokenCue {
                try speaking(text, at: place, cadence: fastest, extraSteps: extra) {
                    try speech.synthesize(text: text, voice: voice, outputRate: rate,
                                          maxDuration: Double(steps) * 60 / fastest, style: style)
                }
            }
            func sound(_ cue: SpokenCue, after delta: Int = 0) -> CueSound {
                CueSound(samples: cue.samples, anchor: spec.align == .stress ? cue.stressOffset : 0, stepDelta: delta)
            }
            switch spec.style {
            case .voice: voices.cues.append([sound(try cue(.voice))])
            case .tone: voices.cues.append([sound(try cue(.tone))])
            case .both:
                // Tone and words share the cue's steps: the tone on its first step, the words
                // from the next step to the last.
                guard spec.steps >= 2 else {
                    throw place.error("'\(spec.label)' with style: both needs at least 2 steps, one for the tone "
                        + "and the rest for the words; give it 'steps: 2' or more")
                }
                // The tone and the words take half the steps each (the tone's motif follows the
                // phrase's syllables, so it is about as long as the words), the words the odd
                // one; a tone that needs more takes more, if the words keep a step.
                var toneSteps = spec.steps / 2
                let tone: SpokenCue
                do {
                    tone = try speech.synthesize(text: text, voice: voice, outputRate: rate,
                                                 maxDuration: Double(toneSteps) * 60 / fastest, style: .tone)
                } catch let error as CueTooLong {
                    toneSteps = error.stepsNeeded(cadence: fastest)
                    if toneSteps >= spec.steps {
                        // The words need as many steps again, about: say how many in all.
                        throw bothError(text, steps: 2 * toneSteps, toneSteps: toneSteps, cadence: fastest, at: place)
                    }
                    tone = try cue(.tone, steps: toneSteps)
                } catch let error as SpeechError {
                    throw speechFailure(error, at: place)
                }
                voices.cues.append([sound(tone), sound(try cue(.voice, steps: spec.steps - toneSteps, extra: toneSteps), after: toneSteps)])
            }
        case .sound(let file):
            let samples = try recording(file, at: place, preset: preset, data: data, rate: rate)
            let seconds = Double(samples.count) / Double(rate)
            if seconds > time {
                let needed = Int((seconds * fastest / 60 - 1e-6).rounded(.up))
                throw place.error("'\(file)' lasts \(String(format2: seconds)) s, longer than its \(spec.steps) "
                    + "\(spec.steps == 1 ? "step" : "steps") at \(format(fastest)) spm; give it 'steps: \(needed)' or trim the recording")
            }
            voices.cues.append([CueSound(samples: samples)])
        }
    }

    if spokenCountIn {
        // Count-in words are spoken at the count-in's tempo, the ramp's start.
        let tempo = plan.ramp?.from ?? plan.cadence
        let place = places.countInSay
        let words = try speaking("count-in", at: place, cadence: tempo, countIn: true) {
            try speech.countIn(steps: plan.countIn, cadence: tempo, outputRate: rate)
        }
        voices.countIn = words.map { CueSound(samples: $0.samples) }
    }

    if !plan.caution.isEmpty {
        // The caution ends a second before the first count-in, so the runner can get ready.
        let time = max(0.5, plan.cautionLead - cautionGap)
        let place = places.caution
        let caution: SpokenCue
        do {
            caution = try speech.synthesize(text: plan.caution, outputRate: rate, maxDuration: time)
        } catch let error as CueTooLong {
            let needed = Int((error.shortestDuration + cautionGap).rounded(.up))
            throw place.error("the caution needs \(needed) s even spoken at twice the normal rate; "
                + "give it more time (caution: {say: ..., time: \(needed) s}) or shorten it")
        } catch let error as SpeechError {
            throw speechFailure(error, at: place)
        }
        voices.caution = CueSound(samples: caution.samples)
    }

    try checkNoOverlap(plan: plan, voices: voices, places: places)
    return voices
}

/// Seconds of quiet between the spoken caution and the first count-in.
public let cautionGap = 1.0

/// Runs a synthesis, turning a cue that does not fit into the preset checker's message.
/// `extraSteps`: steps the cue needs besides these words (a `both` cue's tone), for the
/// message's advice.
private func speaking<T>(_ text: String, at place: PresetPlace, cadence: Double, countIn: Bool = false,
                         extraSteps: Int = 0, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CueTooLong {
        if countIn {
            throw place.error("the count-in word '\(error.text)' does not fit one step at \(format(cadence)) spm; "
                + "count in fewer steps, or leave out 'say: true'")
        }
        if extraSteps > 0 {
            throw bothError(error.text, steps: error.stepsNeeded(cadence: cadence) + extraSteps, toneSteps: extraSteps,
                            cadence: cadence, at: place)
        }
        throw place.error(error.message(cadence: cadence))
    } catch let error as SpeechError {
        throw speechFailure(error, at: place)
    }
}

/// A `both` cue whose tone and words do not fit its steps together.
private func bothError(_ text: String, steps: Int, toneSteps: Int, cadence: Double, at place: PresetPlace) -> Error {
    place.error("'\(text)' with style: both needs \(steps) steps at \(format(cadence)) spm, "
        + "\(toneSteps) for the tone and \(steps - toneSteps) for the words; give it 'steps: \(steps)' or a shorter text")
}

private func speechFailure(_ error: SpeechError, at place: PresetPlace) -> Error {
    if case .noSpeech = error { return place.error("\(error)") }
    return Failure("speech failed: \(error)", exitCode: ExitStatus.unavailable)
}

/// Reads, converts and shapes a recorded cue.
private func recording(_ file: String, at place: PresetPlace, preset: LoadedPreset?, data: DataFolder?,
                       rate: Int) throws -> [Float] {
    let path = cueSoundPath(file, preset: preset, data: data)
    let sound: DecodedSound
    do {
        sound = try readSound(at: path, maxSeconds: 60)
        let mono = try resample(sound.mono(), from: sound.sampleRate, to: rate)
        let shaped = RecordedCue.shape(mono, sampleRate: rate)
        guard !shaped.isEmpty else { throw place.error("\(path): the recording is silent") }
        return shaped
    } catch let error as SoundFileError {
        // The position says which cue; the path and the reason say what is wrong with it.
        throw Failure("\(place.prefix)\(error)", exitCode: error.exitCode)
    }
}

/// Where a recorded cue's file is: an absolute path as it is; a path relative to the preset's
/// folder (or, for the shipped presets, to the data folder); a bare name in `Sounds/cues/`.
public func cueSoundPath(_ file: String, preset: LoadedPreset?, data: DataFolder?) -> String {
    if file.hasPrefix("/") { return file }
    let presetFolder = preset.map { p in
        p.path.contains("/") ? String(p.path[..<p.path.lastIndex(of: "/")!]) : "."
    } ?? "."
    let isPath = file.contains("/") || file.contains(".")
    if isPath {
        let besidePreset = presetFolder + "/" + file
        if !fileExists(besidePreset), let data, fileExists(data.path + "/" + file) { return data.path + "/" + file }
        return besidePreset
    }
    if let data { return data.path + "/Sounds/cues/" + file + ".wav" }
    return presetFolder + "/" + file + ".wav"
}

/// Two cues talking at once are heard as neither: refuse a plan where one starts before the
/// other has finished, pointing at the later one.
private func checkNoOverlap(plan: SessionPlan, voices: CueVoices, places: PresetPlaces) throws {
    let placements = cuePlacements(plan: plan, cues: voices)
    let rate = Double(voices.sampleRate)
    // The session's own end (not a --duration cap, which cuts on purpose): a cue that would
    // still be talking then is cut mid-word, and the track ends on a click.
    let end = Renderer.totalFrames(of: plan, sampleRate: voices.sampleRate, maxDuration: nil)
    var busyUntil: Int64 = -1
    var speaking: CuePlacement?
    for p in placements {
        let over = p.frame + Int64(p.length) - end
        if over > 0 {
            throw places.place(of: p).error(
                "\(describe(p, plan)) would still be sounding \(String(format3: Double(over) / rate)) s after the session ends; "
                + "move it earlier or give it fewer steps")
        }
        if let current = speaking, p.frame < busyUntil {
            let overlap = Double(busyUntil - p.frame) / rate
            throw places.place(of: p).error(
                "\(describe(p, plan)) starts \(String(format3: overlap)) s before \(describe(current, plan)) has finished; "
                + "move one of them or give it fewer steps")
        }
        let end = p.frame + Int64(p.length)
        if end > busyUntil {
            busyUntil = end
            speaking = p
        }
    }
}

/// "'pop forwards' on step 13 of set 1", for messages.
private func describe(_ p: CuePlacement, _ plan: SessionPlan) -> String {
    switch p.kind {
    case .cue(let index):
        return "'\(plan.cues[index].label)' on step \(p.step + 1) of set \(p.set + 1)"
    case .countIn(let index):
        let words = SpeechSynthesizer.countInWords(steps: plan.countIn)
        return "the count-in word '\(index < words.count ? words[index] : "?")' of set \(p.set + 1)"
    case .caution:
        return "the caution"
    }
}

// MARK: Positions in the preset

/// A place in the preset file for a message, or none for a plan made from flags.
public struct PresetPlace {
    public var file: String?
    public var span: SourceSpan?

    public var prefix: String {
        guard let file else { return "" }
        return "\(file):\(span?.line ?? 1):\(span?.column ?? 1): "
    }

    public func error(_ message: String) -> Error {
        if let file {
            return PresetError(file: file, line: span?.line ?? 1, column: span?.column ?? 1, message: message)
        }
        return Failure(message, exitCode: ExitStatus.dataError)
    }
}

/// Finds the values of the cue keys in the preset's tree.
public struct PresetPlaces {
    public var file: String?
    public var root: YAMLNode?

    public init(_ preset: LoadedPreset?) {
        file = preset?.path
        root = preset?.preset.root
    }

    /// The `say:` or `sound:` value of cue `index`.
    public func cueValue(_ index: Int) -> PresetPlace {
        guard case .sequence(let items, _)? = root?.entry("cues")?.value, index < items.count else {
            return PresetPlace(file: file, span: nil)
        }
        let item = items[index]
        return PresetPlace(file: file, span: (item.entry("say") ?? item.entry("sound"))?.value.span ?? item.span)
    }

    /// The `say:` value of `count-in`.
    public var countInSay: PresetPlace {
        let countIn = root?.entry("count-in")?.value
        return PresetPlace(file: file, span: countIn?.entry("say")?.value.span ?? countIn?.span)
    }

    /// The caution's text.
    public var caution: PresetPlace {
        let caution = root?.entry("caution")?.value
        return PresetPlace(file: file, span: caution?.entry("say")?.value.span ?? caution?.span)
    }

    public func place(of p: CuePlacement) -> PresetPlace {
        switch p.kind {
        case .cue(let index): return cueValue(index)
        case .countIn: return countInSay
        case .caution: return caution
        }
    }
}

// MARK: The cue sheet

/// The cue sheet of a render: one row per cue as heard, `start,end,step,text,style`.
///
/// Times are seconds from the start of the file with three decimals; `step` counts from 1 in
/// a set, −N…−1 for count-in words, and is empty for the caution; `style` is voice, tone,
/// both or recording. A `both` cue is one row from its tone's start to its words' end. Cues
/// past the end of a capped track are left out; one cut short ends with the track.
public func makeCueSheet(plan: SessionPlan, voices: CueVoices?, totalFrames: Int64) -> String {
    var lines = ["start,end,step,text,style"]
    guard let voices else { return lines.joined(separator: "\n") + "\n" }
    let rate = Double(voices.sampleRate)
    let words = SpeechSynthesizer.countInWords(steps: plan.countIn)
    struct Row { var start: Int64; var end: Int64; var step: String; var text: String; var style: String }
    var rows: [Row] = []
    var open: [String: Int] = [:]   // a `both` cue's row, by cue, set and step, until its words come
    for p in cuePlacements(plan: plan, cues: voices) where p.frame < totalFrames {
        let end = min(totalFrames, p.frame + Int64(p.length))
        switch p.kind {
        case .cue(let index):
            let spec = plan.cues[index]
            let key = "\(index)/\(p.set)/\(p.step)"
            if p.part > 0, let row = open.removeValue(forKey: key) {
                rows[row].end = max(rows[row].end, end)
                continue
            }
            let style: String
            if case .sound = spec.source { style = "recording" } else { style = spec.style.rawValue }
            if spec.style == .both { open[key] = rows.count }
            rows.append(Row(start: p.frame, end: end, step: String(p.step + 1), text: spec.label, style: style))
        case .countIn(let index):
            rows.append(Row(start: p.frame, end: end, step: String(index - plan.countIn),
                            text: index < words.count ? words[index] : "", style: "voice"))
        case .caution:
            rows.append(Row(start: p.frame, end: end, step: "", text: plan.caution, style: "voice"))
        }
    }
    for row in rows {
        let fields = [String(format3: Double(row.start) / rate), String(format3: Double(row.end) / rate),
                      row.step, csvField(row.text), row.style]
        lines.append(fields.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
public func csvField(_ text: String) -> String {
    // A cell opened in a terminal or a spreadsheet shows control characters, never obeys them.
    let text = text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7F }) ? escaped(text) : text
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    var out = "\""
    for c in text { out += c == "\"" ? "\"\"" : String(c) }
    return out + "\""
}

/// Where every sound a cue plays (words, tones, count-in, caution) lies in the track, in frames:
/// what music ducks under.
public func spokenRanges(plan: SessionPlan, cues: CueVoices?) -> [Range<Int64>] {
    guard let cues else { return [] }
    return cuePlacements(plan: plan, cues: cues).map { $0.frame ..< $0.frame + Int64($0.length) }
}
