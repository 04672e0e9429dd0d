import Testing
@testable import StrideCueCore

/// A cue sound that is non-zero from its first sample, so its start is visible to the frame:
/// a slow wobble around 0.5, `count` frames long.
func cueSamples(_ count: Int, seed: Double = 0) -> [Float] {
    (0..<count).map { i in Float(0.5 + 0.4 * _sin(Double(i) * 0.013 + seed)) }
}

/// Renders a plan with cues in blocks of `block` frames; `live` runs before each block with
/// the frame about to be rendered, to make live changes.
func renderWithCues(_ plan: SessionPlan, cues: CueVoices?, stem: RenderStem = .mix, sound: String = "woodblock",
                    rate: Int = 48_000, channels: Int = 1, block: Int = 4_096, cap: Double? = nil,
                    live: ((Renderer, Int64) -> Void)? = nil) -> [Float] {
    let renderer = Renderer(plan: plan, sound: ClickSound.builtIn(sound, sampleRate: rate)!,
                            format: RenderFormat(sampleRate: rate, channels: channels), maxDuration: cap,
                            cues: cues, stem: stem)
    var out: [Float] = []
    out.reserveCapacity(Int(renderer.totalFrames) * channels)
    var buffer = [Float](repeating: .nan, count: block * channels)
    while true {
        live?(renderer, renderer.framesRendered)
        let n = buffer.withUnsafeMutableBufferPointer { renderer.render(into: $0) }
        if n == 0 { break }
        out += buffer[0..<n * channels]
    }
    return out
}

/// Frames at which a sound starts: non-zero after at least `gap` zero frames.
func soundOnsets(_ x: [Float], gap: Int = 64) -> [Int] {
    var result: [Int] = []
    var silent = gap
    for (i, v) in x.enumerated() {
        if v == 0 { silent += 1 } else {
            if silent >= gap { result.append(i) }
            silent = 0
        }
    }
    return result
}

/// Step events (no subdivisions) of a plan.
func stepEvents(_ plan: SessionPlan, rate: Int = 48_000) -> [ClickEvent] {
    events(plan, rate: rate).filter { $0.level != .subdivision }
}

@Suite("Cues: placement to the frame")
struct CueScheduleTests {
    static let rate = 48_000

    @Test func everyStepSetStartHalfwayAndSetEndOnSetsOfSteps() {
        var plan = SessionPlan(cadence: 172.5, ramp: TempoRamp(from: 150, steps: 6), countIn: 2, sets: 2,
                               setLength: .steps(21), rest: 1.5, accentEvery: 2, subdivide: 2)
        plan.cues = [
            CueSpec(.say("a"), timing: .every(4), offset: 2),
            CueSpec(.say("b"), timing: .step(7)),
            CueSpec(.say("c"), timing: .setStart),
            CueSpec(.say("d"), timing: .halfway),
            CueSpec(.say("e"), timing: .setEnd, steps: 3),
        ]
        let voices = CueVoices(sampleRate: Self.rate, cues: (0..<5).map { [CueSound(samples: cueSamples(100 + $0))] })
        let placed = cuePlacements(plan: plan, cues: voices)

        // What the rules say, from the timeline's own step frames, 1-based steps.
        var expected: [(Int64, Int, Int, Int)] = []   // frame, cue, set, step
        for e in stepEvents(plan) where e.step >= 0 {
            let n = 21
            let k = e.step + 1
            if k >= 2 && (k - 2) % 4 == 0 { expected.append((e.frame, 0, e.set, e.step)) }
            if k == 7 { expected.append((e.frame, 1, e.set, e.step)) }
            if k == 1 { expected.append((e.frame, 2, e.set, e.step)) }
            if k == n / 2 + 1 { expected.append((e.frame, 3, e.set, e.step)) }
            if k == n - 3 + 1 { expected.append((e.frame, 4, e.set, e.step)) }
        }
        #expect(placed.count == expected.count)
        for (p, x) in zip(placed, expected) {
            #expect(p.frame == x.0 && p.stepFrame == x.0)
            #expect(p.kind == .cue(x.1) && p.set == x.2 && p.step == x.3)
        }
        // The rule a coach reads in the docs agrees.
        for spec in plan.cues {
            let steps = (0..<21).filter { spec.falls(onStep: $0, ofSetOf: 21) }
            #expect(steps == placed.filter { $0.kind == .cue(plan.cues.firstIndex(of: spec)!) && $0.set == 0 }.map(\.step))
        }
    }

    @Test func renderedCuesStartOnTheirFrame() {
        var plan = SessionPlan(cadence: 172.5, countIn: 3, sets: 2, setLength: .steps(16), rest: 0.8, accentEvery: 2)
        plan.cues = [CueSpec(.say("a"), timing: .every(4), offset: 3)]
        let voices = CueVoices(sampleRate: Self.rate, cues: [[CueSound(samples: cueSamples(2_000))]])
        let voice = renderWithCues(plan, cues: voices, stem: .voice)
        let steps = stepEvents(plan).filter { $0.step >= 0 && ($0.step + 1 - 3) % 4 == 0 && $0.step >= 2 }
        #expect(soundOnsets(voice) == steps.map { Int($0.frame) })
        #expect(cuePlacements(plan: plan, cues: voices).map(\.frame) == steps.map(\.frame))
        // The cue's samples, scaled to the voice peak, from its frame on.
        let samples = cueSamples(2_000)
        let gain = CueBalance.voicePeak / samples.map(abs).max()!
        let f = Int(steps[1].frame)
        for i in [0, 1, 500, 1_999] { #expect(voice[f + i] == samples[i] * gain) }
        #expect(voice[f + 2_000] == 0)
    }

    @Test func alignStressPutsTheStressedSyllableOnTheStep() {
        var plan = SessionPlan(cadence: 180, countIn: 2, setLength: .steps(12))
        plan.cues = [CueSpec(.say("pull through"), timing: .every(4), offset: 2, align: .stress)]
        let anchor = 9_876
        let samples = cueSamples(20_000)
        let voices = CueVoices(sampleRate: Self.rate, cues: [[CueSound(samples: samples, anchor: anchor)]])
        let voice = renderWithCues(plan, cues: voices, stem: .voice, block: 333)
        let gain = CueBalance.voicePeak / samples.map(abs).max()!
        let steps = stepEvents(plan).filter { $0.step >= 0 && ($0.step - 1) % 4 == 0 }
        #expect(steps.count == 3)
        #expect(soundOnsets(voice) == steps.map { Int($0.frame) - anchor })
        for step in steps {
            #expect(voice[Int(step.frame)] == samples[anchor] * gain)   // the stress, on the step
        }
        let placed = cuePlacements(plan: plan, cues: voices)
        #expect(placed.map(\.stepFrame) == steps.map(\.frame))
        #expect(placed.map(\.frame) == steps.map { $0.frame - Int64(anchor) })
    }

    @Test func aStressedCueBeforeTheTrackStartsStartsWithIt() {
        var plan = SessionPlan(cadence: 180, setLength: .steps(4))
        plan.cues = [CueSpec(.say("x"), timing: .setStart, align: .stress)]
        let voices = CueVoices(sampleRate: Self.rate, cues: [[CueSound(samples: cueSamples(5_000), anchor: 2_000)]])
        #expect(cuePlacements(plan: plan, cues: voices).map(\.frame) == [0])
        #expect(soundOnsets(renderWithCues(plan, cues: voices, stem: .voice)) == [0])
    }

    @Test func timedSetsPlaceHalfwayAndSetEndByTime() {
        // 10 s at 180 spm: steps at k/3 s for k = 0…29.
        var plan = SessionPlan(cadence: 180, sets: 2, setLength: .duration(seconds: 10), rest: 2)
        plan.cues = [CueSpec(.say("half"), timing: .halfway), CueSpec(.say("end"), timing: .setEnd, steps: 2)]
        let voices = CueVoices(sampleRate: Self.rate, cues: [[CueSound(samples: cueSamples(50))], [CueSound(samples: cueSamples(60))]])
        let placed = cuePlacements(plan: plan, cues: voices)
        // Halfway: the first step at or after 5 s is step 15 (5 s); set end: steps 28 and 29 are the last two.
        #expect(placed.map(\.step) == [15, 28, 15, 28])
        #expect(placed.map(\.frame) == [240_000, 448_000, 240_000 + 576_000, 448_000 + 576_000])
    }

    @Test func spokenCountInWordsFallOnTheCountInClicks() {
        let plan = SessionPlan(cadence: 180, ramp: TempoRamp(from: 150, steps: 8), countIn: 4, sets: 2,
                               setLength: .steps(8), rest: 1, countInSpoken: true)
        let words = (0..<4).map { CueSound(samples: cueSamples(3_000 + $0 * 100, seed: Double($0))) }
        let voices = CueVoices(sampleRate: Self.rate, countIn: words)
        let clicks = events(plan).filter { $0.level == .countIn }
        let placed = cuePlacements(plan: plan, cues: voices)
        #expect(placed.map(\.frame) == clicks.map(\.frame))
        #expect(placed.map(\.kind) == [0, 1, 2, 3, 0, 1, 2, 3].map { CuePlacement.Kind.countIn($0) })
        #expect(placed.map(\.step) == clicks.map(\.step))
        #expect(soundOnsets(renderWithCues(plan, cues: voices, stem: .voice)) == clicks.map { Int($0.frame) })
        // Without `say`, the same words are not played.
        var silent = plan
        silent.countInSpoken = false
        #expect(cuePlacements(plan: silent, cues: voices).isEmpty)
    }

    @Test func theCautionComesFirstAndTheCountInWaitsForIt() {
        let plan = SessionPlan(caution: "Careful.", cadence: 180, countIn: 2, setLength: .steps(4))
        #expect(plan.cautionLead == SessionPlan.defaultCautionTime)
        let timed = SessionPlan(caution: "Careful.", cadence: 180, countIn: 2, setLength: .steps(4), cautionTime: 2.5)
        #expect(Timeline.planDuration(of: timed) == 2.5 + 6.0 / 3.0)
        #expect(events(timed).map(\.frame) == (0..<6).map { 120_000 + Int64($0) * 16_000 })
        let voices = CueVoices(sampleRate: Self.rate, caution: CueSound(samples: cueSamples(30_000)))
        #expect(cuePlacements(plan: timed, cues: voices).map(\.frame) == [0])
        let mix = renderWithCues(timed, cues: voices)
        #expect(mix.count == 216_000)
        // A click's first sample is exactly 0 (its attack), a cue's is not.
        #expect(soundOnsets(mix).prefix(2) == [0, 120_001])
        // No caution, no lead: plans without one are as long as they always were.
        #expect(SessionPlan(cadence: 180, setLength: .steps(4)).cautionLead == 0)
    }

    @Test func bothPlaysTheToneOnTheStepAndTheWordsStepsLater() {
        var plan = SessionPlan(cadence: 180, setLength: .steps(10))
        plan.cues = [CueSpec(.say("pop"), timing: .every(4), steps: 3, style: .both)]
        let voices = CueVoices(sampleRate: Self.rate, cues: [[
            CueSound(samples: cueSamples(1_000)), CueSound(samples: cueSamples(1_500), stepDelta: 3),
        ]])
        let placed = cuePlacements(plan: plan, cues: voices)
        // Steps 1, 5 and 9 (0, 4, 8 from 0); the words of the last fall past the set's end,
        // where the grid would have put step 12.
        #expect(placed.map(\.frame) == [0, 48_000, 64_000, 112_000, 128_000, 176_000])
        #expect(placed.map(\.part) == [0, 1, 0, 1, 0, 1])
        #expect(placed.map(\.step) == [0, 0, 4, 4, 8, 8])
    }
}

@Suite("Cues: the mix")
struct CueMixTests {
    /// A busy plan: ramp, count-in, subdivisions, accents, two sets, spoken count-in and
    /// caution, cues aligned on the stress, a `both` cue, and a long cue that overlaps others.
    static var busy: (SessionPlan, CueVoices) {
        var plan = SessionPlan(caution: "x", cadence: 172.5, ramp: TempoRamp(from: 140, steps: 8), countIn: 3, sets: 2,
                               setLength: .steps(20), rest: 0.7, accentEvery: 2, subdivide: 4, sound: "cowbell",
                               countInSpoken: true, cautionTime: 1.1)
        plan.cues = [
            CueSpec(.say("a"), timing: .every(3), offset: 2, align: .stress, level: -3),
            CueSpec(.say("b"), timing: .halfway, style: .both),
            CueSpec(.say("c"), timing: .setEnd, steps: 4, level: -10),
        ]
        let voices = CueVoices(
            sampleRate: 44_100,
            cues: [
                [CueSound(samples: cueSamples(9_000), anchor: 3_000)],
                [CueSound(samples: cueSamples(7_000, seed: 1)), CueSound(samples: cueSamples(8_000, seed: 2), stepDelta: 2)],
                [CueSound(samples: cueSamples(40_000, seed: 3))],
            ],
            countIn: (0..<3).map { CueSound(samples: cueSamples(5_000, seed: Double($0))) },
            caution: CueSound(samples: cueSamples(30_000, seed: 9)))
        return (plan, voices)
    }

    @Test(arguments: [1, 7, 64, 4_096, 44_100])
    func blockSizeDoesNotChangeTheOutputWithCues(block: Int) {
        let (plan, voices) = Self.busy
        let reference = renderWithCues(plan, cues: voices, sound: "cowbell", rate: 44_100, channels: 2, block: 1_000)
        let other = renderWithCues(plan, cues: voices, sound: "cowbell", rate: 44_100, channels: 2, block: block)
        #expect(other.count == reference.count)
        #expect(other == reference)
        // The cues are really in it: the mix differs from the clicks alone.
        #expect(reference != renderWithCues(plan, cues: voices, stem: .clicks, sound: "cowbell", rate: 44_100, channels: 2))
    }

    @Test func stemsSumToTheMix() {
        let (plan, voices) = Self.busy
        let mix = renderWithCues(plan, cues: voices, sound: "cowbell", rate: 44_100, block: 777)
        let clicks = renderWithCues(plan, cues: voices, stem: .clicks, sound: "cowbell", rate: 44_100, block: 512)
        let voice = renderWithCues(plan, cues: voices, stem: .voice, sound: "cowbell", rate: 44_100, block: 4_096)
        #expect(mix.count == clicks.count && mix.count == voice.count)
        var worst: Float = 0
        for i in mix.indices { worst = max(worst, abs(mix[i] - (clicks[i] + voice[i]))) }
        #expect(worst < 1e-6)
        // And the voice stem holds nothing but cues: silent where no cue plays.
        let placed = cuePlacements(plan: plan, cues: voices)
        var covered = [Bool](repeating: false, count: voice.count)
        for p in placed { for f in Int(p.frame)..<min(voice.count, Int(p.frame) + p.length) { covered[f] = true } }
        #expect(voice.indices.allSatisfy { covered[$0] || voice[$0] == 0 })
    }

    @Test func clicksDuckUnderACueWithoutAJump() {
        var plan = SessionPlan(cadence: 180, setLength: .steps(12), accentEvery: 2, sound: "beep")
        plan.cues = [CueSpec(.say("a"), timing: .step(5), steps: 3)]
        let voices = CueVoices(sampleRate: 48_000, cues: [[CueSound(samples: cueSamples(40_000))]])
        let clicks = renderWithCues(plan, cues: voices, stem: .clicks, sound: "beep")
        let plain = renderWithCues(plan, cues: nil, sound: "beep")
        let beep = ClickSound.builtIn("beep", sampleRate: 48_000)!
        // Step 5 starts at 64 000, the cue with it; steps 6 and 7 click under it, ducked 12 dB.
        for f in [80_000, 96_000] {
            for i in 1..<200 { #expect(abs(clicks[f + i] - plain[f + i] * CueBalance.duckGain) < 1e-6) }
        }
        // The duck is under way before the cue starts, and done when it does.
        let attack = Int(CueBalance.duckAttackSeconds * 48_000)
        #expect(abs(clicks[64_000 + 10] - plain[64_000 + 10] * CueBalance.duckGain) < 1e-3)
        #expect(abs(beep.accent[10] * CueBalance.duckGain - clicks[64_000 + 10]) < 1e-3)
        // Clicks far from the cue are untouched.
        for f in [0, 16_000, 32_000, 144_000, 160_000] {
            #expect(Array(clicks[f..<f + 800]) == Array(plain[f..<f + 800]))
        }
        // Ramped, never stepped: the gain moves at most 1/attack of its range a frame, so no
        // sample jumps more than the clicks' own largest step.
        let bodyJump = (1..<beep.accent.count).map { abs(beep.accent[$0] - beep.accent[$0 - 1]) }.max()!
        let worst = (1..<clicks.count).map { abs(clicks[$0] - clicks[$0 - 1]) }.max()!
        #expect(worst <= bodyJump * 1.01)
        #expect(attack == 480)
    }

    @Test func theLoudestCueOverTheLoudestClickDoesNotClip() {
        // A full-scale square cue over accents on every step, subdivided: the mix stays below 1.
        var plan = SessionPlan(cadence: 300, setLength: .steps(40), accentEvery: 1, sound: "woodblock",
                               countInSpoken: true)
        plan.countIn = 2
        plan.cues = [CueSpec(.say("loud"), timing: .every(2), steps: 2)]
        let square = (0..<9_000).map { i -> Float in (i / 40) % 2 == 0 ? 1 : -1 }
        let voices = CueVoices(sampleRate: 48_000, cues: [[CueSound(samples: square)]],
                               countIn: [CueSound(samples: square), CueSound(samples: square)])
        let mix = renderWithCues(plan, cues: voices, sound: "woodblock")
        let peak = mix.map(abs).max()!
        #expect(peak <= 1.0)
        #expect(peak > CueBalance.voicePeak)   // cue and click together, not the cue alone
    }

    @Test func levelScalesACue() {
        var plan = SessionPlan(cadence: 180, setLength: .steps(4))
        plan.cues = [CueSpec(.say("a"), timing: .step(1)), CueSpec(.say("b"), timing: .step(3), level: -6)]
        let s = cueSamples(1_000)
        let voices = CueVoices(sampleRate: 48_000, cues: [[CueSound(samples: s)], [CueSound(samples: s)]])
        let voice = renderWithCues(plan, cues: voices, stem: .voice)
        let loud = voice[0..<1_000].map(abs).max()!, soft = voice[32_000..<33_000].map(abs).max()!
        #expect(abs(loud - CueBalance.voicePeak) < 1e-6)
        #expect(abs(soft / loud - 0.501_187) < 1e-4)
    }

    @Test func withoutCuesTheClicksAreAsBefore() {
        let plan = RendererTests.busyPlan
        #expect(renderWithCues(plan, cues: CueVoices(sampleRate: 48_000), sound: "cowbell")
            == renderAll(plan, sound: "cowbell"))
    }
}

@Suite("Cues: live changes")
struct CueLiveTests {
    /// The cue of step 14 (from 1) starts at 204 000, 4 000 frames before its step (208 000):
    /// the change comes while it waits to start, or just after it started.
    @Test(arguments: [Int64(199_936), 204_032])  // block boundaries (256 frames)
    func aCadenceChangeMovesTheCuesToTheNewGrid(at changeFrame: Int64) {
        // Faster from step 14 (from 1) on, so every step still fits the track's length.
        var plan = SessionPlan(cadence: 180, setLength: .steps(60))
        plan.cues = [CueSpec(.say("a"), timing: .every(4), offset: 2, align: .stress)]
        let anchor = 4_000
        let voices = CueVoices(sampleRate: 48_000, cues: [[CueSound(samples: cueSamples(6_000), anchor: anchor)]])
        // Both renders get the same change at the same frame; the clicks show the new grid.
        let change: (Renderer, Int64) -> Void = { r, frame in if frame == changeFrame { r.changeCadence(to: 200) } }
        let clicks = renderWithCues(plan, cues: voices, stem: .clicks, block: 256, live: change)
        let voice = renderWithCues(plan, cues: voices, stem: .voice, block: 256, live: change)
        let steps = soundOnsets(clicks, gap: 1_000).map { $0 - 1 }   // a click's first sample is 0
        #expect(steps.count == 60)
        let cueSteps = stride(from: 1, to: 60, by: 4).map { steps[$0] }
        // Every cue starts `anchor` frames before its step, on the old grid and the new, and
        // none is played twice or lost. A cue already sounding when its step moved (step 14
        // now at 206 400) is not started again: it stays where it began.
        let started = changeFrame > 204_000
        #expect(steps[13] == 206_400)
        #expect(soundOnsets(voice) == cueSteps.enumerated().map { i, step in started && i == 3 ? 204_000 : step - anchor })
        #expect(steps[10] - steps[9] == 16_000 && steps[40] - steps[39] == 14_400)
    }

    @Test func skippingARestBringsTheCountInWordsForward() {
        let plan = SessionPlan(cadence: 180, countIn: 2, sets: 2, setLength: .steps(4), rest: 10, countInSpoken: true)
        let voices = CueVoices(sampleRate: 48_000, countIn: [CueSound(samples: cueSamples(3_000)), CueSound(samples: cueSamples(3_000))])
        let skip: (Renderer, Int64) -> Void = { r, frame in if frame == 200_000 { r.skipRest() } }
        let clicks = renderWithCues(plan, cues: voices, stem: .clicks, block: 1_000, live: skip)
        let voice = renderWithCues(plan, cues: voices, stem: .voice, block: 1_000, live: skip)
        let countIns = [0, 16_000, 200_000, 216_000]
        let clickStarts = soundOnsets(clicks, gap: 1_000).map { $0 - 1 }
        #expect(Array(clickStarts.prefix(3)) == [0, 16_000, 32_000])
        #expect(clickStarts.contains(200_000) && clickStarts.contains(216_000))
        #expect(soundOnsets(voice) == countIns)
    }
}
