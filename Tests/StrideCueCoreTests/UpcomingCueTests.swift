import Testing
@testable import StrideCueCore

/// The status line's "next cue": which cue comes after the steps heard, and on which step.
@Suite("The next cue")
struct UpcomingCueTests {
    /// Bum kicks: 40 steps a set (20 m at 0.5 m), "pull through" on steps 2, 10, 18, …
    /// and "pop forwards" on 5, 13, 21, …
    func bumKicks() -> SessionPlan {
        var plan = SessionPlan(cadence: 190, countIn: 4, sets: 2, setLength: .distance(meters: 20, stepLength: 0.5), rest: 60)
        plan.cues = [CueSpec(.say("pull through"), timing: .every(8), offset: 2),
                     CueSpec(.say("pop forwards"), timing: .every(8), offset: 5)]
        return plan
    }

    @Test(arguments: [
        (0, 0, 2), (1, 0, 2), (2, 1, 5), (4, 1, 5), (5, 0, 10), (9, 0, 10), (10, 1, 13), (33, 0, 34), (34, 1, 37),
    ])
    func theNextCueOfTheSet(heard: Int, cue: Int, step: Int) {
        #expect(bumKicks().upcomingCue(set: 0, stepsHeard: heard, cadence: 190)
                == UpcomingCue(cue: cue, step: step, inNextSet: false))
    }

    @Test func pastTheSetsLastCueComesTheNextSetsFirst() {
        let plan = bumKicks()
        #expect(plan.upcomingCue(set: 0, stepsHeard: 37, cadence: 190) == UpcomingCue(cue: 0, step: 2, inNextSet: true))
        #expect(plan.upcomingCue(set: 1, stepsHeard: 37, cadence: 190) == nil, "the last set has no next")
        #expect(plan.upcomingCue(set: 2, stepsHeard: 0, cadence: 190) == nil, "past the plan's end")
    }

    @Test func aPlanWithoutCuesHasNone() {
        #expect(SessionPlan(setLength: .steps(40)).upcomingCue(set: 0, stepsHeard: 0, cadence: 180) == nil)
    }

    @Test func stepStartHalfwayAndEndInASetOfSteps() {
        var plan = SessionPlan(cadence: 180, sets: 1, setLength: .steps(40))
        plan.cues = [CueSpec(.say("go"), timing: .setStart),
                     CueSpec(.say("tall"), timing: .step(12)),
                     CueSpec(.say("halfway"), timing: .halfway),
                     CueSpec(.say("last push"), timing: .setEnd, steps: 3)]
        let order = [0, 1, 12, 21, 38].map { plan.upcomingCue(set: 0, stepsHeard: $0, cadence: 180) }
        #expect(order == [UpcomingCue(cue: 0, step: 1, inNextSet: false),
                          UpcomingCue(cue: 1, step: 12, inNextSet: false),
                          UpcomingCue(cue: 2, step: 21, inNextSet: false),   // step ⌊40/2⌋ + 1
                          UpcomingCue(cue: 3, step: 38, inNextSet: false),   // the last 3 steps
                          nil])
    }

    @Test func aTimedSetsHalfwayHasNoStepButKeepsItsPlace() {
        // 60 s at 180 spm: about 180 steps, halfway near step 91, before the cue on step 100.
        var plan = SessionPlan(cadence: 180, sets: 1, setLength: .duration(seconds: 60))
        plan.cues = [CueSpec(.say("relax"), timing: .step(100)), CueSpec(.say("halfway"), timing: .halfway)]
        #expect(plan.upcomingCue(set: 0, stepsHeard: 10, cadence: 180) == UpcomingCue(cue: 1, step: nil, inNextSet: false))
        // At 120 spm the set holds 120 steps: halfway comes at step 61, still first.
        #expect(plan.upcomingCue(set: 0, stepsHeard: 10, cadence: 120) == UpcomingCue(cue: 1, step: nil, inNextSet: false))
        #expect(plan.upcomingCue(set: 0, stepsHeard: 95, cadence: 180) == UpcomingCue(cue: 0, step: 100, inNextSet: false))
    }

    /// `firstStep(from:ofSetOf:)` solves `falls(onStep:ofSetOf:)` directly; both must agree.
    @Test func theDirectAnswerAgreesWithTryingEveryStep() {
        let timings: [CueTiming] = [.every(1), .every(3), .every(8), .step(1), .step(7), .setStart, .halfway, .setEnd]
        for timing in timings {
            for offset in [1, 2, 5] {
                for steps in [1, 2, 4] {
                    let spec = CueSpec(.say("x"), timing: timing, offset: offset, steps: steps)
                    for n in [1, 2, 7, 16, 41] {
                        for first in 0...n {
                            let tried = (first..<n).first { spec.falls(onStep: $0, ofSetOf: n) }
                            let direct = spec.firstStep(from: first, ofSetOf: n).flatMap { $0 < n ? $0 : nil }
                            #expect(direct == tried, "\(timing) offset \(offset) steps \(steps), set of \(n), from \(first)")
                        }
                    }
                }
            }
        }
    }
}
