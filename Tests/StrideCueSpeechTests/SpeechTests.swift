import Testing
@testable import StrideCueSpeech

/// Seconds of one step at `cadence` steps per minute.
private func step(_ cadence: Double) -> Double { 60 / cadence }

/// Milliseconds from the start to the first 5 ms window at or above `dB` re the peak.
private func leadingQuiet(_ cue: SpokenCue, below dB: Float = -40) -> Double {
    let window = cue.sampleRate / 200
    let threshold = SpokenCue.peakLevel * pow(10, dB / 20)
    var start = 0
    while start + window <= cue.samples.count {
        if Shaping.rms(cue.samples, start..<(start + window)) >= threshold { break }
        start += window / 5
    }
    return Double(start) * 1000 / Double(cue.sampleRate)
}

private func pow(_ base: Float, _ exponent: Float) -> Float {
    Float(_exp(Double(exponent) * _log(Double(base))))
}

@Suite("Speech: trimming and shaping")
struct SpeechTrimmingTests {
    @Test("Leading pause and silent closure are trimmed", arguments: ["pull through", "pop forwards", "relax the shoulders"])
    func noLeadingPause(text: String) throws {
        let cue = try SpeechSynthesizer().synthesize(text: text, outputRate: 48_000)
        // flite's leading pause alone is over 190 ms; the closure of "p" another 70 ms.
        #expect(leadingQuiet(cue) < 15, "\(text): \(leadingQuiet(cue)) ms of near silence at the start")
        let reversed = SpokenCue(
            text: text, voice: cue.voice, style: cue.style, sampleRate: cue.sampleRate,
            samples: cue.samples.reversed(), syllables: [], stressedSyllable: 0,
            durationStretch: 1, speed: 1
        )
        #expect(leadingQuiet(reversed) < 40, "\(text): \(leadingQuiet(reversed)) ms of near silence at the end")
    }

    @Test("Cues fade in and out and peak at the documented level")
    func fadeAndPeak() throws {
        let cue = try SpeechSynthesizer().synthesize(text: "relax the shoulders", outputRate: 44_100)
        #expect(abs(cue.samples.first!) < 1e-3)
        #expect(abs(cue.samples.last!) < 1e-3)
        let peak = cue.samples.map(abs).max()!
        #expect(abs(peak - SpokenCue.peakLevel) < 1e-4)
    }

    @Test("Resampled length follows the rate ratio within 1%")
    func resampledLength() throws {
        let speech = SpeechSynthesizer()
        let native = try speech.synthesize(text: "pop forwards", outputRate: 16_000)
        for rate in [22_050, 44_100, 48_000, 96_000] {
            let cue = try speech.synthesize(text: "pop forwards", outputRate: rate)
            let expected = Double(native.samples.count) * Double(rate) / 16_000
            #expect(abs(Double(cue.samples.count) / expected - 1) < 0.01, "\(rate) Hz: \(cue.samples.count) frames, expected \(expected)")
            #expect(cue.sampleRate == rate)
        }
    }

    @Test("libsamplerate keeps a tone's pitch and scales its length", arguments: [22_050, 44_100, 48_000])
    func resamplerKeepsPitch(rate: Int) throws {
        let tone = (0..<16_000).map { Float(_sin(2 * Double.pi * 440 * Double($0) / 16_000)) * 0.5 }
        let output = try Resampler.resample(tone, from: 16_000, to: rate)
        #expect(abs(Double(output.count) / Double(rate) - 1) < 0.01, "\(output.count) frames")
        // Rising zero crossings over the middle half second: 220 of them at 440 Hz.
        let middle = output[(rate / 4)..<(rate * 3 / 4)]
        let crossings = zip(middle, middle.dropFirst()).filter { $0 < 0 && $1 >= 0 }.count
        #expect(abs(crossings - 220) <= 2, "\(crossings) cycles in half a second")
    }

    @Test("Text with nothing to say is an error, not an empty cue")
    func noSpeech() {
        #expect(throws: SpeechError.noSpeech(text: " ... ")) {
            try SpeechSynthesizer().synthesize(text: " ... ", outputRate: 48_000)
        }
    }
}

@Suite("Speech: fitting to steps")
struct SpeechFittingTests {
    @Test("Two-word cues fit two steps at 180 spm", arguments: ["pull through", "pop forwards"])
    func fitsTwoSteps(text: String) throws {
        let limit = 2 * step(180)
        let cue = try SpeechSynthesizer().synthesize(text: text, outputRate: 48_000, maxDuration: limit)
        #expect(cue.duration <= limit + 1 / 48_000)
        #expect(cue.duration > 0.3)
        #expect(cue.speed >= 1 && cue.speed <= 2)
    }

    @Test("A cue that fits is spoken at the normal rate")
    func noNeedlessSpeedUp() throws {
        let cue = try SpeechSynthesizer().synthesize(text: "go", outputRate: 48_000, maxDuration: 2)
        #expect(cue.speed == 1)
        #expect(cue.durationStretch == 1)
    }

    @Test("A cue too long even at 2x names the steps it needs")
    func tooLong() throws {
        let speech = SpeechSynthesizer()
        let error = try #require(throws: CueTooLong.self) {
            try speech.synthesize(text: "relax the shoulders", outputRate: 48_000, maxDuration: 2 * step(180))
        }
        #expect(error.stepsNeeded(cadence: 180) == 3)
        #expect(error.message(cadence: 180)
            == "'relax the shoulders' needs 3 steps at 180 spm; give it 'steps: 3' or a shorter text")
        // And three steps are indeed enough.
        let cue = try speech.synthesize(text: "relax the shoulders", outputRate: 48_000, maxDuration: 3 * step(180))
        #expect(cue.duration <= 3 * step(180) + 1 / 48_000)
    }

    @Test("Never faster than twice the normal rate")
    func neverFasterThanTwice() throws {
        let speech = SpeechSynthesizer()
        let natural = try speech.synthesize(text: "relax the shoulders", outputRate: 16_000)
        let error = try #require(throws: CueTooLong.self) {
            try speech.synthesize(text: "relax the shoulders", outputRate: 16_000, maxDuration: 0.3)
        }
        // At 2x the cue lasts about half its natural length, not less.
        #expect(error.shortestDuration >= 0.45 * natural.duration)
        // A limit just above that length is met at 2x and no faster.
        let tight = try speech.synthesize(
            text: "relax the shoulders", outputRate: 16_000, maxDuration: error.shortestDuration + 0.005)
        #expect(tight.speed <= SpeechSynthesizer.maximumSpeed + 1e-9)
        #expect(tight.durationStretch >= 0.5 - 1e-6)
        #expect(tight.speed > 1.8)
    }

    @Test("The voice's rate is put back after fitting")
    func stretchReset() throws {
        let before = try SpeechSynthesizer().synthesize(text: "pop forwards", outputRate: 16_000)
        _ = try SpeechSynthesizer().synthesize(text: "pop forwards", outputRate: 16_000, maxDuration: 0.7)
        let after = try SpeechSynthesizer().synthesize(text: "pop forwards", outputRate: 16_000)
        #expect(after.samples.count == before.samples.count)
        #expect(after.durationStretch == 1)
    }

    @Test("Count-in: three, two, one, go, each within one step")
    func countIn() throws {
        #expect(SpeechSynthesizer.countInWords(steps: 4) == ["three", "two", "one", "go"])
        #expect(SpeechSynthesizer.countInWords(steps: 1) == ["go"])
        #expect(SpeechSynthesizer.countInWords(steps: 0) == [])
        let cues = try SpeechSynthesizer().countIn(steps: 4, cadence: 180, outputRate: 48_000)
        #expect(cues.map(\.text) == ["three", "two", "one", "go"])
        for cue in cues { #expect(cue.duration <= step(180) + 1 / 48_000, "\(cue.text): \(cue.duration) s") }
    }
}

@Suite("Speech: syllables, stress and tone motifs")
struct SpeechSyllableTests {
    @Test("The stress of 'pull through' is on 'through', after the start and before the end")
    func stressOffset() throws {
        let cue = try SpeechSynthesizer().synthesize(text: "pull through", outputRate: 48_000)
        #expect(cue.syllables.map(\.word) == ["pull", "through"])
        #expect(cue.syllables[cue.stressedSyllable].word == "through")
        #expect(cue.stressOffset > 4_800)  // more than 100 ms in: "pull" comes first
        #expect(cue.stressOffset < cue.samples.count - 4_800)
    }

    @Test("Syllables are in order and inside the cue")
    func syllableTiming() throws {
        let cue = try SpeechSynthesizer().synthesize(text: "relax the shoulders", outputRate: 48_000)
        #expect(cue.syllables.count == 5)
        #expect(cue.syllables[cue.stressedSyllable].word == "shoulders")
        var previous = -1
        for syllable in cue.syllables {
            #expect(syllable.onset > previous)
            #expect(syllable.length > 0)
            #expect(syllable.onset + syllable.length <= cue.samples.count)
            previous = syllable.onset
        }
        // slt speaks around 150–300 Hz; every syllable here has a vowel to measure.
        for syllable in cue.syllables {
            let pitch = try #require(syllable.pitch, "\(syllable.word) has no pitch")
            #expect((120...350).contains(pitch), "\(syllable.word): \(pitch) Hz")
        }
    }

    @Test("Pitch of a pure tone is measured to within 1%")
    func pitchOfSine() {
        let rate = 16_000
        let samples = (0..<4_000).map { Float(_sin(2 * Double.pi * 187 * Double($0) / Double(rate))) }
        let f0 = Pitch.median(samples, in: 0..<4_000, sampleRate: rate)
        #expect(f0 != nil && abs(f0! - 187) < 1.87)
        #expect(Pitch.median([Float](repeating: 0, count: 4_000), in: 0..<4_000, sampleRate: rate) == nil)
    }

    @Test("Different cues give different tone motifs: syllable count or contour")
    func motifsDiffer() throws {
        let speech = SpeechSynthesizer()
        let texts = ["pull through", "pop forwards", "relax the shoulders"]
        let motifs = try texts.map { ToneMotif.notes(for: try speech.synthesize(text: $0, outputRate: 48_000)) }
        #expect(motifs.map(\.count) == [2, 3, 5])
        for i in motifs.indices {
            for j in motifs.indices where j > i {
                #expect(motifs[i].map(\.degree) != motifs[j].map(\.degree), "\(texts[i]) and \(texts[j]) sound alike")
            }
        }
        // The contour follows the speech: a statement falls, so the last note is the lowest.
        for motif in motifs { #expect(motif.last!.degree == motif.map(\.degree).min()) }
        // Same syllable count and contour, different rhythm: "pull" is short, "pop" long.
        let pullThrough = motifs[0], popUp = ToneMotif.notes(for: try speech.synthesize(text: "pop up", outputRate: 48_000))
        #expect(pullThrough.map(\.degree) == popUp.map(\.degree))
        #expect(pullThrough.map(\.onset) != popUp.map(\.onset))
    }

    @Test("A tone cue keeps the words' timing and sounds a note per syllable")
    func toneCue() throws {
        let speech = SpeechSynthesizer()
        let spoken = try speech.synthesize(text: "pop forwards", outputRate: 48_000)
        let tone = try speech.synthesize(text: "pop forwards", outputRate: 48_000, style: .tone)
        #expect(tone.style == .tone)
        #expect(tone.samples.count == spoken.samples.count)
        #expect(tone.syllables == spoken.syllables)
        #expect(tone.samples != spoken.samples)
        for note in ToneMotif.notes(for: spoken) {
            // Sound in the middle of each note, where the syllable is.
            let middle = note.onset + note.length / 2
            #expect(Shaping.rms(tone.samples, (middle - 240)..<(middle + 240)) > 0.01)
        }
        #expect(abs(tone.samples.map(abs).max()! - SpokenCue.peakLevel) < 1e-4)
    }
}

@Suite("Speech: cache, voices and C calls")
struct SpeechEngineTests {
    @Test("Identical requests are synthesized once")
    func cacheHits() throws {
        let speech = SpeechSynthesizer()
        let first = try speech.synthesize(text: "pull through", outputRate: 48_000, maxDuration: 0.667)
        let calls = speech.synthesisCount
        #expect(calls >= 1)
        let second = try speech.synthesize(text: "pull through", outputRate: 48_000, maxDuration: 0.667)
        #expect(speech.synthesisCount == calls)
        #expect(speech.cacheHits == 1)
        #expect(second == first)
        // A tone of a cached cue needs no new synthesis either.
        _ = try speech.synthesize(text: "pull through", outputRate: 48_000, maxDuration: 0.667, style: .tone)
        #expect(speech.synthesisCount == calls)
        // Anything different is a new synthesis.
        _ = try speech.synthesize(text: "pull through", outputRate: 44_100, maxDuration: 0.667)
        #expect(speech.synthesisCount > calls)
        // A cue too long is answered from the cache too.
        _ = try? speech.synthesize(text: "relax the shoulders", outputRate: 48_000, maxDuration: 0.5)
        let afterTooLong = speech.synthesisCount
        #expect(throws: CueTooLong.self) {
            try speech.synthesize(text: "relax the shoulders", outputRate: 48_000, maxDuration: 0.5)
        }
        #expect(speech.synthesisCount == afterTooLong)
    }

    @Test("Every voice loads and speaks", arguments: Voice.allCases)
    func voiceLoads(voice: Voice) throws {
        #expect(SpeechSynthesizer.availableVoices.contains(voice))
        let cue = try SpeechSynthesizer().synthesize(text: "pull through", voice: voice, outputRate: 48_000)
        #expect(cue.voice == voice)
        #expect(cue.duration > 0.3 && cue.duration < 1.5)
        #expect(cue.syllables.count == 2)
    }

    @Test("Voices are found by short or flite name")
    func voiceNames() throws {
        #expect(Voice(name: "slt") == .slt)
        #expect(Voice(name: "cmu_us_kal16") == .kal16)
        #expect(Voice(name: "AWB") == .awb)
        #expect(Voice.default == .slt)
        #expect(throws: SpeechError.unknownVoice("bob", known: ["slt", "kal16", "awb", "rms"])) {
            try Voice.named("bob")
        }
    }

    @Test("Failing C calls become errors naming the call")
    func checkedCalls() throws {
        #expect(throws: SpeechError.returnedNull(call: "flite_synth_text")) {
            try CCall.nonNull(nil as UnsafeMutablePointer<Int>?, "flite_synth_text")
        }
        let error = try #require(throws: SpeechError.self) { try CCall.samplerate(10, "src_simple") }
        guard case .failed(let call, let code, let reason) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(call == "src_simple" && code == 10 && !reason.isEmpty)
        #expect(error.description.hasPrefix("src_simple failed: "))
        try CCall.samplerate(0, "src_simple")
    }

    @Test("Bad arguments are refused before any synthesis")
    func badArguments() {
        let speech = SpeechSynthesizer()
        #expect(throws: SpeechError.self) { try speech.synthesize(text: "go", outputRate: 0) }
        #expect(throws: SpeechError.self) { try speech.synthesize(text: "go", outputRate: 48_000, maxDuration: 0) }
        #expect(speech.synthesisCount == 0)
    }

    @Test("Concurrent requests are serialized and agree with serial ones")
    func concurrentSynthesis() async throws {
        let texts = ["pull through", "pop forwards", "go", "three", "two", "one"]
        let serial = SpeechSynthesizer()
        let expected = try texts.map { try serial.synthesize(text: $0, outputRate: 22_050).samples }
        let shared = SpeechSynthesizer()
        let results = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (index, text) in (texts + texts).enumerated() {
                group.addTask { (index % texts.count, try shared.synthesize(text: text, outputRate: 22_050).samples) }
            }
            var results: [(Int, [Float])] = []
            for try await result in group { results.append(result) }
            return results
        }
        let mismatches = results.filter { $0.1 != expected[$0.0] }.map { texts[$0.0] }
        #expect(mismatches.isEmpty)
        #expect(shared.synthesisCount == texts.count)
    }

    @Test("The same text gives the same samples every time")
    func deterministic() throws {
        let first = try SpeechSynthesizer().synthesize(text: "pop forwards", outputRate: 48_000)
        _ = try SpeechSynthesizer().synthesize(text: "relax the shoulders", outputRate: 48_000)
        let second = try SpeechSynthesizer().synthesize(text: "pop forwards", outputRate: 48_000)
        #expect(first.samples == second.samples)
    }
}
