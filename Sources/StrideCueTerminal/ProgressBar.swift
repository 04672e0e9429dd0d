import Glibc
import StrideCueFiles

/// A one-line progress bar on stderr, shown only on a terminal and only once the work has
/// taken more than a second (a quick render stays silent). `STRIDECUE_PROGRESS_DELAY` sets
/// that delay in seconds, `STRIDECUE_PROGRESS_INTERVAL` the least time between two redraws
/// (0.1 s; 0 draws every update, which lets a test see every step the bar takes).
public struct ProgressBar {
    public let total: Int64
    public let rate: Int
    public let enabled: Bool
    private let start = monotonicSeconds()
    private let delay: Double = getenv("STRIDECUE_PROGRESS_DELAY").flatMap { Double(String(cString: $0)) } ?? 1
    private let interval: Double = getenv("STRIDECUE_PROGRESS_INTERVAL").flatMap { Double(String(cString: $0)) } ?? 0.1
    private var lastDraw = -Double.infinity
    private var drawn = false

    public init(total: Int64, rate: Int, enabled: Bool) {
        self.total = max(1, total)
        self.rate = rate
        self.enabled = enabled && isatty(2) == 1
    }

    public mutating func update(_ done: Int64) {
        guard enabled else { return }
        let now = monotonicSeconds()
        guard now - start >= delay, now - lastDraw >= interval else { return }
        lastDraw = now
        drawn = true
        let fraction = Double(done) / Double(total)
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        let line = "\r[\(bar)] \(Int(fraction * 100))%  \(clock(Double(done) / Double(rate))) / \(clock(Double(total) / Double(rate))) "
        writeStandardError(line)
    }

    public mutating func finish() {
        guard enabled, drawn || monotonicSeconds() - start >= delay else { return }
        // Show the bar full once, then clear the line so the shell prompt starts clean.
        lastDraw = -.infinity
        update(total)
        writeStandardError("\r\u{1B}[K")
    }
}

/// Seconds as m:ss or h:mm:ss.
public func clock(_ seconds: Double) -> String {
    let s = Int(seconds)
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return s >= 3600 ? "\(s / 3600):\(two(s / 60 % 60)):\(two(s % 60))" : "\(s / 60):\(two(s % 60))"
}
