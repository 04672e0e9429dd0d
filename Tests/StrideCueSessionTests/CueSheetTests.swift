import StrideCueCore
import StrideCueSession
import Testing

/// The cue sheet: one row per cue, where it is heard.
@Suite("The cue sheet")
struct CueSheetTests {
    @Test func theCueSheetListsEachCueAsHeard() {
        var plan = SessionPlan(cadence: 180, setLength: .steps(8))
        plan.cues = [CueSpec(.say("pull, through"), timing: .every(4), steps: 1)]
        let rate = 1_000
        let voices = CueVoices(sampleRate: rate, cues: [[CueSound(samples: [Float](repeating: 0.5, count: 250))]])
        let sheet = makeCueSheet(plan: plan, voices: voices, totalFrames: Renderer.totalFrames(of: plan, sampleRate: rate, maxDuration: nil))
        // Steps 1 and 5 at 180 spm: 0 s and 4/3 s; each cue 0.25 s; a comma in the text is quoted.
        #expect(sheet == "start,end,step,text,style\n0.000,0.250,1,\"pull, through\",voice\n1.333,1.583,5,\"pull, through\",voice\n")
    }

    @Test func aCueSheetWithoutCuesIsItsHeaderAlone() {
        let plan = SessionPlan(cadence: 180, setLength: .steps(8))
        #expect(makeCueSheet(plan: plan, voices: nil, totalFrames: 100) == "start,end,step,text,style\n")
    }
}
