import Glibc
import StrideCueCore
import StrideCueFiles

/// How far a track's job is, as frames of the track, over all its phases: the music's decoding,
/// the analysis, the gain search and the written pass, each given a share of the bar by its
/// rough cost. Never moves back, but for a second written pass, which starts its share again.
public final class ProgressPlan {
    public enum Phase: Int, CaseIterable { case music, analysis, measure, search, write }

    private let total: Int64
    private let report: (_ done: Int64, _ total: Int64) -> Void
    private var shares: [Double] = [0, 0, 0, 0, 1]
    private var current = Phase.write
    private var runs = 0
    private var last: Int64 = 0
    private var writes = 0
    /// When each phase began, in order.
    private var started: [(phase: Phase, at: Double)] = []

    public init(total: Int64, report: @escaping (_ done: Int64, _ total: Int64) -> Void) {
        self.total = total
        self.report = report
    }

    /// The share each phase takes (phases left out take none).
    public func phases(_ shares: [Phase: Double]) {
        self.shares = Phase.allCases.map { shares[$0] ?? 0 }
    }

    public func begin(_ phase: Phase) {
        started.append((phase, monotonicSeconds()))
        current = phase
        if phase == .search { runs = 0 }
        if phase == .write {
            writes += 1
            if writes > 1 { last = position(0) }
        }
        advance(0)
    }

    /// How long each phase took so far (the last one until now), in the order they ran.
    public func timings() -> [(phase: Phase, seconds: Double)] {
        let now = monotonicSeconds()
        return started.indices.map { i in
            (started[i].phase, (i + 1 < started.count ? started[i + 1].at : now) - started[i].at)
        }
    }

    /// A full run of the gain search is over: the next takes half the share left.
    public func searchRunDone() { runs += 1 }

    /// `fraction` (0…1) of the current phase (of the current search run) is done.
    public func advance(_ fraction: Double) {
        let done = position(min(1, max(0, fraction)))
        guard done > last || (done == 0 && last == 0) else { return }
        last = done
        report(done, total)
    }

    private func position(_ fraction: Double) -> Int64 {
        let sum = shares.reduce(0, +)
        guard sum > 0 else { return 0 }
        let start = shares[0..<current.rawValue].reduce(0, +)
        var within = fraction
        if current == .search {
            // Runs take 1/2, 1/4, … of the search's share: how many there will be is unknown.
            let before = 1 - pow(0.5, Double(runs))
            within = before + pow(0.5, Double(runs + 1)) * fraction
        }
        return Int64((start + shares[current.rawValue] * within) / sum * Double(total))
    }
}
