import FoundationEssentials
import StrideCueCore

// Every JSON the remote sends is an `Encodable` value written by one encoder, here. What
// clients see is documented in docs/remote.md: every key of a message is always there (an
// absent value is `null`, never a missing key), numbers to the thousandth.

/// Writes `value` as one line of JSON, its keys sorted (the same status is the same text).
func jsonText(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
        // JSONEncoder refuses only non-finite numbers, and every number here is a `Reading`.
        preconditionFailure("the remote's JSON holds only finite numbers: \(error)")
    }
}

/// `x` rounded to the thousandth (the page shows tenths), as the remote sends and writes
/// numbers: 180, 172.5, 0.333. Past 10^15 there are no thousandths to round to.
func thousandths(_ x: Double) -> Double {
    abs(x) < 1e15 ? (x * 1000).rounded() / 1000 + 0 : x  // + 0: no "-0"
}

/// A number as the remote writes it in text (a preset change, the picture's title): as in its JSON.
func numberText(_ x: Double) -> String { format(thousandths(x)) }

/// A number as the remote sends it: to the thousandth, `null` when not finite.
struct Reading: Encodable {
    let value: Double
    init(_ value: Double) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if value.isFinite { try container.encode(thousandths(value)) } else { try container.encodeNil() }
    }
}

/// A value a client always finds under its key: `null` when there is none.
@propertyWrapper
struct OrNull<Value: Encodable>: Encodable {
    var wrappedValue: Value?
    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// `{"ok":true}`: the command was taken.
struct Taken: Encodable { let ok = true }

/// `{"error":"..."}`: a one-line refusal.
struct Refused: Encodable { let error: String }

/// `GET /api/library`: `{"presets":[names]}`.
struct LibraryAnswer: Encodable { let presets: [String] }

/// `POST /api/preset`: `{"ok":true,"saved":"..."}`, what `preset set` would have printed.
struct SavedAnswer: Encodable {
    let ok = true
    let saved: String
}
