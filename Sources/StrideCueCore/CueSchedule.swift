/// One sound of a cue, at the output rate, ready to mix.
public struct CueSound: Sendable, Equatable {
    /// Mono samples at `CueVoices.sampleRate`. The renderer scales them to the cue's level
    /// (`CueBalance.voicePeak` at 0 dB), so any peak is fine; silence stays silent.
    public var samples: [Float]
    /// The frame of `samples` that lands on the step: 0 for `align: start`, the onset of the
    /// stressed syllable for `align: stress`.
    public var anchor: Int
    /// Steps after the cue's own step on which this sound plays: 0, or `steps` for the words
    /// that follow the tone of `style: both`.
    public var stepDelta: Int

    public init(samples: [Float], anchor: Int = 0, stepDelta: Int = 0) {
        self.samples = samples
        self.anchor = anchor
        self.stepDelta = stepDelta
    }
}

/// Every sound a plan's cues need, made before rendering starts (synthesis, file reading and
/// resampling all allocate and take time, so none of it happens on the audio thread).
public struct CueVoices: Sendable, Equatable {
    /// Frames per second of every sound: the renderer's output rate.
    public var sampleRate: Int
    /// For `plan.cues[i]`, the sounds it plays: one, or two (tone, then words) for `style: both`.
    public var cues: [[CueSound]]
    /// One word per count-in click when the count-in is spoken, else empty.
    public var countIn: [CueSound]
    /// The spoken caution, at the very start of the track.
    public var caution: CueSound?

    public init(sampleRate: Int, cues: [[CueSound]] = [], countIn: [CueSound] = [], caution: CueSound? = nil) {
        self.sampleRate = sampleRate
        self.cues = cues
        self.countIn = countIn
        self.caution = caution
    }

    /// True when there is nothing to play.
    public var isEmpty: Bool { cues.allSatisfy(\.isEmpty) && countIn.isEmpty && caution == nil }
}

/// Where one cue sound plays in a rendered track.
public struct CuePlacement: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `plan.cues[index]`.
        case cue(Int)
        /// The count-in word on count-in click `index` (from 0).
        case countIn(Int)
        case caution
    }

    public var kind: Kind
    /// Index into the cue's sounds (1 for the words of `style: both`).
    public var part: Int
    /// First frame of the sound in the track (never before 0).
    public var frame: Int64
    /// Frames the sound lasts.
    public var length: Int
    /// Frame of the step its anchor lands on.
    public var stepFrame: Int64
    /// Set, from 0.
    public var set: Int
    /// Step of the cue within its set, from 0; −N…−1 for count-in words; 0 for the caution.
    public var step: Int
}

/// Every cue sound of a plan in the order it starts, placed exactly as `Renderer` plays them.
///
/// For cue sheets and checks; the renderer computes the same placements incrementally.
public func cuePlacements(plan: SessionPlan, cues: CueVoices) -> [CuePlacement] {
    var scheduler = CueScheduler(plan: plan, cues: cues)
    defer { scheduler.release() }
    var placements: [CuePlacement] = []
    while true {
        if let first = scheduler.earliest,
           scheduler.nextEventFrame.map({ first.frame < $0 - scheduler.horizon }) ?? true {
            scheduler.popEarliest()
            placements.append(scheduler.placement(of: first, startingAt: max(0, first.frame)))
            continue
        }
        guard scheduler.nextEventFrame != nil else { break }
        scheduler.processNextEvent()
    }
    return placements
}

/// A cue sound waiting to start.
struct PendingCue {
    /// Frame the sound starts at: its step's frame minus its anchor (may be negative at the
    /// very start of a track).
    var frame: Int64
    var stepFrame: Int64
    /// Index into the scheduler's parts.
    var part: Int
    /// Rule index, or `CueScheduler.countInOrigin` / `cautionOrigin`.
    var origin: Int
    var set: Int
    var step: Int
    /// Insertion order: ties on `frame` start in the order they were scheduled.
    var sequence: Int
}

/// A cue rule reduced to numbers.
struct CueRule {
    /// 0 every, 1 step, 2 set start, 3 halfway, 4 set end.
    var kind: Int
    var n: Int
    var offset: Int
    var steps: Int
    var firstPart: Int
    var partCount: Int
}

/// One cue sound's place data.
struct CuePart {
    var anchor: Int
    var stepDelta: Int
    var length: Int
    var origin: Int
    var index: Int
}

/// Decides on which step each cue falls and at which frame its sounds start.
///
/// A copy of the click timeline runs ahead of the renderer by `horizon` frames (the longest
/// lead a cue has before its step, plus the clicks' duck attack), so a cue aligned on its
/// stressed syllable can start before its step and the clicks can duck before it. Starts wait
/// in a small sorted queue. Everything is allocated in `init`; the rest allocates nothing and
/// takes no lock, so the renderer calls it on the audio thread.
struct CueScheduler {
    static let countInOrigin = -1
    static let cautionOrigin = -2

    private(set) var lookahead: Timeline
    private var next: ClickEvent?
    let rules: UnsafeMutablePointer<CueRule>
    let ruleCount: Int
    let parts: UnsafeMutablePointer<CuePart>
    let partCount: Int
    let countInFirstPart: Int
    let countInParts: Int
    /// Frames between the lookahead's last processed step and the renderer.
    let horizon: Int64
    /// Sorted by (frame, sequence) descending: the earliest start is last.
    let pending: UnsafeMutablePointer<PendingCue>
    let pendingCapacity: Int
    private(set) var pendingCount = 0
    private var sequence = 0
    /// Recently started cues, so that a resync does not start them twice.
    let started: UnsafeMutablePointer<PendingCue>
    private var startedNext = 0
    private var startedCount = 0
    /// Set and step of the last `halfway` decided by time, or set −1.
    private var halfwaySet = -1
    private var halfwayStep = 0

    /// - Parameters:
    ///   - plan: the plan, with as many cues as `cues.cues` has entries.
    ///   - cues: the sounds; `cues.sampleRate` is the timeline's rate.
    init(plan: SessionPlan, cues: CueVoices) {
        precondition(cues.cues.isEmpty || cues.cues.count == plan.cues.count,
                     "CueVoices must have one entry per plan cue")
        lookahead = Timeline(plan: plan, sampleRate: cues.sampleRate)
        next = lookahead.peek()

        var partList: [CuePart] = []
        var ruleList: [CueRule] = []
        for (index, sounds) in cues.cues.enumerated() {
            let spec = plan.cues[index]
            let (kind, n): (Int, Int)
            switch spec.timing {
            case .every(let every): (kind, n) = (0, every)
            case .step(let step): (kind, n) = (1, step)
            case .setStart: (kind, n) = (2, 0)
            case .halfway: (kind, n) = (3, 0)
            case .setEnd: (kind, n) = (4, 0)
            }
            ruleList.append(CueRule(kind: kind, n: n, offset: spec.offset, steps: spec.steps,
                                    firstPart: partList.count, partCount: sounds.count))
            for (p, sound) in sounds.enumerated() {
                partList.append(CuePart(anchor: sound.anchor, stepDelta: sound.stepDelta,
                                        length: sound.samples.count, origin: index, index: p))
            }
        }
        countInFirstPart = partList.count
        let countIn = plan.countInSpoken ? cues.countIn : []
        for (i, sound) in countIn.enumerated() {
            partList.append(CuePart(anchor: sound.anchor, stepDelta: 0, length: sound.samples.count,
                                    origin: Self.countInOrigin, index: i))
        }
        countInParts = countIn.count
        if let caution = cues.caution {
            partList.append(CuePart(anchor: 0, stepDelta: 0, length: caution.samples.count,
                                    origin: Self.cautionOrigin, index: 0))
        }

        ruleCount = ruleList.count
        rules = .allocate(capacity: max(1, ruleList.count))
        rules.initialize(from: ruleList, count: ruleList.count)
        partCount = partList.count
        parts = .allocate(capacity: max(1, partList.count))
        parts.initialize(from: partList, count: partList.count)

        let rate = Double(cues.sampleRate)
        let maxAnchor = partList.map(\.anchor).max() ?? 0
        horizon = Int64(maxAnchor) + Int64((CueBalance.duckAttackSeconds * rate).rounded(.up)) + 1
        // Starts waiting at once: those of the steps inside the horizon and of the words of
        // `both` cues, at most 64 steps further on, counted at the fastest cadence (300 spm).
        let fastestStep = 0.2 * rate
        let maxDelta = partList.map(\.stepDelta).max() ?? 0
        let stepsAhead = Int(Double(horizon) / fastestStep) + maxDelta + 4
        pendingCapacity = max(16, stepsAhead * (partList.count + 1) + 2)
        pending = .allocate(capacity: pendingCapacity)
        started = .allocate(capacity: pendingCapacity)

        if cues.caution != nil {
            insert(PendingCue(frame: 0, stepFrame: 0, part: partCount - 1, origin: Self.cautionOrigin,
                              set: -1, step: 0, sequence: 0))
        }
    }

    func release() {
        rules.deallocate()
        parts.deallocate()
        pending.deallocate()
        started.deallocate()
    }

    /// Frame of the next click event the lookahead has not looked at, or nil at the plan's end.
    var nextEventFrame: Int64? {
        @_noAllocation @_noLocks get { next?.frame }
    }

    /// The cue sound that starts first among those scheduled.
    var earliest: PendingCue? {
        @_noAllocation @_noLocks get { pendingCount > 0 ? pending[pendingCount - 1] : nil }
    }

    /// Looks at every click event up to `frame + horizon`.
    ///
    /// Afterwards every cue sound starting, and every duck starting, at or before `frame` is
    /// scheduled, and `nextEventFrame - horizon > frame`.
    @_noAllocation @_noLocks
    mutating func fill(through frame: Int64) {
        while let e = next, e.frame <= frame + horizon {
            processNextEvent()
        }
    }

    /// The end of a scheduled cue sound that would overlap `start..<start + length`, or nil.
    @_noAllocation @_noLocks
    func overlap(start: Int64, length: Int64) -> Int64? {
        var end: Int64? = nil
        for i in 0..<pendingCount {
            let cue = pending[i]
            let cueEnd = cue.frame + Int64(parts[cue.part].length)
            if cue.frame < start + length && cueEnd > start { end = max(end ?? cueEnd, cueEnd) }
        }
        return end
    }

    @_noAllocation @_noLocks
    mutating func popEarliest() {
        if pendingCount > 0 { pendingCount -= 1 }
    }

    /// Remembers a cue that has started, so that `resync` does not schedule it again.
    @_noAllocation @_noLocks
    mutating func noteStarted(_ cue: PendingCue) {
        started[startedNext] = cue
        startedNext = (startedNext + 1) % pendingCapacity
        startedCount = min(startedCount + 1, pendingCapacity)
    }

    /// Frames the sound of `part` lasts.
    @_noAllocation @_noLocks
    func length(of part: Int) -> Int { parts[part].length }

    func placement(of cue: PendingCue, startingAt frame: Int64) -> CuePlacement {
        let part = parts[cue.part]
        let kind: CuePlacement.Kind
        switch part.origin {
        case Self.countInOrigin: kind = .countIn(part.index)
        case Self.cautionOrigin: kind = .caution
        default: kind = .cue(part.origin)
        }
        return CuePlacement(kind: kind, part: part.origin >= 0 ? part.index : 0, frame: frame,
                            length: part.length, stepFrame: cue.stepFrame,
                            set: max(0, cue.set), step: cue.step)
    }

    // MARK: Deciding

    @_noAllocation @_noLocks
    mutating func processNextEvent() {
        guard let e = next else { return }
        if !isSubdivision(e) {
            if e.step < 0 {
                let i = e.step + lookahead.countInLength
                if i >= 0 && i < countInParts {
                    schedule(part: countInFirstPart + i, stepFrame: e.frame, origin: Self.countInOrigin,
                             set: e.set, step: e.step)
                }
            } else {
                let halfway = isHalfway(e)
                for r in 0..<ruleCount where falls(rules[r], e, halfway: halfway) {
                    let rule = rules[r]
                    for p in rule.firstPart..<(rule.firstPart + rule.partCount) {
                        let delta = parts[p].stepDelta
                        let frame = delta == 0 ? e.frame : frameOfStep(e.step + delta)
                        schedule(part: p, stepFrame: frame, origin: r, set: e.set, step: e.step)
                    }
                }
                if halfway {
                    halfwaySet = e.set
                    halfwayStep = e.step
                }
            }
        }
        lookahead.advance()
        next = lookahead.peek()
    }

    /// For a timed set: is step event `e` the first at or after half the set's time?
    @_noAllocation @_noLocks
    private func isHalfway(_ e: ClickEvent) -> Bool {
        guard lookahead.stepsInSet == nil, halfwaySet != e.set else { return false }
        return e.time >= lookahead.currentSetStart + lookahead.timedSetDuration / 2
    }

    @_noAllocation @_noLocks
    private func falls(_ rule: CueRule, _ e: ClickEvent, halfway: Bool) -> Bool {
        let k = e.step
        switch rule.kind {
        case 0: return k + 1 >= rule.offset && (k + 1 - rule.offset) % rule.n == 0
        case 1: return k + 1 == rule.n
        case 2: return k == 0
        case 3:
            if let n = lookahead.stepsInSet { return k == n / 2 }
            return halfway
        default:
            if let n = lookahead.stepsInSet { return k == Swift.max(0, n - rule.steps) }
            // A timed set: the cue falls where exactly `steps` steps are left (or on the
            // first step of a set shorter than the cue). Steps last 2 s at most (30 spm),
            // so only the last few seconds need counting.
            let end = lookahead.currentSetStart + lookahead.timedSetDuration
            if e.time + Double(rule.steps + 1) * 2 < end { return false }
            let left = stepsLeft(upTo: rule.steps + 1)
            return left == rule.steps || (k == 0 && left < rule.steps)
        }
    }

    /// Steps of the current set from the lookahead's step on (itself included), up to `limit`.
    @_noAllocation @_noLocks
    private func stepsLeft(upTo limit: Int) -> Int {
        var probe = lookahead
        let set = probe.setIndex
        var count = 1
        probe.advance()
        while count < limit, let e = probe.peek(), e.set == set, e.step >= 0 {
            if !isSubdivision(e) { count += 1 }
            probe.advance()
        }
        return count
    }

    /// Frame of step `target` of the current set; past the set's end, the grid continued.
    @_noAllocation @_noLocks
    private func frameOfStep(_ target: Int) -> Int64 {
        var probe = lookahead
        let set = probe.setIndex
        var time = probe.currentStepStart
        var interval = probe.currentStepInterval
        var step = probe.stepIndex
        while step < target {
            probe.advance()
            guard let e = probe.peek(), e.set == set, e.step >= 0 else {
                return roundedToInt64((time + Double(target - step) * interval) * Double(probe.sampleRate))
            }
            if isSubdivision(e) { continue }
            step = e.step
            time = probe.currentStepStart
            interval = probe.currentStepInterval
            if step == target { return e.frame }
        }
        return roundedToInt64(time * Double(probe.sampleRate))
    }

    // MARK: The queue

    @_noAllocation @_noLocks
    private mutating func schedule(part: Int, stepFrame: Int64, origin: Int, set: Int, step: Int) {
        let cue = PendingCue(frame: stepFrame - Int64(parts[part].anchor), stepFrame: stepFrame, part: part,
                             origin: origin, set: set, step: step, sequence: sequence)
        sequence += 1
        if wasStarted(cue) { return }
        insert(cue)
    }

    @_noAllocation @_noLocks
    private func wasStarted(_ cue: PendingCue) -> Bool {
        for i in 0..<startedCount {
            let s = started[i]
            if s.part == cue.part && s.set == cue.set && s.step == cue.step { return true }
        }
        return false
    }

    @_noAllocation @_noLocks
    private mutating func insert(_ cue: PendingCue) {
        // A full queue cannot happen with the capacity chosen in init; drop rather than overrun.
        guard pendingCount < pendingCapacity else { return }
        var i = pendingCount
        while i > 0 && before(pending[i - 1], cue) {
            pending[i] = pending[i - 1]
            i -= 1
        }
        pending[i] = cue
        pendingCount += 1
    }

    @inline(__always)
    private func isSubdivision(_ e: ClickEvent) -> Bool {
        switch e.level {
        case .subdivision: return true
        case .accent, .step, .countIn: return false
        }
    }

    /// Whether `a` starts before `b`.
    @inline(__always)
    private func before(_ a: PendingCue, _ b: PendingCue) -> Bool {
        a.frame < b.frame || (a.frame == b.frame && a.sequence < b.sequence)
    }

    // MARK: Live changes

    /// Follows a change to the renderer's timeline (a new cadence, a skipped rest).
    ///
    /// Cues of the steps from the renderer's next step on are placed again on the new grid;
    /// those already sounding play on, and are not started twice.
    @_noAllocation @_noLocks
    mutating func resync(to timeline: Timeline) {
        let first = timeline.peek()
        // The first step the new lookahead will look at: the renderer's next event, or the step
        // after it when that event is a subdivision of a step already looked at.
        let firstSet = first?.set ?? Int.max
        let firstStep = first.map { isSubdivision($0) ? $0.step + 1 : $0.step } ?? 0
        var kept = 0
        for i in 0..<pendingCount {
            let cue = pending[i]
            let after = cue.set > firstSet || (cue.set == firstSet && cue.step >= firstStep)
            if cue.origin == Self.cautionOrigin || !after {
                pending[kept] = cue
                kept += 1
            }
        }
        pendingCount = kept
        if halfwaySet > firstSet || (halfwaySet == firstSet && halfwayStep >= firstStep) { halfwaySet = -1 }
        lookahead = timeline
        next = first
    }
}
