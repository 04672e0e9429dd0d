import Testing
@testable import StrideCueCore

/// All click events of a plan, in order.
func events(_ plan: SessionPlan, rate: Int = 48_000, limit: Int = 10_000_000) -> [ClickEvent] {
    var timeline = Timeline(plan: plan, sampleRate: rate)
    var out: [ClickEvent] = []
    while let e = timeline.peek(), out.count < limit {
        out.append(e)
        timeline.advance()
    }
    return out
}

@Suite("Timeline: exact frames")
struct TimelineTests {
    @Test func constantTempoLandsOnExactFrames() {
        // 180 spm at 48 kHz: a step every 16 000 frames exactly.
        let plan = SessionPlan(cadence: 180, setLength: .steps(10))
        let e = events(plan)
        #expect(e.map(\.frame) == (0..<10).map { Int64($0) * 16_000 })
        #expect(e.allSatisfy { $0.level == .step })
        #expect(Timeline.planDuration(of: plan) == 10.0 / 3.0)
    }

    @Test(arguments: [44_100, 48_000])
    func oneHourAt172_5StaysWithinHalfAFrame(rate: Int) {
        // 172.5 spm: a step every 8/23 s, so step k is exactly at k·8·rate/23 frames.
        let plan = SessionPlan(cadence: 172.5, setLength: .duration(seconds: 3_600))
        let e = events(plan, rate: rate)
        #expect(e.count == 10_350)
        var worst = 0.0
        for (k, event) in e.enumerated() {
            // |23·frame − 8·rate·k| ≤ 11.5 is "within half a frame", in integers.
            let error = abs(23 * event.frame - Int64(8 * rate * k))
            worst = max(worst, Double(error) / 23)
            #expect(error * 2 <= 23, "step \(k) at frame \(event.frame)")
        }
        #expect(worst <= 0.5)
    }

    @Test func rampFollowsTheFormula() {
        let plan = SessionPlan(cadence: 190, ramp: TempoRamp(from: 150, steps: 16), setLength: .steps(24))
        let e = events(plan)
        var t = 0.0
        for k in 0..<24 {
            let frame = Int64((t * 48_000).rounded())
            #expect(e[k].frame == frame, "step \(k)")
            let spm = k < 16 ? 150 + (190 - 150) * Double(k) / 16 : 190
            t += 60 / spm
        }
        #expect(abs(Timeline.planDuration(of: plan) - t) < 1e-9)
    }

    @Test func rampsMayGoDown() {
        let plan = SessionPlan(cadence: 150, ramp: TempoRamp(from: 180, steps: 4), setLength: .steps(6))
        let gaps = zip(events(plan).dropFirst(), events(plan)).map { $0.frame - $1.frame }
        // 60/180, 60/172.5, 60/165, 60/157.5 then 60/150 s, at 48 kHz.
        #expect(gaps == [16_000, 16_696, 17_454, 18_286, 19_200])
    }

    @Test func countInPrecedesEachSetAtItsStartingTempo() {
        let plan = SessionPlan(cadence: 180, ramp: TempoRamp(from: 120, steps: 4), countIn: 4,
                               sets: 2, setLength: .steps(8), rest: 10)
        let e = events(plan)
        #expect(e.count == 2 * (4 + 8))
        // Count-in at 120 spm: every 24 000 frames; first step right after the fourth.
        #expect(e[0..<4].map(\.frame) == [0, 24_000, 48_000, 72_000])
        #expect(e[0..<4].allSatisfy { $0.level == .countIn })
        #expect(e[0..<4].map(\.step) == [-4, -3, -2, -1])
        #expect(e[4].frame == 96_000 && e[4].step == 0 && e[4].set == 0)
        // The second set's count-in starts when the first set ends plus the 10 s rest.
        let setSpan = Timeline.span(steps: 8, cadence: 180, ramp: TempoRamp(from: 120, steps: 4))
        let secondCountIn = (2.0 + setSpan + 10) * 48_000
        #expect(e[12].frame == Int64(secondCountIn.rounded()))
        #expect(e[12].set == 1 && e[12].level == .countIn)
        #expect(abs(Timeline.planDuration(of: plan) - (2 * (2 + setSpan) + 10)) < 1e-9)
    }

    @Test func restIsSilent() {
        let plan = SessionPlan(cadence: 120, sets: 3, setLength: .steps(2), rest: 60)
        let frames = events(plan).map(\.frame)
        // Steps at 0, 0.5 s; set ends at 1 s; rest 60 s; next set at 61 s, then 122 s.
        #expect(frames == [0, 24_000, 2_928_000, 2_952_000, 5_856_000, 5_880_000])
        #expect(Timeline.planDuration(of: plan) == 123)
    }

    @Test func accentsAndSubdivisions() {
        let plan = SessionPlan(cadence: 150, setLength: .steps(4), accentEvery: 2, subdivide: 3)
        let e = events(plan)
        #expect(e.map(\.level) == [.accent, .subdivision, .subdivision, .step, .subdivision, .subdivision,
                                   .accent, .subdivision, .subdivision, .step, .subdivision, .subdivision])
        // 150 spm = 0.4 s a step = 19 200 frames; thirds of it 6 400.
        #expect(e.map(\.frame) == (0..<12).map { Int64($0) * 6_400 })
    }

    @Test func distanceSetsTakeEnoughSteps() {
        let plan = SessionPlan(cadence: 190, setLength: .distance(meters: 20, stepLength: 0.5))
        #expect(events(plan).count == 40)
        let uneven = SessionPlan(cadence: 190, setLength: .distance(meters: 20, stepLength: 0.45))
        #expect(events(uneven).count == 45)   // 44.4 steps: the runner needs the 45th to finish
    }

    @Test func durationSetsStopBeforeTheirEnd() {
        // 15 s at 180 spm: steps at 0, 1/3, …, 14 2/3 s: 45 steps; the set ends at exactly 15 s.
        let plan = SessionPlan(cadence: 180, sets: 2, setLength: .duration(seconds: 15), rest: 5)
        let e = events(plan)
        #expect(e.count == 90)
        #expect(e[45].frame == 20 * 48_000)
    }

    @Test func liveCadenceChangeTakesEffectAtTheNextStepWithoutDrift() {
        var timeline = Timeline(plan: SessionPlan(cadence: 180, setLength: .steps(1_000)), sampleRate: 48_000)
        var frames: [Int64] = []
        for i in 0..<20 {
            if i == 10 { timeline.changeCadence(to: 172.5) }
            frames.append(timeline.peek()!.frame)
            timeline.advance()
        }
        // Step 10 was already placed when the change came; from step 11 the grid is 8/23 s.
        #expect(Array(frames[0...10]) == (0...10).map { Int64($0) * 16_000 })
        for k in 11..<20 {
            let exact = 176_000 * 23 + (k - 11) * 8 * 48_000  // ×23
            #expect(abs(23 * frames[k] - Int64(exact)) * 2 <= 23)
        }
    }

    @Test func skipRestStartsTheNextSetNow() {
        var timeline = Timeline(plan: SessionPlan(cadence: 120, sets: 2, setLength: .steps(2), rest: 60), sampleRate: 1_000)
        timeline.advance(); timeline.advance()
        #expect(timeline.peek()?.frame == 61_000)
        timeline.skipRest(at: 5)
        #expect(timeline.peek()?.frame == 5_000)
        #expect(timeline.peek()?.set == 1)
    }
}
