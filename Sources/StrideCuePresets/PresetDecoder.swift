import StrideCueCore

/// A decoded preset: the plan to play, and the tree it came from.
public struct Preset: Sendable, Equatable {
    public var plan: SessionPlan
    /// The parsed file, kept for messages that point into it and for edits in place.
    public var root: YAMLNode

    public init(plan: SessionPlan, root: YAMLNode) {
        self.plan = plan
        self.root = root
    }
}

/// Reads a preset file into a session plan, checking every value against `PlanLimits`.
///
/// Errors point at the offending value (at the key, for unknown and duplicate keys) and read like
/// `Presets/x.yaml:3:10: cadence must be between 30 and 300 steps per minute, got 0`.
/// - Parameters:
///   - bytes: The file's contents.
///   - file: The path as the user gave it; used verbatim in errors, and for the default name.
public func decodePreset(_ bytes: [UInt8], file: String) throws(PresetError) -> Preset {
    let root = try parseYAML(bytes, file: file)
    let plan = try PresetDecoder(file: file).decode(root)
    return Preset(plan: plan, root: root)
}

/// The keys a preset may have at the top level, in the order the documentation lists them.
let presetKeys = [
    "name", "about", "caution", "cadence", "ramp", "count-in", "sets", "set", "rest", "accent", "subdivide", "sound", "cues",
    "feedback",
]

private struct PresetDecoder {
    let file: String

    func decode(_ root: YAMLNode) throws(PresetError) -> SessionPlan {
        guard case .mapping(let entries, _) = root else {
            throw fail("the top level of a preset must be a mapping of keys to values", at: root.span)
        }
        var plan = SessionPlan(name: defaultName())
        var cadence: Double?
        var cueNodes: [YAMLNode] = []
        for entry in entries {
            let value = entry.value
            switch entry.key {
            case "name": plan.name = try text(value, "name", allowEmpty: false)
            case "about": plan.about = try text(value, "about", allowEmpty: true)
            case "caution": (plan.caution, plan.cautionTime) = try caution(value)
            case "cadence": cadence = try stepsPerMinute(value, "cadence")
            case "ramp": plan.ramp = try ramp(value)
            case "count-in": (plan.countIn, plan.countInSpoken) = try countIn(value)
            case "sets": plan.sets = try whole(value, "sets", PlanLimits.sets)
            case "set": plan.setLength = try setLength(value)
            case "rest": plan.rest = try duration(value, "rest", PlanLimits.rest)
            case "accent": plan.accentEvery = try whole(value, "accent", PlanLimits.accentEvery)
            case "subdivide": plan.subdivide = try whole(value, "subdivide", PlanLimits.subdivide)
            case "sound": plan.sound = try soundName(value)
            case "cues": (plan.cues, cueNodes) = try cues(value)
            case "feedback": plan.feedback = try feedback(value)
            default: throw unknownKey(entry, allowed: presetKeys, in: nil)
            }
        }
        try checkCuesFit(plan, cueNodes)
        guard let cadence else {
            throw PresetError(file: file, line: 1, column: 1,
                              message: "cadence is required (steps per minute, \(formatRange(PlanLimits.cadence)))")
        }
        plan.cadence = cadence
        return plan
    }

    /// The file's base name without its extension: what a runner called the file is a fair title.
    private func defaultName() -> String {
        let base = file.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? ""
        var name = base
        if let dot = base.lastIndex(of: "."), dot != base.startIndex {
            name = String(base[..<dot])
        }
        return name.isEmpty ? SessionPlan().name : name
    }

    // MARK: Keys with structure

    private func ramp(_ node: YAMLNode) throws(PresetError) -> TempoRamp {
        try requireValue(node, "ramp")
        guard case .mapping(let entries, let span) = node else {
            throw fail("ramp must be a mapping like {from: 150, steps: 16}", at: node.span)
        }
        var from: Double?
        var steps: Int?
        for entry in entries {
            switch entry.key {
            case "from": from = try stepsPerMinute(entry.value, "ramp.from")
            case "steps": steps = try whole(entry.value, "ramp.steps", PlanLimits.rampSteps)
            default: throw unknownKey(entry, allowed: ["from", "steps"], in: "ramp")
            }
        }
        guard let from else {
            throw fail("ramp.from is required (steps per minute, \(formatRange(PlanLimits.cadence)))", at: span)
        }
        guard let steps else {
            throw fail("ramp.steps is required (a whole number from \(PlanLimits.rampSteps.lowerBound) to \(PlanLimits.rampSteps.upperBound))", at: span)
        }
        return TempoRamp(from: from, steps: steps)
    }

    /// A whole number, or a mapping `{steps: N, say: true}`: `say` speaks the count-in.
    private func countIn(_ node: YAMLNode) throws(PresetError) -> (steps: Int, say: Bool) {
        try requireValue(node, "count-in")
        guard case .mapping(let entries, let span) = node else {
            return (try whole(node, "count-in", PlanLimits.countIn), false)
        }
        var steps: Int?
        var say = false
        for entry in entries {
            switch entry.key {
            case "steps": steps = try whole(entry.value, "count-in.steps", PlanLimits.countIn)
            case "say": say = try flag(entry.value, "count-in.say")
            default: throw unknownKey(entry, allowed: ["steps", "say"], in: "count-in")
            }
        }
        guard let steps else {
            throw fail("count-in.steps is required (a whole number from \(PlanLimits.countIn.lowerBound) to \(PlanLimits.countIn.upperBound))", at: span)
        }
        return (steps, say)
    }

    /// Text, or a mapping `{say: TEXT, time: 8 s}` that gives the spoken caution more time.
    private func caution(_ node: YAMLNode) throws(PresetError) -> (String, Double?) {
        if case .null = plainTyping(node) { return ("", nil) }
        guard case .mapping(let entries, let span) = node else {
            guard case .scalar = node else {
                throw fail("caution must be text, or a mapping like {say: Not with a hamstring injury., time: 8 s}, got \(describe(node))", at: node.span)
            }
            return (try text(node, "caution", allowEmpty: true), nil)
        }
        var say: String?
        var time: Double?
        for entry in entries {
            switch entry.key {
            case "say": say = try text(entry.value, "caution.say", allowEmpty: false)
            case "time": time = try duration(entry.value, "caution.time", CueLimits.cautionTime)
            default: throw unknownKey(entry, allowed: ["say", "time"], in: "caution")
            }
        }
        guard let say else { throw fail("caution.say is required (the words of the caution)", at: span) }
        return (say, time)
    }

    // MARK: Cues

    /// The keys a cue may have.
    static let cueKeys = ["say", "sound", "every", "at", "offset", "steps", "style", "voice", "align", "level"]

    private func cues(_ node: YAMLNode) throws(PresetError) -> ([CueSpec], [YAMLNode]) {
        try requireValue(node, "cues")
        guard case .sequence(let items, let span) = node else {
            throw fail("cues must be a list of cues like - {say: pull through, every: 4}, got \(describe(node))", at: node.span)
        }
        guard items.count <= CueLimits.cues.upperBound else {
            throw fail("cues may hold at most \(CueLimits.cues.upperBound) cues, got \(items.count)", at: span)
        }
        var specs: [CueSpec] = []
        for item in items { specs.append(try cue(item)) }
        return (specs, items)
    }

    private func cue(_ node: YAMLNode) throws(PresetError) -> CueSpec {
        try requireValue(node, "a cue")
        guard case .mapping(let entries, let span) = node else {
            throw fail("a cue must be a mapping like {say: pull through, every: 4}, got \(describe(node))", at: node.span)
        }
        var source: (CueSource, SourceSpan)?
        var timing: (CueTiming, key: String)?
        var offset: (Int, SourceSpan)?
        var spec = CueSpec(.say(""), timing: .setStart)
        var style: SourceSpan?, voice: SourceSpan?, align: SourceSpan?
        for entry in entries {
            let value = entry.value
            switch entry.key {
            case "say", "sound":
                if let (_, first) = source {
                    throw fail("a cue takes say or sound, not both (the other is at line \(first.line))", at: entry.keySpan)
                }
                if entry.key == "say" {
                    let words = try text(value, "cues.say", allowEmpty: false)
                    if let problem = CueText.problem(with: words) {
                        throw fail("cues.say \(problem)", at: value.span)
                    }
                    source = (.say(words), entry.keySpan)
                } else {
                    source = (.sound(try text(value, "cues.sound", allowEmpty: false)), entry.keySpan)
                }
            case "every", "at":
                if let (_, key) = timing {
                    throw fail("a cue takes every or at, not both; it already has \(key)", at: entry.keySpan)
                }
                let when = entry.key == "every"
                    ? CueTiming.every(try whole(value, "cues.every", CueLimits.every))
                    : try cueAt(value)
                timing = (when, entry.key)
            case "offset": offset = (try whole(value, "cues.offset", CueLimits.offset), entry.keySpan)
            case "steps": spec.steps = try whole(value, "cues.steps", CueLimits.steps)
            case "style":
                spec.style = try choice(value, "cues.style", CueStyle.allCases)
                style = entry.keySpan
            case "voice":
                spec.voice = try voiceName(value)
                voice = entry.keySpan
            case "align":
                spec.align = try choice(value, "cues.align", CueAlign.allCases)
                align = entry.keySpan
            case "level": spec.level = try level(value)
            default: throw unknownKey(entry, allowed: Self.cueKeys, in: "cues")
            }
        }
        guard let source else { throw fail("a cue needs say: TEXT or sound: FILE", at: span) }
        spec.source = source.0
        // Without every or at, a cue is said as each set starts.
        spec.timing = timing?.0 ?? .setStart
        if let (value, keySpan) = offset {
            guard case .every = spec.timing else { throw fail("cues.offset only goes with every", at: keySpan) }
            spec.offset = value
        }
        if case .sound = source.0 {
            // A recording has no syllables to turn into tones or to align on, and no voice.
            if let style, spec.style != .voice {
                throw fail("cues.style \(spec.style.rawValue) needs say: TEXT; a recording plays as it is", at: style)
            }
            if let align, spec.align == .stress {
                throw fail("cues.align stress needs say: TEXT; a recording starts on its step", at: align)
            }
            if let voice { throw fail("cues.voice goes with say: TEXT, not with a recording", at: voice) }
        }
        return spec
    }

    /// `set-start`, `set-end`, `halfway`, `step 12`, or a bare step number.
    private func cueAt(_ node: YAMLNode) throws(PresetError) -> CueTiming {
        try requireMeasure(node, "cues.at")
        let message = "cues.at must be set-start, set-end, halfway or step N, got \(describe(node))"
        guard case .scalar(let text, _, _) = node else { throw fail(message, at: node.span) }
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        switch words.count == 1 ? String(words[0]) : "" {
        case "set-start": return .setStart
        case "set-end": return .setEnd
        case "halfway": return .halfway
        default: break
        }
        let number = words.count == 2 && words[0] == "step" ? String(words[1]) : (words.count == 1 ? String(words[0]) : "")
        guard let step = Int(number) else { throw fail(message, at: node.span) }
        guard CueLimits.step.contains(step) else {
            throw fail("cues.at must be a step from \(CueLimits.step.lowerBound) to \(CueLimits.step.upperBound), got \(describe(node))", at: node.span)
        }
        return .step(step)
    }

    /// `-3 dB`, `-3dB`, `0 dB` or `-3`: decibels within `CueLimits.level`.
    private func level(_ node: YAMLNode) throws(PresetError) -> Double {
        try requireMeasure(node, "cues.level")
        let limits = CueLimits.level
        let range = "from \(formatNumber(limits.lowerBound)) to \(formatNumber(limits.upperBound)) dB"
        guard case .scalar(var text, _, _) = node else {
            throw fail("cues.level must be a level like -3 dB, \(range), got \(describe(node))", at: node.span)
        }
        text = String(text.unicodeScalars.filter { $0 != " " && $0 != "\t" })
        if text.lowercased().hasSuffix("db") { text.removeLast(2) }
        guard case .finite(let value) = readNumber(text) else {
            throw fail("cues.level must be a level like -3 dB, \(range), got \(describe(node))", at: node.span)
        }
        guard limits.contains(value) else {
            throw fail("cues.level must be \(range) (0 dB is the loudest a cue can be without the mix clipping), got \(describe(node))", at: node.span)
        }
        return value
    }

    private func voiceName(_ node: YAMLNode) throws(PresetError) -> String {
        try requireValue(node, "cues.voice")
        let known = CueLimits.voices
        guard case .scalar(let text, _, _) = node else {
            throw fail("cues.voice must be one of \(known.joined(separator: ", ")), got \(describe(node))", at: node.span)
        }
        var name = text.lowercased()
        if name.hasPrefix("cmu_us_") { name.removeFirst("cmu_us_".count) }
        guard known.contains(name) else {
            throw fail("cues.voice must be one of \(known.joined(separator: ", ")), got \(describe(node))", at: node.span)
        }
        return name
    }

    private func choice<Choice: RawRepresentable>(_ node: YAMLNode, _ key: String, _ choices: [Choice]) throws(PresetError) -> Choice
    where Choice.RawValue == String {
        let names = choices.map(\.rawValue)
        let list = names.dropLast().joined(separator: ", ") + " or " + names.last!
        try requireValue(node, key)
        guard case .scalar(let text, _, _) = node, let choice = Choice(rawValue: text) else {
            throw fail("\(key) must be \(list), got \(describe(node))", at: node.span)
        }
        return choice
    }

    /// A cue on a step a set never reaches would never play: say so, where it is set.
    private func checkCuesFit(_ plan: SessionPlan, _ nodes: [YAMLNode]) throws(PresetError) {
        let steps: Int
        switch plan.setLength {
        case .steps(let n): steps = n
        case .distance(let meters, let stepLength): steps = Timeline.stepsToCover(meters, stepLength)
        case .duration: return
        }
        for (spec, node) in zip(plan.cues, nodes) {
            switch spec.timing {
            case .step(let step) where step > steps:
                let at = node.entry("at")?.value.span ?? node.span
                throw fail("cues.at step \(step) is past the last step of a set (\(steps))", at: at)
            case .every where spec.offset > steps:
                let at = node.entry("offset")?.value.span ?? node.span
                throw fail("cues.offset \(spec.offset) is past the last step of a set (\(steps))", at: at)
            default:
                break
            }
        }
    }

    private func setLength(_ node: YAMLNode) throws(PresetError) -> SetLength {
        try requireValue(node, "set")
        guard case .mapping(let entries, let span) = node else {
            throw fail("set must be a mapping like {steps: 40}, {duration: 15 s} or {distance: 20 m, step-length: 0.5 m}", at: node.span)
        }
        var length: SetLength?
        var lengthKey: String?
        var distanceValue: YAMLNode?
        var stepLength: (metres: Double, keySpan: SourceSpan)?
        for entry in entries {
            switch entry.key {
            case "steps", "duration", "distance":
                if let lengthKey {
                    throw fail("set takes only one of steps, duration or distance, and already has \(lengthKey)", at: entry.keySpan)
                }
                lengthKey = entry.key
                switch entry.key {
                case "steps":
                    length = .steps(try whole(entry.value, "set.steps", PlanLimits.setSteps))
                case "duration":
                    length = .duration(seconds: try duration(entry.value, "set.duration", PlanLimits.setDuration))
                default:
                    let metres = try distance(entry.value, "set.distance", "a distance like 20 m or 1.2 km", PlanLimits.distance)
                    length = .distance(meters: metres, stepLength: 0)
                    distanceValue = entry.value
                }
            case "step-length":
                let metres = try distance(entry.value, "set.step-length", "a length like 0.5 m or 80 cm", PlanLimits.stepLength)
                stepLength = (metres, entry.keySpan)
            default:
                throw unknownKey(entry, allowed: ["steps", "duration", "distance", "step-length"], in: "set")
            }
        }
        guard let length else {
            throw fail("set needs one of steps, duration or distance", at: span)
        }
        if case .distance(let metres, _) = length, let distanceValue {
            guard let stepLength else {
                throw fail("set.distance needs set.step-length, the length of one step (like 0.5 m)", at: distanceValue.span)
            }
            return .distance(meters: metres, stepLength: stepLength.metres)
        }
        if let stepLength {
            throw fail("set.step-length only goes with set.distance", at: stepLength.keySpan)
        }
        return length
    }

    // MARK: Values

    private func text(_ node: YAMLNode, _ key: String, allowEmpty: Bool) throws(PresetError) -> String {
        if allowEmpty, case .null = plainTyping(node) { return "" }
        try requireUnambiguousText(node, key)
        guard case .scalar(var text, _, let span) = node else {
            throw fail("\(key) must be text, got \(describe(node))", at: node.span)
        }
        // A `>` or `|` block ends in a line break that means nothing on screen.
        while text.last == "\n" { text.removeLast() }
        if !allowEmpty && text.isEmpty {
            throw fail("\(key) must not be empty", at: span)
        }
        return text
    }

    /// `true` or `false`, as the YAML 1.2 core schema writes them (also `True`, `FALSE`).
    /// `yes`/`no`/`on`/`off` are booleans to YAML 1.1 readers only, and text to 1.2 ones: refused.
    private func flag(_ node: YAMLNode, _ key: String) throws(PresetError) -> Bool {
        try requireValue(node, key)
        switch plainTyping(node) {
        case .boolean(let value, core: true): return value
        case .boolean(let value, core: false):
            throw fail("\(key) must be true or false; '\(writtenText(node))' means \(value) only to YAML 1.1 readers, so write \(value)", at: node.span)
        default: break
        }
        if case .scalar(let text, .singleQuoted, _) = node, ["true", "false"].contains(text.lowercased()) {
            throw fail("\(key) must be true or false, not the quoted text '\(quotedForMessage(text))'; write it without quotes", at: node.span)
        }
        if case .scalar(let text, .doubleQuoted, _) = node, ["true", "false"].contains(text.lowercased()) {
            throw fail("\(key) must be true or false, not the quoted text '\(quotedForMessage(text))'; write it without quotes", at: node.span)
        }
        throw fail("\(key) must be true or false, got \(describe(node))", at: node.span)
    }

    private func stepsPerMinute(_ node: YAMLNode, _ key: String) throws(PresetError) -> Double {
        let limits = PlanLimits.cadence
        try requireNumber(node, key)
        guard case .scalar(let text, _, _) = node else {
            throw fail("\(key) must be a number of steps per minute, got \(describe(node))", at: node.span)
        }
        switch readNumber(text) {
        case .notANumber:
            throw fail("\(key) must be a number of steps per minute, got \(describe(node))", at: node.span)
        case .nonFinite:
            throw fail("\(key) must be a finite number of steps per minute, got \(describe(node))", at: node.span)
        case .finite(let value):
            guard limits.contains(value) else {
                throw fail("\(key) must be between \(formatNumber(limits.lowerBound)) and \(formatNumber(limits.upperBound)) steps per minute, got \(describe(node))", at: node.span)
            }
            return value
        }
    }

    private func whole(_ node: YAMLNode, _ key: String, _ limits: ClosedRange<Int>) throws(PresetError) -> Int {
        try requireNumber(node, key)
        guard case .scalar(let text, _, _) = node, let value = Int(text), limits.contains(value) else {
            throw fail("\(key) must be a whole number from \(limits.lowerBound) to \(limits.upperBound), got \(describe(node))", at: node.span)
        }
        return value
    }

    private func duration(_ node: YAMLNode, _ key: String, _ limits: ClosedRange<Double>) throws(PresetError) -> Double {
        try requireMeasure(node, key)
        guard case .scalar(let text, _, _) = node, let seconds = parseDuration(text) else {
            throw fail("\(key) must be a duration like 60 s, 10 min or 1:30, got \(describe(node))", at: node.span)
        }
        guard limits.contains(seconds) else {
            throw fail("\(key) must be between \(formatNumber(limits.lowerBound)) and \(formatNumber(limits.upperBound)) seconds, got \(describe(node))", at: node.span)
        }
        return seconds
    }

    private func distance(_ node: YAMLNode, _ key: String, _ what: String, _ limits: ClosedRange<Double>) throws(PresetError) -> Double {
        try requireMeasure(node, key)
        guard case .scalar(let text, _, _) = node, let metres = parseDistance(text) else {
            throw fail("\(key) must be \(what), got \(describe(node))", at: node.span)
        }
        guard limits.contains(metres) else {
            throw fail("\(key) must be between \(formatNumber(limits.lowerBound)) and \(formatNumber(limits.upperBound)) metres, got \(describe(node))", at: node.span)
        }
        return metres
    }

    /// The keys `feedback:` may have as a mapping.
    static let feedbackKeys = ["mode", "band", "hold", "step", "say-after", "say-every", "say-under", "say-over"]

    /// A mode (`feedback: fade`), or a mapping with its settings:
    /// `{mode: fade, band: 2 spm, hold: 8 s}`, `{mode: nudge, step: 2 %}`, and the spoken nudge's
    /// `say-after: 15 s, say-every: 30 s, say-under: quicker, say-over: ease off` (any of them turns it on).
    private func feedback(_ node: YAMLNode) throws(PresetError) -> FeedbackSettings {
        try requireValue(node, "feedback")
        guard case .mapping(let entries, _) = node else {
            if case .sequence = node {
                throw fail("feedback must be guide, fade or nudge, or a mapping like {mode: fade, hold: 8 s}, got a list", at: node.span)
            }
            return FeedbackSettings(mode: try feedbackMode(node, "feedback"))
        }
        var settings = FeedbackSettings()
        var spoken: SpokenNudgeSettings? = nil
        for entry in entries {
            let value = entry.value
            switch entry.key {
            case "mode": settings.mode = try feedbackMode(value, "feedback.mode")
            case "band": settings.band = try measure(value, "feedback.band", unit: "spm", example: "2 spm", FeedbackLimits.band)
            case "hold": settings.hold = try duration(value, "feedback.hold", FeedbackLimits.hold)
            case "step": settings.step = try measure(value, "feedback.step", unit: "%", example: "2 %", FeedbackLimits.stepPercent) / 100
            case "say-after", "say-every", "say-under", "say-over":
                var said = spoken ?? SpokenNudgeSettings()
                switch entry.key {
                case "say-after": said.after = try duration(value, "feedback.say-after", FeedbackLimits.sayAfter)
                case "say-every": said.every = try duration(value, "feedback.say-every", FeedbackLimits.sayEvery)
                case "say-under": said.under = try words(value, "feedback.say-under")
                default: said.over = try words(value, "feedback.say-over")
                }
                spoken = said
            default: throw unknownKey(entry, allowed: Self.feedbackKeys, in: "feedback")
            }
        }
        settings.spoken = spoken
        return settings
    }

    private func feedbackMode(_ node: YAMLNode, _ key: String) throws(PresetError) -> ClickFeedback {
        try requireUnambiguousText(node, key)
        guard case .scalar(let text, _, _) = node, let mode = ClickFeedback(rawValue: text) else {
            throw fail("\(key) must be guide, fade or nudge, got \(describe(node))", at: node.span)
        }
        return mode
    }

    /// Words to say, checked as a cue's are.
    private func words(_ node: YAMLNode, _ key: String) throws(PresetError) -> String {
        let words = try text(node, key, allowEmpty: false)
        if let problem = CueText.problem(with: words) { throw fail("\(key) \(problem)", at: node.span) }
        return words
    }

    /// A number with an optional unit (`2 spm`, `2spm`, `2`), within `limits`.
    private func measure(_ node: YAMLNode, _ key: String, unit: String, example: String,
                         _ limits: ClosedRange<Double>) throws(PresetError) -> Double {
        try requireMeasure(node, key)
        let range = "from \(formatNumber(limits.lowerBound)) to \(formatNumber(limits.upperBound)) \(unit)"
        guard case .scalar(var text, _, _) = node else {
            throw fail("\(key) must be a number like \(example), \(range), got \(describe(node))", at: node.span)
        }
        text = String(text.unicodeScalars.filter { $0 != " " && $0 != "\t" })
        if text.lowercased().hasSuffix(unit) { text.removeLast(unit.count) }
        guard case .finite(let value) = readNumber(text) else {
            throw fail("\(key) must be a number like \(example), \(range), got \(describe(node))", at: node.span)
        }
        guard limits.contains(value) else { throw fail("\(key) must be \(range), got \(describe(node))", at: node.span) }
        return value
    }

    /// A sound name becomes part of a file name (`Sounds/clicks/NAME.wav`), so it stays plain ASCII.
    private func soundName(_ node: YAMLNode) throws(PresetError) -> String {
        try requireUnambiguousText(node, "sound")
        let allowed = { (c: Unicode.Scalar) in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "-"
        }
        // A path to a recording of one's own (`./myclick.wav`, `clicks/stick.flac`): it names a
        // folder or an extension, and holds no control character.
        if case .scalar(let text, _, _) = node, text.contains("/") || text.contains("."), text.utf8.count <= 1024,
           !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return text
        }
        guard case .scalar(let text, _, _) = node, !text.isEmpty, text.unicodeScalars.allSatisfy(allowed) else {
            throw fail("sound must be a name made of letters, digits and hyphens, like woodblock, got \(describe(node))", at: node.span)
        }
        return text
    }

    // MARK: One schema

    /// A value must be there: an empty value, `~` or `null` is YAML's "no value".
    private func requireValue(_ node: YAMLNode, _ key: String) throws(PresetError) {
        guard case .null = plainTyping(node) else { return }
        let written = writtenText(node)
        if written.isEmpty { throw fail("\(key) needs a value", at: node.span) }
        throw fail("\(key) needs a value; \(written) means no value in YAML", at: node.span)
    }

    /// A number is written plain, in decimal, without a leading zero.
    private func requireNumber(_ node: YAMLNode, _ key: String) throws(PresetError) {
        try requireMeasure(node, key)
        if case .scalar(let text, let style, _) = node, style != .plain, case .finite = readNumber(text) {
            throw fail("\(key) must be a number, not the quoted text '\(quotedForMessage(text))'; write it without quotes", at: node.span)
        }
    }

    /// A number with an optional unit: there, and not a leading-zero integer.
    private func requireMeasure(_ node: YAMLNode, _ key: String) throws(PresetError) {
        try requireValue(node, key)
        if case .leadingZero = plainTyping(node) {
            throw fail("\(key) \(writtenText(node)) has a leading zero, which YAML 1.1 reads as octal; write it without the zero", at: node.span)
        }
    }

    /// Text: there, and not a plain word that YAML readers take as a boolean or an octal number.
    private func requireUnambiguousText(_ node: YAMLNode, _ key: String) throws(PresetError) {
        try requireValue(node, key)
        let written = writtenText(node)
        switch plainTyping(node) {
        case .boolean:
            throw fail("\(key) '\(written)' reads as a yes/no value in YAML; to mean the text, quote it: \(key.split(separator: ".").last ?? ""): '\(written)'", at: node.span)
        case .leadingZero:
            throw fail("\(key) '\(written)' reads as a number with a leading zero in YAML; to mean the text, quote it: \(key.split(separator: ".").last ?? ""): '\(written)'", at: node.span)
        default:
            break
        }
    }

    // MARK: Messages

    private func unknownKey(_ entry: YAMLEntry, allowed: [String], in parent: String?) -> PresetError {
        let place = parent.map { " in \($0)" } ?? ""
        let key = quotedForMessage(entry.key)
        if let suggestion = closestKey(to: entry.key, among: allowed) {
            return fail("unknown key '\(key)'\(place); did you mean '\(suggestion)'?", at: entry.keySpan)
        }
        return fail("unknown key '\(key)'\(place); allowed keys: \(allowed.joined(separator: ", "))", at: entry.keySpan)
    }

    private func fail(_ message: String, at span: SourceSpan) -> PresetError {
        PresetError(file: file, line: span.line, column: span.column, message: message)
    }
}

/// What a plain scalar is to YAML readers when it is not text: the cases StrideCue refuses or
/// reads specially, so that a preset means the same to every YAML reader or is refused.
enum PlainTyping: Equatable {
    /// Empty, `~`, `null`, `Null`, `NULL`: no value (YAML 1.1 and 1.2).
    case null
    /// `true`/`false` in their three spellings (`core`: YAML 1.2's core schema), or one of
    /// YAML 1.1's `yes`/`no`/`on`/`off`/`y`/`n` words (text to a YAML 1.2 reader).
    case boolean(Bool, core: Bool)
    /// `010`, `-07`: octal to YAML 1.1 readers, decimal to 1.2 ones.
    case leadingZero
    /// Anything else, or a quoted or block scalar, or a collection.
    case other
}

/// How YAML readers type `node`, if it is a plain scalar of one of the ambiguous kinds.
func plainTyping(_ node: YAMLNode) -> PlainTyping {
    guard case .scalar(let text, .plain, _) = node else { return .other }
    switch text {
    case "", "~", "null", "Null", "NULL": return .null
    case "true", "True", "TRUE": return .boolean(true, core: true)
    case "false", "False", "FALSE": return .boolean(false, core: true)
    case "yes", "Yes", "YES", "on", "On", "ON", "y", "Y": return .boolean(true, core: false)
    case "no", "No", "NO", "off", "Off", "OFF", "n", "N": return .boolean(false, core: false)
    default: break
    }
    var digits = Substring(text)
    if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
    if digits.count > 1, digits.first == "0", digits.allSatisfy({ $0 >= "0" && $0 <= "9" }) { return .leadingZero }
    return .other
}

/// Keys whose value is text (and so may need quotes to stay text): `name`, `about`, `caution`,
/// `caution.say`, `sound`, a cue's `say` and `sound`, and `feedback`'s words.
func isTextValue(_ path: PresetKeyPath) -> Bool {
    guard case .key(let last)? = path.components.last else { return false }
    if last == "say", case .key("count-in")? = path.components.first { return false }
    return ["name", "about", "caution", "say", "sound", "say-under", "say-over"].contains(last)
}

/// A scalar's text for a message; empty for a collection.
private func writtenText(_ node: YAMLNode) -> String {
    guard case .scalar(let text, _, _) = node else { return "" }
    return quotedForMessage(text)
}

/// How a value reads in "got …": numbers as written, other text quoted, collections by kind.
private func describe(_ node: YAMLNode) -> String {
    switch node {
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .scalar(let text, let style, _):
        if text.isEmpty && style == .plain { return "nothing" }
        if case .finite = readNumber(text), style == .plain { return quotedForMessage(text) }
        return "'\(quotedForMessage(text))'"
    }
}

/// The allowed key closest to a misspelt one, if it is close enough to be a likely typo.
func closestKey(to key: String, among allowed: [String]) -> String? {
    let typed = Array(key.lowercased().unicodeScalars)
    guard typed.count <= 64 else { return nil }
    var best: (key: String, distance: Int)?
    for candidate in allowed {
        let target = Array(candidate.unicodeScalars)
        let limit = min(2, max(1, target.count / 3))
        let distance = editDistance(typed, target)
        if distance <= limit && distance < (best?.distance ?? Int.max) {
            best = (candidate, distance)
        }
    }
    return best?.key
}

/// Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`.
func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var beforePrevious = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = min(value, beforePrevious[j - 2] + 1)
            }
            current[j] = value
        }
        (beforePrevious, previous, current) = (previous, current, beforePrevious)
    }
    return previous[b.count]
}

/// "30–300" for a range of steps per minute.
private func formatRange(_ range: ClosedRange<Double>) -> String {
    "\(formatNumber(range.lowerBound))–\(formatNumber(range.upperBound))"
}

/// A limit as people write it: "300", not "300.0".
private func formatNumber(_ value: Double) -> String {
    if abs(value) < 1e15, let whole = Int(exactly: value) { return String(whole) }
    return String(value)
}
