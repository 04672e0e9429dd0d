import Foundation
import Testing
import StrideCueCore
import StrideCueTerminal
import StrideCueLive

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

    /// On the way to a new cadence the status line shows whole steps per minute.
    @Test func theStatusLineRoundsACadenceOnItsWay() {
        let plan = SessionPlan(cadence: 191, setLength: .steps(100))
        let status = LiveStatus(cadence: 152.563, targetCadence: 191, set: 1, sets: 1, step: 12)
        let line = StatusLine.text(status, rate: 48_000, plan: plan)
        #expect(line.hasPrefix("153 -> 191 spm"), "\(line)")
        #expect(!line.contains("152.563"))
    }

    /// An arrow key whose bytes come in two reads is skipped, not taken for Esc (which quits).
    @Test func anArrowKeySplitOverTwoReadsDoesNotQuit() {
        var keys = KeyReader()
        #expect(keys.feed([0x1B][...]) == [])
        #expect(keys.isWaiting)
        #expect(keys.feed([0x5B, 0x41, UInt8(ascii: "+")][...]) == [.command(.changeCadence(by: 1))])
        #expect(!keys.isWaiting)
        #expect(keys.feed([0x1B, 0x5B][...]) == [])
        #expect(keys.feed([0x31, 0x35, 0x7E][...]) == [])
        // A lone Esc, when nothing follows: quits.
        #expect(keys.feed([UInt8(ascii: "n"), 0x1B][...]) == [.command(.skip)])
        #expect(keys.flush() == [.quit])
        #expect(!keys.isWaiting)
    }
}
