import StrideCueCore
import StrideCueTerminal
import StrideCueLive

/// The status while no drill plays: `state` is `idle` or `starting` (`preset`: the drill asked for).
struct WaitingStatus: Encodable {
    let state: String
    @OrNull var preset: String?
    @OrNull var cadence: Reading?
    @OrNull var set: Int?
    @OrNull var step: Int?
    @OrNull var message: String?
    let revision: Int
}

/// The status while a drill plays; docs/remote.md says what each key means.
struct DrillStatus: Encodable {
    let state: String
    @OrNull var preset: String?
    let name: String
    let cadence: Reading
    let target: Reading
    let tempo: Reading
    let set: Int
    let sets: Int
    let step: Int
    @OrNull var countIn: Int?
    let countInLength: Int
    @OrNull var rest: Int?
    let clock: String
    @OrNull var nextCue: String?
    let underruns: Int
    let cues: [String]
    let planCadence: Reading
    @OrNull var rampFrom: Reading?
    @OrNull var rampSteps: Int?
    let planRest: Reading
    let revision: Int
    let elapsed: Reading
    let picture: Int
    let now: Reading
    /// The runner's sensor (`RunnerSensorStatus`).
    @OrNull var sensor: String?
    @OrNull var measuredCadence: Reading?
    @OrNull var speed: Reading?
    @OrNull var inBand: Reading?
    @OrNull var band: Reading?
    @OrNull var clicksFaded: Bool?
    @OrNull var malformed: Int?
    /// Peers in the Ableton Link session (`--link`), not counting this device; null without it.
    @OrNull var linkPeers: Int?
}

/// The runner's sensor in the status, all null without `--sensor`: `sensor` is its state
/// (`connecting`, `reading`, `standing`, `silent`, `reconnecting`), `measuredCadence` the steps
/// per minute it reports while reading, `speed` in m/s, `inBand` the seconds the runner has held
/// the target within `band` (± spm, 2 unless the preset's `feedback.band` says), `clicksFaded`
/// whether `feedback: fade` has faded the clicks, `malformed` the notifications refused.
struct RunnerSensorStatus {
    var sensor: String?
    var measuredCadence: Reading?
    var speed: Reading?
    var inBand: Reading?
    var band: Reading?
    var clicksFaded: Bool?
    var malformed: Int?
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
    var clicksFaded = false
    var linkPeers = -1
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
        key.linkPeers = s.linkPeers
        key.sensor = drill.sensor?.read()
        key.sensor?.measuredAt = 0  // a new measurement of the same cadence changes nothing shown
        key.clicksFaded = drill.live.clickLevel.level() == 0
        return key
    }

    /// The status every page shows, as `GET /api/status` and the WebSocket send it.
    func statusJSON() -> String {
        guard let drill else {
            return jsonText(WaitingStatus(
                state: pendingStart == nil ? "idle" : "starting", preset: pendingStart, cadence: nil, set: nil, step: nil,
                message: lastMessage.withLock { $0 }, revision: revision.load(ordering: .acquiring)))
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
        // Where the session is in the plan picture as drawn now (the coach's cadence, saved
        // edits): from the set, step, count-in or rest heard, so a skipped rest, a pause or a
        // tempo change moves the marker as they move the session.
        let drawn = drill.picture(cadence: s.targetCadence)
        let runner = sensorStatus(drill: drill, status: s)
        return jsonText(DrillStatus(
            state: state,
            preset: drill.preset,
            name: drill.plan.name,
            // The cadence asked for (the plan's or the coach's), and the tempo of the step being
            // heard: the count-in's or the ramp's while they play, the old cadence until the next step.
            cadence: Reading(s.targetCadence),
            target: Reading(s.targetCadence),
            tempo: Reading(s.cadence),
            set: s.set + 1,
            sets: s.sets,
            step: s.step,
            countIn: s.countIn > 0 ? s.countIn : nil,
            countInLength: s.countInLength,
            rest: s.restFramesLeft.map { Int((Double($0) / rate).rounded(.up)) },
            clock: StatusLine.clock(s.frame, rate: drill.rate),
            nextCue: StatusLine.nextCueText(s, plan: drill.plan),
            underruns: s.underruns,
            cues: drill.cueLabels,
            planCadence: Reading(drill.plan.cadence),
            rampFrom: drill.plan.ramp.map { Reading($0.from) },
            rampSteps: drill.plan.ramp?.steps,
            planRest: Reading(drill.plan.rest),
            revision: revision.load(ordering: .acquiring),
            elapsed: Reading(Double(s.frame) / rate),
            picture: drawn.number,
            now: Reading(PlanPictureAxis.x(planPosition(s, layout: drawn.layout, rate: rate), total: drawn.layout.total)),
            sensor: runner.sensor,
            measuredCadence: runner.measuredCadence,
            speed: runner.speed,
            inBand: runner.inBand,
            band: runner.band,
            clicksFaded: runner.clicksFaded,
            malformed: runner.malformed,
            linkPeers: s.linkPeers >= 0 ? s.linkPeers : nil))
    }
}

extension CoachRemote {
    /// The runner's sensor in the status (all null without `--sensor`): `sensor` is its state
    /// (`connecting`, `reading`, `standing`, `silent`, `reconnecting`), `measuredCadence` the
    /// steps per minute it reports while reading, `speed` in m/s, `inBand` the seconds the
    /// runner has held the target within `band` spm, `clicksFaded` whether `fade` has faded the
    /// clicks, `malformed` the notifications refused.
    func sensorStatus(drill: RemoteDrill, status s: LiveStatus) -> RunnerSensorStatus {
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
        return RunnerSensorStatus(
            sensor: state,
            measuredCadence: r?.liveCadence.map { Reading(Double($0)) },
            speed: r?.state == .reading ? r?.speed.map(Reading.init) : nil,
            inBand: held.map { Reading($0.rounded(.down)) },
            band: r.map { _ in Reading(drill.band.withLock { $0.tolerance }) },
            clicksFaded: r.map { _ in drill.live.clickLevel.level() == 0 },
            malformed: r?.malformed)
    }
}
