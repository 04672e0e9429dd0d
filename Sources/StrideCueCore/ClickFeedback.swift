import Synchronization

/// How the click answers the runner's measured cadence (a preset's `feedback:`).
public enum ClickFeedback: String, Sendable, Equatable, CaseIterable {
    /// The click plays as planned; the measured cadence is only shown and logged.
    case guide
    /// Once the runner has held the target band for `FadeFeedback.holdSeconds`, the clicks fade
    /// away; they come back as soon as the runner drifts out of it. Cues still speak.
    case fade
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
