import Testing
@testable import StrideCueCore
@testable import StrideCuePresets

private let file = "Presets/x.yaml"

/// A preset written the way coaches write them: comments everywhere, flow and block
/// mappings, quoted and block text, odd alignment.
private let sample = """
# Sample drill.
---
name: 'Sample drill'   # quoted on purpose

about: >
  Two lines of text
  folded into one.

caution: "Careful: it bites."
cadence: 190                  # after the ramp
ramp: {from: 150, steps: 16}
count-in: 4
sets: 2
set:
  distance: 20 m              # a short run
  step-length: 0.5 m
rest: 60 s
accent: 2
sound: woodblock
cues:
  - say: pull through
    every: 4
  - say: "pop forwards"
    at: halfway

# Trailing comment.

"""

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Applies one change and checks that it is one contiguous splice: every byte before and after
/// it is the original. A replaced value differs only inside the range `set` reports; an added
/// key also brings its line break and indentation, so its change stays within its lines.
private func edit(_ source: String, _ key: String, _ value: String) throws -> (String, Range<Int>) {
    var editor = try PresetEditor(bytes(source), file: file)
    let range = try editor.set(PresetKeyPath(parsing: key)!, to: value)
    let original = bytes(source)
    let after = editor.text
    var prefix = 0
    while prefix < min(original.count, after.count) && original[prefix] == after[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < min(original.count, after.count) - prefix
            && original[original.count - 1 - suffix] == after[after.count - 1 - suffix] { suffix += 1 }
    let changed = prefix..<(after.count - suffix)
    let added = editor.node(at: PresetKeyPath(parsing: key)!).map { _ in original.count - prefix - suffix == 0 } ?? false
    if added {
        let lineStart = after[..<range.lowerBound].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        let lineEnd = after[range.upperBound...].firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? after.count
        // Some run of the new bytes within those lines, taken out, gives back the original.
        let delta = after.count - original.count
        let found = (max(0, lineStart - 2)...max(0, min(lineEnd, after.count) - delta)).contains { i in
            Array(after[..<i] + after[(i + delta)...]) == original
        }
        #expect(found, "\(key)")
    } else {
        #expect(changed.isEmpty || (changed.lowerBound >= range.lowerBound && changed.upperBound <= range.upperBound), "\(key)")
    }
    return (text(after), range)
}

@Suite struct PresetEditorTests {
    // MARK: Replacing values

    @Test func plainValueChangesAndNothingElse() throws {
        let (after, range) = try edit(sample, "cadence", "185")
        #expect(after == sample.replacingOccurrences("cadence: 190 ", with: "cadence: 185 "))
        #expect(text(Array(bytes(after)[range])) == "185")
    }

    @Test func flowMappingValueChangesInPlace() throws {
        let (after, _) = try edit(sample, "ramp.from", "160")
        #expect(after == sample.replacingOccurrences("{from: 150, steps: 16}", with: "{from: 160, steps: 16}"))
    }

    @Test func blockMappingValueChangesInPlace() throws {
        let (after, _) = try edit(sample, "set.distance", "25 m")
        #expect(after == sample.replacingOccurrences("distance: 20 m ", with: "distance: 25 m "))
    }

    @Test func quotedValuesKeepTheirQuotes() throws {
        let (single, _) = try edit(sample, "name", "It's mine")
        #expect(single.contains("name: 'It''s mine'   # quoted on purpose\n"))
        let (double, _) = try edit(sample, "caution", "Say \"no\"")
        #expect(double.contains("caution: \"Say \\\"no\\\"\"\n"))
    }

    @Test func valuesYAMLWouldMisreadAreQuoted() throws {
        for (value, written) in [
            ("Hold: then go", "\"Hold: then go\""),
            ("a # b", "\"a # b\""),
            ("- dash", "\"- dash\""),
            ("", "\"\""),
            (" padded ", "\" padded \""),
            ("*alias", "\"*alias\""),
            ("two\nlines", "\"two\\nlines\""),
        ] {
            let (after, _) = try edit(sample, "sound", value)
            #expect(after.contains("sound: \(written)\n"), "\(value)")
        }
        // In a flow mapping, commas and brackets need quotes too.
        let (flow, _) = try edit(sample, "ramp.from", "1,2")
        #expect(flow.contains("ramp: {from: \"1,2\", steps: 16}"))
    }

    @Test func foldedTextStaysABlockAndIsWrapped() throws {
        let long = String(repeating: "Drive the knee and land under the hips. ", count: 4).trimmingBlanks()
        let (after, _) = try edit(sample, "about", long)
        let block = after.split(separator: "\n", omittingEmptySubsequences: false)
        let start = block.firstIndex(of: "about: >")!
        #expect(block[start + 1].hasPrefix("  Drive the knee"))
        let lines = block[(start + 1)...].prefix { !$0.isEmpty }
        #expect(lines.count > 1 && lines.allSatisfy { $0.count <= 80 && $0.hasPrefix("  ") })
        let decoded = try decodePreset(bytes(after), file: file).plan
        #expect(decoded.about == long)
    }

    @Test func everyKindOfValueReadsBackAsWritten() throws {
        let values = ["185", "Hold: then go", "it's", "say \"go\"", "a # b", "ünïcödé ✓", "#hash", "x:y", "1:30",
                      "trailing:", "{brace}", "[list]", "a, b", "-5", "?", "~", "null", "@home", "`tick`", "tab\there"]
        for key in ["name", "caution", "about", "sound", "ramp.from", "set.distance", "cues.1.say", "cues.2.say"] {
            for value in values {
                var editor = try PresetEditor(bytes(sample), file: file)
                try editor.set(PresetKeyPath(parsing: key)!, to: value)
                var read = editor.value(at: PresetKeyPath(parsing: key)!) ?? "<absent>"
                while read.hasSuffix("\n") { read.removeLast() }
                #expect(read == value, "\(key)=\(value)")
            }
        }
    }

    // MARK: Adding keys

    @Test func missingTopLevelKeyGoesWhereTheDocumentationListsIt() throws {
        let (after, range) = try edit(sample, "subdivide", "2")
        #expect(after.contains("accent: 2\nsubdivide: 2\nsound: woodblock\n"))
        #expect(text(Array(bytes(after)[range])) == "subdivide: 2")
    }

    @Test func missingFirstKeyGoesBeforeTheFirstKey() throws {
        let source = "# Header.\ncadence: 180\n"
        let (after, _) = try edit(source, "name", "Easy")
        #expect(after == "# Header.\nname: Easy\ncadence: 180\n")
    }

    @Test func missingKeyAfterTheLastKeepsATrailingComment() throws {
        let source = "cadence: 180   # fast\n# the end\n"
        let (after, _) = try edit(source, "sound", "beep")
        #expect(after == "cadence: 180   # fast\nsound: beep\n# the end\n")
    }

    @Test func missingNestedKeyInAFlowMapping() throws {
        let (after, _) = try edit("cadence: 180\nramp: {from: 150}\n", "ramp.steps", "16")
        #expect(after == "cadence: 180\nramp: {from: 150, steps: 16}\n")
        let (before, _) = try edit("cadence: 180\nramp: {steps: 16}\n", "ramp.from", "150")
        #expect(before == "cadence: 180\nramp: {from: 150, steps: 16}\n")
        let (empty, _) = try edit("cadence: 180\nramp: {}\n", "ramp.from", "150")
        #expect(empty == "cadence: 180\nramp: {from: 150}\n")
    }

    @Test func missingNestedKeyInABlockMappingLinesUp() throws {
        let (after, _) = try edit("cadence: 180\nramp:\n    from: 150   # slow\nsets: 2\n", "ramp.steps", "16")
        #expect(after == "cadence: 180\nramp:\n    from: 150   # slow\n    steps: 16\nsets: 2\n")
    }

    @Test func missingKeyInAListItem() throws {
        let (after, _) = try edit(sample, "cues.2.steps", "3")
        #expect(after.contains("  - say: \"pop forwards\"\n    at: halfway\n    steps: 3\n"))
    }

    @Test func missingParentBecomesAFlowMapping() throws {
        let (after, _) = try edit("cadence: 180\nsets: 2\n", "ramp.from", "160")
        #expect(after == "cadence: 180\nramp: {from: 160}\nsets: 2\n")
    }

    @Test func plainValueUnderANewKeyBecomesAMapping() throws {
        let (after, _) = try edit("cadence: 180\ncount-in: 4   # clicks\n", "count-in.steps", "6")
        #expect(after == "cadence: 180\ncount-in: {steps: 6}   # clicks\n")
    }

    @Test func emptyValueGetsASpaceAfterItsColon() throws {
        let (after, _) = try edit("cadence: 180\nabout:\nsets: 2\n", "about", "Fast feet")
        #expect(after == "cadence: 180\nabout: Fast feet\nsets: 2\n")
    }

    @Test func windowsLineEndingsAreKept() throws {
        let (after, _) = try edit("cadence: 180\r\nsets: 2\r\n", "rest", "30 s")
        #expect(after == "cadence: 180\r\nsets: 2\r\nrest: 30 s\r\n")
    }

    // MARK: Refusals

    @Test func pathsThatNameNoValueAreRefused() throws {
        var editor = try PresetEditor(bytes(sample), file: file)
        let cases: [(String, String)] = [
            ("cues", "cues is a list; set a key of one of its items, like cues.1.say"),
            ("ramp", "ramp is a mapping; set one of its keys, like ramp.from"),
            ("cues.4.say", "cues has 2 items, counted from 1; there is no item 4"),
            ("cues.say", "cues is a list; name an item by its number, like cues.1"),
            ("ramp.1", "ramp is a mapping, not a list; name one of its keys"),
        ]
        for (key, message) in cases {
            #expect(throws: PresetEditError(message)) { try editor.set(PresetKeyPath(parsing: key)!, to: "1") }
        }
        #expect(editor.text == bytes(sample))
    }

    @Test func keyPathsParse() {
        #expect(PresetKeyPath(parsing: "ramp.from")?.components == [.key("ramp"), .key("from")])
        #expect(PresetKeyPath(parsing: "cues.2.say")?.components == [.key("cues"), .item(2), .key("say")])
        for bad in ["", ".", "ramp.", ".ramp", "2.say", "cues.0.say", "a b", "ramp..from", "x=y", "ключ"] {
            #expect(PresetKeyPath(parsing: bad) == nil, "\(bad)")
        }
        #expect(PresetAssignment(parsing: "about=a=b")?.value == "a=b")
        #expect(PresetAssignment(parsing: "rest=")?.value == "")
        #expect(PresetAssignment(parsing: "cadence") == nil)
        #expect(PresetAssignment(parsing: "=180") == nil)
    }

    // MARK: Checked changes

    @Test func changesAreCheckedByDecodingTheResult() throws {
        let result = try editPreset(bytes(sample), file: file, assignments: [
            PresetAssignment(parsing: "cadence=185")!, PresetAssignment(parsing: "ramp.from=160")!,
            PresetAssignment(parsing: "sets=3")!, PresetAssignment(parsing: "rest=90s")!,
        ])
        let plan = result.preset.plan
        #expect(plan.cadence == 185 && plan.ramp == TempoRamp(from: 160, steps: 16) && plan.sets == 3 && plan.rest == 90)
        #expect(result.changes.map(\.old) == ["190", "150", "2", "60 s"])
        let expected = sample.replacingOccurrences("cadence: 190", with: "cadence: 185")
            .replacingOccurrences("from: 150", with: "from: 160").replacingOccurrences("sets: 2", with: "sets: 3")
            .replacingOccurrences("rest: 60 s", with: "rest: 90 s")
        #expect(text(result.text) == expected)
    }

    /// A set ends one way: `set.steps` takes out `set.duration`, and the change says so.
    @Test func aNewWayToEndASetSaysWhatItRemoved() throws {
        let result = try editPreset(bytes("cadence: 180\nset: {duration: 15 s}\n"), file: file,
                                    assignments: [PresetAssignment(parsing: "set.steps=30")!])
        #expect(text(result.text) == "cadence: 180\nset: {steps: 30}\n")
        #expect(result.changes.count == 1)
        #expect(result.changes[0].old == nil)
        #expect(result.changes[0].removed.map(\.key) == ["set.duration"])
        #expect(result.changes[0].removed.map(\.value) == ["15 s"])
    }

    @Test func aBadValueNamesItsAssignment() {
        let assignments = ["sets=3", "cadence=0"].map { PresetAssignment(parsing: $0)! }
        #expect(throws: PresetEditFailure(assignment: 1, message: "cadence must be between 30 and 300 steps per minute, got 0",
                                          isUsageError: false, originalError: nil)) {
            try editPreset(bytes(sample), file: file, assignments: assignments)
        }
        // An unknown key is added, then refused by the decoder, pointing at the assignment.
        #expect(throws: PresetEditFailure(assignment: 0, message: "unknown key 'cadance'; did you mean 'cadence'?",
                                          isUsageError: false, originalError: nil)) {
            try editPreset(bytes(sample), file: file, assignments: [PresetAssignment(parsing: "cadance=180")!])
        }
        // A ramp made from nothing still needs its steps.
        let ramp = "ramp.steps is required (a whole number from 1 to 100000)"
        #expect(throws: PresetEditFailure(assignment: 0, message: ramp, isUsageError: false, originalError: nil)) {
            try editPreset(bytes("cadence: 180\n"), file: file, assignments: [PresetAssignment(parsing: "ramp.from=160")!])
        }
        #expect(throws: PresetEditFailure(assignment: 0, message: "ramp is a mapping; set one of its keys, like ramp.from",
                                          isUsageError: true, originalError: nil)) {
            try editPreset(bytes(sample), file: file, assignments: [PresetAssignment(parsing: "ramp=160")!])
        }
    }

    @Test func aFileBrokenElsewhereIsReportedAtItsOwnPlace() {
        let broken = "cadence: 180\nsets: 0\n"
        let original = PresetError(file: file, line: 2, column: 7, message: "sets must be a whole number from 1 to 99, got 0")
        #expect(throws: PresetEditFailure(assignment: nil, message: original.message, isUsageError: false, originalError: original)) {
            try editPreset(bytes(broken), file: file, assignments: [PresetAssignment(parsing: "cadence=170")!])
        }
        // ...and a change that fixes it is welcome.
        #expect(throws: Never.self) {
            try editPreset(bytes(broken), file: file, assignments: [PresetAssignment(parsing: "sets=2")!])
        }
    }

    @Test func givingASetOneLengthRemovesTheOthers() throws {
        let steps = try editPreset(bytes(sample), file: file, assignments: [PresetAssignment(parsing: "set.steps=30")!])
        #expect(text(steps.text).contains("set:\n  steps: 30\nrest: 60 s\n"))
        #expect(steps.preset.plan.setLength == .steps(30))
        let flow = "cadence: 180\nset: {distance: 20 m, step-length: 0.5 m}   # short\n"
        let duration = try editPreset(bytes(flow), file: file, assignments: [PresetAssignment(parsing: "set.duration=15 s")!])
        #expect(text(duration.text) == "cadence: 180\nset: {duration: 15 s}   # short\n")
        let distance = try editPreset(bytes("cadence: 180\nset: {steps: 40}\n"), file: file,
                                      assignments: ["set.distance=30 m", "set.step-length=0.6 m"].map { PresetAssignment(parsing: $0)! })
        #expect(text(distance.text) == "cadence: 180\nset: {distance: 30 m, step-length: 0.6 m}\n")
        #expect(distance.changes.map(\.old) == [nil, nil])
    }

    @Test func countInAsANumberSetsTheStepsOfAMapping() throws {
        let result = try editPreset(bytes("cadence: 180\ncount-in: {steps: 4}\n"), file: file,
                                    assignments: [PresetAssignment(parsing: "count-in=6")!])
        #expect(text(result.text) == "cadence: 180\ncount-in: {steps: 6}\n")
        #expect(result.preset.plan.countIn == 6)
    }

    @Test func laterAssignmentsOfTheSameKeyWin() throws {
        let result = try editPreset(bytes(sample), file: file,
                                    assignments: ["sets=3", "sets=4"].map { PresetAssignment(parsing: $0)! })
        #expect(result.preset.plan.sets == 4)
        #expect(result.changes[0].range == nil && result.changes[1].range != nil)
    }

    @Test func byteOffsetsOfLinesAndColumns() {
        let t = bytes("ab\nçd: x\n")
        #expect(byteOffset(in: t, line: 1, column: 1) == 0)
        #expect(byteOffset(in: t, line: 2, column: 1) == 3)
        #expect(byteOffset(in: t, line: 2, column: 3) == 6)   // ç is two bytes, one column
        #expect(byteOffset(in: t, line: 9, column: 1) == nil)
    }
}

extension String {
    /// The core has no Foundation; the tests need only this much of it.
    fileprivate func replacingOccurrences(_ target: String, with replacement: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            out += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    fileprivate func range(of target: String) -> Range<Index>? {
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) { return i..<index(i, offsetBy: target.count) }
            i = index(after: i)
        }
        return nil
    }
}

// MARK: - Values in the file's style, and list items

@Suite("values keep the file's style; list items are added, moved and removed in place")
struct ValueStyleAndListTests {
    @Test func aValueTakesTheOldValuesBlankAndUnit() {
        let rest = PresetKeyPath([.key("rest")])
        #expect(restyled("90s", like: "60 s", at: rest) == "90 s")
        #expect(restyled("90", like: "60 s", at: rest) == "90 s")
        #expect(restyled("2min", like: "60 s", at: rest) == "2 min")
        #expect(restyled("90 sec", like: "60s", at: rest) == "90s")
        #expect(restyled("90 seconds", like: "60 sec", at: rest) == "90 sec")
        #expect(restyled("60s", like: "1 min", at: rest) == "1 min")
        #expect(restyled("1:30", like: "60 s", at: rest) == "1:30")
        #expect(restyled("185", like: "180", at: PresetKeyPath([.key("cadence")])) == "185")
        #expect(restyled("180.0", like: "180", at: PresetKeyPath([.key("cadence")])) == "180")
        // A distance's `m` is metres, not minutes.
        #expect(restyled("30m", like: "20 m", at: PresetKeyPath([.key("set"), .key("distance")])) == "30 m")
        #expect(restyled("60 s", like: "1 m", at: PresetKeyPath([.key("set"), .key("distance")])) == "60 s")
        // Words are words.
        #expect(restyled("60s", like: "60 s", at: PresetKeyPath([.key("cues"), .item(1), .key("say")])) == "60s")
    }

    @Test func itemsAreAddedMovedAndRemovedAsWholeLines() throws {
        let text = "cadence: 180\ncues:\n  - say: a   # first\n    every: 8\n  - say: b\n    every: 8\n    offset: 4\n"
        var editor = try PresetEditor(Array(text.utf8), file: file)
        let cues = PresetKeyPath([.key("cues")])
        try editor.insertItem([("say", "c"), ("every", "8")], into: cues, at: 2)
        #expect(String(decoding: editor.text, as: UTF8.self)
                == "cadence: 180\ncues:\n  - say: a   # first\n    every: 8\n  - say: c\n    every: 8\n  - say: b\n    every: 8\n    offset: 4\n")
        try editor.moveItem(3, to: 1, of: cues)
        #expect(String(decoding: editor.text, as: UTF8.self)
                == "cadence: 180\ncues:\n  - say: b\n    every: 8\n    offset: 4\n  - say: a   # first\n    every: 8\n  - say: c\n    every: 8\n")
        try editor.removeItem(2, of: cues)
        try editor.removeItem(2, of: cues)
        try editor.removeItem(1, of: cues)
        #expect(String(decoding: editor.text, as: UTF8.self) == "cadence: 180\n")
    }

    @Test func flowListsStayFlow() throws {
        let text = "cadence: 180\ncues: [{say: a, every: 8}, {say: b, every: 8, offset: 4}]\n"
        var editor = try PresetEditor(Array(text.utf8), file: file)
        let cues = PresetKeyPath([.key("cues")])
        try editor.insertItem([("say", "yes"), ("every", "8")], into: cues)
        #expect(String(decoding: editor.text, as: UTF8.self)
                == "cadence: 180\ncues: [{say: a, every: 8}, {say: b, every: 8, offset: 4}, {say: \"yes\", every: 8}]\n")
        try editor.moveItem(3, to: 1, of: cues)
        try editor.removeItem(2, of: cues)
        #expect(String(decoding: editor.text, as: UTF8.self) == "cadence: 180\ncues: [{say: \"yes\", every: 8}, {say: b, every: 8, offset: 4}]\n")
    }
}
