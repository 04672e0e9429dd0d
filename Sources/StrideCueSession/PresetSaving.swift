import StrideCueCore
import StrideCueFiles
import StrideCuePresets

/// A preset edit that was checked and saved.
public struct SavedPreset {
    public var result: PresetEditResult
    /// The user's file that now holds it.
    public var target: String
    /// Where the preset was read from: the user's own file, or the preset copied.
    public var source: PresetFile
    /// False when the edit changed nothing, so nothing was written.
    public var wrote: Bool

    /// `Saved PATH`, or where the copy came from.
    public var savedLines: [String] {
        guard wrote else { return ["Nothing to change: \(target == source.path ? target : source.path) already says so"] }
        if source.source == .user { return ["Saved \(target)"] }
        return ["Saved your copy \(target)",
                "  (made from the \(source.source == .builtIn ? "built-in" : "STRIDECUE_PRESETS") preset; "
                + "'stridecue preset rm \(source.name)' goes back to it)"]
    }
}

/// The one edit of a preset `preset set`, `preset cue` and the coach's page make: read the
/// preset under its lock, edit it keeping comments and layout, run the one preflight on the
/// result, and replace the user's copy in one step. A bad edit writes nothing.
/// - Parameters:
///   - name: the preset; a built-in one is copied to the user's folder.
///   - changes: the changes as typed, for messages (`PresetEditFailure.assignment` indexes them).
///   - edit: the edit of the text.
public func savePreset(name: String, changes: [String], cancellation: Cancellation?,
                       edit: ([UInt8], String) throws(PresetEditFailure) -> PresetEditResult) throws -> SavedPreset {
    let data = DataFolder.locate()
    let locator = PresetLocator(data: data)
    let target = try locator.userPath(for: name, command: "preset set")
    // Held from the read to the replace: a second editor waits, then edits this result.
    try makeFolders(locator.userFolder!)
    let lock = try EditLock(for: target, cancellation: cancellation)
    defer { _ = lock }
    guard let source = locator.find(name) else {
        throw Failure("no preset named '\(name)'; 'stridecue preset new \(name)' makes one", exitCode: ExitStatus.noInput)
    }
    let bytes = try readFile(source.path, limit: PresetLocator.sizeLimit)
    let edited: PresetEditResult
    do {
        edited = try edit(bytes, source.path)
    } catch {
        if error.assignment == nil, let original = error.originalError {
            // The file was already broken there: point at it so it can be fixed by hand.
            throw Failure("\(sentence(original.description)) Fix this first; nothing was changed.", exitCode: ExitStatus.dataError)
        }
        let who = error.assignment.map { changes[$0] } ?? changes.joined(separator: " ")
        throw Failure("\(who): \(sentence(error.message)) Nothing was changed.",
                      exitCode: error.isUsageError ? ExitStatus.usage : ExitStatus.dataError)
    }
    if edited.text == bytes {
        return SavedPreset(result: edited, target: target, source: source, wrote: false)
    }
    // The one preflight, on the edited text, before anything is written: what render
    // would refuse, set refuses.
    do {
        let resolved = ResolvedSession(plan: edited.preset.plan, preset: LoadedPreset(path: source.path, preset: edited.preset))
        _ = try preflight(resolved, data: data, format: checkFormat)
    } catch let error as PresetError {
        // A cue that no longer fits is news about the change, not about a line of a file.
        let who = edited.assignment(atLine: error.line, column: error.column).map { changes[$0] } ?? changes.joined(separator: " ")
        throw Failure("\(quoted(who)): \(sentence(error.message)) Nothing was changed.", exitCode: ExitStatus.dataError)
    } catch {
        let (message, status) = explain(error)
        throw Failure("\(sentence(message)) Nothing was changed.", exitCode: status)
    }
    try makeFolders(locator.userFolder!)
    try replaceFile(target, with: edited.text)
    return SavedPreset(result: edited, target: target, source: source, wrote: true)
}

/// `preset set`'s edit, also what the coach's page saves with.
/// - Returns: the lines that report the change: only values that changed are listed.
public func savePresetValues(name: String, changes: [PresetAssignment], cancellation: Cancellation?) throws -> [String] {
    let saved = try savePreset(name: name, changes: changes.map(\.text), cancellation: cancellation) { bytes, file throws(PresetEditFailure) in
        try editPreset(bytes, file: file, assignments: changes)
    }
    let shown = zip(changes, saved.result.changes).filter { !$0.1.isUnchanged }
    guard !shown.isEmpty else { return saved.savedLines }
    var lines = ["Changed \(name):"]
    let width = shown.map(\.0.path.description.count).max() ?? 0
    for (change, result) in shown {
        let key = change.path.description + String(repeating: " ", count: width - change.path.description.count)
        let line = result.old.map { "\(quotedIfNeeded($0)) → \(quotedIfNeeded(result.new))" }
            ?? "\(quotedIfNeeded(result.new)) (added)"
        lines.append("  \(key)  \(line)")
        for (gone, value) in result.removed {
            lines.append("  \(gone)  \(quotedIfNeeded(value)) (removed: a set ends one way)")
        }
    }
    return lines + saved.savedLines
}

/// The cues of a preset as a coach counts them, one line each: `  2  "knees up"`.
public func numberedCues(_ preset: Preset) -> [String] {
    let cues = planCues(in: preset.root)
    if cues.isEmpty { return ["  (no cues)"] }
    let width = String(cues.count).count
    return cues.enumerated().map { index, cue in
        let number = String(index + 1)
        let shown = cue.isRecording ? "[\(cue.text)]" : "\"\(cue.text)\""
        return "  " + String(repeating: " ", count: width - number.count) + number + "  " + quoted(shown, limit: 70)
    }
}

/// A message ending as a sentence does, so another can follow it.
func sentence(_ message: String) -> String {
    message.hasSuffix("?") || message.hasSuffix(".") || message.hasSuffix("!") ? message : message + "."
}

/// A value in the summary of changes: quoted when blanks at its ends or emptiness would hide it.
func quotedIfNeeded(_ value: String) -> String {
    var value = value
    // A `>` or `|` block ends in a line break that is not part of what a person reads.
    while value.hasSuffix("\n") { value.removeLast() }
    return value.isEmpty || value.hasPrefix(" ") || value.hasSuffix(" ") || value.contains("\n") ? "\"\(quoted(value))\"" : quoted(value)
}
