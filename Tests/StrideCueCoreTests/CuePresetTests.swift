import Foundation
import Testing
@testable import StrideCueCore
@testable import StrideCuePresets

private let file = "Presets/x.yaml"

private func plan(_ source: String) throws -> SessionPlan {
    try decodePreset(Array(source.utf8), file: file).plan
}

private func failure(_ source: String) -> String? {
    do {
        _ = try decodePreset(Array(source.utf8), file: file)
        return nil
    } catch {
        return error.description
    }
}

@Suite("Cues: preset keys")
struct CuePresetTests {
    @Test func everyCueKeyInBlockAndFlowForm() throws {
        let p = try plan("""
        cadence: 180
        count-in: {steps: 4, say: true}
        cues:
          - say: pull through     # the swing leg
            every: 4
            offset: 2
            steps: 3
            style: both
            voice: cmu_us_AWB
            align: stress
            level: -3 dB
          - {sound: Sounds/cues/go.wav, at: set-end, level: -6dB}
          - {say: halfway there, at: halfway, style: tone}
          - {say: twelve, at: step 12, level: "0"}
          - {say: start, at: set-start}
          - {say: on one, at: 1}
          - say: no timing means the set's start
        """)
        #expect(p.countIn == 4 && p.countInSpoken)
        #expect(p.cues == [
            CueSpec(.say("pull through"), timing: .every(4), offset: 2, steps: 3, style: .both, voice: "awb",
                    align: .stress, level: -3),
            CueSpec(.sound("Sounds/cues/go.wav"), timing: .setEnd, level: -6),
            CueSpec(.say("halfway there"), timing: .halfway, style: .tone),
            CueSpec(.say("twelve"), timing: .step(12)),
            CueSpec(.say("start"), timing: .setStart),
            CueSpec(.say("on one"), timing: .step(1)),
            CueSpec(.say("no timing means the set's start"), timing: .setStart),
        ])
    }

    @Test func countInWithoutSayAndCautionForms() throws {
        #expect(try plan("cadence: 180\ncount-in: {steps: 3, say: false}").countInSpoken == false)
        #expect(try plan("cadence: 180\ncount-in: {steps: 3}").countInSpoken == false)
        #expect(try plan("cadence: 180\ncount-in: 3").countInSpoken == false)
        let caution = try plan("cadence: 180\ncaution: {say: Warm up first., time: 9 s}")
        #expect(caution.caution == "Warm up first." && caution.cautionTime == 9 && caution.cautionLead == 9)
        let plain = try plan("cadence: 180\ncaution: Warm up first.")
        #expect(plain.cautionTime == nil && plain.cautionLead == SessionPlan.defaultCautionTime)
        #expect(try plan("cadence: 180").cautionLead == 0)
    }

    @Test func theShippedBumKicksSpeaksItsCues() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let bytes = try #require(FileManager.default.contents(atPath: root.appendingPathComponent("Presets/bum-kicks.yaml").path))
        let p = try decodePreset(Array(bytes), file: "Presets/bum-kicks.yaml").plan
        #expect(p.cues.map(\.label) == ["pull through", "pop forwards"])
        #expect(p.cues[0].align == .stress)
        #expect(p.countInSpoken && p.countIn == 4)
        #expect(p.cautionLead == SessionPlan.defaultCautionTime)
        // "pull THROUGH" lands on the unaccented foot's contact, "pop" on the accented one's.
        #expect(p.cues.map { $0.falls(onStep: 1, ofSetOf: 40) } == [true, false])
        #expect(p.cues.map { $0.falls(onStep: 4, ofSetOf: 40) } == [false, true])
        #expect(p.accentEvery == 2)
    }

    @Test(arguments: [
        ("cadence: 180\ncount-in: {steps: 4, say: maybe}", "2:27: count-in.say must be true or false, got 'maybe'"),
        ("cadence: 180\ncount-in: {steps: 4, sya: true}", "2:22: unknown key 'sya' in count-in; did you mean 'say'?"),
        ("cadence: 180\ncaution: {time: 8 s}", "2:10: caution.say is required (the words of the caution)"),
        ("cadence: 180\ncaution: {say: Careful., time: 0.5 s}", "2:32: caution.time must be between 1 and 120 seconds, got '0.5 s'"),
        ("cadence: 180\ncaution: [a]", "2:10: caution must be text, or a mapping like {say: Not with a hamstring injury., time: 8 s}, got a list"),
        ("cadence: 180\ncues: pull through", "2:7: cues must be a list of cues like - {say: pull through, every: 4}, got 'pull through'"),
        ("cadence: 180\ncues:\n  - pull through", "3:5: a cue must be a mapping like {say: pull through, every: 4}, got 'pull through'"),
        ("cadence: 180\ncues:\n  - {every: 4}", "3:5: a cue needs say: TEXT or sound: FILE"),
        ("cadence: 180\ncues:\n  - {say: a, sound: b.wav, every: 4}", "3:14: a cue takes say or sound, not both (the other is at line 3)"),
        ("cadence: 180\ncues:\n  - {say: '', every: 4}", "3:11: cues.say must not be empty"),
        ("cadence: 180\ncues:\n  - {say: \"a\\nb\", every: 4}", "3:11: cues.say must be one line of text without control characters"),
        ("cadence: 180\ncues:\n  - {say: a, every: 0}", "3:21: cues.every must be a whole number from 1 to 10000, got 0"),
        ("cadence: 180\ncues:\n  - {say: a, every: 4, at: halfway}", "3:24: a cue takes every or at, not both; it already has every"),
        ("cadence: 180\ncues:\n  - {say: a, at: the end}", "3:18: cues.at must be set-start, set-end, halfway or step N, got 'the end'"),
        ("cadence: 180\ncues:\n  - {say: a, at: step 0}", "3:18: cues.at must be a step from 1 to 1000000, got 'step 0'"),
        ("cadence: 180\ncues:\n  - {say: a, at: halfway, offset: 2}", "3:27: cues.offset only goes with every"),
        ("cadence: 180\ncues:\n  - {say: a, every: 4, offset: 0}", "3:32: cues.offset must be a whole number from 1 to 1000000, got 0"),
        ("cadence: 180\ncues:\n  - {say: a, every: 4, steps: 65}", "3:31: cues.steps must be a whole number from 1 to 64, got 65"),
        ("cadence: 180\ncues:\n  - {say: a, every: 4, style: words}", "3:31: cues.style must be voice, tone or both, got 'words'"),
        ("cadence: 180\ncues:\n  - {say: a, every: 4, align: end}", "3:31: cues.align must be start or stress, got 'end'"),
        ("cadence: 180\ncues:\n  - {say: a, every: 4, voice: hal}", "3:31: cues.voice must be one of slt, kal16, awb, rms, got 'hal'"),
        ("cadence: 180\ncues:\n  - {say: a, every: 4, level: +3 dB}", "3:31: cues.level must be from -40 to 0 dB (0 dB is the loudest a cue can be without the mix clipping), got '+3 dB'"),
        ("cadence: 180\ncues:\n  - {say: a, every: 4, level: loud}", "3:31: cues.level must be a level like -3 dB, from -40 to 0 dB, got 'loud'"),
        ("cadence: 180\ncues:\n  - {say: a, every: 4, levle: -3 dB}", "3:24: unknown key 'levle' in cues; did you mean 'level'?"),
        ("cadence: 180\ncues:\n  - {say: a, every: 4, pitch: high}", "3:24: unknown key 'pitch' in cues; allowed keys: say, sound, every, at, offset, steps, style, voice, align, level"),
        ("cadence: 180\ncues:\n  - {sound: go.wav, every: 4, style: tone}", "3:31: cues.style tone needs say: TEXT; a recording plays as it is"),
        ("cadence: 180\ncues:\n  - {sound: go.wav, every: 4, align: stress}", "3:31: cues.align stress needs say: TEXT; a recording starts on its step"),
        ("cadence: 180\ncues:\n  - {sound: go.wav, every: 4, voice: slt}", "3:31: cues.voice goes with say: TEXT, not with a recording"),
        ("cadence: 180\nset: {steps: 40}\ncues:\n  - {say: a, at: step 41}", "4:18: cues.at step 41 is past the last step of a set (40)"),
        ("cadence: 180\ncues:\n  - {say: a, every: 4, offset: 41}\nset: {distance: 20 m, step-length: 0.5 m}", "3:32: cues.offset 41 is past the last step of a set (40)"),
    ] as [(String, String)])
    func refusedWithPositionedMessage(source: String, expected: String) {
        #expect(failure(source) == "\(file):\(expected)")
    }

    @Test func tooManyCuesAreRefused() {
        let source = "cadence: 180\ncues:\n" + String(repeating: "  - {say: a, every: 4}\n", count: 65)
        #expect(failure(source) == "\(file):3:3: cues may hold at most 64 cues, got 65")
    }
}
