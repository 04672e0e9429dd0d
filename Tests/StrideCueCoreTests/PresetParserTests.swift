import Testing
@testable import StrideCueCore
@testable import StrideCuePresets
import StrideCueTestSupport

// MARK: Helpers

private func parse(_ source: String) throws -> YAMLNode {
    try parseYAML(Array(source.utf8), file: "t.yaml")
}

/// The error a source produces, or nil when it parses.
private func parseError(_ source: String) -> PresetError? {
    parseError(bytes: Array(source.utf8))
}

private func parseError(bytes: [UInt8]) -> PresetError? {
    do {
        _ = try parseYAML(bytes, file: "t.yaml")
        return nil
    } catch {
        return error
    }
}

private func value(_ node: YAMLNode, _ path: String...) -> YAMLNode? {
    var current = node
    for key in path {
        guard let next = current.entry(key)?.value else { return nil }
        current = next
    }
    return current
}

private func text(_ node: YAMLNode?) -> String? {
    guard case .scalar(let text, _, _)? = node else { return nil }
    return text
}

private func items(_ node: YAMLNode?) -> [YAMLNode]? {
    guard case .sequence(let items, _)? = node else { return nil }
    return items
}

private func keys(_ node: YAMLNode?) -> [String]? {
    guard case .mapping(let entries, _)? = node else { return nil }
    return entries.map(\.key)
}

/// The source bytes a span covers, as text.
private func source(_ span: SourceSpan?, in text: String) -> String? {
    guard let span else { return nil }
    return String(decoding: Array(text.utf8)[span.start..<span.end], as: UTF8.self)
}

/// Whether every span in the tree lies inside a text of `count` bytes, children within parents.
private func spansAreInside(_ node: YAMLNode, _ count: Int) -> Bool {
    let span = node.span
    guard 0 <= span.start, span.start <= span.end, span.end <= count, span.line >= 1, span.column >= 1 else { return false }
    switch node {
    case .scalar: return true
    case .sequence(let items, _): return items.allSatisfy { spansAreInside($0, count) }
    case .mapping(let entries, _):
        return entries.allSatisfy { $0.keySpan.end <= count && spansAreInside($0.value, count) }
    }
}

@Suite struct PresetParserTests {
    // MARK: Structure and spans

    @Test func blockMappingKeepsOrderAndSpans() throws {
        let yaml = "name: Bum kicks\ncadence: 190\n"
        let root = try parse(yaml)
        #expect(keys(root) == ["name", "cadence"])
        #expect(text(value(root, "name")) == "Bum kicks")
        let cadence = try #require(root.entry("cadence"))
        #expect(cadence.keySpan == SourceSpan(start: 16, end: 23, line: 2, column: 1))
        #expect(cadence.value.span == SourceSpan(start: 25, end: 28, line: 2, column: 10))
        #expect(source(cadence.value.span, in: yaml) == "190")
        #expect(root.span.start == 0 && root.span.end == 28)
    }

    @Test func columnsCountUnicodeScalarsAndOffsetsCountBytes() throws {
        let yaml = "ééé: x\nk: [é, y]\n"
        let root = try parse(yaml)
        let first = try #require(value(root, "ééé"))
        #expect(first.span == SourceSpan(start: 8, end: 9, line: 1, column: 6))
        let list = try #require(items(value(root, "k")))
        #expect(list.map(\.span.column) == [5, 8])
        #expect(source(list[1].span, in: yaml) == "y")
    }

    @Test func flowCollectionsOnOneLineAndAcrossLines() throws {
        let yaml = """
        ramp: {from: 150, steps: 16}
        set: {distance: 20 m,
              step-length: 0.5 m}   # trailing comment
        list: [a, 'b c', "d",
          [e, f], {g: h}, ]
        empty: {}
        none: []
        """
        let root = try parse(yaml)
        #expect(keys(value(root, "ramp")) == ["from", "steps"])
        #expect(text(value(root, "ramp", "from")) == "150")
        #expect(text(value(root, "set", "distance")) == "20 m")
        let stepLength = try #require(value(root, "set", "step-length"))
        #expect(text(stepLength) == "0.5 m")
        #expect(stepLength.span.line == 3 && stepLength.span.column == 20)
        #expect(source(value(root, "set")?.span, in: yaml) == "{distance: 20 m,\n      step-length: 0.5 m}")
        let list = try #require(items(value(root, "list")))
        #expect(list.count == 5)
        #expect(list.prefix(3).map(text) == ["a", "b c", "d"])
        #expect(items(list[3])?.map(text) == ["e", "f"])
        #expect(text(value(list[4], "g")) == "h")
        #expect(keys(value(root, "empty")) == [])
        #expect(items(value(root, "none"))?.count == 0)
    }

    @Test func blockSequencesWithMappingItemsAndCompactLists() throws {
        let yaml = """
        steps:
          - plain
          - name: first
            at: 3
          - - nested
            - two
          -
            after: a bare dash
        items:
        - compact
        - list
        end: yes
        """
        let root = try parse(yaml)
        #expect(keys(root) == ["steps", "items", "end"])
        let steps = try #require(items(value(root, "steps")))
        #expect(steps.count == 4)
        #expect(text(steps[0]) == "plain")
        #expect(keys(steps[1]) == ["name", "at"])
        #expect(text(value(steps[1], "at")) == "3")
        #expect(steps[1].span.line == 3 && steps[1].span.column == 5)
        #expect(items(steps[2])?.map(text) == ["nested", "two"])
        #expect(text(value(steps[3], "after")) == "a bare dash")
        #expect(items(value(root, "items"))?.map(text) == ["compact", "list"])
        #expect(text(value(root, "end")) == "yes")
    }

    @Test func quotedScalarsResolveEscapesAndFolding() throws {
        let yaml = #"""
        a: 'it''s # not a comment'
        b: "tab\there \"q\" \\ \u00e9 \x41 \U0001F600"
        c: "folded
          over lines

          with a blank"
        d: 'single
          folded'
        e: "joined\
          here"
        "quoted key": 1
        """#
        let root = try parse(yaml)
        #expect(text(value(root, "a")) == "it's # not a comment")
        #expect(text(value(root, "b")) == "tab\there \"q\" \\ é A 😀")
        #expect(text(value(root, "c")) == "folded over lines\nwith a blank")
        #expect(text(value(root, "d")) == "single folded")
        #expect(text(value(root, "e")) == "joinedhere")
        #expect(text(value(root, "quoted key")) == "1")
        #expect(source(value(root, "a")?.span, in: yaml) == "'it''s # not a comment'")
        guard case .scalar(_, let style, _)? = value(root, "b") else { Issue.record("b is not a scalar"); return }
        #expect(style == .doubleQuoted)
    }

    @Test func commentsFullLineTrailingAndHashesInsideValues() throws {
        let yaml = """
        # full line
        key: value # trailing
        url: http://example.org/#anchor
        hash: a#b
          # indented comment
        other: 1   #
        """
        let root = try parse(yaml)
        #expect(keys(root) == ["key", "url", "hash", "other"])
        #expect(text(value(root, "key")) == "value")
        #expect(text(value(root, "url")) == "http://example.org/#anchor")
        #expect(text(value(root, "hash")) == "a#b")
        #expect(text(value(root, "other")) == "1")
    }

    @Test func plainScalarsFoldOverMoreIndentedLines() throws {
        let root = try parse("about: a long\n  sentence\n\n  and more\nnext: 1\n")
        #expect(text(value(root, "about")) == "a long sentence\nand more")
        #expect(text(value(root, "next")) == "1")
    }

    @Test func blockScalarsLiteralFoldedAndChomping() throws {
        let yaml = """
        lit: |
          line one
            indented
          line three

        fold: >
          folded
          text

          new paragraph
            kept
          end
        strip: |-
          no newline
        keep: |+
          keep

        explicit: |2
           one space more
        comment: >  # a comment on the header
          # not a comment
        next: 1
        """
        let root = try parse(yaml)
        #expect(text(value(root, "lit")) == "line one\n  indented\nline three\n")
        #expect(text(value(root, "fold")) == "folded text\nnew paragraph\n  kept\nend\n")
        #expect(text(value(root, "strip")) == "no newline")
        #expect(text(value(root, "keep")) == "keep\n\n")
        #expect(text(value(root, "explicit")) == " one space more\n")
        #expect(text(value(root, "comment")) == "# not a comment\n")
        #expect(text(value(root, "next")) == "1")
        let lit = try #require(value(root, "lit"))
        #expect(lit.span.line == 1 && lit.span.column == 6)
        #expect(source(lit.span, in: yaml) == "|\n  line one\n    indented\n  line three")
    }

    @Test func emptyValuesAreEmptyPlainScalarsAfterTheColon() throws {
        let root = try parse("a:\nb: \nc: # nothing\nd: []\n")
        #expect(keys(root) == ["a", "b", "c", "d"])
        #expect(value(root, "a") == .scalar("", style: .plain, span: SourceSpan(start: 2, end: 2, line: 1, column: 3)))
        #expect(text(value(root, "b")) == "")
        #expect(text(value(root, "c")) == "")
    }

    @Test func documentMarkersByteOrderMarkAndWindowsLineEndings() throws {
        #expect(keys(try parse("---\na: 1\n...\n# after the end\n")) == ["a"])
        #expect(keys(try parse("--- # start\na: 1\n")) == ["a"])
        let root = try parse("\u{FEFF}a: 1\r\nb: |\r\n  x\r\n  y\r\n")
        #expect(text(value(root, "a")) == "1")
        #expect(value(root, "a")?.span.column == 4)
        #expect(text(value(root, "b")) == "x\ny\n")
    }

    @Test func fileOfExactlyTheSizeLimitIsAccepted() throws {
        var bytes = Array("a: 1\n#".utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "x"), count: PresetLimits.maxBytes - bytes.count)
        #expect(bytes.count == 1 << 20)
        #expect(keys(try parseYAML(bytes, file: "t.yaml")) == ["a"])
    }

    @Test func nestingOfExactlyTheLimitIsAccepted() throws {
        // The root mapping is level 1, so 31 brackets make 32 levels.
        let flow = "a: " + String(repeating: "[", count: 31) + String(repeating: "]", count: 31)
        #expect(parseError(flow) == nil)
        let block = (0..<32).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " end"
        #expect(parseError(block) == nil)
    }

    // MARK: Refusals

    @Test(arguments: [
        ("a:\n\tb: 1", 2, 1, "tab in indentation; indent with spaces"),
        ("a:\n  \tb: 1", 2, 3, "tab in indentation; indent with spaces"),
        ("a: &x 1", 1, 4, "anchors ('&') are not supported in presets"),
        ("a: 1\nb: *a", 2, 4, "aliases ('*') are not supported in presets"),
        ("a: [1, *a]", 1, 8, "aliases ('*') are not supported in presets"),
        ("a: !!str 1", 1, 4, "tags ('!') are not supported in presets"),
        ("a: 1\n---\nb: 2", 2, 1, "a preset holds one document; a second '---' is not supported"),
        ("---\na: 1\n...\n---\nb: 2", 4, 1, "a preset holds one document; a second '---' is not supported"),
        ("a: 1\n...\nb: 2", 3, 1, "text after the end-of-document marker '...'"),
        ("name: x\nsets: 1\ncadence: 180\nsound: beep\ncadence: 190\n", 5, 1, "duplicate key 'cadence' (first at line 3)"),
        ("r: {a: 1, a: 2}", 1, 11, "duplicate key 'a' (first at line 1)"),
        ("", 1, 1, "preset is empty"),
        ("# only a comment\n\n   \n", 1, 1, "preset is empty"),
        ("---\n", 1, 1, "preset is empty"),
        ("- a\n- b\n", 1, 1, "the top level of a preset must be a mapping of keys to values, like 'cadence: 180'"),
        ("\n  just text", 2, 3, "the top level of a preset must be a mapping of keys to values, like 'cadence: 180'"),
        ("a: {b: 1,\nc: 2", 1, 4, "missing '}' to close this '{'"),
        ("a: [1, 2", 1, 4, "missing ']' to close this '['"),
        ("a: \"abc\nb: 1", 1, 4, "missing '\"' to close this double-quoted value"),
        ("a: 'abc", 1, 4, "missing \"'\" to close this single-quoted value"),
        (#"a: "\q""#, 1, 5, #"unknown escape '\q' in a double-quoted value"#),
        (#"a: "\uD800""#, 1, 5, "escape names no Unicode character"),
        ("a: b: c", 1, 4, "a value cannot contain ': ' unless it is quoted; nested keys go on their own lines"),
        ("a: 1\n  b: 2", 2, 3, "unexpected indentation; the keys of a mapping must line up at column 1"),
        ("a: \"x\" y", 1, 8, "unexpected text after the value"),
        ("a: - b", 1, 4, "a list cannot start on the same line as its key; put each '- item' on a line of its own"),
        ("a: 1\n- b", 2, 1, "expected a key like 'name: value', found a list item"),
        ("a: 1\njust text", 2, 1, "expected a key like 'name: value'"),
        ("a: {\"b\" x}", 1, 9, "expected ': ' after the key 'b'"),
        ("a: [b: 1]", 1, 6, "'key: value' pairs cannot be list items; use { } for a mapping"),
        ("a: {b: 1] }", 1, 9, "expected ',' or '}'"),
        ("a: [|]", 1, 5, "block text ('|' or '>') cannot be used inside [ ] or { }"),
        ("? a\n: b", 1, 1, "explicit keys ('? ') are not supported"),
        ("a: |x\n  text", 1, 5, "unexpected text after '|'; the text starts on the next line"),
        ("a\r: 1", 1, 2, "carriage return without a line feed; save the preset with Unix or Windows line endings"),
    ] as [(String, Int, Int, String)])
    func refusedWithPositionedError(source: String, line: Int, column: Int, message: String) {
        #expect(parseError(source) == PresetError(file: "t.yaml", line: line, column: column, message: message))
    }

    @Test func exponentialAliasBombIsRefusedAtTheFirstAnchor() {
        var lines = ["a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]"]
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
            previous = name
        }
        let error = parseError(lines.joined(separator: "\n"))
        #expect(error == PresetError(file: "t.yaml", line: 1, column: 4, message: "anchors ('&') are not supported in presets"))
    }

    @Test func tooDeepNestingIsRefusedInFlowAndBlockForms() {
        let flow = "a: " + String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(parseError(flow) == PresetError(file: "t.yaml", line: 1, column: 35, message: "nesting is deeper than 32 levels"))
        let block = (0..<33).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " end"
        #expect(parseError(block) == PresetError(file: "t.yaml", line: 33, column: 65, message: "nesting is deeper than 32 levels"))
        let dashes = "a:\n" + String(repeating: "- ", count: 40) + "x"
        #expect(parseError(dashes)?.message == "nesting is deeper than 32 levels")
    }

    @Test func deepNestingFillingTheSizeLimitReturnsAnError() {
        let bytes = [UInt8](repeating: UInt8(ascii: "["), count: PresetLimits.maxBytes)
        #expect(parseError(bytes: Array("a: ".utf8) + bytes.dropLast(3))?.message == "nesting is deeper than 32 levels")
        let braces = Array(String(repeating: "{a: ", count: PresetLimits.maxBytes / 4).utf8)
        #expect(parseError(bytes: braces)?.message == "nesting is deeper than 32 levels")
    }

    @Test func oversizedFileIsRefusedBeforeAnyParsing() {
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: PresetLimits.maxBytes + 1)
        #expect(parseError(bytes: bytes) == PresetError(file: "t.yaml", line: 1, column: 1, message: "preset is larger than 1 MiB"))
    }

    @Test func tenMegabytesOfJunkAreRefusedAtTheSizeLimit() {
        var random = SeededGenerator(state: 1)
        let block = (0..<65_536).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let bytes = Array(repeatElement(block, count: 153).joined())
        #expect(bytes.count > 10_000_000)
        #expect(parseError(bytes: bytes)?.message == "preset is larger than 1 MiB")
    }

    @Test func binaryTextAndControlCharactersAreRefused() {
        let latin1 = Array("name: caf".utf8) + [0xE9, 0x0A]
        #expect(parseError(bytes: latin1) == PresetError(file: "t.yaml", line: 1, column: 10,
                                                         message: "preset is not valid UTF-8 text (byte 0xE9); is it a binary file?"))
        let nul = Array("a: 1\nb: ".utf8) + [0x00]
        #expect(parseError(bytes: nul) == PresetError(file: "t.yaml", line: 2, column: 4,
                                                      message: "preset contains a NUL byte; is it a binary file?"))
        let bell = Array("a: é".utf8) + [0x07]
        #expect(parseError(bytes: bell) == PresetError(file: "t.yaml", line: 1, column: 5,
                                                       message: "preset contains the control character 0x07; is it a binary file?"))
        let surrogate: [UInt8] = Array("a: ".utf8) + [0xED, 0xA0, 0x80]
        #expect(parseError(bytes: surrogate)?.message == "preset is not valid UTF-8 text (byte 0xED); is it a binary file?")
        let truncated: [UInt8] = Array("a: ".utf8) + [0xE2, 0x82]
        #expect(parseError(bytes: truncated)?.message == "preset is not valid UTF-8 text (byte 0xE2); is it a binary file?")
    }

    @Test func aMegabyteOfPrintableJunkIsRefusedWithAPosition() {
        var random = SeededGenerator(state: 7)
        let alphabet = Array("ab1 :-#[]{},'\"|>&*!?\n  \n".utf8)
        let bytes = (0..<PresetLimits.maxBytes).map { _ in alphabet[random.below(alphabet.count)] }
        let error = parseError(bytes: bytes)
        #expect(error != nil && error!.line >= 1 && error!.column >= 1 && !error!.message.contains("\n"))
    }

    @Test func longFlatInputsParseInLinearTime() throws {
        // Long flat inputs: every item and key is kept (speed is the fuzzer's and the bench's to watch).
        let list = "a: [" + String(repeating: "1, ", count: 300_000) + "2]"
        let lines = (0..<40_000).map { "k\($0): v" }.joined(separator: "\n")
        let listCount = (try? parse(list)).flatMap { items(value($0, "a"))?.count }
        let keyCount = (try? parse(lines)).flatMap { keys($0)?.count }
        #expect(listCount == 300_001)
        #expect(keyCount == 40_000)
    }

    @Test func mutatedPresetsNeverCrashAndErrorsStayOnOneLine() {
        let seed = """
        # comment
        ---
        name: "Bum kicks"
        about: >
          Text that folds
          over lines.
        cadence: 190   # trailing
        ramp: {from: 150, steps: 16}
        set: {distance: 20 m, step-length: 0.5 m}
        cues:
          - at: 1
            say: 'pull through'
          - [a, b]
        ...
        """
        let base = Array(seed.utf8)
        let alphabet = Array(" \n\t:-#[]{},'\"|>&*!?\\.0a%\r".utf8) + [0xC3, 0xA9, 0xFF, 0x00]
        var random = SeededGenerator(state: 42)
        for _ in 0..<3_000 {
            var bytes = base
            for _ in 0...random.below(4) {
                let at = random.below(bytes.count + 1)
                switch random.below(3) {
                case 0: bytes.insert(alphabet[random.below(alphabet.count)], at: at)
                case 1: if at < bytes.count { bytes.remove(at: at) }
                default: if at < bytes.count { bytes[at] = alphabet[random.below(alphabet.count)] }
                }
            }
            do {
                let root = try parseYAML(bytes, file: "t.yaml")
                #expect(spansAreInside(root, bytes.count))
            } catch {
                #expect(!error.message.contains("\n"), "\(error)")
                #expect(error.line >= 1 && error.column >= 1, "\(error)")
            }
        }
    }
}
