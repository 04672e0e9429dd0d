import Foundation
import Testing

// The small rough edges a new user met (issue 23, item 6), each as the user would see it.

@Suite("rough edges a new user met")
struct RoughEdgeTests {
    @Test func playHelpShowsItsDefaultsAsNumbersAndSaysWhatNDoes() throws {
        let help = try stridecue(["play", "--help"])
        #expect(help.status == 0)
        #expect(!help.stdout.contains("DecimalValue"), "\(help.stdout)")
        #expect(help.stdout.contains("(exit 74). (default: 30)"), "\(help.stdout)")
        let flat = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(flat.contains("n ends the set or rest being played and goes on to the next"), "\(flat)")
    }

    /// `coach` takes the sound card options `play` takes, checked the same way.
    @Test func coachTakesRateLatencyAndReconnect() throws {
        let help = try stridecue(["coach", "--help"])
        for flag in ["--rate <rate>", "--latency <ms>", "--reconnect <s>"] {
            #expect(help.stdout.contains(flag), "\(flag): \(help.stdout)")
        }
        let bad = try stridecue(["coach", "--latency", "5"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--latency must be between 10 and 2000 ms; got '5'"), "\(bad.stderr)")
        let rate = try stridecue(["coach", "--rate", "7"])
        #expect(rate.status == 64, "\(rate.stderr)")
    }
}
