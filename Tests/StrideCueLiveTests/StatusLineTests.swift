import StrideCueCore
import StrideCueLive
import Testing

/// The status line drawn under the clicks.
@Suite("The status line")
struct StatusLineTests {
    /// On the way to a new cadence the status line shows whole steps per minute.
    @Test func theStatusLineRoundsACadenceOnItsWay() {
        let plan = SessionPlan(cadence: 191, setLength: .steps(100))
        let status = LiveStatus(cadence: 152.563, targetCadence: 191, set: 1, sets: 1, step: 12)
        let line = StatusLine.text(status, rate: 48_000, plan: plan)
        #expect(line.hasPrefix("153 -> 191 spm"), "\(line)")
        #expect(!line.contains("152.563"))
    }
}
