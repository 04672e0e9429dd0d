import Foundation
import Testing
@testable import StrideCueCore
@testable import StrideCuePresets

private let file = "Presets/x.yaml"

private func decode(_ source: String) throws -> SessionPlan {
    try decodePreset(Array(source.utf8), file: file).plan
}

/// The full `file:line:column: message` a preset produces, or nil when it decodes.
private func decodeError(_ source: String) -> String? {
    do {
        _ = try decodePreset(Array(source.utf8), file: file)
        return nil
    } catch {
        return error.description
    }
}

@Suite struct PresetDecoderTests {
    // MARK: Plans

    @Test func absentKeysTakeTheirDefaults() throws {
        let preset = try decodePreset(Array("cadence: 180\n".utf8), file: "Presets/easy-run.yaml")
        #expect(preset.plan == SessionPlan(
            name: "easy-run", about: "", caution: "", cadence: 180, ramp: nil, countIn: 0, sets: 1,
            setLength: .duration(seconds: 600), rest: 0, accentEvery: 0, subdivide: 1, sound: "woodblock"))
        #expect(try decodePreset(Array("cadence: 180".utf8), file: "../my.drill.yml").plan.name == "my.drill")
        #expect(try decodePreset(Array("cadence: 180".utf8), file: "plain").plan.name == "plain")
    }

    @Test func everyKeyInBlockForm() throws {
        let plan = try decode("""
        name: "Strides"
        about: |
          Two lines
          of text.
        caution: 'Warm up first.'
        cadence: 172.5
        ramp:
          from: 160
          steps: 8
        count-in:
          steps: 3
        sets: 4
        set:
          duration: 1:30
        rest: 2 min
        accent: 4
        subdivide: 2
        sound: cow-bell2
        """)
        #expect(plan == SessionPlan(
            name: "Strides", about: "Two lines\nof text.", caution: "Warm up first.", cadence: 172.5,
            ramp: TempoRamp(from: 160, steps: 8), countIn: 3, sets: 4, setLength: .duration(seconds: 90),
            rest: 120, accentEvery: 4, subdivide: 2, sound: "cow-bell2"))
    }

    @Test func feedbackIsGuideUnlessThePresetSaysFade() throws {
        #expect(try decodePreset(Array("cadence: 180\n".utf8), file: "p.yaml").plan.feedback == FeedbackSettings(mode: .guide))
        #expect(try decodePreset(Array("cadence: 180\nfeedback: fade\n".utf8), file: "p.yaml").plan.feedback == FeedbackSettings(mode: .fade))
        #expect(try decodePreset(Array("cadence: 180\nfeedback: guide\n".utf8), file: "p.yaml").plan.feedback.mode == .guide)
    }

    @Test func feedbackSettingsReadWithTheirUnitsAndDefaults() throws {
        let fade = try decode("cadence: 180\nfeedback: {mode: fade, band: 3 spm, hold: 12 s}").feedback
        #expect(fade.mode == .fade && fade.band == 3 && fade.hold == 12 && fade.step == 0.02 && fade.spoken == nil)
        let nudge = try decode("cadence: 180\nfeedback:\n  mode: nudge\n  step: 3 %\n  band: 1.5\n").feedback
        #expect(nudge.mode == .nudge && nudge.step == 0.03 && nudge.band == 1.5 && nudge.hold == 8)
        // Any say- key turns the spoken nudge on; the others keep their defaults.
        let said = try decode("cadence: 180\nfeedback: {say-after: 20 s, say-under: pick it up}").feedback
        #expect(said.mode == .guide)
        let spoken = try #require(said.spoken)
        #expect(spoken.after == 20 && spoken.every == 30 && spoken.under == "pick it up" && spoken.over == "ease off")
        #expect(spoken.words(.under) == "pick it up" && spoken.words(.over) == "ease off")
        let every = try decode("cadence: 180\nfeedback: {mode: nudge, say-every: 1 min}").feedback.spoken
        #expect(every?.every == 60 && every?.after == 15 && every?.under == "quicker")
    }

    @Test func setLengthsInFlowForm() throws {
        #expect(try decode("cadence: 180\nset: {steps: 40}").setLength == .steps(40))
        #expect(try decode("cadence: 180\nset: {duration: 15 s}").setLength == .duration(seconds: 15))
        #expect(try decode("cadence: 180\nset: {distance: 1.2 km, step-length: 80 cm}").setLength
            == .distance(meters: 1200, stepLength: 0.8))
        #expect(try decode("cadence: 180\nset: {step-length: 0.5 m, distance: 20 m}").setLength
            == .distance(meters: 20, stepLength: 0.5))
    }

    @Test func countInAsANumberAndCuesAreKeptInTheTree() throws {
        let source = """
        cadence: 190
        count-in: 4
        cues:
          - at: 1
            say: pull through
          - {at: 9, say: pop forwards}
        """
        let preset = try decodePreset(Array(source.utf8), file: file)
        #expect(preset.plan.cadence == 190)
        #expect(preset.plan.countIn == 4)
        guard case .sequence(let cues, _)? = preset.root.entry("cues")?.value else {
            Issue.record("cues were not kept in the tree")
            return
        }
        #expect(cues.count == 2)
    }

    @Test func bumKicksPresetDecodes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("Presets/bum-kicks.yaml").path
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let plan = try decodePreset(Array(bytes), file: "Presets/bum-kicks.yaml").plan
        #expect(plan.name == "Bum kicks")
        #expect(plan.cadence == 190)
        #expect(plan.ramp == TempoRamp(from: 150, steps: 16))
        #expect(plan.countIn == 4)
        #expect(plan.sets == 2)
        #expect(plan.setLength == .distance(meters: 20, stepLength: 0.5))
        #expect(plan.rest == 60)
        #expect(plan.accentEvery == 2)
        #expect(plan.subdivide == 1)
        #expect(plan.sound == "woodblock")
        #expect(plan.caution.contains("hamstring"))
        #expect(!plan.about.isEmpty && !plan.about.contains("\n"))
    }

    // MARK: Errors

    @Test(arguments: [
        ("name: x\nsets: 1\ncadence: 0\n", "3:10: cadence must be between 30 and 300 steps per minute, got 0"),
        ("cadence: 300.5", "1:10: cadence must be between 30 and 300 steps per minute, got 300.5"),
        ("cadence: .nan", "1:10: cadence must be a finite number of steps per minute, got '.nan'"),
        ("cadence: nan", "1:10: cadence must be a finite number of steps per minute, got 'nan'"),
        ("cadence: -.inf", "1:10: cadence must be a finite number of steps per minute, got '-.inf'"),
        ("cadence: .inf", "1:10: cadence must be a finite number of steps per minute, got '.inf'"),
        ("cadence: 1e999", "1:10: cadence must be a finite number of steps per minute, got '1e999'"),
        ("cadence: fast", "1:10: cadence must be a number of steps per minute, got 'fast'"),
        ("cadence: 0x10", "1:10: cadence must be a number of steps per minute, got '0x10'"),
        ("cadence: [180]", "1:10: cadence must be a number of steps per minute, got a list"),
        ("cadence:\nsets: 1", "1:9: cadence needs a value"),
        ("cadence: \"1\\n2\"", "1:10: cadence must be a number of steps per minute, got '1\\n2'"),
        ("cadence: 180\nsets: two", "2:7: sets must be a whole number from 1 to 99, got 'two'"),
        ("cadence: 180\nsets: 100", "2:7: sets must be a whole number from 1 to 99, got 100"),
        ("cadence: 180\nsets: 2.5", "2:7: sets must be a whole number from 1 to 99, got 2.5"),
        ("cadence: 180\nsets: {n: 2}", "2:7: sets must be a whole number from 1 to 99, got a mapping"),
        ("cadence: 180\nramp: 150", "2:7: ramp must be a mapping like {from: 150, steps: 16}"),
        ("cadence: 180\nramp: {from: 10, steps: 16}", "2:14: ramp.from must be between 30 and 300 steps per minute, got 10"),
        ("cadence: 180\nramp: {from: .nan, steps: 16}", "2:14: ramp.from must be a finite number of steps per minute, got '.nan'"),
        ("cadence: 180\nramp: {from: 150, steps: 0}", "2:26: ramp.steps must be a whole number from 1 to 100000, got 0"),
        ("cadence: 180\nramp: {from: 150}", "2:7: ramp.steps is required (a whole number from 1 to 100000)"),
        ("cadence: 180\nramp: {steps: 16}", "2:7: ramp.from is required (steps per minute, 30–300)"),
        ("cadence: 180\nramp: {from: 150, stesp: 16}", "2:19: unknown key 'stesp' in ramp; did you mean 'steps'?"),
        ("cadence: 180\nfeedback: louder", "2:11: feedback must be guide, fade or nudge, got 'louder'"),
        ("cadence: 180\nfeedback: [fade]", "2:11: feedback must be guide, fade or nudge, or a mapping like {mode: fade, hold: 8 s}, got a list"),
        ("cadence: 180\nfeedback: {mode: loud}", "2:18: feedback.mode must be guide, fade or nudge, got 'loud'"),
        ("cadence: 180\nfeedback: {band: 30 spm}", "2:18: feedback.band must be from 0.5 to 20 spm, got '30 spm'"),
        ("cadence: 180\nfeedback: {band: wide}", "2:18: feedback.band must be a number like 2 spm, from 0.5 to 20 spm, got 'wide'"),
        ("cadence: 180\nfeedback: {mode: nudge, step: 20 %}", "2:31: feedback.step must be from 0.5 to 10 %, got '20 %'"),
        ("cadence: 180\nfeedback: {hold: 0 s}", "2:18: feedback.hold must be between 1 and 600 seconds, got '0 s'"),
        ("cadence: 180\nfeedback: {say-after: soon}", "2:23: feedback.say-after must be a duration like 60 s, 10 min or 1:30, got 'soon'"),
        ("cadence: 180\nfeedback: {say-under: ''}", "2:23: feedback.say-under must not be empty"),
        ("cadence: 180\nfeedback: {hlod: 8 s}", "2:12: unknown key 'hlod' in feedback; did you mean 'hold'?"),
        ("cadance: 180", "1:1: unknown key 'cadance'; did you mean 'cadence'?"),
        ("Cadence: 180", "1:1: unknown key 'Cadence'; did you mean 'cadence'?"),
        ("cadence: 180\ncount_in: 4", "2:1: unknown key 'count_in'; did you mean 'count-in'?"),
        ("cadence: 180\ntempo: 3", "2:1: unknown key 'tempo'; allowed keys: name, about, caution, cadence, ramp, count-in, sets, set, rest, accent, subdivide, sound, cues, feedback"),
        ("name: x\n", "1:1: cadence is required (steps per minute, 30–300)"),
        ("cadence: 180\ncount-in: 33", "2:11: count-in must be a whole number from 0 to 32, got 33"),
        ("cadence: 180\ncount-in: {steps: 4, shout: true}", "2:22: unknown key 'shout' in count-in; allowed keys: steps, say"),
        ("cadence: 180\ncount-in: {}", "2:11: count-in.steps is required (a whole number from 0 to 32)"),
        ("cadence: 180\nset: 40", "2:6: set must be a mapping like {steps: 40}, {duration: 15 s} or {distance: 20 m, step-length: 0.5 m}"),
        ("cadence: 180\nset: {}", "2:6: set needs one of steps, duration or distance"),
        ("cadence: 180\nset: {steps: 40, duration: 15 s}", "2:18: set takes only one of steps, duration or distance, and already has steps"),
        ("cadence: 180\nset: {distance: 20 m}", "2:17: set.distance needs set.step-length, the length of one step (like 0.5 m)"),
        ("cadence: 180\nset: {step-length: 0.5 m, steps: 4}", "2:7: set.step-length only goes with set.distance"),
        ("cadence: 180\nset: {steps: 0}", "2:14: set.steps must be a whole number from 1 to 1000000, got 0"),
        ("cadence: 180\nset: {duration: 15 parsecs}", "2:17: set.duration must be a duration like 60 s, 10 min or 1:30, got '15 parsecs'"),
        ("cadence: 180\nset: {duration: 25 h}", "2:17: set.duration must be between 0.1 and 86400 seconds, got '25 h'"),
        ("cadence: 180\nset: {distance: 0 m, step-length: 0.5 m}", "2:17: set.distance must be between 0.1 and 1000000 metres, got '0 m'"),
        ("cadence: 180\nset: {distance: far, step-length: 0.5 m}", "2:17: set.distance must be a distance like 20 m or 1.2 km, got 'far'"),
        ("cadence: 180\nset: {distance: 20 m, step-length: 2 km}", "2:36: set.step-length must be between 0.1 and 5 metres, got '2 km'"),
        ("cadence: 180\nset: {lenght: 3}", "2:7: unknown key 'lenght' in set; allowed keys: steps, duration, distance, step-length"),
        ("cadence: 180\nrest: 2 h", "2:7: rest must be between 0 and 3600 seconds, got '2 h'"),
        ("cadence: 180\nrest: -5", "2:7: rest must be a duration like 60 s, 10 min or 1:30, got -5"),
        ("cadence: 180\naccent: 65", "2:9: accent must be a whole number from 0 to 64, got 65"),
        ("cadence: 180\nsubdivide: 0", "2:12: subdivide must be a whole number from 1 to 4, got 0"),
        ("cadence: 180\nsound: my sound", "2:8: sound must be a name made of letters, digits and hyphens, like woodblock, got 'my sound'"),
        ("cadence: 180\nsound: ''", "2:8: sound must be a name made of letters, digits and hyphens, like woodblock, got ''"),
        ("cadence: 180\nname: ''", "2:7: name must not be empty"),
        ("cadence: 180\nname: [a]", "2:7: name must be text, got a list"),
        ("cadence: 180\ncadence: 190", "2:1: duplicate key 'cadence' (first at line 1)"),
    ] as [(String, String)])
    func refusedWithPositionedMessage(source: String, expected: String) {
        #expect(decodeError(source) == "\(file):\(expected)")
    }

    @Test func messagesNeverContainALineBreak() {
        let sources = [
            "cadence: \"fast\nand\nfurious\"",
            "cadence: |\n  1\n  2\n",
            "\"a\\nb\": 1\ncadence: 180",
            "cadence: 180\nsound: \"wood\\r\\nblock\"",
        ]
        for source in sources {
            let message = decodeError(source)
            #expect(message != nil)
            #expect(message?.contains("\n") == false, "\(message ?? "")")
            #expect(message?.contains("\r") == false, "\(message ?? "")")
        }
    }

    @Test func parseErrorsComeThroughDecodePresetWithTheFileAsGiven() {
        do {
            _ = try decodePreset([], file: "./my presets/run.yaml")
            Issue.record("an empty preset decoded")
        } catch {
            #expect(error.description == "./my presets/run.yaml:1:1: preset is empty")
        }
    }

    // MARK: Units

    @Test(arguments: [
        ("90s", 90.0), ("90 s", 90), ("45", 45), ("10m", 600), ("10 min", 600), ("2 minutes", 120),
        ("1h", 3_600), ("1.5h", 5_400), ("1:30", 90), ("1:02:03", 3_723), ("0:00:00.5", 0.5), (" 15 sec ", 15),
        ("0.25", 0.25), (".5 s", 0.5), ("1 Hour", 3_600),
    ] as [(String, Double)])
    func durationsAreRead(text: String, seconds: Double) {
        #expect(parseDuration(text) == seconds)
    }

    @Test(arguments: [
        "", "   ", "-5", "-5 s", "nan", "NaN", "inf", "+inf", "1e3", "10 parsecs", "s", "1..5", "1:75",
        "1:2:3:4", ":30", "1:", "1.5:30", "1 s s", "\(String(repeating: "9", count: 400)) h",
    ])
    func durationsAreRefused(text: String) {
        #expect(parseDuration(text) == nil)
    }

    @Test(arguments: [
        ("20 m", 20.0), ("20m", 20), ("0.5 m", 0.5), ("1.2 km", 1_200), ("400", 400), ("80 cm", 0.8), ("3 metres", 3),
    ] as [(String, Double)])
    func distancesAreRead(text: String, metres: Double) {
        #expect(parseDistance(text) == metres)
    }

    @Test(arguments: ["", "-20 m", "nan m", "inf", "20 mi", "m", "20 m 3", "1e2 m"])
    func distancesAreRefused(text: String) {
        #expect(parseDistance(text) == nil)
    }

    @Test func numbersAreFiniteNonFiniteOrNotNumbers() {
        #expect(readNumber("172.5") == .finite(172.5))
        #expect(readNumber("-3") == .finite(-3))
        #expect(readNumber("1e2") == .finite(100))
        #expect(readNumber("5.") == .finite(5))
        #expect(readNumber(".NaN") == .nonFinite)
        #expect(readNumber("+.inf") == .nonFinite)
        #expect(readNumber("1e999") == .nonFinite)
        #expect(readNumber("0x1p3") == .notANumber)
        #expect(readNumber("1e") == .notANumber)
        #expect(readNumber("") == .notANumber)
    }
}
