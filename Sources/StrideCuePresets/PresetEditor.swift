import StrideCueCore

/// One step of a key path: a mapping key, or a list item counted from 1.
public enum PresetKeyComponent: Sendable, Equatable, Hashable {
    case key(String)
    /// 1-based, as a coach counts the cues of a preset.
    case item(Int)
}

/// Where a value sits in a preset, written `cadence`, `ramp.from` or `cues.2.say`.
public struct PresetKeyPath: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var components: [PresetKeyComponent]

    public init(_ components: [PresetKeyComponent]) {
        self.components = components
    }

    /// Parses a dotted path; nil unless every part is a key of letters, digits, `-` and `_`
    /// or a list position from 1, and the first part is a key.
    public init?(parsing text: String) {
        var components: [PresetKeyComponent] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.utf8.count <= 64 else { return nil }
            if part.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                guard !components.isEmpty, let n = Int(part), n >= 1 else { return nil }
                components.append(.item(n))
            } else {
                let plain = part.unicodeScalars.allSatisfy {
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
                }
                guard plain else { return nil }
                components.append(.key(String(part)))
            }
        }
        self.components = components
    }

    public var description: String {
        components.map { component in
            switch component {
            case .key(let key): key
            case .item(let n): String(n)
            }
        }.joined(separator: ".")
    }
}

/// Why an edit cannot be made where it was asked; the text is left as it was.
public struct PresetEditError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Changes values of a preset in its source text, leaving every other byte as it was.
///
/// Comments, key order, blank lines, quoting and flow or block layout all survive: a change
/// replaces only the bytes of the value it names (found through the parser's spans), and a
/// missing key is added as one new line (or one `, key: value` in `{…}`) where the preset
/// documentation would list it. The text is re-parsed after every change, so each change sees
/// the spans of the text as it now is.
public struct PresetEditor: Sendable {
    /// The preset's text with the changes so far.
    public private(set) var text: [UInt8]
    /// The tree of `text`.
    public private(set) var root: YAMLNode
    private let file: String
    /// Ranges of the text each change wrote, kept up to date as later changes move bytes;
    /// nil once a later change overwrote them.
    public private(set) var changedRanges: [Range<Int>?] = []

    /// - Parameters:
    ///   - text: The preset as read from its file.
    ///   - file: Its path, for errors.
    /// - Throws: `PresetError` when the text is not a preset the parser reads.
    public init(_ text: [UInt8], file: String) throws(PresetError) {
        self.text = text
        self.file = file
        root = try parseYAML(text, file: file)
    }

    /// The scalar text at `path`, or nil when there is none (absent, or a list or mapping).
    public func value(at path: PresetKeyPath) -> String? {
        guard case .scalar(let value, _, _)? = node(at: path) else { return nil }
        return value
    }

    /// The node at `path`, if the preset has one.
    public func node(at path: PresetKeyPath) -> YAMLNode? {
        var node = root
        for component in path.components {
            switch (component, node) {
            case (.key(let key), .mapping):
                guard let entry = node.entry(key) else { return nil }
                node = entry.value
            case (.item(let n), .sequence(let items, _)):
                guard n >= 1 && n <= items.count else { return nil }
                node = items[n - 1]
            default:
                return nil
            }
        }
        return node
    }

    /// Sets the value at `path` to the text `value`, adding the key and any missing mappings on
    /// the way (`ramp.from=160` without a ramp adds `ramp: {from: 160}`).
    ///
    /// The value is written plain when YAML reads it back unchanged, else quoted; a value that
    /// was quoted stays in its quotes, and `|` or `>` text stays a block.
    /// - Returns: The range of the bytes written, in the new `text`.
    /// - Throws: `PresetEditError` when the path runs into a list or mapping it cannot name a
    ///   value of, such as `cues=…` or `cues.9.say` in a preset with two cues.
    @discardableResult
    public mutating func set(_ path: PresetKeyPath, to value: String) throws(PresetEditError) -> Range<Int> {
        guard !path.components.isEmpty else { throw PresetEditError("an empty key") }
        var node = root
        for (index, component) in path.components.enumerated() {
            let isLast = index == path.components.count - 1
            let walked = PresetKeyPath(Array(path.components[...index]))
            let rest = Array(path.components[(index + 1)...])
            switch node {
            case .mapping(let entries, _):
                guard case .key(let key) = component else {
                    throw PresetEditError("\(PresetKeyPath(Array(path.components[..<index]))) is a mapping, not a list; name one of its keys")
                }
                guard let entry = entries.first(where: { $0.key == key }) else {
                    // `cues.1.say=…` without cues: the list, with that item.
                    if rest.count == 2, rest[0] == .item(1), case .key(let itemKey) = rest[1] {
                        return try insertItem([(itemKey, value)], into: walked, at: 1)
                    }
                    let valueText = try nestedValue(rest, value, flow: isFlow(node) || !rest.isEmpty, asText: isTextValue(path))
                    return try insertEntry(key, valueText: valueText, into: node, parent: PresetKeyPath(Array(path.components[..<index])))
                }
                if isLast {
                    return try replace(entry.value, with: value, path: walked, keyColumn: entry.keySpan.column)
                }
                node = entry.value
            case .sequence(let items, _):
                guard case .item(let n) = component else {
                    let parent = PresetKeyPath(Array(path.components[..<index]))
                    throw PresetEditError("\(parent) is a list; name an item by its number, like \(parent).1")
                }
                let parent = PresetKeyPath(Array(path.components[..<index]))
                // One past the last item: a new item, as a coach counts (`cues.3.say` with two cues).
                if n == items.count + 1, rest.count == 1, case .key(let itemKey) = rest[0] {
                    return try insertItem([(itemKey, value)], into: parent, at: n)
                }
                guard n <= items.count else {
                    throw PresetEditError("\(parent) has \(items.count) item\(items.count == 1 ? "" : "s"), counted from 1; there is no item \(n)")
                }
                if isLast {
                    return try replace(items[n - 1], with: value, path: walked, keyColumn: nil)
                }
                node = items[n - 1]
            case .scalar(_, _, let span):
                // A plain value where a mapping is wanted (`count-in: 4`, then `count-in.steps=6`):
                // the mapping replaces it.
                let valueText = try nestedValue(Array(path.components[index...]), value, flow: true, asText: isTextValue(path))
                let prefix = needsSpace(before: span) ? " " : ""
                return try splice(span.start..<span.end, with: prefix + valueText, recorded: true)
            }
        }
        preconditionFailure("a key path always ends in one of the cases above")
    }

    /// Removes the key at `path` and its value; does nothing when there is none.
    /// - Returns: Whether a key was removed.
    @discardableResult
    public mutating func remove(_ path: PresetKeyPath) throws(PresetEditError) -> Bool {
        guard case .key(let key)? = path.components.last else {
            throw PresetEditError("only keys can be removed, not list items")
        }
        let parentPath = PresetKeyPath(Array(path.components.dropLast()))
        guard let parent = node(at: parentPath), case .mapping(let entries, _) = parent,
              let index = entries.firstIndex(where: { $0.key == key }) else { return false }
        let entry = entries[index]
        if isFlow(parent) {
            let range: Range<Int>
            if index + 1 < entries.count {
                range = entry.keySpan.start..<entries[index + 1].keySpan.start
            } else if index > 0 {
                range = entries[index - 1].value.span.end..<entry.value.span.end
            } else {
                range = entry.keySpan.start..<entry.value.span.end
            }
            try splice(range, with: "", recorded: false)
            return true
        }
        let lineStart = startOfLine(entry.keySpan.start)
        guard text[lineStart..<entry.keySpan.start].allSatisfy({ $0 == UInt8(ascii: " ") }) else {
            throw PresetEditError("\(path) shares its line with a list item's '-'; edit the file to remove it")
        }
        guard entries.count > 1 else {
            throw PresetEditError("\(path) is the only key of \(parentPath); it cannot be removed alone")
        }
        var end = endOfLine(entry.value.span.end)
        end = afterLineBreak(end)
        try splice(lineStart..<end, with: "", recorded: false)
        return true
    }

    // MARK: Writing values

    /// Replaces a scalar's bytes with `value`, written in the scalar's own style where it can be.
    private mutating func replace(_ node: YAMLNode, with value: String, path: PresetKeyPath, keyColumn: Int?) throws(PresetEditError) -> Range<Int> {
        switch node {
        case .mapping:
            throw PresetEditError("\(path) is a mapping; set one of its keys, like \(path).\(exampleKey(node))")
        case .sequence:
            throw PresetEditError("\(path) is a list; set a key of one of its items, like \(path).1.say")
        case .scalar(_, let style, let span):
            let flow = isInsideFlow(span.start)
            if (style == .literal || style == .folded), !value.isEmpty, let block = blockText(value, replacing: span, literal: style == .literal, keyColumn: keyColumn) {
                return try splice(span.start..<span.end, with: block, recorded: true)
            }
            let written = scalarText(value, preferring: style, flow: flow, asText: isTextValue(path))
            let prefix = needsSpace(before: span) ? " " : ""
            return try splice(span.start..<span.end, with: prefix + written, recorded: true)
        }
    }

    /// A `|` or `>` block with the original header line and indentation; nil when the text
    /// cannot be a block (blanks at the ends of lines, control characters).
    private func blockText(_ value: String, replacing span: SourceSpan, literal: Bool, keyColumn: Int?) -> String? {
        var lines = value.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.count > 1 && lines.last == "" { lines.removeLast() }
        for line in lines {
            if line.hasSuffix(" ") || line.hasPrefix(" ") || line.hasSuffix("\t") || line.hasPrefix("\t") { return nil }
            // Folding would turn two blanks or a tab between words into one space.
            if !literal && (line.contains("  ") || line.contains("\t")) { return nil }
            if line.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }) {
                return nil
            }
        }
        // Keep the header as written (`>`, `|-`, a comment after it); take the indentation of
        // the block's first line of text.
        let headerEnd = endOfLine(span.start)
        let header = String(decoding: text[span.start..<headerEnd], as: UTF8.self)
        var indent = (keyColumn ?? 1) - 1 + 2
        var p = afterLineBreak(headerEnd)
        while p < span.end {
            var i = p
            while i < text.count && text[i] == UInt8(ascii: " ") { i += 1 }
            if i < text.count && !isLineBreak(text[i]) {
                indent = i - p
                break
            }
            p = afterLineBreak(endOfLine(p))
        }
        let hasIndicator = header.dropFirst().first.map { $0.isNumber } ?? false
        if p >= span.end && hasIndicator { return nil }
        let pad = String(repeating: " ", count: max(indent, 1))
        let newline = lineBreak
        var body: [String] = []
        if literal {
            body = lines.map { $0.isEmpty ? "" : pad + $0 }
        } else {
            // Folded: a paragraph per line of the value, wrapped; a single line break in the
            // value is an empty line in a `>` block.
            let width = max(40, 80 - indent)
            for (index, paragraph) in lines.enumerated() {
                if index > 0 { body.append("") }
                if paragraph.isEmpty { continue }
                body.append(contentsOf: wrap(paragraph, width: width).map { pad + $0 })
            }
        }
        return header + newline + body.joined(separator: newline)
    }

    /// A value for a key that is not there yet: the scalar, or `{a: {b: value}}` for the rest of a path.
    private func nestedValue(_ rest: [PresetKeyComponent], _ value: String, flow: Bool, asText: Bool) throws(PresetEditError) -> String {
        var written = scalarText(value, preferring: .plain, flow: flow, asText: asText)
        for component in rest.reversed() {
            guard case .key(let key) = component else {
                throw PresetEditError("there is no list to take item \(PresetKeyPath(rest)) from; add the list in the file first")
            }
            written = "{\(keyText(key)): \(written)}"
        }
        return written
    }

    // MARK: Adding keys

    /// Adds `key: valueText` to a mapping, after the keys that come before it in the
    /// documentation's order (or at the end, for a key it does not list).
    private mutating func insertEntry(_ key: String, valueText: String, into mapping: YAMLNode, parent: PresetKeyPath) throws(PresetEditError) -> Range<Int> {
        try insertEntryText(key, "\(keyText(key)): \(valueText)", into: mapping, parent: parent)
    }

    /// Inserts `entryText` (`key: value`, which may span lines in a block mapping) as `insertEntry` does.
    mutating func insertEntryText(_ key: String, _ entryText: String, into mapping: YAMLNode, parent: PresetKeyPath) throws(PresetEditError) -> Range<Int> {
        guard case .mapping(let entries, let span) = mapping else { preconditionFailure("not a mapping") }
        let order = canonicalKeyOrder(for: parent)
        let rank = { (k: String) in order.firstIndex(of: k) ?? order.count }
        let newRank = rank(key)
        let previous = entries.lastIndex { rank($0.key) <= newRank }

        if isFlow(mapping) {
            if let previous {
                return try insert(", " + entryText, at: entries[previous].value.span.end, trimmingTo: 2)
            }
            if let first = entries.first {
                return try insert(entryText + ", ", at: first.keySpan.start, trimmingTo: 0, dropLast: 2)
            }
            return try insert(entryText, at: span.start + 1, trimmingTo: 0)
        }

        // A block mapping has at least one key; new keys line up with it.
        let indent = String(repeating: " ", count: entries[0].keySpan.column - 1)
        let newline = lineBreak
        let firstStartsLine = text[startOfLine(entries[0].keySpan.start)..<entries[0].keySpan.start].allSatisfy { $0 == UInt8(ascii: " ") }
        if previous == nil && firstStartsLine {
            return try insert(indent + entryText + newline, at: startOfLine(entries[0].keySpan.start),
                              trimmingTo: indent.utf8.count, dropLast: newline.utf8.count)
        }
        let after = entries[previous ?? 0]
        let end = endOfLine(after.value.span.end)
        return try insert(newline + indent + entryText, at: end, trimmingTo: newline.utf8.count + indent.utf8.count)
    }

    /// Inserts `string` at `offset`; the recorded change is the part from `trimmingTo` on,
    /// less `dropLast` bytes at the end (separators and indentation are not the value).
    private mutating func insert(_ string: String, at offset: Int, trimmingTo start: Int, dropLast: Int = 0) throws(PresetEditError) -> Range<Int> {
        let written = try splice(offset..<offset, with: string, recorded: false)
        let range = (written.lowerBound + start)..<(written.upperBound - dropLast)
        changedRanges.append(range)
        return range
    }

    /// Records `range` of the text as written by a change, for errors to name it.
    mutating func recordChange(_ range: Range<Int>) {
        changedRanges.append(range)
    }

    // MARK: The one primitive

    /// Replaces `range` of the text with `string`, moves the recorded ranges and re-parses.
    @discardableResult
    mutating func splice(_ range: Range<Int>, with string: String, recorded: Bool) throws(PresetEditError) -> Range<Int> {
        let bytes = Array(string.utf8)
        var edited = text
        edited.replaceSubrange(range, with: bytes)
        let newRoot: YAMLNode
        do {
            newRoot = try parseYAML(edited, file: file)
        } catch {
            // Values are quoted as YAML needs, so this means a layout the editor does not handle.
            throw PresetEditError("cannot change this value in place (\(error.message) at line \(error.line)); edit the file by hand")
        }
        text = edited
        root = newRoot
        let delta = bytes.count - range.count
        changedRanges = changedRanges.map { old in
            guard let old else { return nil }
            // Bytes inserted at a range's start push it along; bytes written over it end it.
            let shifts = range.isEmpty ? old.lowerBound >= range.lowerBound : old.lowerBound >= range.upperBound
            if shifts { return (old.lowerBound + delta)..<(old.upperBound + delta) }
            if old.upperBound <= range.lowerBound { return old }
            return nil
        }
        let written = range.lowerBound..<(range.lowerBound + bytes.count)
        if recorded { changedRanges.append(written) }
        return written
    }

    // MARK: Text positions

    func startOfLine(_ offset: Int) -> Int {
        var i = min(offset, text.count)
        while i > 0 && text[i - 1] != UInt8(ascii: "\n") { i -= 1 }
        return i
    }

    /// The offset of the line break (or the end of the text) at or after `offset`.
    func endOfLine(_ offset: Int) -> Int {
        var i = offset
        while i < text.count && !isLineBreak(text[i]) { i += 1 }
        return i
    }

    func afterLineBreak(_ offset: Int) -> Int {
        var i = offset
        if i < text.count && text[i] == UInt8(ascii: "\r") { i += 1 }
        if i < text.count && text[i] == UInt8(ascii: "\n") { i += 1 }
        return i
    }

    /// The file's own line ending: CRLF if it uses it, else LF.
    var lineBreak: String {
        text.firstIndex(of: UInt8(ascii: "\n")).map { $0 > 0 && text[$0 - 1] == UInt8(ascii: "\r") } == true ? "\r\n" : "\n"
    }

    /// An empty value sits right after its `:`; the new value needs a blank before it.
    func needsSpace(before span: SourceSpan) -> Bool {
        span.start == span.end && span.start > 0 && text[span.start - 1] == UInt8(ascii: ":")
    }

    func isFlow(_ node: YAMLNode) -> Bool {
        let start = node.span.start
        return start < text.count && (text[start] == UInt8(ascii: "{") || text[start] == UInt8(ascii: "["))
    }

    /// Whether `offset` lies inside some `{…}` or `[…]` of the tree.
    private func isInsideFlow(_ offset: Int) -> Bool {
        func search(_ node: YAMLNode) -> Bool {
            let span = node.span
            guard span.start <= offset && offset <= span.end else { return false }
            if isFlow(node) && span.start < offset && offset < span.end { return true }
            switch node {
            case .scalar: return false
            case .mapping(let entries, _): return entries.contains { search($0.value) }
            case .sequence(let items, _): return items.contains { search($0) }
            }
        }
        return search(root)
    }

    private func exampleKey(_ node: YAMLNode) -> String {
        guard case .mapping(let entries, _) = node, let first = entries.first else { return "steps" }
        return first.key
    }
}

/// The order the documentation lists keys in, for a mapping at `path`; new keys go there.
func canonicalKeyOrder(for path: PresetKeyPath) -> [String] {
    let keys = path.components.compactMap { component -> String? in
        if case .key(let key) = component { return key }
        return nil
    }
    switch keys {
    case []: return presetKeys
    case ["ramp"]: return ["from", "steps"]
    case ["count-in"]: return ["steps", "say"]
    case ["feedback"]: return ["mode", "band", "hold", "step", "say-after", "say-every", "say-under", "say-over"]
    case ["set"]: return ["steps", "duration", "distance", "step-length"]
    case ["cues"]: return ["say", "sound", "every", "at", "offset", "steps", "style", "voice", "align", "level"]
    default: return []
    }
}

// MARK: Scalars as YAML

/// `value` as YAML text that reads back as exactly `value`: plain when it can be, else quoted
/// (single quotes kept if the old value had them and they can hold the text).
///
/// Text (`asText`) that YAML would type otherwise when plain — `~`, `yes`, `010` — is quoted; a
/// value of any other key (a number, a boolean, a duration) is written plain when it can be,
/// so `cadence: "180"` becomes `cadence: 185`.
func scalarText(_ value: String, preferring style: ScalarStyle, flow: Bool, asText: Bool) -> String {
    let printable = !value.unicodeScalars.contains {
        $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) || $0.value == 0x2028 || $0.value == 0x2029 || $0.value == 0xFEFF
    }
    var style = style
    if asText, plainTyping(.scalar(value, style: .plain, span: SourceSpan(start: 0, end: 0, line: 1, column: 1))) != .other {
        if style != .singleQuoted { style = .doubleQuoted }
    } else if !asText && (style == .singleQuoted || style == .doubleQuoted) {
        style = .plain
    }
    if style == .singleQuoted && printable {
        return "'" + value.replacingAll("'", with: "''") + "'"
    }
    if style != .doubleQuoted && style != .singleQuoted && printable && isPlainSafe(value, flow: flow) {
        return value
    }
    return doubleQuoted(value)
}

/// A key as YAML text: plain when it can be.
func keyText(_ key: String) -> String {
    isPlainSafe(key, flow: true) ? key : doubleQuoted(key)
}

private func doubleQuoted(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0xFEFF {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// Whether the preset reader takes `value` unquoted as exactly this text.
private func isPlainSafe(_ value: String, flow: Bool) -> Bool {
    let bytes = Array(value.utf8)
    guard let first = bytes.first, let last = bytes.last else { return false }
    if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") || last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
        return false
    }
    let indicators = Array("-?:,[]{}#&*!|>'\"%@`".utf8)
    if indicators.contains(first) {
        // `-5`, `:x` or `?x` would read back, but a leading indicator is easy to misread: quote it.
        return false
    }
    if bytes == Array("---".utf8) || bytes == Array("...".utf8) { return false }
    for (i, b) in bytes.enumerated() {
        let next = i + 1 < bytes.count ? bytes[i + 1] : 0
        if b == UInt8(ascii: ":") && (next == 0 || next == UInt8(ascii: " ") || next == UInt8(ascii: "\t")) { return false }
        if b == UInt8(ascii: "#") && i > 0 && (bytes[i - 1] == UInt8(ascii: " ") || bytes[i - 1] == UInt8(ascii: "\t")) { return false }
        if flow && (b == UInt8(ascii: ",") || b == UInt8(ascii: "[") || b == UInt8(ascii: "]")
                    || b == UInt8(ascii: "{") || b == UInt8(ascii: "}")) { return false }
        if flow && b == UInt8(ascii: ":") && (next == UInt8(ascii: ",") || next == UInt8(ascii: "]") || next == UInt8(ascii: "}")) { return false }
    }
    return true
}

extension String {
    /// Every `target` replaced; the core has no Foundation to do it.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

private func isLineBreak(_ b: UInt8) -> Bool { b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") }

// MARK: - Changing a preset from the command line

/// A `KEY=VALUE` change, as typed after `stridecue preset set NAME`.
public struct PresetAssignment: Sendable, Equatable {
    public var path: PresetKeyPath
    /// The new value as text, exactly as typed after the first `=`.
    public var value: String
    /// The whole argument, for messages.
    public var text: String

    public init(path: PresetKeyPath, value: String) {
        self.path = path
        self.value = value
        text = "\(path)=\(value)"
    }

    /// Reads `ramp.from=160`; nil without an `=` or with a malformed key.
    public init?(parsing text: String) {
        guard let equals = text.firstIndex(of: "="), let path = PresetKeyPath(parsing: String(text[..<equals])) else {
            return nil
        }
        self.path = path
        value = String(text[text.index(after: equals)...])
        self.text = text
    }
}

/// Why `editPreset` wrote nothing.
public struct PresetEditFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The index of the assignment at fault, when one is.
    public var assignment: Int?
    public var message: String
    /// True when the assignment cannot be applied at all (it names a list, or an item that is
    /// not there); false when it applies but the preset it makes is not valid.
    public var isUsageError: Bool
    /// The original file's own error, when it did not decode before the change either.
    public var originalError: PresetError?

    public var description: String { message }
}

/// What one assignment did to the text.
public struct PresetChange: Sendable, Equatable {
    /// The value it replaced; nil when the key was added.
    public var old: String?
    /// The value as written, in the style of the old one (`90 s` for `90s` over `60 s`).
    public var new: String = ""
    /// The bytes of the new text it wrote; nil when a later assignment overwrote them.
    public var range: Range<Int>?
    /// Keys the change took out with it, and their values: `set.steps` replaces `set.duration`.
    public var removed: [(key: String, value: String)] = []
    /// Whether the file already said this, so nothing was written for it.
    public var isUnchanged: Bool { old == new && removed.isEmpty }

    public static func == (a: PresetChange, b: PresetChange) -> Bool {
        a.old == b.old && a.new == b.new && a.range == b.range && a.removed.map(\.key) == b.removed.map(\.key) && a.removed.map(\.value) == b.removed.map(\.value)
    }
}

/// A preset with changes applied and checked.
public struct PresetEditResult: Sendable {
    /// The new text of the file.
    public var text: [UInt8]
    /// The new text, decoded.
    public var preset: Preset
    /// One per assignment, in order.
    public var changes: [PresetChange]

    /// The assignment whose written text holds the 1-based `line` and `column`, if any.
    public func assignment(atLine line: Int, column: Int) -> Int? {
        changeIndex(in: text, changes: changes, line: line, column: column)
    }
}

private func changeIndex(in text: [UInt8], changes: [PresetChange], line: Int, column: Int) -> Int? {
    guard let offset = byteOffset(in: text, line: line, column: column) else { return nil }
    return changes.indices.last { index in
        guard let range = changes[index].range else { return false }
        return range.lowerBound <= offset && offset < max(range.upperBound, range.lowerBound + 1)
    }
}

/// Applies `KEY=VALUE` changes to a preset's text and checks the result by decoding it, so a
/// bad value is caught before anything is written.
///
/// Beyond `PresetEditor.set`, two rules follow what a coach means: `count-in=6` on a
/// `count-in: {steps: 4, …}` mapping sets its steps, and giving a set one way to end
/// (`set.steps`, `set.duration` or `set.distance`) removes the others, with `step-length` when
/// the set is no longer a distance.
/// - Parameters:
///   - bytes: The preset as read from its file.
///   - file: Its path, used in errors and for the preset's default name.
///   - assignments: The changes, applied in order (a later one for the same key wins).
/// - Throws: `PresetEditFailure` naming the assignment at fault where there is one.
public func editPreset(_ bytes: [UInt8], file: String, assignments: [PresetAssignment]) throws(PresetEditFailure) -> PresetEditResult {
    var editor: PresetEditor
    do {
        editor = try PresetEditor(bytes, file: file)
    } catch {
        throw PresetEditFailure(assignment: nil, message: error.description, isUsageError: false, originalError: error)
    }
    var olds: [String?] = []
    var removed: [[(key: String, value: String)]] = []
    var rangeIndex: [Int] = []
    var written: [String] = []
    for (index, assignment) in assignments.enumerated() {
        var path = assignment.path
        if path == PresetKeyPath([.key("count-in")]), case .mapping? = editor.node(at: path) {
            path = PresetKeyPath([.key("count-in"), .key("steps")])
        }
        // `feedback=nudge` on a `feedback: {mode: fade, …}` mapping sets its mode.
        let feedback = PresetKeyPath([.key("feedback")])
        if path == feedback, case .mapping? = editor.node(at: path) {
            path = PresetKeyPath([.key("feedback"), .key("mode")])
        }
        let old = editor.value(at: path)
        olds.append(old)
        removed.append([])
        let value = old.map { restyled(assignment.value, like: $0, at: path) } ?? assignment.value
        written.append(value)
        if let old, value == old, case .scalar? = editor.node(at: path) {
            // Already so: the file keeps its bytes, and the change is reported as none.
            rangeIndex.append(-1)
            continue
        }
        do {
            // `feedback.hold=10 s` on `feedback: fade` keeps the mode: `{mode: fade, hold: 10 s}`.
            if path.components.count == 2, path.components[0] == .key("feedback"), path.components[1] != .key("mode"),
               case .scalar(let mode, _, _)? = editor.node(at: feedback), !mode.isEmpty {
                try editor.set(PresetKeyPath([.key("feedback"), .key("mode")]), to: mode)
            }
            try editor.set(path, to: value)
            rangeIndex.append(editor.changedRanges.count - 1)
            if path.components.count == 2, path.components[0] == .key("set"), case .key(let way) = path.components[1],
               ["steps", "duration", "distance"].contains(way) {
                let others = ["steps", "duration", "distance", "step-length"].filter { $0 != way && !(way == "distance" && $0 == "step-length") }
                for other in others {
                    let otherPath = PresetKeyPath([.key("set"), .key(other)])
                    if let value = editor.value(at: otherPath) { removed[index].append(("set.\(other)", value)) }
                    try editor.remove(otherPath)
                }
            }
        } catch {
            throw PresetEditFailure(assignment: index, message: error.message, isUsageError: true, originalError: nil)
        }
    }
    let changes = assignments.indices.map {
        PresetChange(old: olds[$0], new: written[$0], range: rangeIndex[$0] < 0 ? nil : editor.changedRanges[rangeIndex[$0]],
                     removed: removed[$0])
    }
    do {
        return PresetEditResult(text: editor.text, preset: try decodePreset(editor.text, file: file), changes: changes)
    } catch {
        if let index = changeIndex(in: editor.text, changes: changes, line: error.line, column: error.column) {
            throw PresetEditFailure(assignment: index, message: error.message, isUsageError: false, originalError: nil)
        }
        var original: PresetError?
        do { _ = try decodePreset(bytes, file: file) } catch let before { original = before }
        throw PresetEditFailure(assignment: nil, message: error.message, isUsageError: false, originalError: original)
    }
}

/// The byte offset of a 1-based line and column (counted in Unicode scalars, as `SourceSpan`
/// counts them); nil when the text has no such place.
func byteOffset(in text: [UInt8], line: Int, column: Int) -> Int? {
    var offset = text.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    var currentLine = 1
    while currentLine < line {
        guard let newline = text[offset...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        offset = newline + 1
        currentLine += 1
    }
    var remaining = column - 1
    while remaining > 0 && offset < text.count {
        offset += 1
        while offset < text.count && text[offset] & 0xC0 == 0x80 { offset += 1 }
        remaining -= 1
    }
    return remaining == 0 ? offset : nil
}
