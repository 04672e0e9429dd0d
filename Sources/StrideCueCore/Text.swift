/// A number without a needless ".0": 190, 172.5.
public func format(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
}

/// Text from a file or a flag, made safe for a one-line message: control characters shown as
/// escapes (`\u{1b}`), long text cut at 60 characters with an ellipsis.
public func quoted(_ text: String, limit: Int = 60) -> String {
    var out = ""
    for (count, scalar) in text.unicodeScalars.enumerated() {
        if count == limit { out += "…"; break }
        if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
            || scalar.value == 0x2028 || scalar.value == 0x2029 {
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// A path or other text shown whole, control characters escaped: what a terminal, a CSV or an
/// SVG receives from a file name or a preset.
public func escaped(_ text: String) -> String { quoted(text, limit: .max) }

extension String {
    /// A non-negative number with exactly three decimals, rounded half up: 1.5 → "1.500".
    public init(format3 value: Double) {
        let thousandths = Int64((value * 1000).rounded())
        let sign = thousandths < 0 ? "-" : ""
        let a = abs(thousandths)
        let whole = a / 1000, part = a % 1000
        self = sign + "\(whole)." + String(repeating: "0", count: part < 10 ? 2 : part < 100 ? 1 : 0) + "\(part)"
    }

    /// Two decimals: 1.234 → "1.23".
    public init(format2 value: Double) {
        let hundredths = Int64((value * 100).rounded())
        self = "\(hundredths / 100)." + (hundredths % 100 < 10 ? "0" : "") + "\(hundredths % 100)"
    }
}

/// Words of `text` in lines of at most `width` characters (a longer word gets a line of its own).
public func wrap(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
        if line.isEmpty {
            line = String(word)
        } else if line.count + 1 + word.count <= width {
            line += " " + word
        } else {
            lines.append(line)
            line = String(word)
        }
    }
    if !line.isEmpty { lines.append(line) }
    return lines
}
