/// Reads a duration as seconds: "90s", "90 s", "10m", "10 min", "1h", "1.5h", "1:30", "1:02:03", or "45" (seconds).
///
/// Returns nil for anything else, including negatives, NaN, infinities and the empty string.
/// In `m:ss` and `h:mm:ss` every field after the first must be below 60.
public func parseDuration(_ text: String) -> Double? {
    let bytes = trimmedBytes(text)
    guard !bytes.isEmpty else { return nil }
    if bytes.contains(UInt8(ascii: ":")) {
        let fields = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard fields.count <= 3 else { return nil }
        var seconds = 0.0
        for (index, field) in fields.enumerated() {
            let isLast = index == fields.count - 1
            // Only the seconds may have a fraction: "1.5:30" means nothing.
            guard isLast || field.allSatisfy(isDigit), let value = parseUnsignedDecimal(field) else { return nil }
            if index > 0 && value >= 60 { return nil }
            seconds = seconds * 60 + value
        }
        return seconds.isFinite ? seconds : nil
    }
    guard let (value, unit) = splitNumberAndUnit(bytes) else { return nil }
    let factor: Double
    switch unit {
    case "", "s", "sec", "secs", "second", "seconds": factor = 1
    case "m", "min", "mins", "minute", "minutes": factor = 60
    case "h", "hr", "hrs", "hour", "hours": factor = 3_600
    default: return nil
    }
    let seconds = value * factor
    return seconds.isFinite ? seconds : nil
}

/// Reads a distance as metres: "20 m", "20m", "0.5 m", "80 cm", "1.2 km", or "400" (metres).
///
/// Returns nil for anything else, including negatives, NaN, infinities and the empty string.
public func parseDistance(_ text: String) -> Double? {
    guard let (value, unit) = splitNumberAndUnit(trimmedBytes(text)) else { return nil }
    let factor: Double
    switch unit {
    case "", "m", "metre", "metres", "meter", "meters": factor = 1
    case "km", "kilometre", "kilometres", "kilometer", "kilometers": factor = 1_000
    case "cm", "centimetre", "centimetres", "centimeter", "centimeters": factor = 0.01
    default: return nil
    }
    let metres = value * factor
    return metres.isFinite ? metres : nil
}

/// What a YAML number turned out to be.
public enum NumberReading: Equatable {
    case finite(Double)
    /// `.nan`, `.inf`, `-.inf`, `nan`, `inf`, or a literal too large for a `Double` such as `1e999`.
    case nonFinite
    case notANumber
}

/// Reads a decimal number with optional sign, fraction and exponent, as YAML writes floats.
///
/// Hexadecimal and other forms `Double(_:)` would accept are refused so presets stay readable.
public func readNumber(_ text: String) -> NumberReading {
    let bytes = trimmedBytes(text)
    var body = bytes[...]
    if let first = body.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { body = body.dropFirst() }
    let word = String(decoding: body.map(asciiLowercased), as: UTF8.self)
    if [".nan", "nan", ".inf", "inf", "infinity"].contains(word) { return .nonFinite }

    var i = body.startIndex
    let end = body.endIndex
    var digits = 0
    while i < end && isDigit(body[i]) { i += 1; digits += 1 }
    if i < end && body[i] == UInt8(ascii: ".") {
        i += 1
        while i < end && isDigit(body[i]) { i += 1; digits += 1 }
    }
    guard digits > 0 else { return .notANumber }
    if i < end && (body[i] == UInt8(ascii: "e") || body[i] == UInt8(ascii: "E")) {
        i += 1
        if i < end && (body[i] == UInt8(ascii: "+") || body[i] == UInt8(ascii: "-")) { i += 1 }
        let exponentStart = i
        while i < end && isDigit(body[i]) { i += 1 }
        guard i > exponentStart else { return .notANumber }
    }
    guard i == end, let value = Double(String(decoding: bytes, as: UTF8.self)) else { return .notANumber }
    return value.isFinite ? .finite(value) : .nonFinite
}

/// "12", "0.5", ".5" or "5.": digits with at most one point; no sign, no exponent.
private func parseUnsignedDecimal(_ bytes: ArraySlice<UInt8>) -> Double? {
    var digits = 0
    var points = 0
    for b in bytes {
        if isDigit(b) {
            digits += 1
        } else if b == UInt8(ascii: ".") {
            points += 1
        } else {
            return nil
        }
    }
    guard digits > 0, points <= 1, let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite else {
        return nil
    }
    return value
}

/// Splits "1.5 km" into 1.5 and "km" (lowercased); the unit is empty when there is none.
private func splitNumberAndUnit(_ bytes: [UInt8]) -> (Double, String)? {
    var numberEnd = bytes.startIndex
    while numberEnd < bytes.endIndex && (isDigit(bytes[numberEnd]) || bytes[numberEnd] == UInt8(ascii: ".")) {
        numberEnd += 1
    }
    guard let value = parseUnsignedDecimal(bytes[..<numberEnd]) else { return nil }
    var unitStart = numberEnd
    while unitStart < bytes.endIndex && (bytes[unitStart] == UInt8(ascii: " ") || bytes[unitStart] == UInt8(ascii: "\t")) {
        unitStart += 1
    }
    let unit = bytes[unitStart...]
    guard unit.allSatisfy({ asciiLowercased($0) >= UInt8(ascii: "a") && asciiLowercased($0) <= UInt8(ascii: "z") }) else {
        return nil
    }
    return (value, String(decoding: unit.map(asciiLowercased), as: UTF8.self))
}

private func trimmedBytes(_ text: String) -> [UInt8] {
    let bytes = Array(text.utf8)
    let isBlank = { (b: UInt8) in b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
    guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else {
        return []
    }
    return Array(bytes[first...last])
}

private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

private func asciiLowercased(_ b: UInt8) -> UInt8 {
    b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b
}

/// A finite decimal number ("172.5", "-6", "1e2"), or nil: hexadecimal ("0x96"), NaN,
/// infinities and anything else `Double(_:)` would stretch to are refused. One rule for
/// presets, flags and the remote's values.
public func parseDecimal(_ text: String) -> Double? {
    if case .finite(let value) = readNumber(text) { return value }
    return nil
}

/// A whole decimal number ("12", "-3"), or nil: no fraction, no exponent, no hexadecimal.
public func parseWholeNumber(_ text: String) -> Int? {
    let bytes = Array(text.utf8)
    var body = bytes[...]
    if let first = body.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { body = body.dropFirst() }
    guard !body.isEmpty, body.count <= 18, body.allSatisfy(isDigit) else { return nil }
    return Int(String(decoding: bytes, as: UTF8.self))
}
