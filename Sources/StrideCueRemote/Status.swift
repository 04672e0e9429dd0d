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
    // Past 2^53 there are no thousandths to show (and Int64 would trap past 9.2e18).
    guard abs(x) < 1e15 else { return "\(x)" }
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
    var caution = false
    var sensor: SensorReading? = nil
}

/// Seconds into the plan as `layout` draws it at which `s` is: the caution's time, the
/// count-in click, the step or the point in the rest being heard.
func planPosition(_ s: LiveStatus, layout: PlanLayout, rate: Double) -> Double {
    guard !layout.sets.isEmpty else { return 0 }
    let sets = layout.sets
    let i = min(max(s.set, 0), sets.count - 1)
    let t: Double
    if s.caution {
        t = min(Double(s.frame) / rate, layout.lead)
    } else if let left = s.restFramesLeft {
        // Resting before set i: the rest ends where its count-in starts.
        let end = sets[i].countInStart
        let start = i > 0 ? sets[i - 1].end : end
        t = max(start, end - Double(left) / rate)
    } else if s.countIn > 0 {
        t = sets[i].countInStart + layout.countInDuration * Double(s.countIn - 1) / Double(max(s.countInLength, 1))
    } else if s.step > 0 {
        t = min(sets[i].start + layout.timeInSet(ofStep: s.step), sets[i].end)
    } else {
        t = sets[i].countInStart
    }
    return min(max(t, 0), layout.total)
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
        key.caution = s.caution
        key.sensor = drill.sensor?.read()
        key.sensor?.measuredAt = 0  // a new measurement of the same cadence changes nothing shown
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
        case .playing:
            state = s.caution ? "caution" : s.restFramesLeft != nil ? "resting" : s.countIn > 0 ? "counting-in" : "playing"
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
        // Where the session is in the plan picture as drawn now (the coach's cadence, saved
        // edits): from the set, step, count-in or rest heard, so a skipped rest, a pause or a
        // tempo change moves the marker as they move the session.
        let drawn = drill.picture(cadence: s.targetCadence)
        json.add("picture", drawn.number)
        json.add("now", PlanPictureAxis.x(planPosition(s, layout: drawn.layout, rate: rate), total: drawn.layout.total))
        addSensor(to: &json, drill: drill, status: s)
        return json.text
    }
}

extension CoachRemote {
    /// The runner's sensor in the status (all null without `--sensor`): `sensor` is its state
    /// (`connecting`, `reading`, `standing`, `silent`, `reconnecting`), `measuredCadence` the
    /// steps per minute it reports while reading, `speed` in m/s, `inBand` the seconds the
    /// runner has held the target within ±2 spm, `malformed` the notifications refused.
    func addSensor(to json: inout JSONObject, drill: RemoteDrill, status s: LiveStatus) {
        let r = drill.sensor?.read()
        let held = r.map { r in
            drill.band.withLock { band in
                band.update(frame: s.frame, target: s.targetCadence, measured: r.liveCadence)
                return Double(band.heldFrames) / Double(drill.rate)
            }
        }
        var state = r.map { r in
            switch r.state {
            case .connecting: "connecting"
            case .reading: r.cadence == 0 ? "standing" : "reading"
            case .silent: "silent"
            case .reconnecting: "reconnecting"
            }
        }
        if r?.state == .reading && r?.cadence == nil { state = "connecting" }
        json.add("sensor", state)
        json.add("measuredCadence", r?.liveCadence)
        json.add("speed", r?.state == .reading ? r?.speed : nil)
        json.add("inBand", held.map { $0.rounded(.down) })
        json.add("malformed", r?.malformed)
    }
}
