/// How loud and which sound a click uses.
public enum ClickLevel: UInt8, Sendable, CaseIterable {
    /// The first step of an accent group (`accent: 2` marks one foot).
    case accent = 0
    /// An ordinary step.
    case step = 1
    /// A softer click between steps (`subdivide: 2…4`).
    case subdivision = 2
    /// A count-in click before a set.
    case countIn = 3
}

/// One click on the timeline.
public struct ClickEvent: Sendable, Equatable {
    /// Output frame at which the click starts: `round(t · rate)` of its exact time `t`.
    public var frame: Int64
    /// Exact time in seconds from the start of the track.
    public var time: Double
    public var level: ClickLevel
    /// Index of the set, from 0.
    public var set: Int
    /// Step within the set, from 0; negative for count-in clicks (−N … −1).
    public var step: Int

    @_noAllocation @_noLocks
    public init(frame: Int64, time: Double, level: ClickLevel, set: Int, step: Int) {
        self.frame = frame
        self.time = time
        self.level = level
        self.set = set
        self.step = step
    }
}

/// What the generator is producing next.
public enum TimelinePhase: Sendable, Equatable {
    case countIn
    case steps
    case finished
}

/// Turns a `SessionPlan` into click events in time order, one at a time.
///
/// Every time is computed from an anchor by multiplication or by summing exact intervals —
/// never by adding rounded frame counts — so a click lands within half a frame of its exact
/// time however long the track. The state is a handful of numbers: the timeline allocates
/// nothing and can be advanced on the audio thread. A live cadence change re-anchors the grid
/// at the first step not yet rendered, so the new grid is exact from that step on; during a
/// ramp it moves the ramp's end instead, and the ramp carries on from the tempo it is at.
public struct Timeline: Sendable {
    // The plan, reduced to numbers.
    public private(set) var cadence: Double
    private let rampFrom: Double
    private let rampSteps: Int
    private let countInClicks: Int
    public let sets: Int
    private let stepsPerSet: Int          // Int.max when the set is bounded by duration
    private let setDuration: Double       // seconds; .infinity when bounded by steps
    private let rest: Double
    private let accentEvery: Int
    private let subdivide: Int
    private let rate: Double
    /// Output sample rate in Hz.
    public let sampleRate: Int

    // Where the generator is.
    public private(set) var phase: TimelinePhase
    public private(set) var setIndex: Int = 0
    /// Time of the first step of the current set (after its count-in).
    private var setStart: Double = 0
    /// Count-in click index (0..<countIn) or the step index within the set.
    public private(set) var stepIndex: Int = 0
    private var subIndex: Int = 0
    /// Time and interval of the current step.
    private var stepStart: Double = 0
    private var stepInterval: Double = 0
    /// Ramp steps are placed by a compensated running sum of their exact intervals.
    private var rampSum: Double = 0
    private var rampCompensation: Double = 0
    /// The ramp runs from `rampBaseCadence` at step `rampBaseStep` to `cadence` at `rampSteps`:
    /// the plan's ramp (`rampFrom` at step 0) until a live change moves its end.
    private var rampBaseCadence: Double = 0
    private var rampBaseStep: Int = 0
    /// Start of the step before the current one in this set; nan at the set's first step.
    private var previousStepStart: Double = .nan
    /// Once `stepIndex >= anchorStep`, steps sit at `anchorTime + (k − anchorStep)·60/anchorCadence`.
    private var anchorTime: Double = 0
    private var anchorStep: Int = 0
    private var anchorCadence: Double = 0
    private var rampActive: Bool
    /// Start of the count-in before the current set.
    private var countInStart: Double = 0

    /// Seconds from the start of the track at which the plan ends (the end of the last set).
    public private(set) var planEnd: Double = 0

    public init(plan: SessionPlan, sampleRate: Int) {
        cadence = plan.cadence
        rampFrom = plan.ramp?.from ?? plan.cadence
        rampSteps = plan.ramp?.steps ?? 0
        countInClicks = plan.countIn
        sets = plan.sets
        switch plan.setLength {
        case .steps(let n):
            stepsPerSet = n
            setDuration = .infinity
        case .duration(let seconds):
            stepsPerSet = .max
            setDuration = seconds
        case .distance(let meters, let stepLength):
            stepsPerSet = Self.stepsToCover(meters, stepLength)
            setDuration = .infinity
        }
        rest = plan.rest
        accentEvery = plan.accentEvery
        subdivide = Swift.max(1, plan.subdivide)
        rate = Double(sampleRate)
        self.sampleRate = sampleRate
        rampActive = rampSteps > 0
        phase = countInClicks > 0 ? .countIn : .steps
        planEnd = Self.planDuration(of: plan)
        // The spoken caution comes first; the first count-in waits for it.
        beginSet(countInStart: plan.cautionLead)
    }

    /// The length of a plan in seconds: the caution's time, then from the first count-in click
    /// to the end of the last set.
    public static func planDuration(of plan: SessionPlan) -> Double {
        let from = plan.ramp?.from ?? plan.cadence
        let countIn = Double(plan.countIn) * 60 / from
        let oneSet: Double
        switch plan.setLength {
        case .duration(let seconds):
            oneSet = seconds
        case .steps(let n):
            oneSet = span(steps: n, cadence: plan.cadence, ramp: plan.ramp)
        case .distance(let meters, let stepLength):
            oneSet = span(steps: stepsToCover(meters, stepLength), cadence: plan.cadence, ramp: plan.ramp)
        }
        return plan.cautionLead + Double(plan.sets) * (countIn + oneSet) + Double(plan.sets - 1) * plan.rest
    }

    /// Steps needed to cover a distance.
    public static func stepsToCover(_ meters: Double, _ stepLength: Double) -> Int {
        Swift.max(1, Int((meters / stepLength - 1e-9).rounded(.up)))
    }

    /// Seconds taken by the first `n` steps of a set, summed the same way the generator sums them.
    static func span(steps n: Int, cadence: Double, ramp: TempoRamp?) -> Double {
        let rampSteps = ramp?.steps ?? 0
        let from = ramp?.from ?? cadence
        var sum = 0.0, c = 0.0
        var k = 0
        while k < n && k < rampSteps {
            let y = 60 / (from + (cadence - from) * Double(k) / Double(rampSteps)) - c
            let s = sum + y
            c = (s - sum) - y
            sum = s
            k += 1
        }
        return sum + Double(n - k) * 60 / cadence
    }

    /// Interval of ramp step `k` in seconds (`k` from `rampBaseStep` to `rampSteps − 1`).
    @inline(__always)
    private func rampInterval(_ k: Int) -> Double {
        60 / rampCadence(k)
    }

    /// The ramp's tempo at step `k`. Before any live change the base is the plan's own ramp
    /// start at step 0, and this is the plan's formula, bit for bit.
    @inline(__always)
    private func rampCadence(_ k: Int) -> Double {
        rampBaseCadence + (cadence - rampBaseCadence) * Double(k - rampBaseStep) / Double(rampSteps - rampBaseStep)
    }

    /// Time of step `k` of the current set, for `k` at or after the ramp (or the anchor).
    @inline(__always)
    private func anchoredTime(_ k: Int) -> Double {
        anchorTime + Double(k - anchorStep) * 60 / anchorCadence
    }

    @_noAllocation @_noLocks
    private mutating func beginSet(countInStart start: Double) {
        countInStart = start
        let countInInterval = 60 / rampFrom
        setStart = start + Double(countInClicks) * countInInterval
        rampSum = 0
        rampCompensation = 0
        rampBaseCadence = rampFrom
        rampBaseStep = 0
        previousStepStart = .nan
        rampActive = rampSteps > 0
        if rampActive {
            anchorStep = rampSteps
            anchorCadence = cadence
            anchorTime = .nan   // known once the ramp has been summed
        } else {
            anchorStep = 0
            anchorCadence = cadence
            anchorTime = setStart
        }
        subIndex = 0
        if countInClicks > 0 {
            phase = .countIn
            stepIndex = 0
            stepStart = start
            stepInterval = countInInterval
        } else {
            phase = .steps
            startStep(0)
        }
    }

    /// Places step `k` of the current set: sets `stepStart` and `stepInterval`.
    @_noAllocation @_noLocks
    private mutating func startStep(_ k: Int) {
        stepIndex = k
        subIndex = 0
        previousStepStart = k == 0 ? .nan : stepStart
        if rampActive && k < rampSteps {
            stepStart = setStart + rampSum
            stepInterval = rampInterval(k)
            let y = stepInterval - rampCompensation
            let s = rampSum + y
            rampCompensation = (s - rampSum) - y
            rampSum = s
            if k + 1 == rampSteps {
                anchorTime = setStart + rampSum
                anchorStep = rampSteps
            }
        } else {
            stepStart = anchoredTime(k)
            stepInterval = anchoredTime(k + 1) - stepStart
        }
    }

    @_noAllocation @_noLocks
    private func isLastStepDone(_ next: Int) -> Bool {
        if next >= stepsPerSet { return true }
        if setDuration.isFinite {
            let t = rampActive && next < rampSteps ? setStart + rampSum : anchoredTime(next)
            return t >= setStart + setDuration
        }
        return false
    }

    /// The event at the generator's position, or nil when the plan is over.
    @inline(__always)
    @_noAllocation @_noLocks
    public func peek() -> ClickEvent? {
        switch phase {
        case .finished:
            return nil
        case .countIn:
            let t = stepStart
            return ClickEvent(frame: frame(of: t), time: t, level: .countIn,
                              set: setIndex, step: stepIndex - countInClicks)
        case .steps:
            let t = subIndex == 0 ? stepStart : stepStart + stepInterval * Double(subIndex) / Double(subdivide)
            let level: ClickLevel
            if subIndex > 0 {
                level = .subdivision
            } else if accentEvery > 0 && stepIndex % accentEvery == 0 {
                level = .accent
            } else {
                level = .step
            }
            return ClickEvent(frame: frame(of: t), time: t, level: level, set: setIndex, step: stepIndex)
        }
    }

    @inline(__always)
    private func frame(of t: Double) -> Int64 {
        roundedToInt64(t * rate)
    }

    // What the cue scheduler needs to place cues by time in timed sets.

    /// Steps in every set, or nil for a set bounded by time.
    var stepsInSet: Int? {
        @_noAllocation @_noLocks get { stepsPerSet == .max ? nil : stepsPerSet }
    }
    /// Time of the current set's first step.
    var currentSetStart: Double {
        @_noAllocation @_noLocks get { setStart }
    }
    /// Seconds a timed set lasts; infinity for a set of steps.
    var timedSetDuration: Double {
        @_noAllocation @_noLocks get { setDuration }
    }
    /// Time and interval of the current step (for a count-in, of the current count-in click).
    public var currentStepStart: Double {
        @_noAllocation @_noLocks get { stepStart }
    }
    public var currentStepInterval: Double {
        @_noAllocation @_noLocks get { stepInterval }
    }
    /// Count-in clicks before every set.
    public var countInLength: Int {
        @_noAllocation @_noLocks get { countInClicks }
    }

    /// Where the last set ended; the rest runs from here to the next count-in.
    public private(set) var lastSetEnd: Double = -.infinity

    /// Frame at which the current set's count-in (or first step, without count-in) starts.
    public var setBeginFrame: Int64 {
        @_noAllocation @_noLocks get { frame(of: countInStart) }
    }

    /// Frame at which the previous set ended, or nil before the second set.
    public var previousSetEndFrame: Int64? {
        @_noAllocation @_noLocks get { lastSetEnd.isFinite ? frame(of: lastSetEnd) : nil }
    }

    /// Moves past the event `peek()` returned.
    @_noAllocation @_noLocks
    public mutating func advance() {
        switch phase {
        case .finished:
            return
        case .countIn:
            if stepIndex + 1 < countInClicks {
                stepIndex += 1
                stepStart = countInStart + Double(stepIndex) * stepInterval
            } else {
                phase = .steps
                startStep(0)
            }
        case .steps:
            if subIndex + 1 < subdivide {
                subIndex += 1
                return
            }
            let next = stepIndex + 1
            guard isLastStepDone(next) else {
                startStep(next)
                return
            }
            let end = setDuration.isFinite ? setStart + setDuration
                : (rampActive && next <= rampSteps ? setStart + rampSum : anchoredTime(next))
            finishSet(at: end)
        }
    }

    /// The plan's end once the timeline has finished: the end of its last set, in seconds.
    public private(set) var finishedAt: Double = .nan

    /// Ends the current set at `time`: the rest (and the next set) follows, or the plan ends.
    @_noAllocation @_noLocks
    private mutating func finishSet(at time: Double) {
        if setIndex + 1 >= sets {
            phase = .finished
            finishedAt = time
        } else {
            lastSetEnd = time
            setIndex += 1
            beginSet(countInStart: time + rest)
        }
    }

    /// Ends the current set early, at `time` (the runner pressed "next set"): the rest before
    /// the next set starts now, or the plan ends now after the last set. Does nothing during a
    /// rest or before the set's count-in.
    @_noAllocation @_noLocks
    public mutating func endSet(at time: Double) {
        guard phase != .finished, time >= countInStart else { return }
        finishSet(at: time)
    }

    /// Changes the cadence from the first step not yet rendered: that step moves to the last
    /// rendered step's start plus the new interval, and the grid is exact from there. A step
    /// that would then fall before `now` sounds at `now` instead (it cannot sound in the past).
    ///
    /// During a ramp, the change moves the ramp's end: the ramp carries on from the tempo it
    /// is at toward the new cadence over its remaining steps, with no jump. In a count-in or
    /// a rest, the next set starts on the new cadence (or ramps to it). Later sets use it too.
    ///
    /// - Parameters:
    ///   - newCadence: steps per minute, held to 30…300.
    ///   - now: the time of the first frame not yet rendered, in seconds from the start of the
    ///     track: every event before it has been consumed, none at or after it.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public mutating func changeCadence(to newCadence: Double, at now: Double) {
        // PlanLimits.cadence, as literals: a static's lazy initialisation may take a lock.
        let target = Swift.min(Swift.max(newCadence, 30), 300)
        switch phase {
        case .finished:
            cadence = target
            return
        case .countIn:
            // The count-in keeps its pace; the set's first step stays at `setStart`.
            cadence = target
            anchorCadence = target
            return
        case .steps:
            break
        }
        // The first step whose click has not been rendered: the current one, or, once its
        // click has been (only subdivisions are left), the one after it.
        let first = subIndex == 0 ? stepIndex : stepIndex + 1
        if rampActive && first < rampSteps {
            // Steps up to `first` are placed already at the ramp's tempo there; from it on the
            // ramp heads for the new end.
            rampBaseCadence = rampCadence(first)
            rampBaseStep = first
            cadence = target
            anchorCadence = target
            return
        }
        cadence = target
        anchorCadence = target
        anchorStep = first
        if first == 0 {
            // Nothing of this set is rendered: it starts where it was going to, on the new grid.
            anchorTime = setStart
        } else if subIndex == 0 {
            anchorTime = Swift.max(previousStepStart + 60 / target, now)
        } else {
            // The rest of this step's subdivisions spread over its new length: the next one
            // (`subIndex` of `subdivide`) no sooner than `now` either.
            let earliest = stepStart + (now - stepStart) * Double(subdivide) / Double(subIndex)
            anchorTime = Swift.max(stepStart + 60 / target, earliest)
            stepInterval = anchorTime - stepStart
            return
        }
        stepStart = anchoredTime(stepIndex)
        stepInterval = anchoredTime(stepIndex + 1) - stepStart
    }

    /// Moves the current step, whose click is not rendered yet, by `shift` seconds (never before
    /// `now`), and the steps after it with it; with a cadence, plays on at that cadence from
    /// there (a ramp in this set ends: another device's tempo wins). For following another
    /// device's grid (Ableton Link). Does nothing outside a set's steps, or when the current
    /// step's click has been rendered (only its subdivisions are left): ask again at the next.
    ///
    /// - Returns: whether it moved the step.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public mutating func realign(by shift: Double, cadence newCadence: Double?, at now: Double) -> Bool {
        guard phase == .steps, subIndex == 0 else { return false }
        let k = stepIndex
        let time = Swift.max(stepStart + shift, now)
        if let newCadence {
            let target = Swift.min(Swift.max(newCadence, 30), 300)
            cadence = target
            anchorCadence = target
            rampActive = false
        } else if rampActive && k < rampSteps {
            // The ramp goes on as it was, later or sooner by the shift.
            let delta = time - stepStart
            stepStart = time
            rampSum += delta
            if k + 1 == rampSteps { anchorTime += delta }
            return true
        }
        anchorTime = time
        anchorStep = k
        stepStart = anchoredTime(k)
        stepInterval = anchoredTime(k + 1) - stepStart
        return true
    }

    /// Ends a rest early: the next set's count-in starts at `time` instead of after the full rest.
    /// Does nothing outside a rest (that is, when the next event is not the first of a set).
    @_noAllocation @_noLocks
    public mutating func skipRest(at time: Double) {
        guard lastSetEnd.isFinite, time < countInStart, time >= lastSetEnd,
              phase == .countIn ? stepIndex == 0 : (stepIndex == 0 && subIndex == 0) else { return }
        beginSet(countInStart: time)
    }
}
