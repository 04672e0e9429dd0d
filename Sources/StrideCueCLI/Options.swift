import ArgumentParser
import StrideCueCore
import StrideCueSoundFile

// Typed command-line values. Each type reads only what its flag can mean (decimal numbers,
// never hexadecimal, never NaN); each range check names the flag and the unit; every problem
// is one line and exit 64 (`StrideCue.main` turns ArgumentParser's own messages into such a
// line, with the expectation listed in `FlagValue.expectation`).

/// A command-line value type that can say what it expects, for the one-line usage error.
protocol FlagValue: ExpressibleByArgument {
    /// "a number of steps per minute, 30 to 300": what a user should have written.
    static var expectation: String { get }
}

/// Throws the one-line usage error for a value out of its range.
func outOfRange(_ flag: String, _ expectation: String, got text: String) -> ValidationError {
    ValidationError("\(flag) must be \(expectation); got '\(quoted(text))'")
}

/// Steps per minute: 30 to 300, fractions allowed.
struct CadenceValue: FlagValue {
    static let expectation = "a number of steps per minute from \(format(PlanLimits.cadence.lowerBound)) to \(format(PlanLimits.cadence.upperBound)), such as 172.5"
    let text: String
    let spm: Double

    init?(argument: String) {
        guard let value = parseDecimal(argument) else { return nil }
        text = argument
        spm = value
    }

    func validate(_ flag: String) throws {
        guard PlanLimits.cadence.contains(spm) else { throw outOfRange(flag, Self.expectation, got: text) }
    }
}

/// A length of time: 90s, 10m, 1h, 1:30.
struct LengthValue: FlagValue {
    static let limit = 1.0 / 1000 ... 86_400
    static let expectation = "a length from 1 ms to 24 h, such as 90s, 10m, 1h or 1:30"
    let text: String
    let seconds: Double

    init?(argument: String) {
        guard let value = parseDuration(argument) else { return nil }
        text = argument
        seconds = value
    }

    func validate(_ flag: String) throws {
        guard Self.limit.contains(seconds) else { throw outOfRange(flag, Self.expectation, got: text) }
    }
}

/// A whole number in a range that depends on the flag; the flag's own check says which.
struct WholeValue: FlagValue {
    static let expectation = "a whole number"
    let text: String
    let value: Int

    init?(argument: String) {
        guard let value = parseWholeNumber(argument) else { return nil }
        text = argument
        self.value = value
    }

    init(_ value: Int) {
        text = String(value)
        self.value = value
    }

    func validate(_ flag: String, _ range: ClosedRange<Int>, unit: String = "") throws {
        guard range.contains(value) else {
            throw outOfRange(flag, "a whole number from \(range.lowerBound) to \(range.upperBound)\(unit)", got: text)
        }
    }
}

/// A decimal number in a range that depends on the flag (dB, LUFS, ms).
struct DecimalValue: FlagValue, CustomStringConvertible {
    static let expectation = "a decimal number"
    let text: String
    let value: Double
    /// What `--help` shows as a default: `30`, not the struct.
    var description: String { text }

    init?(argument: String) {
        guard let value = parseDecimal(argument) else { return nil }
        text = argument
        self.value = value
    }

    init(_ value: Double) {
        text = format(value)
        self.value = value
    }

    func validate(_ flag: String, _ range: ClosedRange<Double>, unit: String) throws {
        guard range.contains(value) else {
            throw outOfRange(flag, "between \(format(range.lowerBound)) and \(format(range.upperBound)) \(unit)", got: text)
        }
    }
}

/// A sample rate in Hz: 8000 to 192000.
struct SampleRateValue: FlagValue {
    static let expectation = "a sample rate in Hz from \(PlanLimits.sampleRate.lowerBound) to \(PlanLimits.sampleRate.upperBound), such as 48000"
    let hz: Int

    init?(argument: String) {
        guard let value = parseWholeNumber(argument), PlanLimits.sampleRate.contains(value) else { return nil }
        hz = value
    }

    init(_ hz: Int) { self.hz = hz }
    var defaultValueDescription: String { String(hz) }
}

/// 1 (mono) or 2 (stereo).
struct ChannelsValue: FlagValue {
    static let expectation = "1 (mono) or 2 (stereo)"
    let count: Int

    init?(argument: String) {
        guard argument == "1" || argument == "2" else { return nil }
        count = Int(argument)!
    }

    init(_ count: Int) { self.count = count }
    var defaultValueDescription: String { String(count) }
}

extension SampleEncoding: FlagValue {
    static let expectation = "16, 24 or 32f (32-bit float)"
    public init?(argument: String) { self.init(rawValue: argument) }
}

/// An ALSA device (PCM) name: not empty, no control characters, at most 256 bytes.
struct DeviceName: FlagValue {
    static let expectation = "an ALSA device name such as default or hw:1,0 ('stridecue devices' lists them)"
    let name: String

    init?(argument: String) {
        guard !argument.isEmpty, argument.utf8.count <= 256,
              !argument.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return nil }
        name = argument
    }

    init(_ name: String) { self.name = name }
    var defaultValueDescription: String { name }
}

/// Words to speak: what a preset's `say:` takes (see `CueText` in the core).
struct CueTextValue: FlagValue {
    static let expectation = "words to speak: 1 to \(CueText.maxCharacters) characters, no control characters"
    let text: String

    init?(argument: String) {
        guard CueText.problem(with: argument) == nil else { return nil }
        text = argument
    }
}

/// Every expectation by type name, for the one-line message that replaces ArgumentParser's
/// "The value 'x' is invalid for '--flag <value>'".
enum FlagExpectations {
    static let byFlag: [String: String] = [
        "--spm": CadenceValue.expectation,
        "--duration": LengthValue.expectation,
        "--rate": SampleRateValue.expectation,
        "--channels": ChannelsValue.expectation,
        "--bits": SampleEncoding.expectation,
        "--device": DeviceName.expectation,
        "--accent-every": WholeValue.expectation,
        "--subdivide": WholeValue.expectation,
        "--count-in": WholeValue.expectation,
        "--quality": WholeValue.expectation,
        "--steps": WholeValue.expectation,
        "--latency": "a length in milliseconds, such as 100",
        "--loudness": "a loudness in LUFS, such as -16",
        "--music-level": "a level in dB, such as -6",
        "--duck": "a number of dB, such as 10",
        "<text>": CueTextValue.expectation,
        "--format": SoundFileType.expectation,
        "--stem": RenderStem.expectation,
        "--remote": RemoteAddress.expectation,
        "--feedback": ClickFeedback.expectation,
    ]
}

/// Where the coach's remote listens: `PORT` (on 127.0.0.1) or `ADDR:PORT`, such as
/// `0.0.0.0:8080` for the track's network. Port 0 takes any free port.
struct RemoteAddress: FlagValue {
    static let expectation = "[ADDRESS:]PORT, such as 8080 or 0.0.0.0:8080 (an IPv4 address or localhost; port 0–65535)"
    let host: String
    let port: Int

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let port = Int(parts.last!), (0...65_535).contains(port) else { return nil }
        let host = parts.count == 2 ? String(parts[0]) : "127.0.0.1"
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard host == "localhost" || (octets.count == 4 && octets.allSatisfy { UInt8($0) != nil }) else { return nil }
        self.host = host
        self.port = port
    }

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    var defaultValueDescription: String { "\(host):\(port)" }
}
