import Synchronization

/// How the click answers the runner's measured cadence (a preset's `feedback:`).
public enum ClickFeedback: String, Sendable, Equatable, CaseIterable {
    /// The click plays as planned; the measured cadence is only shown and logged.
    case guide
    /// Once the runner has held the target band for `FadeFeedback.holdSeconds`, the clicks fade
    /// away; they come back as soon as the runner drifts out of it. Cues still speak.
    case fade
    /// The click starts at the runner's measured cadence and moves toward the target a step of
    /// about 2 % at a time, each once the runner has caught up with the last; never past the
    /// target, and never during the preset's ramp.
    case nudge
}

/// The `nudge` decision, made on a control thread: the cadence to ask the click for, if any.
/// Runners follow a tempo shifted by 1–3 % within a lap, below what most notice (Van Dyck 2015).
public struct NudgeFeedback: Sendable, Equatable {
    /// Each nudge moves the click by this fraction of its cadence, in whole steps per minute (at least 1).
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

    public init() {}

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
        let step = max(1, (c * Self.stepFraction).rounded())
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
    public static let holdSeconds = 8.0

    public init() {}

    /// The clicks' level to aim for: 0 (faded) or 1.
    public func clickLevel(band: CadenceBand, rate: Int) -> Float {
        band.inBand && Double(band.heldFrames) >= Self.holdSeconds * Double(rate) ? 0 : 1
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
