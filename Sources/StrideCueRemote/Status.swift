import StrideCueCore
import StrideCueTerminal

/// JSON text, built by hand: a handful of numbers and strings, no encoder needed.
struct JSONObject {
    private var fields: [String] = []

    mutating func add(_ key: String, _ value: String?) {
        fields.append("\"\(key)\":" + (value.map(jsonString) ?? "null"))
    }

    mutating func add(_ key: String, _ value: Double?) {
        fields.append("\"\(key)\":" + (value.map(jsonNumber) ?? "null"))
    }

    mutating func add(_ key: String, _ value: Int?) {
        fields.append("\"\(key)\":" + (value.map { String($0) } ?? "null"))
    }

    mutating func add(_ key: String, _ value: Bool) {
        fields.append("\"\(key)\":\(value)")
    }

    mutating func add(_ key: String, strings: [String]) {
        fields.append("\"\(key)\":[" + strings.map(jsonString).joined(separator: ",") + "]")
    }

    var text: String { "{" + fields.joined(separator: ",") + "}" }
}

/// A number as JSON: whole numbers without a point, others to three decimals.
func jsonNumber(_ x: Double) -> String {
    guard x.isFinite else { return "null" }
    let thousandths = (x * 1000).rounded()
    if thousandths == (x).rounded() * 1000 { return String(Int64(x.rounded())) }
    let n = Int64(thousandths)
    let sign = n < 0 ? "-" : ""
    let a = abs(n)
    var fraction = String(a % 1000)
    fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
    while fraction.hasSuffix("0") { fraction.removeLast() }
    return "\(sign)\(a / 1000).\(fraction)"
}

/// What a page shows that can change, cheap to take and compare: the broadcaster builds the
/// JSON only when this changed (or a second passed).
struct StatusKey: Equatable {
    var revision: Int
    var phase: LivePhase?
    var set = 0
    var step = 0
    var countIn = 0
    var restSeconds: Int64 = -1
    var cadence = 0.0
    var target = 0.0
    var seconds: Int64 = 0
    var underruns = 0
}

extension CoachRemote {
    func statusKey() -> StatusKey {
        var key = StatusKey(revision: revision.load(ordering: .acquiring), phase: nil)
        guard let drill else { return key }
        let s = drill.live.status.read()
        let rate = Int64(drill.rate)
        key.phase = s.phase
        key.set = s.set
        key.step = s.step
        key.countIn = s.countIn
        key.restSeconds = s.restFramesLeft.map { ($0 + rate - 1) / rate } ?? -1
        key.cadence = s.cadence
        key.target = s.targetCadence
        key.seconds = s.frame / rate
        key.underruns = s.underruns
        return key
    }

    /// The status every page shows, as `GET /api/status` and the WebSocket send it.
    func statusJSON() -> String {
        var json = JSONObject()
        guard let drill else {
            json.add("state", pendingStart == nil ? "idle" : "starting")
            json.add("preset", pendingStart)
            json.add("cadence", nil as Double?)
            json.add("set", nil as Int?)
            json.add("step", nil as Int?)
            json.add("message", lastMessage.withLock { $0 })
            json.add("revision", revision.load(ordering: .acquiring))
            return json.text
        }
        let s = drill.live.status.read()
        let state: String
        switch s.phase {
        case .playing: state = s.restFramesLeft != nil ? "resting" : s.countIn > 0 ? "counting-in" : "playing"
        case .pausing: state = "pausing"
        case .paused: state = "paused"
        case .stopping: state = "stopping"
        case .finished: state = "finished"
        }
        let rate = Double(drill.rate)
        json.add("state", state)
        json.add("preset", drill.preset)
        json.add("name", drill.plan.name)
        // The cadence asked for (the plan's or the coach's), and the tempo of the step being
        // heard: the count-in's or the ramp's while they play, the old cadence until the next step.
        json.add("cadence", s.targetCadence)
        json.add("target", s.targetCadence)
        json.add("tempo", s.cadence)
        json.add("set", s.set + 1)
        json.add("sets", s.sets)
        json.add("step", s.step)
        json.add("countIn", s.countIn > 0 ? s.countIn : nil)
        json.add("countInLength", s.countInLength)
        json.add("rest", s.restFramesLeft.map { Int((Double($0) / rate).rounded(.up)) })
        json.add("clock", StatusLine.clock(s.frame, rate: drill.rate))
        json.add("nextCue", StatusLine.nextCueText(s, plan: drill.plan))
        json.add("underruns", s.underruns)
        json.add("cues", strings: drill.cueLabels)
        json.add("planCadence", drill.plan.cadence)
        json.add("rampFrom", drill.plan.ramp?.from)
        json.add("rampSteps", drill.plan.ramp?.steps)
        json.add("planRest", drill.plan.rest)
        json.add("revision", revision.load(ordering: .acquiring))
        json.add("elapsed", Double(s.frame) / rate)
        // Where "now" lies across the plan picture (its time axis, as a fraction of its width):
        // the plan's own times, so a changed cadence moves the marker only approximately.
        let total = max(drill.layout.total, 1e-9)
        let t = min(Double(s.frame) / rate, total)
        json.add("now", PlanPictureAxis.x(t, total: total))
        return json.text
    }
}
