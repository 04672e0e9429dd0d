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

    /// Plays `timeline` like the renderer: consumes every event before `frame` and returns their frames.
    static func consume(_ timeline: inout Timeline, before frame: Int64) -> [Int64] {
        var frames: [Int64] = []
        while let e = timeline.peek(), e.frame < frame {
            frames.append(e.frame)
            timeline.advance()
        }
        return frames
    }

    /// Frames of the next `count` events.
    static func next(_ count: Int, of timeline: inout Timeline) -> [ClickEvent] {
        var out: [ClickEvent] = []
        for _ in 0..<count {
            guard let e = timeline.peek() else { break }
            out.append(e)
            timeline.advance()
        }
        return out
    }

    /// True when `frame` is the rounding of the exact time `t` (within half a frame).
    static func isExact(_ frame: Int64, _ t: Double, rate: Double = 48_000) -> Bool {
        abs(Double(frame) - t * rate) <= 0.5 + 1e-6
    }

    @Test func liveCadenceChangeMovesTheFirstStepNotRenderedWithoutDrift() {
        var timeline = Timeline(plan: SessionPlan(cadence: 180, setLength: .steps(1_000)), sampleRate: 48_000)
        // Steps 0…9 rendered (step 9 at 144 000); the renderer is at frame 150 000.
        #expect(Self.consume(&timeline, before: 150_000) == (0...9).map { Int64($0) * 16_000 })
        timeline.changeCadence(to: 172.5, at: 150_000.0 / 48_000)
        // Step 10 is one new interval (8/23 s) after step 9, not one old one; no drift after.
        let after = Self.next(200, of: &timeline)
        #expect(after.first?.step == 10)
        for (m, e) in after.enumerated() {
            #expect(Self.isExact(e.frame, 3 + Double(m + 1) * 8 / 23), "step \(e.step) at \(e.frame)")
        }
        #expect(after[0].frame == 160_696)   // 144 000 + 16 695.65…
        #expect(timeline.cadence == 172.5)
    }

    @Test func aFasterStepThatWouldBeInThePastSoundsAtOnce() {
        var timeline = Timeline(plan: SessionPlan(cadence: 180, setLength: .steps(100)), sampleRate: 48_000)
        _ = Self.consume(&timeline, before: 156_000)   // step 9 at 144 000; step 10 would be at 160 000
        // 300 spm (9 600 frames) would put step 10 at 153 600, already rendered: it sounds at
        // the first frame not rendered, and the grid goes on from there.
        timeline.changeCadence(to: 300, at: 156_000.0 / 48_000)
        #expect(Self.next(4, of: &timeline).map(\.frame) == [156_000, 165_600, 175_200, 184_800])
    }

    @Test func aChangeRightAfterAStepWasRenderedActsFromTheNextStep() {
        var timeline = Timeline(plan: SessionPlan(cadence: 180, setLength: .steps(100)), sampleRate: 48_000)
        _ = Self.consume(&timeline, before: 48_001)   // step 3's click (48 000) just rendered
        timeline.changeCadence(to: 200, at: 48_001.0 / 48_000)
        // 200 spm: 14 400 frames; step 4 at 62 400 instead of 64 000.
        #expect(Self.next(3, of: &timeline).map(\.frame) == [62_400, 76_800, 91_200])
    }

    @Test func aChangeBetweenAStepAndItsSubdivisionsSpreadsThemOverTheNewStep() {
        var timeline = Timeline(plan: SessionPlan(cadence: 180, setLength: .steps(100), subdivide: 2), sampleRate: 48_000)
        _ = Self.consume(&timeline, before: 50_000)   // step 3 (48 000) rendered, its half (56 000) not
        timeline.changeCadence(to: 120, at: 50_000.0 / 48_000)
        let e = Self.next(4, of: &timeline)
        #expect(e.map(\.frame) == [60_000, 72_000, 84_000, 96_000])
        #expect(e.map(\.level) == [.subdivision, .step, .subdivision, .step])
        #expect(e.map(\.step) == [3, 4, 4, 5])
    }

    /// The case: + at step 5 of a 150→190 ramp over 16 steps. The ramp was at 162.5 spm
    /// there; it carries on from 162.5 to 191, with no jump, and 191 holds after it.
    @Test func aKeyDuringARampMovesItsEnd() {
        let plan = SessionPlan(cadence: 190, ramp: TempoRamp(from: 150, steps: 16), setLength: .steps(40))
        var timeline = Timeline(plan: plan, sampleRate: 48_000)
        let planned = events(plan)
        let start5 = planned[5].frame
        // Steps 0…4 rendered; step 5 is next.
        #expect(Self.consume(&timeline, before: start5) == planned[0..<5].map(\.frame))
        timeline.changeCadence(to: 191, at: Double(start5) / 48_000)
        let after = Self.next(35, of: &timeline)
        #expect(after.first?.step == 5)
        // Exact times: the plan's own up to step 5, then intervals of 60 / (162.5 + 28.5·(k−5)/11).
        var t = 0.0
        for k in 0..<5 { t += 60 / (150 + 40 * Double(k) / 16) }
        for (i, e) in after.enumerated() {
            let k = 5 + i
            #expect(Self.isExact(e.frame, t), "step \(k) at \(e.frame), exact \(t * 48_000)")
            t += k < 16 ? 60 / (162.5 + 28.5 * Double(k - 5) / 11) : 60 / 191
        }
        // No jump: step 5 → 6 is still at 162.5 spm; the last ramp step's gap is near 191.
        #expect(after[1].frame - after[0].frame == planned[6].frame - planned[5].frame)
        let lastRampGap: Double = 48_000 * 60 / (162.5 + 28.5 * 10 / 11)
        let gap = Double(after[11].frame - after[10].frame)
        #expect(abs(gap - lastRampGap) <= 1)
        #expect(timeline.cadence == 191)
    }

    @Test func aChangeInTheCountInActsFromTheSetsFirstStepAndHoldsForTheNextSet() {
        let plan = SessionPlan(cadence: 180, countIn: 2, sets: 2, setLength: .steps(3), rest: 1)
        var timeline = Timeline(plan: plan, sampleRate: 48_000)
        _ = Self.consume(&timeline, before: 1)   // the first count-in click rendered
        timeline.changeCadence(to: 120, at: 1.0 / 48_000)
        // Count-in at 180 (16 000), then the steps at 120 (24 000) from where the set begins;
        // the set ends one step after its last, the rest is 1 s, the next set all at 120
        // apart from its count-in, which keeps the plan's pace.
        let frames = Self.next(10, of: &timeline).map(\.frame)
        #expect(frames == [16_000, 32_000, 56_000, 80_000, 152_000, 168_000, 184_000, 208_000, 232_000])
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
