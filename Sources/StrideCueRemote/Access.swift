import CQREncode
import Glibc
import Synchronization

/// The session's secret: 128 random bits from the kernel (`getrandom`), as 32 hex digits.
public struct RemoteToken: Sendable, Equatable {
    public let text: String

    /// A fresh token.
    /// - Throws: `RemoteError` naming `getrandom` when the kernel gives no random bytes.
    public static func fresh() throws -> RemoteToken {
        var bytes = [UInt8](repeating: 0, count: 16)
        var filled = 0
        while filled < bytes.count {
            let n = try bytes.withUnsafeMutableBytes { raw in
                try systemCall("getrandom") { getrandom(raw.baseAddress! + filled, raw.count - filled, 0) }
            }
            filled += n
        }
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        for b in bytes {
            hex.append(digits[Int(b >> 4)])
            hex.append(digits[Int(b & 15)])
        }
        return RemoteToken(text: String(decoding: hex, as: UTF8.self))
    }

    init(text: String) { self.text = text }

    /// True when `candidate` is the token. Takes the same time whatever the two have in
    /// common, so the time of a wrong guess tells nothing about the right one.
    public func matches(_ candidate: Substring) -> Bool {
        let a = Array(text.utf8)
        let b = Array(candidate.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<a.count {
            difference |= a[i] ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}

/// Counts failed logins per address; more than `limit` within a minute shuts the address out
/// (HTTP 429) until its failures age past the minute.
final class FailureLimiter: Sendable {
    static let limit = 10
    static let window = 60.0
    private let failures = Mutex<[String: [Double]]>([:])

    /// Notes a failure from `address`.
    func fail(_ address: String, now: Double = monotonicSeconds()) {
        failures.withLock { table in
            var times = table[address, default: []].filter { now - $0 < Self.window }
            if times.count <= Self.limit * 4 { times.append(now) }
            table[address] = times
            // Forget addresses that went quiet, so a scan of many addresses cannot grow the table for ever.
            if table.count > 4_096 { table = table.filter { $0.value.contains { now - $0 < Self.window } } }
        }
    }

    /// True when `address` failed more than `limit` times in the last minute.
    func isShutOut(_ address: String, now: Double = monotonicSeconds()) -> Bool {
        failures.withLock { table in
            (table[address]?.filter { now - $0 < Self.window }.count ?? 0) > Self.limit
        }
    }
}

func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
