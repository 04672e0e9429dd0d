import Foundation
import CYAML
#if canImport(Glibc)
import Glibc
#endif
import StrideCueCore
import Testing
import StrideCuePresets

/// The preset reader checked against libyaml, the reference C implementation: for every document
/// in the subset presets are written in, both must build the same tree (keys in order, scalar text
/// after quotes, escapes, folding and chomping are resolved).
@Suite struct LibYAMLAgreementTests {
    /// A tree both readers can build, without spans or styles.
    indirect enum Tree: Equatable, CustomStringConvertible {
        case text(String)
        case map([(String, Tree)])
        case list([Tree])

        static func == (a: Tree, b: Tree) -> Bool {
            switch (a, b) {
            case (.text(let x), .text(let y)): x == y
            case (.list(let x), .list(let y)): x == y
            case (.map(let x), .map(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            default: false
            }
        }

        var description: String {
            switch self {
            case .text(let s): "\"\(s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }.joined())\""
            case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
            case .map(let entries): "{" + entries.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
            }
        }
    }

    static func ours(_ source: String) throws -> Tree {
        tree(try parseYAML(Array(source.utf8), file: "t.yaml"))
    }

    static func tree(_ node: YAMLNode) -> Tree {
        switch node {
        case .scalar(let text, _, _): .text(text)
        case .sequence(let items, _): .list(items.map(tree))
        case .mapping(let entries, _): .map(entries.map { ($0.key, tree($0.value)) })
        }
    }

    struct LibYAMLError: Error, CustomStringConvertible {
        var description: String
    }

    /// libyaml's events folded into a tree; mapping keys must be scalars (as in every preset).
    static func libyaml(_ source: String) throws -> Tree {
        try libyamlWithSpans(Array(source.utf8)).tree
    }

    /// Scalar spans in document order, in characters (libyaml's marks count characters).
    struct Read {
        var tree: Tree
        var scalarSpans: [Range<Int>]
        /// Indices into `scalarSpans` of `|` and `>` block scalars.
        var blockScalars: Set<Int> = []
    }

    static func libyamlWithSpans(_ bytes: [UInt8]) throws -> Read {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw LibYAMLError(description: "yaml_parser_initialize failed") }
        defer { yaml_parser_delete(&parser) }
        return try bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            // Open collections; a mapping keeps its pending key.
            enum Open { case map([(String, Tree)], key: String?), list([Tree]) }
            var stack: [Open] = []
            var root: Tree?
            var spans: [Range<Int>] = []
            var blocks: Set<Int> = []
            func add(_ tree: Tree) throws {
                guard let top = stack.popLast() else { root = tree; return }
                switch top {
                case .list(var items):
                    items.append(tree)
                    stack.append(.list(items))
                case .map(var entries, let key):
                    if let key {
                        entries.append((key, tree))
                        stack.append(.map(entries, key: nil))
                    } else {
                        guard case .text(let k) = tree else { throw LibYAMLError(description: "a key that is not text") }
                        stack.append(.map(entries, key: k))
                    }
                }
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let problem = parser.problem.map { String(cString: $0) } ?? "unknown"
                    throw LibYAMLError(description: "libyaml: \(problem) at line \(parser.problem_mark.line + 1)")
                }
                defer { yaml_event_delete(&event) }
                switch event.type {
                case YAML_SCALAR_EVENT:
                    let scalar = event.data.scalar
                    let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                    if scalar.style == YAML_LITERAL_SCALAR_STYLE || scalar.style == YAML_FOLDED_SCALAR_STYLE { blocks.insert(spans.count) }
                    spans.append(event.start_mark.index..<event.end_mark.index)
                    try add(.text(text))
                case YAML_SEQUENCE_START_EVENT: stack.append(.list([]))
                case YAML_MAPPING_START_EVENT: stack.append(.map([], key: nil))
                case YAML_SEQUENCE_END_EVENT:
                    guard case .list(let items) = stack.popLast() else { throw LibYAMLError(description: "unbalanced") }
                    try add(.list(items))
                case YAML_MAPPING_END_EVENT:
                    guard case .map(let entries, _) = stack.popLast() else { throw LibYAMLError(description: "unbalanced") }
                    try add(.map(entries))
                case YAML_STREAM_END_EVENT:
                    guard let root else { throw LibYAMLError(description: "no document") }
                    return Read(tree: root, scalarSpans: spans, blockScalars: blocks)
                default: break
                }
            }
        }
    }

    /// Documents inside the preset subset: block and flow collections, every scalar style,
    /// chomping at the end of the file and before more keys, comments, unicode and escapes.
    static let documents: [String] = [
        "name: Bum kicks\ncadence: 190\n",
        "---\nname: a\n...\n",
        "a: 1\nb:\n  c: 2\n  d: [x, y, z]\n",
        "list:\n  - 1\n  - two\n  - {k: v, w: 'q'}\n",
        "list:\n- a\n- b\n",
        "nested:\n  - - 1\n    - 2\n  - - 3\n",
        "items:\n  - name: one\n    at: 3\n  - name: two\n    at: 4\n",
        "s: 'it''s'\n",
        "d: \"tab\\there \\\"q\\\" \\u00e9 \\x41 \\\\\"\n",
        "d: \"line one\n  line two\n\n  para\"\n",
        "p: plain text\n  continued here\n",
        "p: a # comment\n# full line\nq: b#not a comment\n",
        "e:\nf: ''\n",
        "lit: |\n  one\n   two\n  three\nnext: 1\n",
        "lit: |-\n  one\n  two\n\nnext: 1\n",
        "lit: |+\n  one\n  two\n\nnext: 1\n",
        "lit: |+\n  one\n\n",
        "lit: |+\n  one\n",
        "lit: |\n  one\n\n\n",
        "fold: >\n  one\n  two\n\n  three\n   indented\n  four\n",
        "fold: >-\n  a\n  b\n",
        "fold: >+\n  a\n  b\n\n",
        "fold: >+\n  a\n",
        "ind: |2\n    two more\n  base\n",
        "flow: {a: 1, b: [2, 3], c: {d: e}}\n",
        "flow: [\n  a,\n  b,\n]\n",
        "flow: {\n  a: 1,\n  b: 2\n}\n",
        "flow: {b: 1, c}\n",
        "flow: [a, b\n]\n",
        "k: \"\"\n",
        "unicode: Zürich → ✓ 🏃\n",
        "colon: a:b\nurl: http://x/y\n",
        "dash: -1\nq: '-'\n",
        "\u{FEFF}bom: yes\n",
        "key with spaces: v\n\"quoted key\": w\n'single key': x\n",
        "cues:\n  - say: pull through\n    every: 2\n    offset: 1\n  - say: pop forwards\n    every: 2\n",
        // Found by the fuzzer: block text that ends the file without a line break keeps none.
        "about: |+\n  one",
        "about: |\n  one\n  two",
        "c: >\n  #",
        "about: |+\n  one\n\n  ",
        "flow: {a:1, b: c:d}\n",
    ]

    /// Found by the fuzzer: documents libyaml refuses that StrideCue's reader once read.
    static let refusedByBoth: [String] = [
        "a: 1\n\t\n",
        "a: 1\n\t# note\nb: 2\n",
        "a: 1\n|b: 2\n",
        "a: 1\n>b: 2\n",
        "a: 1\n[b: 2\n",
        "a: 1\n{b: 2\n",
        "a: {b:}\n",
        "a: [{b:}]\n",
        "a: {\n  b\n  : 1}\n",
        "about: >\n      \n  text\n",
        // Inside { } and [ ], libyaml reads a leading ':' or '?' as an indicator, never as text.
        "set: {duration: :1:75}\ncadence: 180\n",
        "a: [:x]\n",
        // libyaml skips a byte order mark at the start of any line, and the key after it moves.
        "name: a\n\u{FEFF}cadence: 180\n",
        // libyaml refuses a ':' before '?' inside plain text in { } and [ ].
        "set: {duration:? 15 s}\n",
        "a: [b:?]\n",
        "a: {b: c:?}\n",
    ]

    @Test(arguments: refusedByBoth)
    func whatLibYAMLRefusesIsRefused(_ source: String) {
        #expect(throws: LibYAMLError.self) { try Self.libyaml(source) }
        #expect(throws: PresetError.self) { try Self.ours(source) }
    }

    /// Folders of presets and near-presets: the fuzzer's seeds, the shipped presets, the
    /// malformed corpus and, after `make fuzz`, the inputs the fuzzer kept (.build-fuzz/corpus).
    static let corpusFolders = ["Tests/FuzzCorpus/seeds", "Presets", "Tests/StrideCueCLITests/Malformed", ".build-fuzz/corpus"]

    /// Every corpus document our reader accepts, libyaml accepts too and reads as the same tree:
    /// no preset can mean one thing to StrideCue and another to the YAML tools a coach uses.
    @Test func everyCorpusDocumentWeAcceptLibYAMLReadsTheSame() throws {
        var root = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        root.removeLast(3)
        var accepted = 0
        var disagreements: [String] = []
        for folder in Self.corpusFolders {
            let path = root.joined(separator: "/") + "/" + folder
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { continue }
            for name in names.sorted() {
                guard let data = FileManager.default.contents(atPath: path + "/" + name),
                      let node = try? parseYAML(Array(data), file: name) else { continue }
                accepted += 1
                let source = String(decoding: data, as: UTF8.self)
                let ours = Self.tree(node)
                let theirs: Tree
                do { theirs = try Self.libyaml(source) } catch {
                    disagreements.append("\(folder)/\(name): \(error) for \(source.debugDescription)")
                    continue
                }
                if ours != theirs {
                    disagreements.append("\(folder)/\(name): \(ours) ≠ libyaml's \(theirs) for \(source.debugDescription)")
                }
            }
        }
        #expect(accepted >= 10)
        if let dump = ProcessInfo.processInfo.environment["STRIDECUE_DISAGREEMENTS"] {
            try? disagreements.joined(separator: "\n").write(toFile: dump, atomically: false, encoding: .utf8)
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) of \(accepted): \(disagreements.prefix(5).joined(separator: "\n"))")
    }

    @Test(arguments: documents)
    func bothReadersBuildTheSameTree(_ source: String) throws {
        let expected = try Self.libyaml(source)
        let got = try Self.ours(source)
        #expect(got == expected, "\(got) ≠ libyaml's \(expected)")
    }

    /// Our scalars' spans, converted from bytes to characters past a byte-order mark.
    static func ourScalarSpans(_ bytes: [UInt8]) throws -> [Range<Int>] {
        let bom = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        // Characters before each byte offset: count the bytes that start a UTF-8 sequence.
        var charsBefore = [Int](repeating: 0, count: bytes.count + 1)
        for i in 0..<bytes.count {
            charsBefore[i + 1] = charsBefore[i] + (i >= bom && bytes[i] & 0xC0 != 0x80 ? 1 : 0)
        }
        var spans: [Range<Int>] = []
        func walk(_ node: YAMLNode) {
            switch node {
            case .scalar(_, _, let span): spans.append(charsBefore[span.start]..<charsBefore[span.end])
            case .sequence(let items, _): items.forEach(walk)
            case .mapping(let entries, _):
                for entry in entries {
                    spans.append(charsBefore[entry.keySpan.start]..<charsBefore[entry.keySpan.end])
                    walk(entry.value)
                }
            }
        }
        walk(try parseYAML(bytes, file: "t.yaml"))
        return spans
    }

    /// Same spans, scalar by scalar. One convention differs on purpose: a block scalar's span
    /// ends at its last character of text, so an edit replacing it keeps the line breaks and
    /// blank lines after it; libyaml's runs on through them. Only blanks may lie in between.
    static func expectSameSpans(_ bytes: [UInt8], _ theirs: Read, _ what: String,
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ours = try ourScalarSpans(bytes)
        #expect(ours.count == theirs.scalarSpans.count, "\(what): scalar count", sourceLocation: sourceLocation)
        let characters = Array(String(decoding: bytes, as: UTF8.self).unicodeScalars.drop { $0 == "\u{FEFF}" })
        for (index, (mine, libs)) in zip(ours, theirs.scalarSpans).enumerated() {
            if theirs.blockScalars.contains(index) {
                let between = mine.upperBound <= libs.upperBound ? characters[mine.upperBound..<libs.upperBound] : []
                #expect(mine.lowerBound == libs.lowerBound && mine.upperBound <= libs.upperBound
                        && between.allSatisfy { $0 == " " || $0 == "\n" },
                        "\(what): block scalar \(index) at \(mine), libyaml \(libs)", sourceLocation: sourceLocation)
            } else {
                #expect(mine == libs, "\(what): scalar \(index) at \(mine), libyaml \(libs)", sourceLocation: sourceLocation)
            }
        }
    }

    /// Every preset file the tests use: the shipped drills, the fixtures and the malformed corpus.
    static let corpus: [String] = {
        let tests = String(#filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/"))
        let root = String(tests.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
        var files: [String] = []
        for folder in ["\(root)/Presets", "\(tests)/StrideCueCLITests/Fixtures", "\(tests)/StrideCueCLITests/Malformed"] {
            guard let dir = opendir(folder) else { continue }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name.hasSuffix(".yaml") { files.append("\(folder)/\(name)") }
            }
        }
        return files.sorted()
    }()

    static func contents(of path: String) -> [UInt8] {
        guard let file = fopen(path, "rb") else { return [] }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    @Test func theCorpusIsFound() {
        #expect(Self.corpus.count >= 60, "found \(Self.corpus.count) preset files")
        #expect(Self.corpus.contains { $0.hasSuffix("Presets/bum-kicks.yaml") })
    }

    /// What we accept, libyaml accepts with the same tree and the same scalar spans;
    /// nothing libyaml refuses is accepted.
    @Test(arguments: corpus)
    func aCorpusFileReadsAsLibYAMLReadsIt(_ path: String) throws {
        let bytes = Self.contents(of: path)
        let theirs: Read
        do {
            theirs = try Self.libyamlWithSpans(bytes)
        } catch {
            #expect(throws: PresetError.self, "libyaml refuses \(path) (\(error)), so must we") {
                _ = try parseYAML(bytes, file: path)
            }
            return
        }
        guard let ours = try? parseYAML(bytes, file: path) else { return }  // the subset refuses more
        _ = ours
        let tree = try Self.ours(String(decoding: bytes, as: UTF8.self))
        #expect(tree == theirs.tree, "\(path): \(tree) ≠ libyaml's \(theirs.tree)")
        try Self.expectSameSpans(bytes, theirs, path)
    }

    @Test(arguments: documents)
    func theInlineDocumentsHaveLibYAMLsSpans(_ source: String) throws {
        let bytes = Array(source.utf8)
        try Self.expectSameSpans(bytes, Self.libyamlWithSpans(bytes), "inline")
    }

    /// The differential check can fail: a document the two read differently is told apart.
    @Test func theComparisonSeesADifference() throws {
        #expect(try Self.libyaml("a: 'x'\n") != Self.ours("a: 'y'\n"))
        #expect(try Self.libyaml("a: [1, 2]\n") != Self.ours("a: [2, 1]\n"))
    }
}
