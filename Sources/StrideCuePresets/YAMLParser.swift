import StrideCueCore

/// Parses the YAML subset presets are written in into a tree whose every node knows its source span.
///
/// Supported: block mappings and lists, flow `{…}` and `[…]` (on one line or several), plain,
/// single- and double-quoted scalars, `|` and `>` block scalars, comments, a leading `---` and an
/// optional closing `...`. Refused with a positioned error: anchors, aliases and tags (aliases can
/// expand exponentially), several documents, duplicate keys, tabs in indentation, nesting deeper
/// than `PresetLimits.maxDepth`, files over `PresetLimits.maxBytes`, text that is not UTF-8 or holds
/// control characters, an empty file, and a top level that is not a mapping.
///
/// Runs in time linear in the input; recursion is bounded by the nesting limit.
/// - Parameters:
///   - bytes: The file's contents.
///   - file: The path as the user gave it; used verbatim in errors.
public func parseYAML(_ bytes: [UInt8], file: String) throws(PresetError) -> YAMLNode {
    var parser = try YAMLParser(bytes: bytes, file: file)
    return try parser.parseDocument()
}

/// A recursive-descent parser over the raw bytes; `pos` only moves forward.
struct YAMLParser {
    private let text: [UInt8]
    private let file: String
    /// Where line 1 starts: just past a byte-order mark, if any.
    private let contentStart: Int
    private var lineStarts: [Int]
    private var pos: Int
    /// The last position located; spans are made in file order, so counting on from here keeps locating linear.
    private var located: (offset: Int, line: Int, column: Int) = (0, 0, 0)

    init(bytes: [UInt8], file: String) throws(PresetError) {
        self.file = file
        guard bytes.count <= PresetLimits.maxBytes else {
            throw PresetError(file: file, line: 1, column: 1, message: "preset is larger than 1 MiB")
        }
        text = bytes
        contentStart = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        pos = contentStart
        lineStarts = [contentStart]
        try checkText()
    }

    // MARK: Document

    mutating func parseDocument() throws(PresetError) -> YAMLNode {
        try skipToContent()
        if isDocumentMarker("---", at: pos) {
            pos += 3
            try expectLineEnd(after: "'---'")
            try skipToContent()
            if isDocumentMarker("---", at: pos) { throw fail(multipleDocuments, at: pos) }
        }
        if at(pos) == 0 || isDocumentMarker("...", at: pos) {
            throw PresetError(file: file, line: 1, column: 1, message: "preset is empty")
        }
        let rootStart = pos
        let root = try parseBlockNode(parentIndent: -1, depth: 0, afterKey: false)
        guard case .mapping = root else {
            throw fail("the top level of a preset must be a mapping of keys to values, like 'cadence: 180'", at: rootStart)
        }
        try skipToContent()
        if isDocumentMarker("...", at: pos) {
            pos += 3
            try expectLineEnd(after: "'...'")
            try skipToContent()
            if at(pos) == 0 { return root }
            if isDocumentMarker("---", at: pos) { throw fail(multipleDocuments, at: pos) }
            throw fail("text after the end-of-document marker '...'", at: pos)
        }
        if at(pos) == 0 { return root }
        if isDocumentMarker("---", at: pos) { throw fail(multipleDocuments, at: pos) }
        throw fail("this line is indented less than the first key", at: pos)
    }

    private let multipleDocuments = "a preset holds one document; a second '---' is not supported"

    // MARK: Block structure

    /// Parses the node starting at `pos`; scalars and flow collections must end their line.
    /// - Parameter afterKey: The node starts on its key's line, where YAML allows no block list or mapping.
    private mutating func parseBlockNode(parentIndent: Int, depth: Int, afterKey: Bool) throws(PresetError) -> YAMLNode {
        let start = pos
        let c = at(start)
        switch c {
        case UInt8(ascii: "-") where isBlankOrEnd(at(start + 1)):
            if afterKey {
                throw fail("a list cannot start on the same line as its key; put each '- item' on a line of its own", at: start)
            }
            return try parseBlockSequence(indent: column0(start), depth: depth + 1)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let node = try parseFlowCollection(parentIndent: parentIndent, depth: depth + 1)
            try expectLineEnd(after: "the value")
            return node
        case UInt8(ascii: "|"), UInt8(ascii: ">"):
            return try parseBlockScalar(parentIndent: parentIndent)
        default:
            break
        }
        try refuseUnsupported(at: start, flow: false)
        if blockKeyAhead(at: start) {
            if afterKey {
                throw fail("a value cannot contain ': ' unless it is quoted; nested keys go on their own lines", at: start)
            }
            return try parseBlockMapping(indent: column0(start), depth: depth + 1)
        }
        let node: YAMLNode
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            node = try parseQuoted(parentIndent: parentIndent)
        } else {
            node = try parsePlain(parentIndent: parentIndent, flow: false)
        }
        try expectLineEnd(after: "the value")
        return node
    }

    private mutating func parseBlockMapping(indent: Int, depth: Int) throws(PresetError) -> YAMLNode {
        let start = pos
        try checkDepth(depth, at: start)
        let (line, column) = locate(start)
        var entries: [YAMLEntry] = []
        var firstLines: [String: Int] = [:]
        var end = start
        while true {
            let (key, keySpan) = try parseBlockKey()
            let colonEnd = pos
            if let first = firstLines[key] {
                throw fail("duplicate key '\(quotedForMessage(key))' (first at line \(first))", at: keySpan.start)
            }
            firstLines[key] = keySpan.line
            let value = try parseBlockMappingValue(indent: indent, depth: depth, colonEnd: colonEnd)
            entries.append(YAMLEntry(key: key, keySpan: keySpan, value: value))
            end = max(colonEnd, value.span.end)

            try skipToContent()
            if at(pos) == 0 || isDocumentMarker("---", at: pos) || isDocumentMarker("...", at: pos) { break }
            let lineIndent = column0(pos)
            if lineIndent < indent { break }
            if lineIndent > indent {
                throw fail("unexpected indentation; the keys of a mapping must line up at column \(indent + 1)", at: pos)
            }
            if at(pos) == UInt8(ascii: "-") && isBlankOrEnd(at(pos + 1)) {
                throw fail("expected a key like 'name: value', found a list item", at: pos)
            }
            try refuseUnsupported(at: pos, flow: false)
            // `[`, `{`, `|` and `>` start a collection or block text, never a plain key.
            let first = at(pos)
            if first == UInt8(ascii: "[") || first == UInt8(ascii: "{") || first == UInt8(ascii: "|") || first == UInt8(ascii: ">") {
                throw fail("a key cannot start with '\(Character(Unicode.Scalar(first)))'; quote it", at: pos)
            }
            guard blockKeyAhead(at: pos) else {
                throw fail("expected a key like 'name: value'", at: pos)
            }
        }
        return .mapping(entries, span: SourceSpan(start: start, end: end, line: line, column: column))
    }

    /// Reads a one-line key and its `:`; `blockKeyAhead` has already found them.
    private mutating func parseBlockKey() throws(PresetError) -> (String, SourceSpan) {
        let start = pos
        let key: String
        let keySpan: SourceSpan
        if at(start) == UInt8(ascii: "\"") || at(start) == UInt8(ascii: "'") {
            guard case .scalar(let text, _, let span) = try parseQuoted(parentIndent: -1) else { preconditionFailure() }
            key = text
            keySpan = span
        } else {
            let (end, _) = scanPlainLine(from: start, flow: false)
            let (line, column) = locate(start)
            key = string(start..<end)
            keySpan = SourceSpan(start: start, end: end, line: line, column: column)
            pos = end
        }
        while isSpace(at(pos)) { pos += 1 }
        guard at(pos) == UInt8(ascii: ":") else { throw fail("expected ':' after the key", at: pos) }
        pos += 1
        return (key, keySpan)
    }

    private mutating func parseBlockMappingValue(indent: Int, depth: Int, colonEnd: Int) throws(PresetError) -> YAMLNode {
        while isSpace(at(pos)) { pos += 1 }
        let c = at(pos)
        guard c == 0 || isBreak(c) || c == UInt8(ascii: "#") else {
            return try parseBlockNode(parentIndent: indent, depth: depth, afterKey: true)
        }
        // Nothing on the key's line: the value is on the lines below, or absent.
        try skipToContent()
        if at(pos) != 0 && !isDocumentMarker("---", at: pos) && !isDocumentMarker("...", at: pos) {
            let lineIndent = column0(pos)
            if lineIndent > indent {
                return try parseBlockNode(parentIndent: indent, depth: depth, afterKey: false)
            }
            // YAML lets a list under a key start at the key's own indentation.
            if lineIndent == indent && at(pos) == UInt8(ascii: "-") && isBlankOrEnd(at(pos + 1)) {
                return try parseBlockSequence(indent: indent, depth: depth + 1)
            }
        }
        return emptyScalar(at: colonEnd)
    }

    private mutating func parseBlockSequence(indent: Int, depth: Int) throws(PresetError) -> YAMLNode {
        let start = pos
        try checkDepth(depth, at: start)
        let (line, column) = locate(start)
        var items: [YAMLNode] = []
        var end = start
        while true {
            pos += 1
            let dashEnd = pos
            while isSpace(at(pos)) { pos += 1 }
            let c = at(pos)
            let item: YAMLNode
            if c == 0 || isBreak(c) || c == UInt8(ascii: "#") {
                try skipToContent()
                if at(pos) != 0 && !isDocumentMarker("---", at: pos) && !isDocumentMarker("...", at: pos)
                    && column0(pos) > indent {
                    item = try parseBlockNode(parentIndent: indent, depth: depth, afterKey: false)
                } else {
                    item = emptyScalar(at: dashEnd)
                }
            } else {
                item = try parseBlockNode(parentIndent: indent, depth: depth, afterKey: false)
            }
            items.append(item)
            end = max(dashEnd, item.span.end)

            try skipToContent()
            if at(pos) == 0 || isDocumentMarker("---", at: pos) || isDocumentMarker("...", at: pos) { break }
            let lineIndent = column0(pos)
            if lineIndent < indent { break }
            if lineIndent > indent {
                throw fail("unexpected indentation; the items of a list must line up at column \(indent + 1)", at: pos)
            }
            // Something else at this indentation: the list was a key's value and the mapping goes on.
            guard at(pos) == UInt8(ascii: "-") && isBlankOrEnd(at(pos + 1)) else { break }
        }
        return .sequence(items, span: SourceSpan(start: start, end: end, line: line, column: column))
    }

    /// Whether the line at `p` starts with a one-line key followed by `:` and a blank.
    private func blockKeyAhead(at p: Int) -> Bool {
        var i: Int
        let c = at(p)
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            i = p + 1
            while true {
                let b = at(i)
                if b == 0 || isBreak(b) { return false }
                if c == UInt8(ascii: "\"") && b == UInt8(ascii: "\\") {
                    if isBreak(at(i + 1)) { return false }
                    i += 2
                    continue
                }
                if b == c {
                    if c == UInt8(ascii: "'") && at(i + 1) == c { i += 2; continue }
                    i += 1
                    break
                }
                i += 1
            }
            while isSpace(at(i)) { i += 1 }
        } else {
            i = scanPlainLine(from: p, flow: false).stop
        }
        return at(i) == UInt8(ascii: ":") && isBlankOrEnd(at(i + 1))
    }

    // MARK: Flow collections

    private mutating func parseFlowCollection(parentIndent: Int, depth: Int) throws(PresetError) -> YAMLNode {
        let open = pos
        try checkDepth(depth, at: open)
        let (line, column) = locate(open)
        let isMapping = at(open) == UInt8(ascii: "{")
        let close = isMapping ? UInt8(ascii: "}") : UInt8(ascii: "]")
        pos += 1
        try skipFlowSpace(open: open, parentIndent: parentIndent)
        var entries: [YAMLEntry] = []
        var firstLines: [String: Int] = [:]
        var items: [YAMLNode] = []
        while at(pos) != close {
            if isMapping {
                let keyStart = pos
                let c = at(keyStart)
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    throw fail("a key must be text, not a list or mapping", at: keyStart)
                }
                if c == UInt8(ascii: "]") { throw fail("expected '}' to close the mapping, found ']'", at: keyStart) }
                try refuseUnsupported(at: keyStart, flow: true)
                let keyNode = c == UInt8(ascii: "\"") || c == UInt8(ascii: "'")
                    ? try parseQuoted(parentIndent: parentIndent)
                    : try parsePlain(parentIndent: parentIndent, flow: true)
                guard case .scalar(let key, _, let keySpan) = keyNode else { preconditionFailure() }
                if text[keySpan.start..<keySpan.end].contains(UInt8(ascii: "\n")) {
                    throw fail("a key must fit on one line", at: keyStart)
                }
                try skipFlowSpace(open: open, parentIndent: parentIndent)
                let value: YAMLNode
                if at(pos) == UInt8(ascii: ",") || at(pos) == close {
                    // `{a: 1, b}`: a key alone has no value, as in every YAML reader.
                    value = emptyScalar(at: keySpan.end)
                } else {
                guard at(pos) == UInt8(ascii: ":") else {
                    throw fail("expected ': ' after the key '\(quotedForMessage(key))'", at: pos)
                }
                // An implicit key and its ':' share a line, as in every YAML reader.
                if text[keySpan.end..<pos].contains(UInt8(ascii: "\n")) {
                    throw fail("the ':' after a key must be on the key's line", at: pos)
                }
                // libyaml reads `{say:}` as an error, not as an empty value: so does StrideCue.
                if keyNode.isPlain && endsFlowText(at(pos + 1)) {
                    throw fail("put a space after ':' in { }", at: pos)
                }
                pos += 1
                let colonEnd = pos
                try skipFlowSpace(open: open, parentIndent: parentIndent)
                if at(pos) == UInt8(ascii: ",") || at(pos) == close {
                    value = emptyScalar(at: colonEnd)
                } else {
                    value = try parseFlowNode(parentIndent: parentIndent, depth: depth)
                }
                }
                if let first = firstLines[key] {
                    throw fail("duplicate key '\(quotedForMessage(key))' (first at line \(first))", at: keyStart)
                }
                firstLines[key] = keySpan.line
                entries.append(YAMLEntry(key: key, keySpan: keySpan, value: value))
            } else {
                items.append(try parseFlowNode(parentIndent: parentIndent, depth: depth))
            }
            try skipFlowSpace(open: open, parentIndent: parentIndent)
            let c = at(pos)
            if c == UInt8(ascii: ",") {
                pos += 1
                try skipFlowSpace(open: open, parentIndent: parentIndent)
            } else if c != close {
                if !isMapping && c == UInt8(ascii: ":") {
                    throw fail("'key: value' pairs cannot be list items; use { } for a mapping", at: pos)
                }
                throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))'", at: pos)
            }
        }
        pos += 1
        let span = SourceSpan(start: open, end: pos, line: line, column: column)
        return isMapping ? .mapping(entries, span: span) : .sequence(items, span: span)
    }

    private mutating func parseFlowNode(parentIndent: Int, depth: Int) throws(PresetError) -> YAMLNode {
        let c = at(pos)
        if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
            return try parseFlowCollection(parentIndent: parentIndent, depth: depth + 1)
        }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
            return try parseQuoted(parentIndent: parentIndent)
        }
        try refuseUnsupported(at: pos, flow: true)
        return try parsePlain(parentIndent: parentIndent, flow: true)
    }

    /// Skips blanks, comments and line breaks inside `[…]`/`{…}`; a line not indented past the
    /// enclosing block, or the end of the file, means the bracket at `open` was never closed.
    private mutating func skipFlowSpace(open: Int, parentIndent: Int) throws(PresetError) {
        while true {
            let c = at(pos)
            if isSpace(c) {
                pos += 1
            } else if c == UInt8(ascii: "#") && (isSpace(at(pos - 1)) || isBreak(at(pos - 1))) {
                skipToLineEnd()
            } else if isBreak(c) {
                let (spaces, content) = try indentation(ofLineAt: skipBreak(pos))
                let d = at(content)
                // A closing bracket may sit at any indentation (`]` at column 1 ends a list
                // opened after a top-level key); other content must be indented past the block.
                let closes = d == UInt8(ascii: "]") || d == UInt8(ascii: "}")
                if d != 0 && !isBreak(d) && d != UInt8(ascii: "#") && !closes
                    && (spaces <= parentIndent || isDocumentMarker("---", at: content) || isDocumentMarker("...", at: content)) {
                    throw unclosed(open)
                }
                pos = content
            } else if c == 0 {
                throw unclosed(open)
            } else {
                return
            }
        }
    }

    private mutating func unclosed(_ open: Int) -> PresetError {
        at(open) == UInt8(ascii: "{")
            ? fail("missing '}' to close this '{'", at: open)
            : fail("missing ']' to close this '['", at: open)
    }

    // MARK: Scalars

    /// Ends of one line of plain text from `start`: `end` drops trailing blanks, `stop` is where
    /// scanning halted (line break, `: `, ` #`, or a flow indicator in flow context).
    private func scanPlainLine(from start: Int, flow: Bool) -> (end: Int, stop: Int) {
        var i = start
        var end = start
        while true {
            let c = at(i)
            if c == 0 || isBreak(c) { break }
            if c == UInt8(ascii: ":") {
                let next = at(i + 1)
                if isBlankOrEnd(next) || (flow && endsFlowText(next)) { break }
            }
            if c == UInt8(ascii: "#") && i > start && isSpace(at(i - 1)) { break }
            if flow && isFlowIndicator(c) { break }
            i += 1
            if !isSpace(c) { end = i }
        }
        return (end, i)
    }

    /// Plain text, folded over continuation lines indented past `parentIndent`.
    private mutating func parsePlain(parentIndent: Int, flow: Bool) throws(PresetError) -> YAMLNode {
        let start = pos
        let (line, column) = locate(start)
        var end = scanPlainLine(from: start, flow: flow).end
        // Most values fit on one line; only folding needs a buffer of its own.
        var out: [UInt8] = []
        pos = end
        while true {
            var p = pos
            while isSpace(at(p)) { p += 1 }
            guard isBreak(at(p)) else { break }
            var emptyLines = 0
            var lineStart = skipBreak(p)
            var spaces: Int
            var content: Int
            while true {
                (spaces, content) = try indentation(ofLineAt: lineStart)
                guard isBreak(at(content)) else { break }
                emptyLines += 1
                lineStart = skipBreak(content)
            }
            let c = at(content)
            if c == 0 || c == UInt8(ascii: "#") || spaces <= parentIndent { break }
            if isDocumentMarker("---", at: content) || isDocumentMarker("...", at: content) { break }
            if flow && isFlowIndicator(c) { break }
            let (lineEnd, stop) = scanPlainLine(from: content, flow: flow)
            // A `key:` line is not text to fold in; whoever called us reports it.
            if !flow && at(stop) == UInt8(ascii: ":") { break }
            if lineEnd == content { break }
            if out.isEmpty { out.append(contentsOf: text[start..<end]) }
            if emptyLines == 0 {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: emptyLines))
            }
            out.append(contentsOf: text[content..<lineEnd])
            end = lineEnd
            pos = lineEnd
        }
        let value = out.isEmpty ? string(start..<end) : String(decoding: out, as: UTF8.self)
        return .scalar(value, style: .plain, span: SourceSpan(start: start, end: end, line: line, column: column))
    }

    /// A single- or double-quoted scalar; line breaks inside fold as in YAML.
    private mutating func parseQuoted(parentIndent: Int) throws(PresetError) -> YAMLNode {
        let start = pos
        let (line, column) = locate(start)
        let quote = at(start)
        let double = quote == UInt8(ascii: "\"")
        var out: [UInt8] = []
        // Escaped characters and folded breaks are content; only written blanks before a break are trimmed.
        var kept = 0
        pos += 1
        while true {
            let c = at(pos)
            if c == 0 { throw unterminated(start) }
            if c == quote {
                if !double && at(pos + 1) == quote {
                    out.append(quote)
                    pos += 2
                    kept = out.count
                    continue
                }
                pos += 1
                break
            }
            if double && c == UInt8(ascii: "\\") {
                if isBreak(at(pos + 1)) {
                    pos += 1
                    try foldLineBreak(in: &out, escaped: true, quoteStart: start, parentIndent: parentIndent)
                } else {
                    try appendEscape(to: &out)
                }
                kept = out.count
                continue
            }
            if isBreak(c) {
                while out.count > kept, let last = out.last, isSpace(last) { out.removeLast() }
                try foldLineBreak(in: &out, escaped: false, quoteStart: start, parentIndent: parentIndent)
                kept = out.count
                continue
            }
            out.append(c)
            pos += 1
        }
        return .scalar(String(decoding: out, as: UTF8.self), style: double ? .doubleQuoted : .singleQuoted,
                       span: SourceSpan(start: start, end: pos, line: line, column: column))
    }

    /// Consumes the line break at `pos` and any empty lines after it, appending what they fold to.
    private mutating func foldLineBreak(in out: inout [UInt8], escaped: Bool, quoteStart: Int, parentIndent: Int) throws(PresetError) {
        var emptyLines = 0
        var lineStart = skipBreak(pos)
        while true {
            var i = lineStart
            while at(i) == UInt8(ascii: " ") { i += 1 }
            let spaces = i - lineStart
            while isSpace(at(i)) { i += 1 }
            let c = at(i)
            if c == 0 { throw unterminated(quoteStart) }
            if isBreak(c) {
                emptyLines += 1
                lineStart = skipBreak(i)
                continue
            }
            if spaces <= parentIndent || isDocumentMarker("---", at: lineStart) || isDocumentMarker("...", at: lineStart) {
                throw unterminated(quoteStart)
            }
            pos = i
            break
        }
        if emptyLines > 0 {
            out.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: emptyLines))
        } else if !escaped {
            out.append(UInt8(ascii: " "))
        }
    }

    private mutating func unterminated(_ start: Int) -> PresetError {
        at(start) == UInt8(ascii: "\"")
            ? fail("missing '\"' to close this double-quoted value", at: start)
            : fail("missing \"'\" to close this single-quoted value", at: start)
    }

    /// Decodes the escape at `pos` (a backslash) into `out`.
    private mutating func appendEscape(to out: inout [UInt8]) throws(PresetError) {
        let backslash = pos
        let e = at(pos + 1)
        let simple: UInt8?
        switch e {
        case UInt8(ascii: "0"): simple = 0
        case UInt8(ascii: "a"): simple = 0x07
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "t"), 0x09: simple = 0x09
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "v"): simple = 0x0B
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "e"): simple = 0x1B
        case UInt8(ascii: " "), UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "\\"): simple = e
        default: simple = nil
        }
        if let simple {
            out.append(simple)
            pos += 2
            return
        }
        let named: UInt32? = switch e {
        case UInt8(ascii: "N"): 0x85
        case UInt8(ascii: "_"): 0xA0
        case UInt8(ascii: "L"): 0x2028
        case UInt8(ascii: "P"): 0x2029
        default: nil
        }
        var value: UInt32
        var length: Int
        if let named {
            value = named
            length = 2
        } else {
            let digits = switch e {
            case UInt8(ascii: "x"): 2
            case UInt8(ascii: "u"): 4
            case UInt8(ascii: "U"): 8
            default: 0
            }
            guard digits > 0 else {
                let shown = e >= 0x21 && e < 0x7F ? "'\\\(Character(Unicode.Scalar(e)))'" : "after '\\'"
                throw fail("unknown escape \(shown) in a double-quoted value", at: backslash)
            }
            value = 0
            for k in 0..<digits {
                guard let d = hexValue(at(pos + 2 + k)) else {
                    throw fail("'\\\(Character(Unicode.Scalar(e)))' must be followed by \(digits) hexadecimal digits", at: backslash)
                }
                value = value << 4 | UInt32(d)
            }
            length = 2 + digits
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw fail("escape names no Unicode character", at: backslash)
        }
        UTF8.encode(scalar) { out.append($0) }
        pos += length
    }

    private enum Chomping { case clip, strip, keep }

    /// A `|` or `>` block; its text is the more-indented lines that follow the header.
    private mutating func parseBlockScalar(parentIndent: Int) throws(PresetError) -> YAMLNode {
        let start = pos
        let (line, column) = locate(start)
        let literal = at(start) == UInt8(ascii: "|")
        pos += 1
        var chomping = Chomping.clip
        var chompingSeen = false
        var explicitIndent: Int?
        for _ in 0..<2 {
            let c = at(pos)
            if (c == UInt8(ascii: "-") || c == UInt8(ascii: "+")) && !chompingSeen {
                chomping = c == UInt8(ascii: "-") ? .strip : .keep
                chompingSeen = true
            } else if c >= UInt8(ascii: "1") && c <= UInt8(ascii: "9") && explicitIndent == nil {
                explicitIndent = Int(c - UInt8(ascii: "0"))
            } else if c == UInt8(ascii: "0") {
                throw fail("the indentation indicator of a block scalar must be 1 to 9", at: pos)
            } else {
                break
            }
            pos += 1
        }
        try expectLineEnd(after: literal ? "'|'; the text starts on the next line" : "'>'; the text starts on the next line")
        let headerEnd = pos

        var contentIndent = explicitIndent.map { parentIndent >= 0 ? parentIndent + $0 : $0 }
        var lines: [(emptyBefore: Int, range: Range<Int>)] = []
        var empty = 0
        // Only the file's last line can lack a line break; an empty line there adds none.
        var lastEmptyEndsInBreak = true
        // Spaces on the widest empty line before the text: YAML makes more than the text's own
        // indentation an error, and libyaml takes it as the indentation and ends the text early.
        var leadingEmptySpaces = 0
        var contentEnd = headerEnd
        var p = headerEnd
        while at(p) != 0 {
            let lineStart = skipBreak(p)
            // The break ending the file's last line starts no line of its own.
            if at(lineStart) == 0 { break }
            var i = lineStart
            while at(i) == UInt8(ascii: " ") { i += 1 }
            let spaces = i - lineStart
            var lineEnd = i
            var onlyBlanks = true
            while at(lineEnd) != 0 && !isBreak(at(lineEnd)) {
                if !isSpace(at(lineEnd)) { onlyBlanks = false }
                lineEnd += 1
            }
            if contentIndent == nil && !onlyBlanks {
                if spaces <= parentIndent || isDocumentMarker("---", at: lineStart) || isDocumentMarker("...", at: lineStart) { break }
                if spaces < leadingEmptySpaces {
                    throw fail("the text's first line is indented less than an empty line above it; remove the spaces from the empty line", at: i)
                }
                contentIndent = spaces
            } else if contentIndent == nil {
                leadingEmptySpaces = max(leadingEmptySpaces, spaces)
            }
            if let indent = contentIndent, spaces >= indent, lineStart + indent < lineEnd {
                if indent == 0 && (isDocumentMarker("---", at: lineStart) || isDocumentMarker("...", at: lineStart)) { break }
                lines.append((empty, (lineStart + indent)..<lineEnd))
                empty = 0
                contentEnd = lineEnd
            } else if onlyBlanks {
                empty += 1
                lastEmptyEndsInBreak = at(lineEnd) != 0
            } else {
                break
            }
            p = lineEnd
        }

        var out: [UInt8] = []
        for (index, line) in lines.enumerated() {
            if index == 0 {
                out.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: line.emptyBefore))
            } else {
                let previous = lines[index - 1].range
                // Folding joins only lines of ordinary text; more-indented lines keep their breaks.
                let joins = !literal && !isSpace(text[previous.lowerBound]) && !isSpace(text[line.range.lowerBound])
                if joins && line.emptyBefore == 0 {
                    out.append(UInt8(ascii: " "))
                } else {
                    let breaks = joins ? line.emptyBefore : line.emptyBefore + 1
                    out.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: breaks))
                }
            }
            out.append(contentsOf: text[line.range])
        }
        // Clipping and keeping keep the line breaks that are there: text that ends the file
        // without one ends without one (`about: |+` then `  one` and no final break is "one").
        let finalBreak = !lines.isEmpty && at(contentEnd) != 0
        let trailingBreaks = empty - (empty > 0 && !lastEmptyEndsInBreak ? 1 : 0)
        switch chomping {
        case .strip: break
        case .clip: if finalBreak { out.append(UInt8(ascii: "\n")) }
        case .keep: out.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: (finalBreak ? 1 : 0) + trailingBreaks))
        }
        pos = contentEnd
        return .scalar(String(decoding: out, as: UTF8.self), style: literal ? .literal : .folded,
                       span: SourceSpan(start: start, end: contentEnd, line: line, column: column))
    }

    private mutating func emptyScalar(at offset: Int) -> YAMLNode {
        let (line, column) = locate(offset)
        return .scalar("", style: .plain, span: SourceSpan(start: offset, end: offset, line: line, column: column))
    }

    // MARK: Refusals and checks

    /// Throws for a character that cannot start a node here, naming the unsupported feature.
    private mutating func refuseUnsupported(at p: Int, flow: Bool) throws(PresetError) {
        let c = at(p)
        let next = at(p + 1)
        let indicatorFollows = isBlankOrEnd(next) || (flow && isFlowIndicator(next))
        let message: String? = switch c {
        case UInt8(ascii: "&"): "anchors ('&') are not supported in presets"
        case UInt8(ascii: "*"): "aliases ('*') are not supported in presets"
        case UInt8(ascii: "!"): "tags ('!') are not supported in presets"
        case UInt8(ascii: "%"): "directives and values starting with '%' are not supported; quote the value"
        case UInt8(ascii: "@"), UInt8(ascii: "`"): "a value cannot start with '\(Character(Unicode.Scalar(c)))'; quote it"
        // Inside [ ] or { } libyaml takes `?` and `:` as indicators even with text after them
        // (`{a: :1}` is two colons to it), so no plain value starts with them there.
        case UInt8(ascii: "?") where indicatorFollows || flow: "explicit keys ('? ') are not supported"
        case UInt8(ascii: ":") where indicatorFollows || flow: "missing key before ':'"
        case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"):
            flow ? "expected a value before '\(Character(Unicode.Scalar(c)))'" : "unexpected '\(Character(Unicode.Scalar(c)))'"
        case UInt8(ascii: "#"): "a comment needs a space before '#'"
        case UInt8(ascii: "|") where flow, UInt8(ascii: ">") where flow:
            "block text ('|' or '>') cannot be used inside [ ] or { }"
        case UInt8(ascii: "-") where flow && indicatorFollows: "'- ' list items cannot be used inside [ ] or { }"
        default: nil
        }
        if let message { throw fail(message, at: p) }
    }

    private mutating func checkDepth(_ depth: Int, at p: Int) throws(PresetError) {
        if depth > PresetLimits.maxDepth {
            throw fail("nesting is deeper than \(PresetLimits.maxDepth) levels", at: p)
        }
    }

    /// Refuses text that is not UTF-8 or holds control characters, and records where lines start.
    private mutating func checkText() throws(PresetError) {
        var i = contentStart
        let n = text.count
        while i < n {
            let b = text[i]
            if b < 0x80 {
                if b == UInt8(ascii: "\n") {
                    lineStarts.append(i + 1)
                } else if b == UInt8(ascii: "\r") {
                    if i + 1 >= n || text[i + 1] != UInt8(ascii: "\n") {
                        throw fail("carriage return without a line feed; save the preset with Unix or Windows line endings", at: i)
                    }
                } else if b == 0 {
                    throw fail("preset contains a NUL byte; is it a binary file?", at: i)
                } else if (b < 0x20 && b != 0x09) || b == 0x7F {
                    throw fail("preset contains the control character \(hex(b)); is it a binary file?", at: i)
                }
                i += 1
                continue
            }
            let (length, low, high): (Int, UInt8, UInt8) = switch b {
            case 0xC2...0xDF: (2, 0x80, 0xBF)
            case 0xE0: (3, 0xA0, 0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (3, 0x80, 0xBF)
            case 0xED: (3, 0x80, 0x9F)
            case 0xF0: (4, 0x90, 0xBF)
            case 0xF1...0xF3: (4, 0x80, 0xBF)
            case 0xF4: (4, 0x80, 0x8F)
            default: (0, 0, 0)
            }
            var valid = length > 0 && i + length <= n && (low...high).contains(text[i + 1])
            if valid {
                for k in 2..<max(2, length) where text[i + k] & 0xC0 != 0x80 { valid = false }
            }
            guard valid else {
                throw fail("preset is not valid UTF-8 text (byte \(hex(b))); is it a binary file?", at: i)
            }
            // YAML 1.1 readers (libyaml, PyYAML) end a line at U+0085, U+2028 and U+2029, YAML 1.2
            // readers do not: in a comment one would hide from us a key that they see.
            if b == 0xC2 && text[i + 1] == 0x85 {
                throw fail("preset contains U+0085 (next line), which some YAML readers take as a line break; use a plain line break", at: i)
            }
            if b == 0xE2 && text[i + 1] == 0x80 && (text[i + 2] == 0xA8 || text[i + 2] == 0xA9) {
                let name = text[i + 2] == 0xA8 ? "U+2028 (line separator)" : "U+2029 (paragraph separator)"
                throw fail("preset contains \(name), which some YAML readers take as a line break; use a plain line break", at: i)
            }
            // Only the file's first character may be a byte order mark: libyaml skips one at the
            // start of any line and then sees the line indented by one, so a key there moves.
            if b == 0xEF && text[i + 1] == 0xBB && text[i + 2] == 0xBF {
                throw fail("preset contains a byte order mark (U+FEFF) after its start; remove it", at: i)
            }
            // The other C1 controls are not YAML text, and U+009B starts a terminal escape sequence.
            if b == 0xC2 && text[i + 1] <= 0x9F {
                throw fail("preset contains the control character U+00\(hex(text[i + 1]).dropFirst(2)); is it a binary file?", at: i)
            }
            i += length
        }
    }

    // MARK: Lines and blanks

    /// Skips blanks, comments and empty lines up to the next content (or the end).
    private mutating func skipToContent() throws(PresetError) {
        if pos == contentStart || at(pos - 1) == UInt8(ascii: "\n") {
            pos = try indentation(ofLineAt: pos, block: true).content
        }
        while true {
            let c = at(pos)
            if isSpace(c) {
                pos += 1
            } else if c == UInt8(ascii: "#") {
                skipToLineEnd()
            } else if isBreak(c) {
                pos = try indentation(ofLineAt: skipBreak(pos), block: true).content
            } else {
                return
            }
        }
    }

    /// Leading spaces of the line at `lineStart` and where its content starts; a tab in the
    /// indentation of a line with content is an error, as YAML indents with spaces only.
    /// - Parameter block: Between the nodes of block collections, where libyaml (and so PyYAML)
    ///   refuses a tab at the start of any line, blank and comment lines included: refused too.
    private mutating func indentation(ofLineAt lineStart: Int, block: Bool = false) throws(PresetError) -> (spaces: Int, content: Int) {
        var i = lineStart
        while at(i) == UInt8(ascii: " ") { i += 1 }
        let spaces = i - lineStart
        var content = i
        while isSpace(at(content)) { content += 1 }
        let c = at(content)
        if content > i && (block || (c != 0 && !isBreak(c) && c != UInt8(ascii: "#"))) {
            throw fail("tab in indentation; indent with spaces", at: i)
        }
        return (spaces, content)
    }

    /// After a value: only blanks and a comment may follow on its line.
    private mutating func expectLineEnd(after what: String) throws(PresetError) {
        while isSpace(at(pos)) { pos += 1 }
        let c = at(pos)
        if c == UInt8(ascii: "#") && isSpace(at(pos - 1)) {
            skipToLineEnd()
        } else if c != 0 && !isBreak(c) {
            throw fail("unexpected text after \(what)", at: pos)
        }
    }

    private mutating func skipToLineEnd() {
        while at(pos) != 0 && !isBreak(at(pos)) { pos += 1 }
    }

    /// Whether `marker` (`---` or `...`) stands alone at the start of the line at `p`.
    private func isDocumentMarker(_ marker: StaticString, at p: Int) -> Bool {
        guard p == contentStart || at(p - 1) == UInt8(ascii: "\n") else { return false }
        let m = marker.utf8Start[0]
        return at(p) == m && at(p + 1) == m && at(p + 2) == m && isBlankOrEnd(at(p + 3))
    }

    /// Bytes from the start of `p`'s line; equal to the column in indentation, which is spaces only.
    private func column0(_ p: Int) -> Int {
        var i = p
        while i > contentStart && text[i - 1] != UInt8(ascii: "\n") { i -= 1 }
        return p - i
    }

    private func skipBreak(_ i: Int) -> Int {
        at(i) == UInt8(ascii: "\r") ? i + 2 : i + 1
    }

    /// The byte at `i`, or 0 outside the text: NUL is refused up front, so 0 always means the end.
    private func at(_ i: Int) -> UInt8 {
        i >= 0 && i < text.count ? text[i] : 0
    }

    private func string(_ range: Range<Int>) -> String {
        String(decoding: text[range], as: UTF8.self)
    }

    // MARK: Positions and errors

    private mutating func locate(_ offset: Int) -> (line: Int, column: Int) {
        let offset = max(offset, contentStart)
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        var from = lineStarts[low]
        var column = 1
        if located.line == low + 1 && located.offset <= offset && located.offset >= from {
            from = located.offset
            column = located.column
        }
        for i in from..<min(offset, text.count) where text[i] & 0xC0 != 0x80 { column += 1 }
        located = (offset, low + 1, column)
        return (low + 1, column)
    }

    private mutating func fail(_ message: String, at offset: Int) -> PresetError {
        let (line, column) = locate(offset)
        return PresetError(file: file, line: line, column: column, message: message)
    }
}

extension YAMLNode {
    fileprivate var isPlain: Bool {
        if case .scalar(_, .plain, _) = self { return true }
        return false
    }
}

private func isSpace(_ c: UInt8) -> Bool { c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") }
private func isBreak(_ c: UInt8) -> Bool { c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") }
private func isBlankOrEnd(_ c: UInt8) -> Bool { c == 0 || isSpace(c) || isBreak(c) }
private func isFlowIndicator(_ c: UInt8) -> Bool {
    c == UInt8(ascii: ",") || c == UInt8(ascii: "[") || c == UInt8(ascii: "]")
        || c == UInt8(ascii: "{") || c == UInt8(ascii: "}")
}

/// Whether a ':' followed by `c` ends plain text inside [ ] or { }: before a flow indicator, and
/// before '?', which libyaml refuses there ("found unexpected ':'").
private func endsFlowText(_ c: UInt8) -> Bool {
    isFlowIndicator(c) || c == UInt8(ascii: "?")
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}

private func hex(_ b: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return "0x" + String(digits[Int(b >> 4)]) + String(digits[Int(b & 0xF)])
}

/// Text for an error message: control characters escaped so a message stays on one line, long text shortened.
func quotedForMessage(_ text: String) -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
        if count == 60 {
            out += "…"
            break
        }
        count += 1
        switch scalar {
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\\": out += "\\\\"
        default:
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029 {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
