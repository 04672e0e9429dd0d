import CLink
import Glibc
import StrideCueFiles

/// A call into Link (through `CLink`) that failed: the call's name and its code.
public struct LinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `stridecue_link_*` function.
    public var call: String
    /// The negative code it returned (`-ENOMEM`, or `-EIO` when Link could not open its sockets).
    public var code: Int32

    public var description: String {
        let reason = String(cString: strerror(-code))
        return "\(call): \(reason)"
    }
}

/// Every fallible call into Link goes through here: a negative code becomes a `LinkError`
/// naming the call.
@inline(__always)
func linkCall(_ call: String, _ body: () -> Int32) throws(LinkError) {
    let code = body()
    if code < 0 { throw LinkError(call: call, code: code) }
}

/// One Ableton Link peer: joins the session of the network, whose tempo, beat and phase every
/// peer shares, and whose start and stop it may share too.
///
/// Link calls back on threads of its own; no Swift code runs there (`CLink` keeps peers and
/// tempo changes in atomics). The `audio…` methods are for the one thread that renders, and
/// are real-time safe; the others are for any other thread.
public final class LinkSession: @unchecked Sendable {
    /// Copied into a local before each real-time call: a closure that read it through `self`
    /// would retain `self`, and a retain may lock.
    private let handle: OpaquePointer

    /// A peer at `tempo` beats per minute, not yet in the session (`enable`).
    public init(tempo: Double) throws(LinkError) {
        var made: OpaquePointer?
        try linkCall("stridecue_link_new") { stridecue_link_new(tempo, &made) }
        handle = made!
    }

    deinit {
        stridecue_link_free(handle)
    }

    /// Joins the session (or starts one, alone). The corresponding C++ is `Link::enable`.
    public func enable() throws(LinkError) {
        try linkCall("stridecue_link_enable") { stridecue_link_enable(handle, 1) }
    }

    /// Leaves the session.
    public func disable() throws(LinkError) {
        try linkCall("stridecue_link_enable") { stridecue_link_enable(handle, 0) }
    }

    public var isEnabled: Bool { stridecue_link_is_enabled(handle) != 0 }

    /// Shares start and stop with the peers that do (Link 3).
    public func shareStartStop(_ on: Bool) { stridecue_link_enable_start_stop_sync(handle, on ? 1 : 0) }

    /// Peers in the session now, not counting this one.
    public var peers: Int {
        @_noAllocation @_noLocks get {
            let h = handle
            return Int(_unsafePerformance { stridecue_link_peers(h) })
        }
    }

    /// Waits until another peer is seen, for at most `milliseconds`: Link finds the peers of
    /// a LAN within tens of milliseconds of `enable`. A player that started before knowing of
    /// them would take itself for alone and set the session's tempo to its own.
    /// - Returns: the peers seen.
    public func waitForPeers(milliseconds: Int) -> Int {
        let deadline = MonotonicClock.nanoseconds() + Int64(milliseconds) * 1_000_000
        while peers == 0 && MonotonicClock.nanoseconds() < deadline { usleep(5_000) }
        return peers
    }

    /// How many times the session's tempo changed (by any peer, this one included).
    public var tempoChanges: Int { Int(stridecue_link_tempo_changes(handle)) }

    /// Link's clock now, in microseconds: the clock every peer on the machine shares.
    ///
    /// Real-time safety: a clock read (vDSO); allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func micros() -> Int64 {
        let h = handle
        return _unsafePerformance { stridecue_link_clock_micros(h) }
    }

    /// Link's clock at a moment of the project's clock (`MonotonicClock`, nanoseconds).
    ///
    /// Real-time safety: two clock reads; allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func micros(atMonotonic nanoseconds: Int64) -> Int64 {
        let link = micros()
        let now = MonotonicClock.nanoseconds()
        return link - (now - nanoseconds) / 1_000
    }

    // MARK: Any thread but the rendering one

    /// The session's tempo in beats per minute.
    public var tempo: Double { stridecue_link_app_tempo(handle) }

    /// Where in a cycle of `quantum` beats the session is at `micros` (0 ..< quantum).
    public func phase(at micros: Int64, quantum: Double) -> Double {
        stridecue_link_app_phase(handle, micros, quantum)
    }

    /// Sets the session's tempo from `micros` on, for every peer.
    public func setTempo(_ bpm: Double, at micros: Int64) { stridecue_link_app_set_tempo(handle, bpm, micros) }

    /// Whether the session plays (start/stop sync).
    public var isPlaying: Bool { stridecue_link_app_is_playing(handle) != 0 }

    /// Starts or stops the session from `micros` on, for every peer that shares start and stop.
    public func setPlaying(_ playing: Bool, at micros: Int64) {
        stridecue_link_app_set_playing(handle, playing ? 1 : 0, micros)
    }

    // MARK: The rendering thread only

    /// Takes the session's state for this render pass; the `audio…` reads below read it.
    ///
    /// Real-time safety: Link's audio-thread capture; allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func audioCapture() {
        let h = handle
        return _unsafePerformance { stridecue_link_audio_capture(h) }
    }

    /// The tempo of the state taken last.
    @_noAllocation @_noLocks
    public func audioTempo() -> Double {
        let h = handle
        return _unsafePerformance { stridecue_link_audio_tempo(h) }
    }

    /// The beat at `micros` in the state taken last (a late joiner's may differ by whole cycles).
    @_noAllocation @_noLocks
    public func audioBeat(at micros: Int64, quantum: Double) -> Double {
        let h = handle
        return _unsafePerformance { stridecue_link_audio_beat(h, micros, quantum) }
    }

    /// Where in a cycle of `quantum` beats the state taken last is at `micros` (0 ..< quantum).
    @_noAllocation @_noLocks
    public func audioPhase(at micros: Int64, quantum: Double) -> Double {
        let h = handle
        return _unsafePerformance { stridecue_link_audio_phase(h, micros, quantum) }
    }

    /// When `beat` falls, in the state taken last.
    @_noAllocation @_noLocks
    public func audioTime(atBeat beat: Double, quantum: Double) -> Int64 {
        let h = handle
        return _unsafePerformance { stridecue_link_audio_time_at_beat(h, beat, quantum) }
    }

    /// Whether the session plays, in the state taken last.
    @_noAllocation @_noLocks
    public func audioIsPlaying() -> Bool {
        let h = handle
        return _unsafePerformance { stridecue_link_audio_is_playing(h) } != 0
    }

    /// Sets the session's tempo from `micros` on and commits it, for every peer.
    ///
    /// Real-time safety: Link's audio-thread commit; allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func audioSetTempo(_ bpm: Double, at micros: Int64) {
        let h = handle
        _unsafePerformance { stridecue_link_audio_set_tempo(h, bpm, micros) }
    }

    /// Asks for `beat` at `micros` and commits it: alone, the session's grid moves there; with
    /// peers, theirs stays.
    ///
    /// Real-time safety: Link's audio-thread commit; allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func audioRequestBeat(_ beat: Double, at micros: Int64, quantum: Double) {
        let h = handle
        _unsafePerformance { stridecue_link_audio_request_beat(h, beat, micros, quantum) }
    }

    /// Starts or stops the session from `micros` on and commits it, for every peer that shares
    /// start and stop.
    ///
    /// Real-time safety: Link's audio-thread commit; allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func audioSetPlaying(_ playing: Bool, at micros: Int64) {
        let h = handle
        _unsafePerformance { stridecue_link_audio_set_playing(h, playing ? 1 : 0, micros) }
    }
}
