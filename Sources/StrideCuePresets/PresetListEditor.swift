// Adding, removing and moving the items of a list (a preset's `cues`) in the preset's own
// text: the rest of the file, comments included, stays byte for byte.

import StrideCueCore

extension PresetEditor {
    /// Adds an item, a mapping of `entries` in that order, to the list at `path` as its item
    /// `position` (counted from 1; nil or one past the end appends). A missing list is added
    /// as a block list, where the documentation lists its key.
    /// - Returns: The range of the bytes written, in the new `text`.
    /// - Throws: `PresetEditError` when `path` names something other than a list, or the
    ///   position is past the end.
    @discardableResult
    public mutating func insertItem(_ entries: [(key: String, value: String)], into path: PresetKeyPath,
                                    at position: Int? = nil) throws(PresetEditError) -> Range<Int> {
        guard !entries.isEmpty else { throw PresetEditError("a new item needs at least one KEY=VALUE") }
        guard case .key(let listKey)? = path.components.last else { throw PresetEditError("\(path) is not a key") }
        let parentPath = PresetKeyPath(Array(path.components.dropLast()))
        let asText = { (key: String) in isTextValue(PresetKeyPath(path.components + [.item(1), .key(key)])) }
        guard let list = node(at: path) else {
            if let position, position != 1 {
                throw PresetEditError("\(path) has no items yet; the first is item 1, not \(position)")
            }
            guard let parent = node(at: parentPath), case .mapping(let parentEntries, _) = parent, !isFlow(parent) else {
                throw PresetEditError("there is no \(parentPath) mapping to add \(listKey) to; edit the file by hand")
            }
            // `cues:` then a block list, lined up with the mapping's keys, two more for the items.
            let indent = String(repeating: " ", count: parentEntries[0].keySpan.column - 1)
            let item = blockItem(entries, dashIndent: indent + "  ", keyIndent: indent + "    ", asText: asText)
            return try insertEntryText(listKey, "\(keyText(listKey)):" + lineBreak + item, into: parent, parent: parentPath)
        }
        guard case .sequence(let items, let span) = list else {
            throw PresetEditError("\(path) is not a list; edit the file by hand")
        }
        let at = position ?? items.count + 1
        guard at >= 1 && at <= items.count + 1 else {
            throw PresetEditError("\(path) has \(items.count) item\(items.count == 1 ? "" : "s"); a new one can be item 1 to \(items.count + 1)")
        }
        if isFlow(list) {
            let item = "{" + entries.map { "\(keyText($0.key)): \(scalarText($0.value, preferring: .plain, flow: true, asText: asText($0.key)))" }
                .joined(separator: ", ") + "}"
            if items.isEmpty { return try spliceRecorded(span.start + 1..<span.start + 1, item) }
            if at <= items.count { return try spliceRecorded(items[at - 1].span.start..<items[at - 1].span.start, item + ", ", dropLast: 2) }
            return try spliceRecorded(items[items.count - 1].span.end..<items[items.count - 1].span.end, ", " + item, dropFirst: 2)
        }
        // A block list: the new item copies the first item's `-` and key columns.
        let dashStart = startOfLine(span.start)
        let dashIndent = String(decoding: text[dashStart..<span.start], as: UTF8.self)
        var keyIndent = dashIndent + "  "
        if case .mapping(let first, _) = items[0] {
            keyIndent = String(repeating: " ", count: first[0].keySpan.column - 1)
        }
        let item = blockItem(entries, dashIndent: dashIndent, keyIndent: keyIndent, asText: asText)
        if at <= items.count {
            let lineStart = startOfLine(items[at - 1].span.start)
            return try spliceRecorded(lineStart..<lineStart, item + lineBreak, dropLast: lineBreak.utf8.count)
        }
        let end = endOfLine(items[items.count - 1].span.end)
        return try spliceRecorded(end..<end, lineBreak + item, dropFirst: lineBreak.utf8.count)
    }

    /// Removes item `n` (from 1) of the list at `path`; the list's key goes with its last item.
    public mutating func removeItem(_ n: Int, of path: PresetKeyPath) throws(PresetEditError) {
        let items = try listItems(path, naming: n)
        guard case .sequence(_, let span)? = node(at: path) else { preconditionFailure("listItems checked it") }
        if items.count == 1 {
            if isFlow(node(at: path)!) {
                try splice(span.start + 1..<span.end - 1, with: "", recorded: false)
            } else {
                try remove(path)
            }
            return
        }
        if isFlow(node(at: path)!) {
            let range = n < items.count ? items[n - 1].span.start..<items[n].span.start
                : items[n - 2].span.end..<items[n - 1].span.end
            try splice(range, with: "", recorded: false)
            return
        }
        try splice(blockItemLines(items, n), with: "", recorded: false)
    }

    /// Moves item `from` of the list at `path` so that it becomes item `to` (both from 1).
    public mutating func moveItem(_ from: Int, to: Int, of path: PresetKeyPath) throws(PresetEditError) {
        let items = try listItems(path, naming: from)
        guard to >= 1 && to <= items.count else {
            throw PresetEditError("\(path) has \(items.count) item\(items.count == 1 ? "" : "s"); there is no place \(to)")
        }
        if from == to { return }
        guard case .sequence(_, let span)? = node(at: path) else { preconditionFailure("listItems checked it") }
        if isFlow(node(at: path)!) {
            var texts = items.map { String(decoding: text[$0.span.start..<$0.span.end], as: UTF8.self) }
            texts.insert(texts.remove(at: from - 1), at: to - 1)
            try splice(items[0].span.start..<items[items.count - 1].span.end, with: texts.joined(separator: ", "), recorded: false)
            _ = span
            return
        }
        // Whole lines, each ending in a line break (the last item's is added if the file ends there).
        var blocks = items.indices.map { index -> String in
            var block = String(decoding: text[blockItemLines(items, index + 1)], as: UTF8.self)
            if !block.hasSuffix("\n") { block += lineBreak }
            return block
        }
        let whole = blockItemLines(items, 1).lowerBound..<blockItemLines(items, items.count).upperBound
        let endedInBreak = whole.upperBound > 0 && text[whole.upperBound - 1] == UInt8(ascii: "\n")
        blocks.insert(blocks.remove(at: from - 1), at: to - 1)
        var joined = blocks.joined()
        if !endedInBreak { joined.removeLast(lineBreak.count) }
        try splice(whole, with: joined, recorded: false)
    }

    /// The items of the list at `path`, after checking that item `n` is one of them.
    private func listItems(_ path: PresetKeyPath, naming n: Int) throws(PresetEditError) -> [YAMLNode] {
        guard case .sequence(let items, _)? = node(at: path) else {
            throw PresetEditError("there is no \(path) list")
        }
        guard n >= 1 && n <= items.count else {
            throw PresetEditError("\(path) has \(items.count) item\(items.count == 1 ? "" : "s"); there is no item \(n)")
        }
        return items
    }

    /// The lines of block item `n` (from 1): from its `-` line to the next item's, comments
    /// between them included; the last ends after its last line's break.
    private func blockItemLines(_ items: [YAMLNode], _ n: Int) -> Range<Int> {
        let start = startOfLine(items[n - 1].span.start)
        let end = n < items.count ? startOfLine(items[n].span.start) : afterLineBreak(endOfLine(items[n - 1].span.end))
        return start..<end
    }

    /// `- key: value` and the following keys lined up under the first, without a final break.
    private func blockItem(_ entries: [(key: String, value: String)], dashIndent: String, keyIndent: String,
                           asText: (String) -> Bool) -> String {
        let dash = dashIndent + "-" + String(repeating: " ", count: max(1, keyIndent.count - dashIndent.count - 1))
        return entries.enumerated().map { index, entry in
            (index == 0 ? dash : keyIndent) + "\(keyText(entry.key)): "
                + scalarText(entry.value, preferring: .plain, flow: false, asText: asText(entry.key))
        }.joined(separator: lineBreak)
    }

    /// Writes `string` over `range` and records the bytes of it that are the new value.
    private mutating func spliceRecorded(_ range: Range<Int>, _ string: String, dropFirst: Int = 0, dropLast: Int = 0) throws(PresetEditError) -> Range<Int> {
        let written = try splice(range, with: string, recorded: false)
        let value = (written.lowerBound + dropFirst)..<(written.upperBound - dropLast)
        recordChange(value)
        return value
    }
}

/// A change to the items of a preset's list, as `stridecue preset cue` makes it.
public enum ListEdit: Sendable, Equatable {
    /// A new item of these `key=value`s (each a single key), as item `at` (nil: the last).
    case add([PresetAssignment], at: Int?)
    /// Item `n`, from 1, taken out.
    case remove(Int)
    /// Item `from` made item `to`.
    case move(Int, to: Int)
}

/// Applies a `ListEdit` to the list at `list` of a preset's text and checks the result by
/// decoding it, so a bad cue is refused before anything is written.
/// - Throws: `PresetEditFailure`; `assignment` 0 names the edit when the new text is at fault.
public func editPresetList(_ bytes: [UInt8], file: String, list: PresetKeyPath, _ edit: ListEdit) throws(PresetEditFailure) -> PresetEditResult {
    var editor: PresetEditor
    do {
        editor = try PresetEditor(bytes, file: file)
    } catch {
        throw PresetEditFailure(assignment: nil, message: error.description, isUsageError: false, originalError: error)
    }
    var range: Range<Int>?
    do throws(PresetEditError) {
        switch edit {
        case .add(let assignments, let at):
            var entries: [(key: String, value: String)] = []
            for assignment in assignments {
                guard assignment.path.components.count == 1, case .key(let key) = assignment.path.components[0] else {
                    throw PresetEditError("\(assignment.text): name a key of the new item, such as say=… or every=8")
                }
                guard !entries.contains(where: { $0.key == key }) else { throw PresetEditError("\(key) is given twice") }
                entries.append((key, assignment.value))
            }
            range = try editor.insertItem(entries, into: list, at: at)
        case .remove(let n):
            try editor.removeItem(n, of: list)
        case .move(let from, let to):
            try editor.moveItem(from, to: to, of: list)
        }
    } catch {
        throw PresetEditFailure(assignment: 0, message: error.message, isUsageError: true, originalError: nil)
    }
    let changes = [PresetChange(old: nil, range: range)]
    do {
        return PresetEditResult(text: editor.text, preset: try decodePreset(editor.text, file: file), changes: changes)
    } catch {
        var original: PresetError?
        do { _ = try decodePreset(bytes, file: file) } catch let before { original = before }
        // A file that was already broken is news about the file; otherwise the edit is at fault.
        if let original, original.line == error.line && original.column == error.column {
            throw PresetEditFailure(assignment: nil, message: error.message, isUsageError: false, originalError: original)
        }
        throw PresetEditFailure(assignment: 0, message: error.message, isUsageError: false, originalError: nil)
    }
}

extension PresetKeyPath {
    /// Why `text` is not a key path, in words, for the ways people get it wrong; nil otherwise.
    public static func problem(with text: String) -> String? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.dropFirst().contains(where: { $0.allSatisfy { $0 == "0" } && !$0.isEmpty }) {
            return "list items are counted from 1, as a coach counts: \(parts[0]).1 is the first"
        }
        if parts.contains(where: \.isEmpty) { return "a key has no empty parts: write it like ramp.from or cues.2.say" }
        return nil
    }
}
