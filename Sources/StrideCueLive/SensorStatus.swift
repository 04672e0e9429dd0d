import StrideCueCore

/// The running sensor's part of the status line, beside the target cadence, e.g.
/// `you 178 spm, in band 0:42`, `you 170 spm, 10 under`, `SENSOR SILENT`.
public struct SensorStatus {
    public let readings: SensorReadings
    public private(set) var band: CadenceBand

    /// - Parameter tolerance: ± steps per minute that count as in the band (`feedback.band`).
    public init(readings: SensorReadings, tolerance: Double = CadenceBand.defaultTolerance) {
        self.readings = readings
        band = CadenceBand(tolerance: tolerance)
    }

    /// Samples the sensor at the session's position and says what it shows.
    public mutating func text(_ status: LiveStatus, rate: Int) -> String {
        let r = readings.read()
        band.update(frame: status.frame, target: status.targetCadence, measured: r.liveCadence)
        var text: String
        switch r.state {
        case .connecting: text = "sensor connecting"
        case .silent: text = "SENSOR SILENT"
        case .reconnecting: text = "SENSOR LOST: reconnecting"
        case .reading:
            guard let cadence = r.cadence else { text = "sensor connecting"; break }
            if cadence == 0 {
                text = "you: standing"
            } else if band.inBand {
                text = "you \(cadence) spm, in band \(StatusLine.clock(band.heldFrames, rate: rate))"
            } else {
                let off = Int((Double(cadence) - status.targetCadence).rounded())
                text = "you \(cadence) spm, \(abs(off)) \(off < 0 ? "under" : "over")"
            }
        }
        if r.malformed > 0 { text += ", \(r.malformed) malformed ignored" }
        return text
    }
}
