import Testing
@testable import StrideCueCore
@testable import StrideCuePresets

private func preset(_ source: String) throws -> Preset {
    try decodePreset(Array(source.utf8), file: "Presets/x.yaml")
}

/// Steps per set and the time of each set's first step, as the timeline plays them.
private func timelineSets(_ plan: SessionPlan) -> (steps: [Int], starts: [Double]) {
    var timeline = Timeline(plan: plan, sampleRate: 48_000)
    var steps: [Int] = []
    var starts: [Double] = []
    while let event = timeline.peek() {
        if event.step >= 0 && event.level != .subdivision {
            if event.set >= steps.count {
                steps.append(0)
                starts.append(event.time)
            }
            steps[event.set] += 1
        }
        timeline.advance()
    }
    return (steps, starts)
}

@Suite struct PlanSummaryTests {
    // MARK: Layout

    @Test(arguments: [
        SessionPlan(cadence: 180, sets: 2, setLength: .steps(40), rest: 30),
        SessionPlan(cadence: 190, ramp: TempoRamp(from: 150, steps: 16), countIn: 4, sets: 2,
                    setLength: .distance(meters: 20, stepLength: 0.5), rest: 60),
        SessionPlan(cadence: 200, ramp: TempoRamp(from: 170, steps: 12), countIn: 4, sets: 3,
                    setLength: .duration(seconds: 15), rest: 45),
        SessionPlan(cadence: 172.5, sets: 1, setLength: .duration(seconds: 60)),
        // The set ends inside the ramp.
        SessionPlan(cadence: 180, ramp: TempoRamp(from: 120, steps: 100), sets: 2, setLength: .duration(seconds: 10), rest: 5),
        SessionPlan(cadence: 150, ramp: TempoRamp(from: 170, steps: 799), sets: 1, setLength: .duration(seconds: 480)),
        SessionPlan(cadence: 180, countIn: 2, sets: 2, setLength: .steps(7), rest: 1, subdivide: 3),
    ])
    func layoutMatchesTheTimeline(plan: SessionPlan) {
        let layout = PlanLayout(plan: plan)
        let (steps, starts) = timelineSets(plan)
        #expect(steps == [Int](repeating: layout.stepsPerSet, count: plan.sets))
        for (set, start) in zip(layout.sets, starts) {
            #expect(abs(set.start - start) < 1e-9, "set \(set.number)")
        }
        #expect(layout.total == Timeline.planDuration(of: plan))
        #expect(abs(layout.sets.last!.end - layout.total) < 1e-9)
    }

    @Test func stepTimesAndTempoFollowTheRamp() {
        let plan = SessionPlan(cadence: 180, ramp: TempoRamp(from: 120, steps: 4), setLength: .steps(10))
        let layout = PlanLayout(plan: plan)
        #expect(layout.tempo(atStep: 1) == 120)
        #expect(layout.tempo(atStep: 3) == 150)
        #expect(layout.tempo(atStep: 5) == 180)
        #expect(layout.timeInSet(ofStep: 1) == 0)
        #expect(abs(layout.timeInSet(ofStep: 2) - 0.5) < 1e-12)
        let rampEnd = 0.5 + 60 / 135.0 + 0.4 + 60 / 165.0
        #expect(abs(layout.timeInSet(ofStep: 5) - rampEnd) < 1e-12)
        #expect(abs(layout.timeInSet(ofStep: 7) - (rampEnd + 2 / 3.0)) < 1e-12)
    }

    // MARK: Cues

    @Test func cueStepsCountFromOne() {
        let layout = PlanLayout(plan: SessionPlan(setLength: .steps(40)))
        let steps = { (cue: PlanCue) in Array(cue.startSteps(inSetOf: 40)) }
        #expect(steps(PlanCue(text: "a", placement: .every(8, offset: 3))) == [3, 11, 19, 27, 35])
        #expect(steps(PlanCue(text: "a", placement: .setStart)) == [1])
        #expect(steps(PlanCue(text: "a", placement: .halfway)) == [21])
        #expect(steps(PlanCue(text: "a", placement: .setEnd, steps: 3)) == [38])
        #expect(steps(PlanCue(text: "a", placement: .step(41))) == [])
        #expect(layout.count(of: PlanCue(text: "a", placement: .every(8, offset: 3))) == 5)
        #expect(layout.count(of: PlanCue(text: "a", placement: .every(1, offset: 1))) == 40)
        #expect(layout.count(of: PlanCue(text: "a", placement: .every(4, offset: 41))) == 0)
        #expect(layout.lastStep(of: PlanCue(text: "a", placement: .every(8, offset: 3))) == 35)
        #expect(layout.count(of: PlanCue(text: "a", placement: .step(41))) == 0)
    }

    @Test func cuesAreReadFromThePresetTree() throws {
        // Read leniently from the tree: what the reader cannot place is skipped (the decoder refuses it).
        let root = try parseYAML(Array("""
        cadence: 180
        cues:
          - say: pull through
            every: 4
            offset: 2
            steps: 3
            style: tone
          - sound: Sounds/cues/go.wav
            at: set-end
          - say: halfway there
            at: halfway
          - say: on twelve
            at: step 12
          - say: at the start
          - just: junk
          - plain text
        """.utf8), file: "x.yaml")
        #expect(planCues(in: root) == [
            PlanCue(text: "pull through", placement: .every(4, offset: 2), steps: 3, style: "tone"),
            PlanCue(text: "Sounds/cues/go.wav", isRecording: true, placement: .setEnd),
            PlanCue(text: "halfway there", placement: .halfway),
            PlanCue(text: "on twelve", placement: .step(12)),
            PlanCue(text: "at the start", placement: .setStart),
        ])
        #expect(planCues(in: try preset("cadence: 180").root).isEmpty)
    }

    // MARK: Text

    @Test func summaryAddsUpSetsRestsAndCues() throws {
        let p = try preset("""
        name: Drill
        about: For the test.
        cadence: 180
        ramp: {from: 120, steps: 4}
        count-in: 2
        sets: 2
        set: {steps: 10}
        rest: 30 s
        accent: 2
        cues:
          - say: go
            every: 4
          - say: end
            at: set-end
        """)
        let text = planSummary(PlanLayout(plan: p.plan, cues: planCues(in: p.root)), origin: "preset file: x.yaml")
        #expect(text == """
        Drill
        preset file: x.yaml

        For the test.

        2 sets of 10 steps, 30 s rest between.
        Tempo: 180 spm, ramping up from 120 spm over the first 4 steps of each set.
        Each set opens with 2 count-in clicks at 120 spm (1 s).
        Clicks: woodblock, accent on every 2nd step.

          Start  Part   Length  Steps  Tempo (spm)
           0:00  set 1  4.7 s      10  120 → 180 over steps 1–4, then 180
           0:05  rest   30 s
           0:35  set 2  4.7 s      10  120 → 180 over steps 1–4, then 180
           0:39  end
          A set's length includes its count-in.

        Cues, the same in every set (step 1 is a set's first step):
          1  "go"   3 a set  every 4 steps from step 1: steps 1, 5, 9
          2  "end"  1 a set  ending with the set: step 9

        Total: 0:39, 20 steps in 2 sets, 4 count-in clicks, 8 cues.

        """)
    }

    @Test func theCautionComesFirst() throws {
        let p = try preset("name: Drill\nabout: For the test.\ncaution: Warm up first.\ncadence: 180\nset: {steps: 10}\n")
        let layout = PlanLayout(plan: p.plan)
        let text = planSummary(layout)
        #expect(text.hasPrefix("Drill\n\nCAUTION: Warm up first.\n\nFor the test.\n"))
        // Where the timeline gives the spoken caution time of its own, it is the first row.
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("   ") }
        if layout.lead > 0 {
            #expect(rows.first == "   0:00  caution  \(lengthText(layout.lead))            spoken before the first set")
            #expect(layout.sets[0].countInStart == layout.lead)
        } else {
            #expect(rows.first?.hasPrefix("   0:00  set 1") == true)
        }
    }

    @Test func summaryOfAPlainRun() throws {
        let p = try preset("name: Easy\ncadence: 170\nset: {duration: 30 min}\n")
        let text = planSummary(PlanLayout(plan: p.plan))
        #expect(text.contains("1 set of 30 min (5100 steps).\nTempo: 170 spm (steps per minute).\nClicks: woodblock.\n"))
        #expect(text.contains("   0:00  set 1  30 min   5100  170\n  30:00  end\n"))
        #expect(text.hasSuffix("Cues: none.\n\nTotal: 30:00, 5100 steps in 1 set, 0 cues.\n"))
        #expect(!text.contains("CAUTION"))
    }

    @Test func numbersReadAsACoachWritesThem() {
        #expect(clock(0) == "0:00" && clock(59.6) == "1:00" && clock(3_723) == "1:02:03")
        #expect(lengthText(16.54) == "16.5 s" && lengthText(60) == "60 s" && lengthText(600) == "10 min" && lengthText(150) == "2:30")
        #expect(spm(172.5) == "172.5" && spm(180) == "180")
        #expect(metres(0.5) == "0.5 m" && metres(1_200) == "1.2 km")
    }

    // MARK: Picture

    @Test func pictureNamesEverySetAndCue() throws {
        let p = try preset("""
        name: Tom & "Jerry" <drill>
        caution: Mind the <gap> & the 'step'.
        cadence: 180
        sets: 3
        set: {steps: 20}
        rest: 10 s
        cues:
          - say: fast & light
            every: 5
          - say: <go>
            at: halfway
        """)
        let svg = planPicture(PlanLayout(plan: p.plan, cues: planCues(in: p.root)))
        #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "))
        #expect(svg.hasSuffix("</svg>\n"))
        for set in 1...3 { #expect(svg.contains("<title>Set \(set): ")) }
        #expect(svg.contains("fast &amp; light") && svg.contains("&lt;go&gt;"))
        #expect(svg.contains("Tom &amp; &quot;Jerry&quot; &lt;drill&gt;"))
        #expect(svg.contains("Mind the &lt;gap&gt; &amp; the &apos;step&apos;."))
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test func aLongDenseRunStaysSmall() throws {
        // A cue on every step of a day-long set: drawn as a stripe, not 30 000 marks.
        let plan = SessionPlan(cadence: 300, sets: 2, setLength: .duration(seconds: 86_400), rest: 10)
        let svg = planPicture(PlanLayout(plan: plan, cues: [PlanCue(text: "go", placement: .every(1, offset: 1))]))
        #expect(svg.utf8.count < 40_000)
    }
}
