import Testing
import StrideCueCore
@testable import StrideCueSpeech

@Suite("Speech: cue styles and voices as presets name them")
struct CueStyleTests {
    @Test("The voices a preset may name are the voices flite has here")
    func presetVoicesAreTheBuiltInVoices() {
        #expect(CueLimits.voices == Voice.allCases.map(\.rawValue))
        for name in CueLimits.voices { #expect(Voice(name: name) != nil) }
    }

    @Test("style both is two cues: one synthesis is refused")
    func bothIsRefused() {
        #expect(throws: SpeechError.self) {
            try SpeechSynthesizer().synthesize(text: "pop", outputRate: 48_000, style: .both)
        }
    }

    @Test("A tone and the words of the same cue fit the same steps, with the same syllable timing")
    func toneAndWordsShareTheirTiming() throws {
        let speech = SpeechSynthesizer()
        let words = try speech.synthesize(text: "pop forwards", outputRate: 48_000, maxDuration: 0.6)
        let tone = try speech.synthesize(text: "pop forwards", outputRate: 48_000, maxDuration: 0.6, style: .tone)
        #expect(tone.samples.count == words.samples.count && tone.stressOffset == words.stressOffset)
        #expect(words.duration <= 0.6)
    }
}
