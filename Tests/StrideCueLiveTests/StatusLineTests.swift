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

    /// With `--link`, the peers in the session follow the cadence; without it, nothing.
    @Test func theStatusLineCountsTheLinkPeers() {
        let plan = SessionPlan(cadence: 180, setLength: .steps(100))
        let line = { (peers: Int) in
            StatusLine.text(LiveStatus(cadence: 180, targetCadence: 180, set: 0, sets: 1, step: 3, linkPeers: peers), rate: 48_000, plan: plan)
        }
        #expect(line(-1) == "180 spm  step 3  0:00", "\(line(-1))")
        #expect(line(0).hasPrefix("180 spm  link alone  step 3"), "\(line(0))")
        #expect(line(1).hasPrefix("180 spm  link 1 peer  step 3"), "\(line(1))")
        #expect(line(3).hasPrefix("180 spm  link 3 peers  step 3"), "\(line(3))")
    }
}
