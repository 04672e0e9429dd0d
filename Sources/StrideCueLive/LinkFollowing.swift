import StrideCueCore
import StrideCueLink

// Live playback in an Ableton Link session (`play --link`, `coach --link`): one beat is one
// step, a cycle of `quantum` beats is the preset's accent period. Before each block the
// playback thread says when the block's first frame will be heard on Link's clock
// (`noteHeard`); the player then takes the session's state (Link's real-time capture) and
// places the first step not yet rendered on the session's grid at the time it will be heard:
//   - another device's tempo is taken from that step on (`Renderer.realign`, Part 1's way of
//     moving the first step not rendered);
//   - this device's own tempo for that step (a key, the remote, a ramp, a nudge) is committed
//     to the session from the time that step is heard;
//   - a step off the session's phase by more than `linkTolerance` moves onto it; alone, the
//     session takes this device's grid instead, so that a device alone plays as without Link.
// Peers that leave change nothing: the session keeps its last tempo, and so does the player.

/// What following a Link session came to, for `--verbose`.
public struct LinkReport: Sendable, Equatable {
    /// Peers now and the most seen at once.
    public var peers: Int
    public var mostPeers: Int
    /// The last step's offset from the session's grid before it was placed, and the largest
    /// once the first step was on the grid, in seconds (+: the step was late).
    public var lastOffset: Double
    public var largestOffset: Double
    /// Steps moved onto the session's grid.
    public var moves: Int
    /// The session's tempo last taken or committed.
    public var tempo: Double
}

extension LivePlayback {
    /// Steps closer than this to the session's grid (seconds) stay where they are: a quarter
    /// of a millisecond, far below what a runner hears and a step's length.
    public static let linkTolerance = 0.000_25
    /// Tempos closer than this (steps per minute) are the same tempo.
    public static let linkTempoTolerance = 0.000_1

    /// Follows the Link session `link` from the first block on, with cycles of `quantum` steps
    /// (the accent period). Before playback starts, on the thread that made the player; the
    /// player keeps `link` alive.
    ///
    /// - Parameter tempo: the tempo `link` was made with, the plan's first step's.
    public func follow(link: LinkSession, quantum: Int, tempo: Double) {
        precondition(state.pointee.frame == 0 && state.pointee.link == nil, "Link is joined once, before playback starts")
        linkSession = link
        state.pointee.link = .passUnretained(link)
        state.pointee.linkQuantum = max(1, quantum)
        state.pointee.linkOwnTempo = tempo
        state.pointee.linkQuietUntil = link.micros() + Self.linkQuietMicros
    }

    /// For this long (2 s) after joining, a player that sees no peer changes nothing in the session:
    /// Link applies a real-time commit later, on its own thread, and one made while alone could
    /// land after joining a session found meanwhile, and move everyone's tempo or grid to it.
    static let linkQuietMicros: Int64 = 2_000_000

    /// True when the player follows a Link session.
    public var followsLink: Bool {
        @_noAllocation @_noLocks get { state.pointee.link != nil }
    }

    /// The playback thread: output frame `frame` will be heard at `nanoseconds` on the
    /// project's monotonic clock. Before each block, when following Link.
    ///
    /// Real-time safety: two clock reads; allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func noteHeard(outputFrame frame: Int64, atMonotonic nanoseconds: Int64) {
        guard let link = state.pointee.link else { return }
        state.pointee.linkFrame = frame
        state.pointee.linkMicros = link._withUnsafeGuaranteedRef { $0.micros(atMonotonic: nanoseconds) }
    }

    /// Where following the session stands. Audio thread, or with it stopped.
    public func linkReport() -> LinkReport? {
        guard state.pointee.link != nil else { return nil }
        return LinkReport(peers: state.pointee.linkPeers, mostPeers: state.pointee.linkMostPeers,
                          lastOffset: state.pointee.linkOffset, largestOffset: state.pointee.linkLargestOffset,
                          moves: state.pointee.linkMoves, tempo: state.pointee.linkTempo)
    }

    /// Places the first step not yet rendered on the session's grid (see the top of this file).
    ///
    /// Real-time safety: Link's real-time capture and commit; allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    func followLink() {
        guard let link = state.pointee.link, state.pointee.linkMicros != Int64.min else { return }
        followRenderer()
        link._withUnsafeGuaranteedRef { $0.audioCapture() }
        let peers = link._withUnsafeGuaranteedRef { $0.peers }
        state.pointee.linkPeers = peers
        state.pointee.linkMostPeers = max(state.pointee.linkMostPeers, peers)
        followStartStop(peers: peers)
        guard state.pointee.phase == .playing, let event = state.pointee.shadow.peek() else { return }
        let rate = Double(state.pointee.shadow.sampleRate)
        // When the event will be heard, on Link's clock.
        let output = event.frame + state.pointee.outputFrames - state.pointee.frame
        let host = state.pointee.linkMicros + roundedToInt64(Double(output - state.pointee.linkFrame) * 1_000_000 / rate)
        let session = link._withUnsafeGuaranteedRef { $0.audioTempo() }
        let isStep: Bool
        switch event.level {
        case .step, .accent: isStep = true
        case .countIn, .subdivision: isStep = false
        }
        let known = state.pointee.linkTempo
        // Alone and just joined: change nothing in the session yet (see `linkQuietMicros`).
        var quiet = false
        if peers == 0 { quiet = state.pointee.linkMicros < state.pointee.linkQuietUntil }
        // (The tolerances as literals: a static's lazy initialisation may take a lock.)
        if known.isNaN {
            // On joining: a tempo other than the one the session was made with is another
            // device's session.
            if abs(session - state.pointee.linkOwnTempo) > 0.000_1 {
                takeTempo(session, at: host, event: event, isStep: isStep)
                return
            }
            state.pointee.linkTempo = session
        } else if abs(session - known) > 0.000_1 {
            // Another device's tempo.
            takeTempo(session, at: host, event: event, isStep: isStep)
            return
        }
        guard isStep, !quiet else { return }
        let ours = 60 / state.pointee.shadow.currentStepInterval
        if abs(ours - state.pointee.linkTempo) > 0.000_1 {
            // This device's own tempo for this step: the session's from the time it is heard.
            link._withUnsafeGuaranteedRef { $0.audioSetTempo(ours, at: host) }
            state.pointee.linkTempo = ours
        }
        let offset = offsetFromGrid(event, at: host)
        state.pointee.linkOffset = offset.seconds
        if state.pointee.linkLooked { state.pointee.linkLargestOffset = max(state.pointee.linkLargestOffset, abs(offset.seconds)) }
        state.pointee.linkLooked = true
        guard abs(offset.seconds) > 0.000_25 else { return }  // linkTolerance
        if peers == 0 {
            // Alone: the session's grid moves to this device's steps.
            let q = Double(state.pointee.linkQuantum)
            let beat = link._withUnsafeGuaranteedRef { $0.audioBeat(at: host, quantum: q) } - offset.beats
            link._withUnsafeGuaranteedRef { $0.audioRequestBeat(beat, at: host, quantum: q) }
        } else {
            moveFirstStep(by: -offset.seconds, cadence: nil)
        }
    }

    /// Start/stop sync: the session stopped by another device pauses the drill (on a step
    /// boundary, as space does), started again resumes it; the drill playing starts a session
    /// that is not playing (once the first quiet moments alone are over).
    @_noAllocation @_noLocks
    private func followStartStop(peers: Int) {
        guard let link = state.pointee.link else { return }
        let plays = link._withUnsafeGuaranteedRef { $0.audioIsPlaying() }
        if !state.pointee.linkStartStopSeen {
            // The first look: the drill starts the session unless it plays already.
            var quiet = false
            if peers == 0 { quiet = state.pointee.linkMicros < state.pointee.linkQuietUntil }
            if quiet { return }
            state.pointee.linkStartStopSeen = true
            state.pointee.linkPlaying = plays
            if !plays { shareStartStop(true) }
            return
        }
        guard plays != state.pointee.linkPlaying else { return }
        state.pointee.linkPlaying = plays
        state.pointee.linkApplying = true
        if plays {
            switch state.pointee.phase {
            case .pausing, .paused: apply(.resume)
            case .playing, .stopping, .finished: break
            }
        } else if state.pointee.phase == .playing {
            apply(.pause)
        }
        state.pointee.linkApplying = false
    }

    /// Starts or stops the session from now on (this device paused or resumed).
    @_noAllocation @_noLocks
    func shareStartStop(_ plays: Bool) {
        guard let link = state.pointee.link, state.pointee.linkStartStopSeen else { return }
        let now = link._withUnsafeGuaranteedRef { $0.micros() }
        link._withUnsafeGuaranteedRef { $0.audioCapture() }
        link._withUnsafeGuaranteedRef { $0.audioSetPlaying(plays, at: now) }
        state.pointee.linkPlaying = plays
    }

    /// How far `event`, heard at `host`, is from the beat of its place in the cycle: in beats
    /// and in seconds at the session's tempo (+: late), within half a cycle.
    @_noAllocation @_noLocks
    private func offsetFromGrid(_ event: ClickEvent, at host: Int64) -> (beats: Double, seconds: Double) {
        guard let link = state.pointee.link else { return (0, 0) }
        let quantum = state.pointee.linkQuantum
        let q = Double(quantum)
        let phase = link._withUnsafeGuaranteedRef { $0.audioPhase(at: host, quantum: q) }
        // The accent (step 0 of each accent group) falls on the cycle's first beat.
        let wanted = Double(((event.step % quantum) + quantum) % quantum)
        var beats = phase - wanted
        // Into −q/2 ..< q/2: the nearest beat of the wanted place (a floor, by truncation:
        // `rounded(.down)` uses a type the real-time checker refuses).
        let x = beats / q + 0.5
        var cycles = Double(Int64(x))
        if cycles > x { cycles -= 1 }
        beats -= q * cycles
        let tempo = link._withUnsafeGuaranteedRef { $0.audioTempo() }
        return (beats, beats * 60 / tempo)
    }

    /// Takes the session's `tempo` from the first step not yet rendered, placed on the grid.
    @_noAllocation @_noLocks
    private func takeTempo(_ tempo: Double, at host: Int64, event: ClickEvent, isStep: Bool) {
        let rate = Double(state.pointee.shadow.sampleRate)
        switch state.pointee.shadow.phase {
        case .finished:
            return
        case .countIn:
            // The set's steps take it; the count-in keeps its pace.
            let now = Double(state.pointee.frame) / rate
            rendererRef._withUnsafeGuaranteedRef { $0.changeCadence(to: tempo) }
            state.pointee.shadow.changeCadence(to: tempo, at: now)
        case .steps:
            // Only at a step: its subdivisions go on at the old tempo until it is over.
            guard isStep else { return }
            let offset = offsetFromGrid(event, at: host)
            moveFirstStep(by: -offset.seconds, cadence: tempo)
        }
        state.pointee.linkTempo = tempo
        state.pointee.targetCadence = min(max(tempo, 30), 300)
        rendererRef._withUnsafeGuaranteedRef { $0.openEnd() }
        state.pointee.diverged = true
        state.pointee.cuesMoved = true
    }

    /// Moves the first step not yet rendered, in the renderer and in its followed copy alike.
    @_noAllocation @_noLocks
    private func moveFirstStep(by shift: Double, cadence: Double?) {
        let now = Double(state.pointee.frame) / Double(state.pointee.shadow.sampleRate)
        guard rendererRef._withUnsafeGuaranteedRef({ $0.realign(by: shift, cadence: cadence) }) else { return }
        _ = state.pointee.shadow.realign(by: shift, cadence: cadence, at: now)
        state.pointee.linkMoves += 1
        state.pointee.diverged = true
        state.pointee.cuesMoved = true
        rendererRef._withUnsafeGuaranteedRef { $0.openEnd() }
    }
}
