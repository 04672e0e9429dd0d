// A value typed on the command line (or sent by the coach's page), written in the style of the
// value it replaces: `rest=90s` over `rest: 60 s` writes `90 s`, and a value that means what
// the file already says leaves the file's text alone.

import StrideCueCore

/// What kind of quantity a key holds, for comparing and restyling its values.
private enum Quantity {
    case duration, distance, number
}

private func quantity(of path: PresetKeyPath) -> Quantity? {
    guard case .key(let last)? = path.components.last, !isTextValue(path) else { return nil }
    switch last {
    case "rest", "duration", "hold", "say-after", "say-every": return .duration
    case "distance", "step-length": return .distance
    default: return .number
    }
}

/// `value` as the file would write it, given the `old` text at `path`: the old text itself when
/// both mean the same (`60s` for `60 s`, `180.0` for `180`); else the number as typed, with the
/// old value's blank before its unit and, for the same unit, the old spelling (`90 sec` after
/// `60 sec`). Text values and values the parsers do not read are returned as typed.
public func restyled(_ value: String, like old: String, at path: PresetKeyPath) -> String {
    guard let kind = quantity(of: path) else { return value }
    let parse: (String) -> Double?
    switch kind {
    case .duration: parse = parseDuration
    case .distance: parse = parseDistance
    case .number: parse = parseDecimal
    }
    guard let newMeaning = parse(value) else { return value }
    if let oldMeaning = parse(old), oldMeaning == newMeaning { return old }
    guard kind != .number, let oldParts = numberAndUnit(old), !oldParts.unit.isEmpty,
          let newParts = numberAndUnit(value) else { return value }
    let factor = { (unit: String) -> Double? in parse("1" + (unit.isEmpty ? "" : " " + unit)) }
    if newParts.unit.isEmpty {
        // A bare number is seconds or metres: it takes the old unit only when that is one too.
        return factor(oldParts.unit) == 1 ? newParts.number + oldParts.blank + oldParts.unit : value
    }
    let unit = factor(newParts.unit) == factor(oldParts.unit) ? oldParts.unit : newParts.unit
    return newParts.number + oldParts.blank + unit
}

/// `90 s` as ("90", " ", "s"); nil unless the text is digits (and a point), blanks, letters.
private func numberAndUnit(_ text: String) -> (number: String, blank: String, unit: String)? {
    let scalars = Array(text.unicodeScalars)
    var i = 0
    while i < scalars.count, ("0"..."9").contains(scalars[i]) || scalars[i] == "." { i += 1 }
    guard i > 0 else { return nil }
    var j = i
    while j < scalars.count, scalars[j] == " " || scalars[j] == "\t" { j += 1 }
    let unit = scalars[j...]
    guard unit.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) }) else { return nil }
    func string(_ part: ArraySlice<Unicode.Scalar>) -> String {
        var s = ""
        s.unicodeScalars.append(contentsOf: part)
        return s
    }
    return (string(scalars[..<i]), string(scalars[i..<j]), string(unit))
}
