/// A cue as `preset show` and the plan picture present it.
///
/// Steps are counted as a runner counts them: step 1 is a set's first step.
public struct PlanCue: Sendable, Equatable {
    public enum Placement: Sendable, Equatable {
        /// Every `n` steps from step `offset`.
        case every(Int, offset: Int)
        case setStart
        /// Timed to end with the set: it starts `steps − 1` steps before the set's last step.
        case setEnd
        /// The first step of the second half of the set.
        case halfway
        case step(Int)
    }

    /// The words spoken, or the file played for a recorded cue.
    public var text: String
    public var isRecording: Bool
    public var placement: Placement
    /// Steps the cue may take.
    public var steps: Int
    /// `voice`, `tone` or `both`.
    public var style: String

    public init(text: String, isRecording: Bool = false, placement: Placement, steps: Int = 2, style: String = "voice") {
        self.text = text
        self.isRecording = isRecording
        self.placement = placement
        self.steps = steps
        self.style = style
    }

    /// The steps of a set of `stepsPerSet` steps the cue starts on, in order.
    public func startSteps(inSetOf stepsPerSet: Int) -> StrideThrough<Int> {
        let single = { (step: Int) in step <= stepsPerSet ? stride(from: step, through: step, by: 1) : stride(from: 1, through: 0, by: 1) }
        switch placement {
        case .every(let n, let offset): return stride(from: offset, through: stepsPerSet, by: max(1, n))
        case .setStart: return single(1)
        case .setEnd: return single(max(1, stepsPerSet - steps + 1))
        case .halfway: return single(stepsPerSet / 2 + 1)
        case .step(let k): return single(k)
        }
    }
}

/// Where everything in a plan falls in time: sets, rests, steps and cues.
///
/// Times follow `Timeline` (the same sums for ramp steps); `total` is `Timeline.planDuration`.
/// Nothing here grows with the length of the plan except the table of ramp step times.
public struct PlanLayout: Sendable {
    public struct SetTiming: Sendable, Equatable {
        /// 1-based.
        public var number: Int
        /// When the count-in starts (the set's first step, without one).
        public var countInStart: Double
        /// When the first step starts.
        public var start: Double
        public var end: Double
    }

    public let plan: SessionPlan
    public let cues: [PlanCue]
    public let sets: [SetTiming]
    /// Steps in every set (all sets are alike).
    public let stepsPerSet: Int
    /// Seconds of count-in before each set.
    public let countInDuration: Double
    /// The whole plan in seconds.
    public let total: Double
    /// Seconds before the first count-in, in which the caution is spoken; 0 when the timeline
    /// leaves none.
    public let lead: Double
    /// Start of each ramp step from the set's first step.
    private let rampTimes: [Double]
    private let rampEnd: Double

    public init(plan: SessionPlan, cues: [PlanCue] = []) {
        self.plan = plan
        self.cues = cues
        let rampSteps = plan.ramp?.steps ?? 0
        let from = plan.ramp?.from ?? plan.cadence
        var times: [Double] = []
        times.reserveCapacity(rampSteps)
        var sum = 0.0, compensation = 0.0
        for k in 0..<rampSteps {
            times.append(sum)
            let y = 60 / (from + (plan.cadence - from) * Double(k) / Double(rampSteps)) - compensation
            let s = sum + y
            compensation = (s - sum) - y
            sum = s
        }
        rampTimes = times
        rampEnd = sum
        countInDuration = Double(plan.countIn) * 60 / from

        let steps: Int
        let length: Double
        switch plan.setLength {
        case .steps(let n):
            steps = n
            length = Timeline.span(steps: n, cadence: plan.cadence, ramp: plan.ramp)
        case .distance(let meters, let stepLength):
            steps = Timeline.stepsToCover(meters, stepLength)
            length = Timeline.span(steps: steps, cadence: plan.cadence, ramp: plan.ramp)
        case .duration(let seconds):
            steps = Self.steps(before: seconds, rampTimes: times, rampEnd: sum, rampSteps: rampSteps, cadence: plan.cadence)
            length = seconds
        }
        stepsPerSet = steps
        total = Timeline.planDuration(of: plan)
        // Whatever the timeline puts before the first count-in (the spoken caution) is the
        // part of its duration that the sets and rests do not account for.
        let body = Double(max(1, plan.sets)) * (countInDuration + length) + Double(max(0, plan.sets - 1)) * plan.rest
        lead = total - body > 1e-6 ? total - body : 0
        var sets: [SetTiming] = []
        var t = lead
        for number in 1...max(1, plan.sets) {
            let start = t + countInDuration
            sets.append(SetTiming(number: number, countInStart: t, start: start, end: start + length))
            t = start + length + plan.rest
        }
        self.sets = sets
    }

    /// Steps that start before `seconds` into a set; the first step always plays.
    private static func steps(before seconds: Double, rampTimes: [Double], rampEnd: Double, rampSteps: Int, cadence: Double) -> Int {
        if let k = rampTimes.indices.first(where: { $0 > 0 && rampTimes[$0] >= seconds }) { return k }
        let interval = 60 / cadence
        let time = { (k: Int) in rampEnd + Double(k - rampSteps) * interval }
        guard time(rampSteps) < seconds || rampSteps == 0 else { return max(1, rampSteps) }
        var k = rampSteps + max(0, Int(((seconds - rampEnd) / interval).rounded(.up)))
        while k > rampSteps && time(k - 1) >= seconds { k -= 1 }
        while time(k) < seconds { k += 1 }
        return max(1, k)
    }

    /// Seconds from the set's first step to the start of 1-based `step`.
    public func timeInSet(ofStep step: Int) -> Double {
        let k = step - 1
        if k < rampTimes.count { return rampTimes[max(0, k)] }
        return rampEnd + Double(k - rampTimes.count) * 60 / plan.cadence
    }

    /// Steps per minute at 1-based `step`.
    public func tempo(atStep step: Int) -> Double {
        let k = step - 1
        guard let ramp = plan.ramp, k < ramp.steps else { return plan.cadence }
        return ramp.from + (plan.cadence - ramp.from) * Double(max(0, k)) / Double(ramp.steps)
    }

    /// Times a cue starts in one set.
    public func count(of cue: PlanCue) -> Int {
        if case .every(let n, let offset) = cue.placement {
            return offset > stepsPerSet ? 0 : (stepsPerSet - offset) / max(1, n) + 1
        }
        return firstStep(cue) == nil ? 0 : 1
    }

    private func firstStep(_ cue: PlanCue) -> Int? {
        var steps = cue.startSteps(inSetOf: stepsPerSet).makeIterator()
        return steps.next()
    }

    /// The step of a set a cue last starts on, if it starts at all.
    public func lastStep(of cue: PlanCue) -> Int? {
        let n = count(of: cue)
        guard n > 0 else { return nil }
        if case .every(let every, let offset) = cue.placement { return offset + (n - 1) * max(1, every) }
        return firstStep(cue)
    }
}

// MARK: - The readable plan

/// The plan of a preset as `stridecue preset show` prints it: the caution first, what the
/// drill is for, one row per set and rest with its start, length, steps and tempo, each cue
/// with the steps it falls on, and the totals.
/// - Parameters:
///   - layout: The plan and its cues, laid out in time.
///   - origin: One line saying where the preset comes from, printed under the title.
///   - width: Longest line for wrapped text.
public func planSummary(_ layout: PlanLayout, origin: String? = nil, width: Int = 78) -> String {
    let plan = layout.plan
    var out: [String] = [plan.name]
    if let origin { out.append(origin) }
    out.append("")
    if !plan.caution.isEmpty {
        out.append(contentsOf: wrapParagraphs("CAUTION: " + plan.caution, width: width))
        out.append("")
    }
    if !plan.about.isEmpty {
        out.append(contentsOf: wrapParagraphs(plan.about, width: width))
        out.append("")
    }

    // What a set is, then how the tempo moves, the count-in and the clicks.
    let steps = layout.stepsPerSet
    var shape = "\(plan.sets) set\(plural(plan.sets)) of "
    switch plan.setLength {
    case .steps: shape += "\(steps) steps"
    case .distance(let meters, let stepLength):
        shape += "\(steps) steps (\(metres(meters)) at \(metres(stepLength)) a step)"
    case .duration(let seconds):
        shape += "\(lengthText(seconds)) (\(steps) step\(plural(steps)))"
    }
    if plan.sets > 1 {
        shape += plan.rest > 0 ? ", \(lengthText(plan.rest)) rest between" : ", no rest between"
    }
    out.append(shape + ".")
    if let ramp = plan.ramp {
        let way = ramp.from < plan.cadence ? "up" : "down"
        out.append(contentsOf: wrap("Tempo: \(spm(plan.cadence)) spm, ramping \(way) from \(spm(ramp.from)) spm over the first \(ramp.steps) step\(plural(ramp.steps)) of each set.", width: width))
    } else {
        out.append("Tempo: \(spm(plan.cadence)) spm (steps per minute).")
    }
    if plan.countIn > 0 {
        let from = plan.ramp?.from ?? plan.cadence
        out.append("Each set opens with \(plan.countIn) count-in click\(plural(plan.countIn)) at \(spm(from)) spm (\(lengthText(layout.countInDuration))).")
    }
    var clicks = "Clicks: \(plan.sound)"
    if plan.accentEvery == 1 {
        clicks += ", every step accented"
    } else if plan.accentEvery > 1 {
        clicks += ", accent on every \(ordinal(plan.accentEvery)) step"
    }
    if plan.subdivide > 1 { clicks += ", \(plan.subdivide) clicks a step" }
    out.append(clicks + ".")
    out.append("")

    // One row per set and rest.
    let tempo = tempoText(layout)
    var rows: [[String]] = [["Start", "Part", "Length", "Steps", "Tempo (spm)"]]
    if layout.lead > 0 {
        rows.append([clock(0), "caution", lengthText(layout.lead), "", "spoken before the first set"])
    }
    for set in layout.sets {
        if set.number > 1 && plan.rest > 0 {
            rows.append([clock(set.countInStart - plan.rest), "rest", lengthText(plan.rest), "", ""])
        }
        rows.append([clock(set.countInStart), "set \(set.number)", lengthText(set.end - set.countInStart), String(steps), tempo])
    }
    rows.append([clock(layout.total), "end", "", "", ""])
    out.append(contentsOf: table(rows, rightAligned: [0, 3]))
    if plan.countIn > 0 { out.append("  A set's length includes its count-in.") }
    out.append("")

    // Cues.
    if layout.cues.isEmpty {
        out.append("Cues: none.")
    } else {
        out.append("Cues, the same in every set (step 1 is a set's first step):")
        var cueRows: [[String]] = []
        for (index, cue) in layout.cues.enumerated() {
            let shown = cue.isRecording ? "[\(cue.text)]" : "\"\(cue.text)\""
            var details: [String] = []
            if cue.steps != 2 { details.append("takes \(cue.steps) steps") }
            if cue.style != "voice" { details.append(cue.style) }
            var rule = placementText(cue, layout)
            if !details.isEmpty { rule += " (" + details.joined(separator: ", ") + ")" }
            cueRows.append([String(index + 1), shown, "\(layout.count(of: cue)) a set", rule])
        }
        out.append(contentsOf: table(cueRows, rightAligned: [0, 2]))
    }
    out.append("")

    // Totals.
    let cueCount = layout.cues.reduce(0) { $0 + layout.count(of: $1) } * plan.sets
    var total = "Total: \(clock(layout.total)), \(steps * plan.sets) steps in \(plan.sets) set\(plural(plan.sets))"
    if plan.countIn > 0 { total += ", \(plan.countIn * plan.sets) count-in clicks" }
    total += ", \(cueCount) cue\(plural(cueCount))."
    out.append(total)
    // Text from the preset reaches a terminal: control characters (an escape sequence hidden
    // in a name) are shown, never obeyed.
    return out.map(escaped).joined(separator: "\n") + "\n"
}

/// How the tempo moves through a set: `150 → 190 over steps 1–16, then 190`.
private func tempoText(_ layout: PlanLayout) -> String {
    let plan = layout.plan
    guard let ramp = plan.ramp else { return spm(plan.cadence) }
    let steps = layout.stepsPerSet
    if steps <= ramp.steps {
        // The set ends before the ramp does.
        return "\(spm(ramp.from)) → \(spm(layout.tempo(atStep: steps))) over all \(steps) steps (the ramp to \(spm(plan.cadence)) is cut short)"
    }
    return "\(spm(ramp.from)) → \(spm(plan.cadence)) over steps 1–\(ramp.steps), then \(spm(plan.cadence))"
}

private func placementText(_ cue: PlanCue, _ layout: PlanLayout) -> String {
    let found = Array(cue.startSteps(inSetOf: layout.stepsPerSet).prefix(4))
    let count = layout.count(of: cue)
    guard !found.isEmpty else {
        switch cue.placement {
        case .step(let k): return "at step \(k): past the set's \(layout.stepsPerSet) steps, never heard"
        default: return "never: the set has \(layout.stepsPerSet) steps"
        }
    }
    let list: String
    if count <= 4 {
        list = found.map(String.init).joined(separator: ", ")
    } else {
        list = found.prefix(3).map(String.init).joined(separator: ", ") + ", …, \(layout.lastStep(of: cue)!)"
    }
    switch cue.placement {
    case .every(let n, let offset):
        // Spoken every so many seconds, roughly: to 5 s under 100 s, to half a minute above.
        let seconds = Double(n) * 60 / layout.plan.cadence
        let rounded = seconds < 100 ? (seconds / 5).rounded() * 5 : (seconds / 30).rounded() * 30
        let about = seconds >= 20 ? ", about every \(lengthText(rounded))" : ""
        return "every \(n) steps from step \(offset)\(about): \(count == 1 ? "step" : "steps") \(list)"
    case .setStart: return "at the set's start: step \(list)"
    case .setEnd: return "ending with the set: step \(list)"
    case .halfway: return "halfway: step \(list)"
    case .step: return "at step \(list)"
    }
}

// MARK: Text helpers

/// Rows as columns two spaces apart; columns in `rightAligned` are padded on the left.
func table(_ rows: [[String]], rightAligned: Set<Int>) -> [String] {
    let columns = rows.map(\.count).max() ?? 0
    var widths = [Int](repeating: 0, count: columns)
    for row in rows {
        // A short row's last cell runs on past the columns and sets no width.
        for (i, cell) in row.enumerated() where i < row.count - 1 || row.count == columns {
            widths[i] = max(widths[i], cell.count)
        }
    }
    return rows.map { row in
        var line = ""
        for (i, cell) in row.enumerated() {
            let runsOn = i == row.count - 1 && (row.count < columns || !rightAligned.contains(i))
            let pad = runsOn ? "" : String(repeating: " ", count: max(0, widths[i] - cell.count))
            line += "  " + (rightAligned.contains(i) ? pad + cell : cell + pad)
        }
        while line.last == " " { line.removeLast() }
        return line
    }
}

/// Each line of `text` wrapped on its own; empty lines are kept.
func wrapParagraphs(_ text: String, width: Int) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { paragraph -> [String] in
        paragraph.isEmpty ? [""] : wrap(String(paragraph), width: width)
    }
}

/// A cadence as written: 190, 172.5.
func spm(_ value: Double) -> String {
    let tenths = (value * 10).rounded()
    let whole = Int(tenths) / 10, fraction = Int(tenths) % 10
    return fraction == 0 ? String(whole) : "\(whole).\(fraction)"
}

/// A distance in metres: 20 m, 0.5 m, 1.2 km.
func metres(_ value: Double) -> String {
    if value >= 1_000 { return decimal(value / 1_000, places: 2) + " km" }
    return decimal(value, places: 2) + " m"
}

/// At most `places` decimals, without trailing zeros.
func decimal(_ value: Double, places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    let whole = scaled / Int(scale)
    var fraction = String(scaled % Int(scale))
    fraction = String(repeating: "0", count: places - fraction.count) + fraction
    while fraction.last == "0" { fraction.removeLast() }
    return fraction.isEmpty ? String(whole) : "\(whole).\(fraction)"
}

/// A time on the track's clock, to the second: 0:00, 1:33, 1:02:03.
func clock(_ seconds: Double) -> String {
    let total = Int(max(0, seconds).rounded())
    let h = total / 3_600, m = total / 60 % 60, s = total % 60
    let ss = s < 10 ? "0\(s)" : String(s)
    if h > 0 { return "\(h):\(m < 10 ? "0" : "")\(m):\(ss)" }
    return "\(m):\(ss)"
}

/// A length as a coach says it: 16.5 s, 60 s, 10 min, 1:30.
func lengthText(_ seconds: Double) -> String {
    if seconds < 100 { return decimal(seconds, places: 1) + " s" }
    let minutes = seconds / 60
    if abs(minutes - minutes.rounded()) < 0.001 { return "\(Int(minutes.rounded())) min" }
    return clock(seconds)
}

private func plural(_ n: Int) -> String { n == 1 ? "" : "s" }

private func ordinal(_ n: Int) -> String {
    let suffix: String
    switch (n % 10, n % 100) {
    case (_, 11...13): suffix = "th"
    case (1, _): suffix = "st"
    case (2, _): suffix = "nd"
    case (3, _): suffix = "rd"
    default: suffix = "th"
    }
    return "\(n)\(suffix)"
}

extension String {
    /// Without blanks at either end.
    public func trimmingBlanks() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
              let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        return String(scalars[first...last])
    }
}

/// Numbers written the way the plan text writes them, for listings elsewhere.
public enum PlanText {
    /// A time on the track's clock, to the second: 0:00, 1:33, 1:02:03.
    public static func clock(_ seconds: Double) -> String { StrideCueCore.clock(seconds) }
    /// A length as a coach says it: 16.5 s, 60 s, 10 min, 1:30.
    public static func length(_ seconds: Double) -> String { lengthText(seconds) }
    /// A cadence: 190, 172.5.
    public static func cadence(_ value: Double) -> String { spm(value) }
    /// Rows as columns two spaces apart, indented by two; `rightAligned` columns padded on the left.
    public static func table(_ rows: [[String]], rightAligned: Set<Int>) -> [String] { StrideCueCore.table(rows, rightAligned: rightAligned) }
}
