import Testing
@testable import StrideCueCore
@testable import StrideCuePresets

/// The one YAML schema presets are read with: YAML 1.2's core schema, and whatever YAML 1.1
/// readers would read differently refused with a hint, so a preset means the same to every
/// YAML reader or is refused.
@Suite struct PresetSchemaTests {
    private static let file = "Presets/x.yaml"

    private static func decodeError(_ source: String) -> String? {
        do {
            _ = try decodePreset(Array(source.utf8), file: file)
            return nil
        } catch {
            return error.description
        }
    }

    private static func plan(_ source: String) throws -> SessionPlan {
        try decodePreset(Array(source.utf8), file: file).plan
    }

    // MARK: No value

    @Test(arguments: [
        ("cadence: ~\n", "1:10: cadence needs a value; ~ means no value in YAML"),
        ("cadence: null\n", "1:10: cadence needs a value; null means no value in YAML"),
        ("cadence: NULL\n", "1:10: cadence needs a value; NULL means no value in YAML"),
        ("cadence:\nsets: 1", "1:9: cadence needs a value"),
        ("cadence: 180\nname: ~", "2:7: name needs a value; ~ means no value in YAML"),
        ("cadence: 180\nsets: Null", "2:7: sets needs a value; Null means no value in YAML"),
        ("cadence: 180\nrest: ~", "2:7: rest needs a value; ~ means no value in YAML"),
        ("cadence: 180\nramp: ~", "2:7: ramp needs a value; ~ means no value in YAML"),
        ("cadence: 180\nset: null", "2:6: set needs a value; null means no value in YAML"),
        ("cadence: 180\nsound: ~", "2:8: sound needs a value; ~ means no value in YAML"),
        ("cadence: 180\ncount-in: {steps: 4, say: ~}", "2:27: count-in.say needs a value; ~ means no value in YAML"),
        ("cadence: 180\ncues:\n  - say: ~", "3:10: cues.say needs a value; ~ means no value in YAML"),
        ("cadence: 180\ncues:\n  - {say: go, level: null}", "3:22: cues.level needs a value; null means no value in YAML"),
        ("cadence: 180\ncues:\n  - {say: go, style: ~}", "3:22: cues.style needs a value; ~ means no value in YAML"),
        ("cadence: 180\ncues:\n  - ~", "3:5: a cue needs a value; ~ means no value in YAML"),
    ])
    func nullIsNoValueWhereOneIsNeeded(source: String, error: String) {
        #expect(Self.decodeError(source) == "\(Self.file):\(error)")
    }

    @Test func nullWhereTextMayBeEmptyMeansNone() throws {
        let plan = try Self.plan("cadence: 180\nabout: ~\ncaution: null\n")
        #expect(plan.about == "")
        #expect(plan.caution == "")
        #expect(plan.cautionTime == nil)
    }

    @Test func quotedTildeAndNullAreText() throws {
        let plan = try Self.plan("cadence: 180\nname: '~'\nabout: \"null\"\n")
        #expect(plan.name == "~")
        #expect(plan.about == "null")
    }

    // MARK: Numbers

    @Test(arguments: [
        ("cadence: 010\n", "1:10: cadence 010 has a leading zero, which YAML 1.1 reads as octal; write it without the zero"),
        ("cadence: 0180\n", "1:10: cadence 0180 has a leading zero, which YAML 1.1 reads as octal; write it without the zero"),
        ("cadence: 180\nsets: 03", "2:7: sets 03 has a leading zero, which YAML 1.1 reads as octal; write it without the zero"),
        ("cadence: 180\nrest: 060", "2:7: rest 060 has a leading zero, which YAML 1.1 reads as octal; write it without the zero"),
        ("cadence: 180\ncount-in: {steps: 04}", "2:19: count-in.steps 04 has a leading zero, which YAML 1.1 reads as octal; write it without the zero"),
        ("cadence: 180\ncues:\n  - {say: go, at: 010}", "3:19: cues.at 010 has a leading zero, which YAML 1.1 reads as octal; write it without the zero"),
        ("cadence: 180\ncues:\n  - {say: go, level: -03}", "3:22: cues.level -03 has a leading zero, which YAML 1.1 reads as octal; write it without the zero"),
    ])
    func leadingZeroIntegersAreAmbiguous(source: String, error: String) {
        #expect(Self.decodeError(source) == "\(Self.file):\(error)")
    }

    @Test func zeroAndDecimalsWithALeadingZeroAreNumbers() throws {
        let plan = try Self.plan("cadence: 180\naccent: 0\nrest: 0.5 min\nset: {distance: 20 m, step-length: 0.5 m}\n")
        #expect(plan.accentEvery == 0)
        #expect(plan.rest == 30)
        #expect(plan.setLength == .distance(meters: 20, stepLength: 0.5))
        // A duration's seconds field is not a YAML integer: 1:05 is 65 s.
        #expect(try Self.plan("cadence: 180\nrest: 1:05\n").rest == 65)
    }

    @Test(arguments: [
        ("cadence: \"180\"\n", "1:10: cadence must be a number, not the quoted text '180'; write it without quotes"),
        ("cadence: '172.5'\n", "1:10: cadence must be a number, not the quoted text '172.5'; write it without quotes"),
        ("cadence: 180\nsets: '2'", "2:7: sets must be a number, not the quoted text '2'; write it without quotes"),
        ("cadence: 180\nramp: {from: \"150\", steps: 8}", "2:14: ramp.from must be a number, not the quoted text '150'; write it without quotes"),
    ])
    func quotedNumbersAreRefusedWithAHint(source: String, error: String) {
        #expect(Self.decodeError(source) == "\(Self.file):\(error)")
    }

    @Test func measuresWithUnitsMayBeQuoted() throws {
        // YAML writers quote `1:30` (a base-60 integer to YAML 1.1); a duration is text with a unit.
        let plan = try Self.plan("cadence: 180\nrest: '1:30'\nset: {duration: \"15 s\"}\n")
        #expect(plan.rest == 90)
        #expect(plan.setLength == .duration(seconds: 15))
    }

    // MARK: Booleans

    @Test(arguments: ["true", "True", "TRUE"])
    func coreSchemaTrueSpeaksTheCountIn(word: String) throws {
        #expect(try Self.plan("cadence: 180\ncount-in: {steps: 4, say: \(word)}").countInSpoken)
    }

    @Test func coreSchemaFalseKeepsItSilent() throws {
        #expect(try !Self.plan("cadence: 180\ncount-in: {steps: 4, say: FALSE}").countInSpoken)
    }

    @Test(arguments: [
        ("yes", "2:27: count-in.say must be true or false; 'yes' means true only to YAML 1.1 readers, so write true"),
        ("On", "2:27: count-in.say must be true or false; 'On' means true only to YAML 1.1 readers, so write true"),
        ("off", "2:27: count-in.say must be true or false; 'off' means false only to YAML 1.1 readers, so write false"),
        ("n", "2:27: count-in.say must be true or false; 'n' means false only to YAML 1.1 readers, so write false"),
        ("'true'", "2:27: count-in.say must be true or false, not the quoted text 'true'; write it without quotes"),
        ("\"false\"", "2:27: count-in.say must be true or false, not the quoted text 'false'; write it without quotes"),
        ("1", "2:27: count-in.say must be true or false, got 1"),
    ])
    func onlyTrueAndFalseAreBooleans(word: String, error: String) {
        #expect(Self.decodeError("cadence: 180\ncount-in: {steps: 4, say: \(word)}") == "\(Self.file):\(error)")
    }

    @Test(arguments: [
        ("cadence: 180\nname: yes", "2:7: name 'yes' reads as a yes/no value in YAML; to mean the text, quote it: name: 'yes'"),
        ("cadence: 180\nname: true", "2:7: name 'true' reads as a yes/no value in YAML; to mean the text, quote it: name: 'true'"),
        ("cadence: 180\nabout: No", "2:8: about 'No' reads as a yes/no value in YAML; to mean the text, quote it: about: 'No'"),
        ("cadence: 180\ncaution: {say: OFF}", "2:16: caution.say 'OFF' reads as a yes/no value in YAML; to mean the text, quote it: say: 'OFF'"),
        ("cadence: 180\ncues:\n  - say: off", "3:10: cues.say 'off' reads as a yes/no value in YAML; to mean the text, quote it: say: 'off'"),
        ("cadence: 180\ncues:\n  - sound: on", "3:12: cues.sound 'on' reads as a yes/no value in YAML; to mean the text, quote it: sound: 'on'"),
        ("cadence: 180\nsound: no", "2:8: sound 'no' reads as a yes/no value in YAML; to mean the text, quote it: sound: 'no'"),
        ("cadence: 180\nname: 007", "2:7: name '007' reads as a number with a leading zero in YAML; to mean the text, quote it: name: '007'"),
    ])
    func yesNoWordsAndOctalsInTextAreRefusedWithAHint(source: String, error: String) {
        #expect(Self.decodeError(source) == "\(Self.file):\(error)")
    }

    @Test func quotedYesNoWordsAreText() throws {
        let plan = try Self.plan("cadence: 180\nname: 'yes'\ncues:\n  - say: \"off\"\n")
        #expect(plan.name == "yes")
        #expect(plan.cues.first?.source == .say("off"))
        // Words that merely start like one are text as they stand.
        #expect(try Self.plan("cadence: 180\nname: yes please\n").name == "yes please")
    }

    // MARK: Line breaks YAML readers disagree on

    @Test(arguments: [
        ("# a comment\u{2028}cadence: 200\ncadence: 180\n", 1, 12, "preset contains U+2028 (line separator), which some YAML readers take as a line break; use a plain line break"),
        ("cadence: 180 # fast\u{2029}sets: 9\n", 1, 20, "preset contains U+2029 (paragraph separator), which some YAML readers take as a line break; use a plain line break"),
        ("cadence: 180\nname: a\u{85}b\n", 2, 8, "preset contains U+0085 (next line), which some YAML readers take as a line break; use a plain line break"),
        ("cadence: 180\nname: \u{9B}2J\n", 2, 7, "preset contains the control character U+009B; is it a binary file?"),
        ("\u{FEFF}name: a\n\u{FEFF}cadence: 180\n", 2, 1, "preset contains a byte order mark (U+FEFF) after its start; remove it"),
    ])
    func unicodeLineBreaksAndC1ControlsAreRefused(source: String, line: Int, column: Int, message: String) {
        var thrown: PresetError?
        do { _ = try parseYAML(Array(source.utf8), file: Self.file) } catch { thrown = error }
        #expect(thrown == PresetError(file: Self.file, line: line, column: column, message: message))
    }

    @Test func escapedLineSeparatorInQuotesIsText() throws {
        // Written as an escape, U+2028 is a character of the value, not a break in the file.
        let plan = try Self.plan("cadence: 180\nname: \"a\\Lb\"\n")
        #expect(plan.name == "a\u{2028}b")
    }

    // MARK: What other YAML readers refuse

    @Test(arguments: [
        ("a: 1\n\t\n", 2, 1, "tab in indentation; indent with spaces"),
        ("a: 1\n  \t# note\nb: 2\n", 2, 3, "tab in indentation; indent with spaces"),
        ("a: 1\n|b: 2\n", 2, 1, "a key cannot start with '|'; quote it"),
        ("a: 1\n>b: 2\n", 2, 1, "a key cannot start with '>'; quote it"),
        ("a: 1\n[b: 2\n", 2, 1, "a key cannot start with '['; quote it"),
        ("a: 1\n{b: 2\n", 2, 1, "a key cannot start with '{'; quote it"),
        ("a: {b:}\n", 1, 6, "put a space after ':' in { }"),
        ("a: {\n  b\n  : 1}\n", 3, 3, "the ':' after a key must be on the key's line"),
        ("about: >\n      \n  text\n", 3, 3, "the text's first line is indented less than an empty line above it; remove the spaces from the empty line"),
    ])
    func whatLibYAMLRefusesIsRefusedWithAPosition(source: String, line: Int, column: Int, message: String) {
        var thrown: PresetError?
        do { _ = try parseYAML(Array(source.utf8), file: Self.file) } catch { thrown = error }
        #expect(thrown == PresetError(file: Self.file, line: line, column: column, message: message))
    }

    @Test(arguments: [
        ("about: |+\n  one", "one"),
        ("about: |+\n  one\n", "one\n"),
        ("about: |+\n  one\n\n", "one\n\n"),
        ("about: |+\n  one\n\n  ", "one\n\n"),
        ("about: >\n  one\n  two", "one two"),
        ("about: >\n  #", "#"),
    ])
    func blockTextEndingTheFileKeepsOnlyTheBreaksThere(source: String, text: String) throws {
        guard case .scalar(let value, _, _)? = try parseYAML(Array(source.utf8), file: Self.file).entry("about")?.value else {
            Issue.record("no about in \(source.debugDescription)")
            return
        }
        #expect(value == text)
    }

    // MARK: Edits keep to the schema

    @Test func editsQuoteTextThatWouldReadAsAnotherType() throws {
        let source = Array("name: Drill\ncadence: \"180\"\ncount-in: {steps: 4, say: false}\ncues:\n  - say: go\n".utf8)
        let result = try editPreset(source, file: Self.file, assignments: [
            PresetAssignment(parsing: "name=yes")!, PresetAssignment(parsing: "cadence=185")!,
            PresetAssignment(parsing: "count-in.say=true")!, PresetAssignment(parsing: "cues.1.say=~")!,
        ])
        #expect(String(decoding: result.text, as: UTF8.self)
            == "name: \"yes\"\ncadence: 185\ncount-in: {steps: 4, say: true}\ncues:\n  - say: \"~\"\n")
        #expect(result.preset.plan.name == "yes")
        #expect(result.preset.plan.cadence == 185)
        #expect(result.preset.plan.countInSpoken)
        #expect(result.preset.plan.cues.first?.source == .say("~"))
    }
}
