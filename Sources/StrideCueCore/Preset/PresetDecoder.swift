/// A decoded preset: the plan to play, and the tree it came from.
public struct Preset: Sendable, Equatable {
    public var plan: SessionPlan
    /// The parsed file, kept so later features can read `cues` and edit values in place.
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
]

private struct PresetDecoder {
    let file: String

    func decode(_ root: YAMLNode) throws(PresetError) -> SessionPlan {
        guard case .mapping(let entries, _) = root else {
            throw fail("the top level of a preset must be a mapping of keys to values", at: root.span)
        }
        var plan = SessionPlan(name: defaultName())
        var cadence: Double?
        for entry in entries {
            let value = entry.value
            switch entry.key {
            case "name": plan.name = try text(value, "name", allowEmpty: false)
            case "about": plan.about = try text(value, "about", allowEmpty: true)
            case "caution": plan.caution = try text(value, "caution", allowEmpty: true)
            case "cadence": cadence = try stepsPerMinute(value, "cadence")
            case "ramp": plan.ramp = try ramp(value)
            case "count-in": plan.countIn = try countIn(value)
            case "sets": plan.sets = try whole(value, "sets", PlanLimits.sets)
            case "set": plan.setLength = try setLength(value)
            case "rest": plan.rest = try duration(value, "rest", PlanLimits.rest)
            case "accent": plan.accentEvery = try whole(value, "accent", PlanLimits.accentEvery)
            case "subdivide": plan.subdivide = try whole(value, "subdivide", PlanLimits.subdivide)
            case "sound": plan.sound = try soundName(value)
            // Decoded by the spoken-cue feature; until then it stays in the tree untouched.
            case "cues": break
            default: throw unknownKey(entry, allowed: presetKeys, in: nil)
            }
        }
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

    /// A whole number, or a mapping `{steps: N}` so that options such as spoken counting can join it later.
    private func countIn(_ node: YAMLNode) throws(PresetError) -> Int {
        guard case .mapping(let entries, let span) = node else {
            return try whole(node, "count-in", PlanLimits.countIn)
        }
        var steps: Int?
        for entry in entries {
            switch entry.key {
            case "steps": steps = try whole(entry.value, "count-in.steps", PlanLimits.countIn)
            default: throw unknownKey(entry, allowed: ["steps"], in: "count-in")
            }
        }
        guard let steps else {
            throw fail("count-in.steps is required (a whole number from \(PlanLimits.countIn.lowerBound) to \(PlanLimits.countIn.upperBound))", at: span)
        }
        return steps
    }

    private func setLength(_ node: YAMLNode) throws(PresetError) -> SetLength {
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

    private func stepsPerMinute(_ node: YAMLNode, _ key: String) throws(PresetError) -> Double {
        let limits = PlanLimits.cadence
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
        guard case .scalar(let text, _, _) = node, let value = Int(text), limits.contains(value) else {
            throw fail("\(key) must be a whole number from \(limits.lowerBound) to \(limits.upperBound), got \(describe(node))", at: node.span)
        }
        return value
    }

    private func duration(_ node: YAMLNode, _ key: String, _ limits: ClosedRange<Double>) throws(PresetError) -> Double {
        guard case .scalar(let text, _, _) = node, let seconds = parseDuration(text) else {
            throw fail("\(key) must be a duration like 60 s, 10 min or 1:30, got \(describe(node))", at: node.span)
        }
        guard limits.contains(seconds) else {
            throw fail("\(key) must be between \(formatNumber(limits.lowerBound)) and \(formatNumber(limits.upperBound)) seconds, got \(describe(node))", at: node.span)
        }
        return seconds
    }

    private func distance(_ node: YAMLNode, _ key: String, _ what: String, _ limits: ClosedRange<Double>) throws(PresetError) -> Double {
        guard case .scalar(let text, _, _) = node, let metres = parseDistance(text) else {
            throw fail("\(key) must be \(what), got \(describe(node))", at: node.span)
        }
        guard limits.contains(metres) else {
            throw fail("\(key) must be between \(formatNumber(limits.lowerBound)) and \(formatNumber(limits.upperBound)) metres, got \(describe(node))", at: node.span)
        }
        return metres
    }

    /// A sound name becomes part of a file name (`Sounds/clicks/NAME.wav`), so it stays plain ASCII.
    private func soundName(_ node: YAMLNode) throws(PresetError) -> String {
        let allowed = { (c: Unicode.Scalar) in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "-"
        }
        guard case .scalar(let text, _, _) = node, !text.isEmpty, text.unicodeScalars.allSatisfy(allowed) else {
            throw fail("sound must be a name made of letters, digits and hyphens, like woodblock, got \(describe(node))", at: node.span)
        }
        return text
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
