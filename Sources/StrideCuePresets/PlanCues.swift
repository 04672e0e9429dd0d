import StrideCueCore

/// The cues of a parsed preset, for display.
///
/// Reads the `cues` list of the tree leniently, the way the preset documentation writes it
/// (`say`/`sound`, `every` and `offset` or `at`, `steps`, `style`), skipping what it cannot
/// read: validating cues is the decoder's job. Until the decoder hands cues over in the
/// `Preset`, this is where `preset show` gets them.
public func planCues(in root: YAMLNode) -> [PlanCue] {
    guard case .sequence(let items, _)? = root.entry("cues")?.value else { return [] }
    return items.compactMap { item -> PlanCue? in
        guard case .mapping = item else { return nil }
        func scalar(_ key: String) -> String? {
            guard case .scalar(let text, _, _)? = item.entry(key)?.value else { return nil }
            let trimmed = text.trimmingBlanks()
            return trimmed.isEmpty ? nil : trimmed
        }
        func whole(_ key: String) -> Int? { scalar(key).flatMap { Int($0) }.flatMap { $0 >= 1 ? $0 : nil } }
        let text: String
        var isRecording = false
        if let say = scalar("say") {
            text = say
        } else if let sound = scalar("sound") {
            text = sound
            isRecording = true
        } else {
            return nil
        }
        let placement: PlanCue.Placement
        if let every = whole("every") {
            placement = .every(every, offset: whole("offset") ?? 1)
        } else if let at = scalar("at") {
            switch at {
            case "set-start": placement = .setStart
            case "set-end": placement = .setEnd
            case "halfway": placement = .halfway
            default:
                let words = at.split(separator: " ")
                guard words.count == 2, words[0] == "step", let k = Int(words[1]), k >= 1 else { return nil }
                placement = .step(k)
            }
        } else {
            placement = .setStart
        }
        return PlanCue(text: text, isRecording: isRecording, placement: placement,
                       steps: whole("steps") ?? 2, style: scalar("style") ?? "voice")
    }
}
