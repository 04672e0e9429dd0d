/// How long the runner has held the target cadence: the measured cadence within `tolerance`
/// steps per minute of the target. Counted in session frames (a pause holds it), from the
/// measurements a control thread samples as the session plays.
public struct CadenceBand: Sendable, Equatable {
    /// ± steps per minute around the target that count as on target.
    public var tolerance: Double
    /// Frames held without a break, up to the last update (0 when out of the band).
    public private(set) var heldFrames: Int64 = 0
    /// Frames in the band over the whole session.
    public private(set) var totalFrames: Int64 = 0
    /// Whether the last update was in the band.
    public private(set) var inBand = false
    private var lastFrame: Int64? = nil

    /// The band of ±2 spm: a runner hears a 1–3 % change of tempo (Van Dyck 2015), about 2–5 spm at 170.
    public static let defaultTolerance = 2.0

    public init(tolerance: Double = CadenceBand.defaultTolerance) {
        self.tolerance = tolerance
    }

    /// Takes the measurement at session frame `frame`. The time since the last update counts
    /// in the band when both ends were in it.
    /// - Parameter measured: steps per minute, or nil when the sensor gives none (standing,
    ///   silent, gone): never in the band.
    public mutating func update(frame: Int64, target: Double, measured: Int?) {
        let now = measured.map { abs(Double($0) - target) <= tolerance } ?? false
        if now, inBand, let last = lastFrame, frame > last {
            heldFrames += frame - last
            totalFrames += frame - last
        }
        if !now { heldFrames = 0 }
        inBand = now
        lastFrame = max(frame, lastFrame ?? frame)
    }
}
