import StrideCueCore

/// The session log of `play --log FILE`: one row per step heard, with the target cadence and what
/// the runner's sensor measured then, and a closing summary. Pure: the rows come from a control
/// thread's samples of the status board and the sensor; the text is CSV or JSON.
public struct SessionLog: Sendable {
    public enum Format: Sendable, Equatable {
        case csv
        case json

        /// By the file's extension (any case): `.csv` or `.json`; nil for anything else.
        public init?(path: String) {
            let lower = path.lowercased()
            if lower.hasSuffix(".csv") { self = .csv } else if lower.hasSuffix(".json") { self = .json } else { return nil }
        }
    }

    /// One step heard.
    public struct Row: Sendable, Equatable {
        /// Seconds into the session (its frames: pauses hold the clock).
        public var time: Double
        /// The set, from 1, and the step in it, from 1.
        public var set: Int
        public var step: Int
        /// The cadence the click plays at (the target), steps per minute.
        public var target: Double
        /// What the sensor measured last, and the speed (m/s); nil in a gap.
        public var measured: Int?
        public var speed: Double?
        /// `reading`, `standing`, `silent`, `reconnecting`, `connecting`, or empty without a sensor:
        /// a gap in the measurements says why.
        public var sensor: String
    }

    public let format: Format
    public let rate: Int
    public private(set) var rows: [Row] = []
    private var band: CadenceBand
    private var last: (set: Int, step: Int)? = nil
    private var malformed = 0
    private var reconnects = 0
    /// Under `feedback: nudge`: how far the nudges moved the click, in steps per minute (summed,
    /// from where it started at the runner's cadence); nil under another feedback.
    public var nudgeMoved: Double? = nil
    /// With a spoken nudge: how many times one was said; nil without.
    public var spokenNudges: Int? = nil

    /// - Parameter tolerance: ± steps per minute that count as in the band (`feedback.band`).
    public init(format: Format, rate: Int, tolerance: Double = CadenceBand.defaultTolerance) {
        self.format = format
        self.rate = rate
        band = CadenceBand(tolerance: tolerance)
    }

    /// Takes a sample of the session (and the sensor, when there is one); adds a row when a new
    /// step is heard. Call it more often than steps come (the player does, every 100 ms).
    public mutating func sample(_ s: LiveStatus, sensor r: SensorReading?) {
        band.update(frame: s.frame, target: s.targetCadence, measured: r?.liveCadence)
        if let r {
            malformed = r.malformed
            reconnects = r.reconnects
        }
        guard s.step > 0, s.countIn == 0, s.restFramesLeft == nil, !s.caution else { return }
        if let last, last.set == s.set, last.step == s.step { return }
        last = (s.set, s.step)
        let measured = r?.state == .reading ? r?.cadence : nil
        rows.append(Row(time: Double(s.frame) / Double(rate), set: s.set + 1, step: s.step, target: s.targetCadence,
                        measured: measured, speed: measured == nil ? nil : r?.speed, sensor: r.map(Self.word) ?? ""))
    }

    static func word(_ r: SensorReading) -> String {
        switch r.state {
        case .connecting: "connecting"
        case .reading: r.cadence == nil ? "connecting" : r.cadence == 0 ? "standing" : "reading"
        case .silent: "silent"
        case .reconnecting: "reconnecting"
        }
    }

    /// Seconds in the target band (±2 spm, or the preset's `feedback.band`) over the session.
    public var secondsInBand: Double { Double(band.totalFrames) / Double(rate) }

    /// The mean measured cadence of each set's steps that had one (nil for a set with none).
    public var meanCadencePerSet: [Int: Double] {
        var sums: [Int: (Double, Int)] = [:]
        for row in rows {
            guard let m = row.measured, m > 0 else { continue }
            let (sum, n) = sums[row.set] ?? (0, 0)
            sums[row.set] = (sum + Double(m), n + 1)
        }
        return sums.mapValues { $0.0 / Double($0.1) }
    }

    /// The log as a file's text.
    public var text: String {
        let means = meanCadencePerSet.sorted { $0.key < $1.key }
        let gaps = rows.filter { $0.measured == nil && !$0.sensor.isEmpty }.count
        switch format {
        case .csv:
            var lines = ["time_s,set,step,target_spm,measured_spm,speed_mps,sensor"]
            for r in rows {
                lines.append([fixed(r.time, 3), "\(r.set)", "\(r.step)", StrideCueCore.format(r.target), r.measured.map(String.init) ?? "",
                              r.speed.map { fixed($0, 2) } ?? "", r.sensor].joined(separator: ","))
            }
            lines.append("# steps \(rows.count); in band \(fixed(secondsInBand, 1)) s; steps without a measurement \(gaps); "
                + "malformed \(malformed); reconnects \(reconnects)")
            if let nudgeMoved { lines.append("# nudge moved the click \(StrideCueCore.format(nudgeMoved)) spm") }
            if let spokenNudges { lines.append("# spoken nudges \(spokenNudges)") }
            for (set, mean) in means { lines.append("# set \(set): mean cadence \(fixed(mean, 1)) spm") }
            return lines.joined(separator: "\n") + "\n"
        case .json:
            let steps = rows.map { r in
                "{\"time\":\(fixed(r.time, 3)),\"set\":\(r.set),\"step\":\(r.step),\"target\":\(StrideCueCore.format(r.target)),"
                    + "\"measured\":\(r.measured.map(String.init) ?? "null"),\"speed\":\(r.speed.map { fixed($0, 2) } ?? "null"),"
                    + "\"sensor\":\(r.sensor.isEmpty ? "null" : jsonString(r.sensor))}"
            }
            let perSet = means.map { "{\"set\":\($0.key),\"meanCadence\":\(fixed($0.value, 1))}" }
            var summary = "\"steps\":\(rows.count),\"secondsInBand\":\(fixed(secondsInBand, 1)),"
            summary += "\"stepsWithoutMeasurement\":\(gaps),\"malformed\":\(malformed),\"reconnects\":\(reconnects),"
            summary += "\"nudgeMoved\":\(nudgeMoved.map { StrideCueCore.format($0) } ?? "null"),"
            summary += "\"spokenNudges\":\(spokenNudges.map(String.init) ?? "null"),"
            summary += "\"sets\":[" + perSet.joined(separator: ",") + "]"
            let body: String = steps.joined(separator: ",\n")
            return "{\"steps\":[\n" + body + "\n],\n\"summary\":{" + summary + "}}\n"
        }
    }

    /// `x` with `places` decimals, as the log writes numbers (no exponent, no locale).
    private func fixed(_ x: Double, _ places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let n = Int64((x * scale).rounded())
        let sign = n < 0 ? "-" : ""
        let a = n.magnitude
        let whole = a / UInt64(scale)
        guard places > 0 else { return "\(sign)\(whole)" }
        var fraction = String(a % UInt64(scale))
        fraction = String(repeating: "0", count: places - fraction.count) + fraction
        return "\(sign)\(whole).\(fraction)"
    }
}
