import Synchronization

/// How the click answers the runner's measured cadence (a preset's `feedback:`).
public enum ClickFeedback: String, Sendable, Equatable, CaseIterable {
    /// The click plays as planned; the measured cadence is only shown and logged.
    case guide
    /// Once the runner has held the target band for `feedback.hold` (8 s), the clicks fade
    /// away; they come back as soon as the runner drifts out of it. Cues still speak.
    case fade
    /// The click starts at the runner's measured cadence and moves toward the target a step of
    /// `feedback.step` (about 2 %) at a time, each once the runner has caught up with the last; never past the
    /// target, and never during the preset's ramp.
    case nudge
}

/// A preset's `feedback:`: how the click answers the runner's measured cadence, and its settings.
/// `feedback: fade` is the mode alone; `feedback: {mode: fade, band: 3 spm, hold: 10 s}` sets them.
public struct FeedbackSettings: Sendable, Equatable {
    public var mode: ClickFeedback
    /// ± steps per minute around the target that count as on target.
    public var band = CadenceBand.defaultTolerance
    /// `fade`: seconds held in the band before the clicks fade.
    public var hold = FadeFeedback.holdSeconds
    /// `nudge`: how far each nudge moves the click, as a fraction of its cadence.
    public var step = NudgeFeedback.stepFraction
    /// "Quicker" or "ease off" when the runner stays off target; nil unless the preset asks.
    public var spoken: SpokenNudgeSettings? = nil

    public init(mode: ClickFeedback = .guide) {
        self.mode = mode
    }
}

/// The limits of a preset's `feedback:` settings.
public enum FeedbackLimits {
    /// ± steps per minute.
    public static let band: ClosedRange<Double> = 0.5...20
    /// Seconds.
    public static let hold: ClosedRange<Double> = 1...600
    /// Per cent of the click's cadence.
    public static let stepPercent: ClosedRange<Double> = 0.5...10
    /// Seconds off target before a spoken nudge.
    public static let sayAfter: ClosedRange<Double> = 2...600
    /// Seconds from one spoken nudge to the next, at least.
    public static let sayEvery: ClosedRange<Double> = 2...3_600
}

/// What a spoken nudge says, and when: after `after` seconds out of the band, at most once
/// every `every` seconds.
public struct SpokenNudgeSettings: Sendable, Equatable {
    public var after = 15.0
    public var every = 30.0
    /// Said to a runner under the target.
    public var under = "quicker"
    /// Said to a runner over it.
    public var over = "ease off"

    public init() {}

    /// The words for a runner on `side` of the target.
    public func words(_ side: SpokenNudge.Side) -> String {
        side == .under ? under : over
    }
}

/// The spoken nudge's decision, made on a control thread from the measurements: whether to
/// say "quicker" or "ease off" now. Counted in session frames, so a pause holds its clocks.
public struct SpokenNudge: Sendable, Equatable {
    public enum Side: Sendable, Equatable {
        case under, over
    }

    public let settings: SpokenNudgeSettings
    /// ± steps per minute that count as on target.
    public let band: Double
    /// The side the runner is off target on, and the frame since when; nil while on target.
    private var offSide: Side? = nil
    private var offSince: Int64 = 0
    private var lastSaid: Int64? = nil
    /// How many times a nudge was said.
    public private(set) var said = 0

    public init(settings: SpokenNudgeSettings, band: Double = CadenceBand.defaultTolerance) {
        self.settings = settings
        self.band = band
    }

    /// Takes the measurement at session frame `frame`; the side to speak to now, if any.
    /// - Parameter measured: steps per minute, or nil when there is none, or when the session
    ///   is where no nudge belongs (a count-in, a rest): the off-target clock starts again.
    public mutating func update(frame: Int64, target: Double, measured: Int?, rate: Int) -> Side? {
        guard let measured, measured > 0, abs(Double(measured) - target) > band else {
            offSide = nil
            return nil
        }
        let side: Side = Double(measured) < target ? .under : .over
        if offSide != side {
            offSide = side
            offSince = frame
        }
        let r = Double(rate)
        guard Double(frame - offSince) >= settings.after * r else { return nil }
        if let lastSaid, Double(frame - lastSaid) < settings.every * r { return nil }
        lastSaid = frame
        offSince = frame  // off target as long again before the next
        said += 1
        return side
    }
}

/// The `nudge` decision, made on a control thread: the cadence to ask the click for, if any.
/// Runners follow a tempo shifted by 1–3 % within a lap, below what most notice (Van Dyck 2015).
public struct NudgeFeedback: Sendable, Equatable {
    /// Each nudge moves the click by this fraction of its cadence, in whole steps per minute
    /// (at least 1), unless the preset sets another (`feedback.step`).
    public static let stepFraction = 0.02
    /// A nudge is followed by the next only after this long, and only once the runner has caught up.
    public static let settleSeconds = 3.0
    /// Without a measurement this long, the click goes back to the plan's cadence (as `guide`).
    public static let fallbackSeconds = 3.0

    /// The cadence the click was asked for, or nil while it plays the plan's.
    public private(set) var click: Double? = nil
    private var changedAt = 0.0
    private var measuredAt = 0.0
    /// How far the click was moved from where it started, in steps per minute.
    public private(set) var moved = 0.0
    /// The fraction of the click's cadence each nudge moves it.
    public let step: Double

    public init(step: Double = NudgeFeedback.stepFraction) {
        self.step = step
    }

    /// Takes a measurement (nil: none now) at `now` seconds; the cadence to ask for, if it changes.
    /// - Parameters:
    ///   - goal: the plan's cadence, which the click moves toward and never passes.
    ///   - band: ± steps per minute that count as caught up.
    public mutating func update(measured: Int?, goal: Double, now: Double, band: Double = CadenceBand.defaultTolerance) -> Double? {
        guard let measured, measured > 0 else {
            if let click, click != goal, now - measuredAt >= Self.fallbackSeconds {
                self.click = nil
                return goal
            }
            return nil
        }
        measuredAt = now
        let m = Double(measured)
        guard let c = click else {
            if abs(m - goal) <= band { return nil }
            click = min(max(m, 30), 300)
            changedAt = now
            return click
        }
        guard c != goal, now - changedAt >= Self.settleSeconds, abs(m - c) <= band else { return nil }
        let step = max(1, (c * self.step).rounded())
        let next = c < goal ? min(goal, c + step) : max(goal, c - step)
        moved += abs(next - c)
        click = next
        changedAt = now
        return next
    }
}

/// The `fade` decision, made on a control thread from the band the runner is in: whether the
/// clicks should sound. Without a measurement (no sensor, standing, silent, reconnecting) the
/// clicks always sound: feedback falls back to `guide`.
public struct FadeFeedback: Sendable, Equatable {
    /// Held this long in the band, the clicks fade (a runner who holds the beat for a while
    /// needs it less; feedback that fades lasts better than feedback that never stops).
    /// The default of `feedback.hold`.
    public static let holdSeconds = 8.0
    /// Seconds held in the band before the clicks fade.
    public let hold: Double

    public init(hold: Double = FadeFeedback.holdSeconds) {
        self.hold = hold
    }

    /// The clicks' level to aim for: 0 (faded) or 1.
    public func clickLevel(band: CadenceBand, rate: Int) -> Float {
        band.inBand && Double(band.heldFrames) >= hold * Double(rate) ? 0 : 1
    }
}

/// The clicks' level, from the control thread that decides it (one writer) to the playback
/// thread (one reader): a single atomic, so the reader never waits or locks.
public final class ClickLevelControl: Sendable {
    private let bits = Atomic<UInt32>(Float(1).bitPattern)

    public init() {}

    /// Asks for the clicks' level, 0 to 1. Control thread.
    public func set(_ level: Float) {
        bits.store(min(max(level, 0), 1).bitPattern, ordering: .relaxed)
    }

    /// The level asked for. Playback thread.
    ///
    /// Real-time safety: one atomic load.
    @_noAllocation @_noLocks
    public func level() -> Float {
        Float(bitPattern: bits.load(ordering: .relaxed))
    }
}
