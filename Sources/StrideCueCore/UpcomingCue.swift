/// The cue a runner hears next, for the live status line: `next "pull through" at step 10`.
public struct UpcomingCue: Sendable, Equatable {
    /// Index into the plan's `cues`.
    public var cue: Int
    /// The step it falls on, counted from 1 as a runner counts, or nil for the halfway or end
    /// cue of a timed set, whose step depends on the cadence the runner keeps.
    public var step: Int?
    /// Whether it falls in the next set rather than the current one.
    public var inNextSet: Bool
}

extension SessionPlan {
    /// The first cue on a step after the `stepsHeard` steps of the current set heard so far
    /// (0 before its first step: counting in, or resting before it); when none is left in
    /// this set and another set follows, the first cue of that one.
    ///
    /// Cues fall on steps, which a change of cadence does not move, so this holds however
    /// the runner changes the tempo. Only the halfway and end cues of a timed set fall by
    /// time: they are put in order by the steps the set holds at `cadence`, and given no step.
    ///
    /// - Parameters:
    ///   - set: the current set, from 0 (while resting, the set to come).
    ///   - cadence: the cadence being played, steps per minute.
    public func upcomingCue(set: Int, stepsHeard: Int, cadence: Double) -> UpcomingCue? {
        guard !cues.isEmpty, set < sets else { return nil }
        if let next = firstCue(from: stepsHeard, cadence: cadence) {
            return UpcomingCue(cue: next.cue, step: next.step, inNextSet: false)
        }
        guard set + 1 < sets, let next = firstCue(from: 0, cadence: cadence) else { return nil }
        return UpcomingCue(cue: next.cue, step: next.step, inNextSet: true)
    }

    /// The earliest cue falling on step index `first` (from 0) or later within one set; ties
    /// go to the cue listed first.
    private func firstCue(from first: Int, cadence: Double) -> (cue: Int, step: Int?)? {
        let known: Int?
        switch setLength {
        case .steps(let n): known = n
        case .distance(let meters, let stepLength): known = Timeline.stepsToCover(meters, stepLength)
        case .duration: known = nil
        }
        // Steps in the set: exact, or as many as fit its time at this cadence (ordering only).
        let length: Int
        if let known {
            length = known
        } else if case .duration(let seconds) = setLength {
            length = Swift.max(1, Int((seconds * Swift.max(cadence, PlanLimits.cadence.lowerBound) / 60).rounded(.up)))
        } else {
            length = Int.max
        }
        var best: (cue: Int, index: Int, exact: Bool)? = nil
        for (i, cue) in cues.enumerated() {
            guard let index = cue.firstStep(from: first, ofSetOf: length), index < length else { continue }
            if best == nil || index < best!.index {
                let exact = known != nil || !(cue.timing == .halfway || cue.timing == .setEnd)
                best = (i, index, exact)
            }
        }
        return best.map { ($0.cue, $0.exact ? $0.index + 1 : nil) }
    }
}

extension CueSpec {
    /// The first step index (from 0) at or after `first` on which this cue falls in a set of
    /// `n` steps, or nil when it falls on none: `falls(onStep:ofSetOf:)` solved directly, so
    /// that a set of a million steps costs nothing.
    func firstStep(from first: Int, ofSetOf n: Int) -> Int? {
        let candidate: Int
        switch timing {
        case .every(let every):
            // Step numbers offset, offset + every, …; the first of them at or after first + 1.
            let from = Swift.max(first + 1, offset)
            let rounds = (from - offset + every - 1) / every
            candidate = offset + rounds * every - 1
        case .step(let step):
            candidate = step - 1
        case .setStart:
            candidate = 0
        case .halfway:
            candidate = n / 2
        case .setEnd:
            candidate = Swift.max(0, n - steps)
        }
        return candidate >= first ? candidate : nil
    }
}
