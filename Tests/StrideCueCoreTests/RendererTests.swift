import Testing
@testable import StrideCueCore

/// Renders a whole track in blocks of `block` frames.
func renderAll(_ plan: SessionPlan, sound: String = "woodblock", rate: Int = 48_000, channels: Int = 1,
               block: Int = 4_096, cap: Double? = nil) -> [Float] {
    let renderer = Renderer(plan: plan, sound: ClickSound.builtIn(sound, sampleRate: rate)!,
                            format: RenderFormat(sampleRate: rate, channels: channels), maxDuration: cap)
    var out: [Float] = []
    out.reserveCapacity(Int(renderer.totalFrames) * channels)
    var buffer = [Float](repeating: .nan, count: block * channels)
    while true {
        let n = buffer.withUnsafeMutableBufferPointer { renderer.render(into: $0) }
        if n == 0 { break }
        out += buffer[0..<n * channels]
    }
    return out
}

/// FNV-1a over the 16-bit samples: what the golden table records.
func goldenHash(_ samples: [Float]) -> UInt64 {
    var pcm = [Int16](repeating: 0, count: samples.count)
    samples.withUnsafeBufferPointer { src in
        pcm.withUnsafeMutableBufferPointer { SampleQuantizer.toInt16(src, into: $0.baseAddress!) }
    }
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for s in pcm {
        for byte in [UInt8(truncatingIfNeeded: s), UInt8(truncatingIfNeeded: s >> 8)] {
            h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
        }
    }
    return h
}

@Suite("Renderer")
struct RendererTests {
    static let busyPlan = SessionPlan(cadence: 172.5, ramp: TempoRamp(from: 140, steps: 8), countIn: 3, sets: 2,
                                      setLength: .steps(20), rest: 0.7, accentEvery: 2, subdivide: 4, sound: "cowbell")

    @Test(arguments: [1, 7, 64, 4_096, 48_000])
    func blockSizeDoesNotChangeTheOutput(block: Int) {
        let reference = renderAll(Self.busyPlan, sound: "cowbell", channels: 2, block: 1_000)
        let other = renderAll(Self.busyPlan, sound: "cowbell", channels: 2, block: block)
        #expect(other.count == reference.count)
        #expect(other == reference)
    }

    @Test func lengthIsThePlanOrTheCap() {
        let plan = SessionPlan(cadence: 180, setLength: .steps(30))
        #expect(renderAll(plan).count == 10 * 48_000)
        #expect(renderAll(plan, channels: 2).count == 2 * 10 * 48_000)
        #expect(renderAll(plan, cap: 2.5).count == 120_000)
    }

    @Test(arguments: ClickSound.builtInNames)
    func clicksStartOnTheirFrame(sound: String) {
        let plan = SessionPlan(cadence: 172.5, setLength: .steps(12), accentEvery: 4, sound: sound)
        let out = renderAll(plan, sound: sound)
        let click = ClickSound.builtIn(sound, sampleRate: 48_000)!
        var timeline = Timeline(plan: plan, sampleRate: 48_000)
        while let e = timeline.peek() {
            let f = Int(e.frame)
            // Silence just before the click (the previous click has died away) and its own
            // first samples right after.
            #expect(out[f - 1 < 0 ? 0 : f - 1] == 0 || f == 0)
            let expected = click.samples(for: e.level)
            for i in 1..<40 { #expect(out[f + i] == expected[i], "click at \(f), sample \(i)") }
            timeline.advance()
        }
    }

    @Test(arguments: ClickSound.builtInNames)
    func overlappingVoicesHaveNoJumpOutsideAnAttack(sound: String) {
        // Tight subdivisions make long cowbell voices overlap; every start and end must be smooth.
        let plan = SessionPlan(cadence: 300, setLength: .steps(40), accentEvery: 3, subdivide: 4, sound: sound)
        let out = renderAll(plan, sound: sound, block: 333)
        let click = ClickSound.builtIn(sound, sampleRate: 48_000)!
        let attack = Int(ClickSound.attackSeconds * 48_000)
        // The largest step inside a sample's own body bounds what a mix may show.
        func bodyJump(_ x: [Float]) -> Float {
            (attack + 1..<x.count).map { abs(x[$0] - x[$0 - 1]) }.max()!
        }
        let allowed = 2.5 * [click.accent, click.step, click.subdivision].map(bodyJump).max()!
        var onsets = Set<Int>()
        var timeline = Timeline(plan: plan, sampleRate: 48_000)
        while let e = timeline.peek() {
            for i in 0...attack { onsets.insert(Int(e.frame) + i) }
            timeline.advance()
        }
        var worst: Float = 0
        for n in 1..<out.count where !onsets.contains(n) {
            worst = max(worst, abs(out[n] - out[n - 1]))
        }
        #expect(worst <= allowed)
        // Every voice ends at zero: the last sample of each click level is exactly 0.
        for s in [click.accent, click.step, click.subdivision] {
            #expect(s.first == 0 && s.last == 0)
        }
    }

    @Test func cappedTrackFadesToSilenceAtTheEnd() {
        // Cut in the middle of a click (the second step sounds at 1/3 s): the cap's last 5 ms
        // are the uncut track times a straight line down to exactly 0 on the last frame, and
        // everything before the fade is untouched.
        let plan = SessionPlan(cadence: 180, setLength: .steps(30), sound: "cowbell")
        let cut = renderAll(plan, sound: "cowbell", cap: 1.0 / 3 + 0.01)
        let whole = renderAll(plan, sound: "cowbell")
        let fade = Int((Renderer.endFadeSeconds * 48_000).rounded())
        #expect(fade == 240)
        #expect(cut.count == Int(((1.0 / 3 + 0.01) * 48_000).rounded()))
        let fadeStart = cut.count - fade
        #expect(Array(cut[0..<fadeStart]) == Array(whole[0..<fadeStart]))
        var worst: Float = 0
        for i in fadeStart..<cut.count {
            let gain = Float(cut.count - 1 - i) / Float(fade)
            worst = max(worst, abs(cut[i] - whole[i] * gain))
        }
        #expect(worst < 1e-6, "fade departs from a straight line by \(worst)")
        #expect(cut.last == 0)
        // The fade matters here: the uncut track is loud where the cap falls.
        #expect(whole[fadeStart..<cut.count].map(abs).max()! > 0.05)
    }

    @Test func stereoChannelsCarryTheSameSignal() {
        let out = renderAll(SessionPlan(cadence: 180, setLength: .steps(4)), channels: 2)
        #expect(stride(from: 0, to: out.count, by: 2).allSatisfy { out[$0] == out[$0 + 1] })
    }

    @Test func fadeOutEndsTheTrackEarly() {
        let renderer = Renderer(plan: SessionPlan(cadence: 180, setLength: .steps(30)),
                                sound: ClickSound.builtIn("beep", sampleRate: 48_000)!,
                                format: RenderFormat(sampleRate: 48_000, channels: 1))
        var buffer = [Float](repeating: 0, count: 1_000)
        _ = buffer.withUnsafeMutableBufferPointer { renderer.render(into: $0) }
        renderer.fadeOut(frames: 960)
        var total = 1_000
        while true {
            let n = buffer.withUnsafeMutableBufferPointer { renderer.render(into: $0) }
            if n == 0 { break }
            total += n
        }
        #expect(total == 1_960)
    }

    @Test func fadeOutIsAStraightLineToZero() {
        // Fade out in the middle of the first click: 960 frames from frame 100 down to 0.
        let plan = SessionPlan(cadence: 180, setLength: .steps(30))
        let whole = renderAll(plan, sound: "beep", block: 100)
        let renderer = Renderer(plan: plan, sound: ClickSound.builtIn("beep", sampleRate: 48_000)!,
                                format: RenderFormat(sampleRate: 48_000, channels: 1))
        var out: [Float] = []
        var buffer = [Float](repeating: 0, count: 100)
        _ = buffer.withUnsafeMutableBufferPointer { renderer.render(into: $0) }
        out += buffer
        renderer.fadeOut(frames: 960)
        while true {
            let n = buffer.withUnsafeMutableBufferPointer { renderer.render(into: $0) }
            if n == 0 { break }
            out += buffer[0..<n]
        }
        #expect(out.count == 1_060)
        #expect(Array(out[0..<100]) == Array(whole[0..<100]))
        let worst = (100..<1_060).map { i in abs(out[i] - whole[i] * Float(1_059 - i) / 960) }.max()!
        #expect(worst < 1e-6, "fade departs from a straight line by \(worst)")
        #expect(out.last == 0)
        #expect(whole[100..<1_060].map(abs).max()! > 0.05, "the beep sounds where the fade runs")
    }

    @Test func aStolenVoiceFadesOutInsteadOfStoppingDead() {
        // A 4 s tone that rises and falls over 64 frames, 20 clicks a second: from the 65th
        // click on, the pool is full and the oldest voice must give way. Cut dead it would
        // drop 0.01 in one sample; faded over the steal fade it falls 0.01/32 a sample.
        let edge = 64
        let tone = (0..<192_000).map { i in Float(0.01) * Float(min(i, 191_999 - i, edge)) / Float(edge) }
        let sound = ClickSound(name: "tone", sampleRate: 48_000, accent: tone, step: tone, subdivision: tone)
        let renderer = Renderer(plan: SessionPlan(cadence: 300, setLength: .steps(30), subdivide: 4, sound: "tone"),
                                sound: sound, format: RenderFormat(sampleRate: 48_000, channels: 1))
        var out: [Float] = []
        var buffer = [Float](repeating: 0, count: 512)
        while true {
            let n = buffer.withUnsafeMutableBufferPointer { renderer.render(into: $0) }
            if n == 0 { break }
            out += buffer[0..<n]
        }
        // The pool filled: at 3.3 s, 64 voices sound (0.64), not the 66 clicks started so far.
        #expect(abs(out[Int(3.3 * 48_000)] - 0.64) < 1e-3, "level at 3.3 s: \(out[Int(3.3 * 48_000)])")
        // Every track ends on its own 5 ms fade to zero (tested on its own above): here 64 voices,
        // 0.64, fall to zero over 240 frames, 0.0027 a sample. The steals are judged before it.
        let fade = Int((Renderer.endFadeSeconds * 48_000).rounded())
        let beforeFade = Array(out.dropLast(fade))
        let worstStep = zip(beforeFade.dropFirst(), beforeFade).map { abs($0 - $1) }.max()!
        #expect(worstStep < 0.002, "a step of \(worstStep) between samples")
        // Voices were still being stolen up to the fade: the pool is full to the end.
        #expect(abs(beforeFade.last! - 0.64) < 1e-3, "level before the end fade: \(beforeFade.last!)")
        #expect(out.last! == 0)
    }

    /// Golden hashes of short 16-bit renders of each built-in sound. Any change to the sounds,
    /// the mixer or the quantizer shows up here; update deliberately.
    @Test(arguments: [
        ("woodblock", UInt64(17_664_434_860_342_243_229)),
        ("beep", UInt64(14_864_747_850_424_468_733)),
        ("cowbell", UInt64(12_156_477_677_517_683_341)),
    ])
    func goldenRenders(sound: String, expected: UInt64) {
        let plan = SessionPlan(cadence: 172.5, ramp: TempoRamp(from: 150, steps: 4), countIn: 2, sets: 2,
                               setLength: .steps(8), rest: 0.5, accentEvery: 2, subdivide: 2, sound: sound)
        let hash = goldenHash(renderAll(plan, sound: sound, rate: 44_100, channels: 1))
        #expect(hash == expected, "golden hash of \(sound): \(hash)")
    }
}
