import StrideCueCore
import StrideCueLink
import Synchronization

// Live playback's additions to the renderer: what `stridecue play` needs that a file export
// does not. A key thread (the producer) hands commands to the audio thread (the consumer)
// through a lock-free queue; the audio thread applies them between blocks, renders, and
// publishes where it is for a status line. Nothing on the audio thread allocates or locks
// (every function it calls is `@_noAllocation @_noLocks`, checked by the compiler).

// MARK: The live player

/// A renderer driven live: applies the runner's commands between blocks, pauses on a step
/// boundary, stops with a short fade, and publishes its status.
///
/// The audio thread calls `render(into:)` and `publish(underruns:)`; any one other thread
/// pushes to `commands` and reads `status`. The samples are the renderer's own, unchanged:
/// without commands, the frames equal those a file export renders, whatever the block sizes.
///
/// To find the next step boundary the player keeps a copy of the renderer's timeline and
/// moves it along behind the renderer: the renderer has consumed exactly the events before
/// the frame it has rendered up to, and the copy is advanced to the same point and given the
/// same cadence changes and skipped rests, so the two agree event for event
/// (`LiveControlTests` checks that against `Renderer.position()`). The renderer keeps its
/// timeline private; the copy costs a few hundred bytes and no allocation.
public final class LivePlayback: @unchecked Sendable {
    public let renderer: Renderer
    public let commands: LiveCommandQueue
    public let status: LiveStatusBoard
    /// The sounds said live in this session (the coach's remote's "say" and cue buttons). The
    /// player owns them, so they live as long as the player; the playback thread holds the
    /// player until it has let go. Only samples of this store are said (`LiveCommand.say`).
    public let spoken = SpokenSamples()
    /// `spoken.identity`, for the audio thread (reading `spoken` would retain it).
    private let spokenIdentity: UInt
    /// Which thread renders (checked in debug builds).
    let audioThread = AudioThreadConfinement()
    /// A stop fades out over this long: short enough to feel immediate, long enough not to click.
    public static let stopFadeSeconds = 0.020
    /// A pause waits for the next step at most this long; past it (a rest, a spoken caution,
    /// a very slow cadence) it pauses at once.
    public static let pauseWaitLimitSeconds = 2.0
    /// A pause fades the sound out over this long before it falls silent, so it never
    /// stops on a non-zero sample (a click).
    public static let pauseFadeSeconds = 0.005
    /// Clicks whose output frames are remembered (`firstClick(atOrAfter:)`).
    public static let clickMemory = 256

    let state: UnsafeMutablePointer<LiveState>
    // The same three objects, for the audio thread: reading a class reference out of a
    // stored property retains it, and a retain may lock. The properties above keep them
    // alive; these are used without retaining.
    let rendererRef: Unmanaged<Renderer>
    private let commandsRef: Unmanaged<LiveCommandQueue>
    /// The clicks' level a control thread asks for (`feedback: fade`); read each block.
    public let clickLevel = ClickLevelControl()
    private let clickLevelRef: Unmanaged<ClickLevelControl>
    private let statusRef: Unmanaged<LiveStatusBoard>
    /// Output frames of the last `clickMemory` clicks rendered, a ring (`LiveState.clicksSeen`).
    private let clicks: UnsafeMutablePointer<Int64>
    /// The same clicks' events and step intervals, for a status that follows what is heard.
    private let clickEvents: UnsafeMutablePointer<ClickEvent>
    private let clickIntervals: UnsafeMutablePointer<Double>
    /// `clickMemory`, for the audio thread.
    private let clickCapacity = LivePlayback.clickMemory

    /// - Parameters:
    ///   - renderer: a renderer nothing has rendered from yet.
    ///   - plan: the plan the renderer was made with.
    ///   - commandCapacity: commands that may wait between two blocks.
    public init(renderer: Renderer, plan: SessionPlan, commandCapacity: Int = 64) {
        precondition(renderer.framesRendered == 0, "LivePlayback follows a renderer from its first frame")
        self.renderer = renderer
        commands = LiveCommandQueue(capacity: commandCapacity)
        let rate = renderer.format.sampleRate
        let shadow = Timeline(plan: plan, sampleRate: rate)
        state = .allocate(capacity: 1)
        state.initialize(to: LiveState(
            shadow: shadow, targetCadence: shadow.cadence, channels: renderer.format.channels,
            stopFade: max(1, Int64((Self.stopFadeSeconds * Double(rate)).rounded())),
            pauseWaitLimit: Int64(Self.pauseWaitLimitSeconds * Double(rate)), totalFrames: renderer.totalFrames,
            capped: renderer.isCapped))
        state.pointee.pauseFade = max(1, Int64((Self.pauseFadeSeconds * Double(rate)).rounded()))
        state.pointee.hasCaution = plan.cautionLead > 0
        state.pointee.sayLead = Int64((CueBalance.duckAttackSeconds * Double(rate)).rounded(.up))
        clicks = .allocate(capacity: Self.clickMemory)
        clicks.initialize(repeating: 0, count: Self.clickMemory)
        clickEvents = .allocate(capacity: Self.clickMemory)
        clickEvents.initialize(repeating: ClickEvent(frame: 0, time: 0, level: .step, set: 0, step: 0), count: Self.clickMemory)
        clickIntervals = .allocate(capacity: Self.clickMemory)
        clickIntervals.initialize(repeating: 1, count: Self.clickMemory)
        let p = renderer.position()
        status = LiveStatusBoard(LiveStatus(
            cadence: 60 / shadow.currentStepInterval, targetCadence: p.cadence, set: p.set, sets: p.sets,
            countInLength: shadow.countInLength, restFramesLeft: p.restFramesLeft,
            phase: p.finished ? .finished : .playing, caution: plan.cautionLead > 0))
        rendererRef = .passUnretained(renderer)
        commandsRef = .passUnretained(commands)
        clickLevelRef = .passUnretained(clickLevel)
        statusRef = .passUnretained(status)
        spokenIdentity = spoken.identity
    }

    /// The thread that rendered is done with the player: another thread may render from now
    /// on (checked in debug builds; see `AudioThread`).
    public func releaseAudioThread() { audioThread.release() }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
        clicks.deallocate()
        clickEvents.deallocate()
        clickIntervals.deallocate()
    }

    /// The phase the audio thread left the player in. Audio thread only (or with it stopped);
    /// other threads read `status.read().phase`.
    public var phase: LivePhase { state.pointee.phase }

    /// Plays `music` under the clicks from now on: the export's own chain (`LiveMix`), which the
    /// player owns from here. Before playback starts, on the thread that made the player.
    public func playMusic(_ music: LiveMusic) {
        precondition(state.pointee.frame == 0 && musicStage == nil, "music is added once, before playback starts")
        let stage = LiveMix(renderer: renderer, music: music)
        musicStage = stage
        state.pointee.music = .passUnretained(stage)
    }

    /// The music under the clicks (`playMusic`), kept for as long as the player.
    public private(set) var musicStage: LiveMix?

    /// The Ableton Link session followed (`follow(link:quantum:)`), kept for as long as the player.
    public internal(set) var linkSession: LinkSession?

    /// Fills `buffer` with the next output frames: the session's (`renderSession`), with the
    /// music and through its limiter when there is music. Audio thread only.
    ///
    /// The player drives the music stage, never the other way round: session frames in chunks
    /// of `LiveMix.chunkFrames` (the ducking looks at the renderer's cues that often), then the
    /// music's own fade after an end a key moved and the limiter's last frames.
    ///
    /// - Parameter buffer: room for `buffer.count / channels` interleaved frames.
    /// - Returns: frames written: fewer than asked when a pause or the end falls inside the
    ///   block, 0 once playback is over.
    ///
    /// Real-time safety: allocates nothing, takes no lock, makes no system call.
    @_noAllocation @_noLocks
    public func render(into buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        audioThread.check()
        guard let music = state.pointee.music, let base = buffer.baseAddress else { return renderSession(into: buffer) }
        let channels = state.pointee.channels
        let frames = buffer.count / channels
        let chunkFrames = music._withUnsafeGuaranteedRef { $0.chunkFrames }
        var out = 0
        while out < frames {
            let want = min(frames - out, chunkFrames)
            let chunk = UnsafeMutableBufferPointer(start: base + out * channels, count: want * channels)
            var n = 0
            if !music._withUnsafeGuaranteedRef({ $0.sessionOver }) {
                n = renderSession(into: chunk)
                if n == 0 {
                    music._withUnsafeGuaranteedRef { $0.endSession() }
                    continue
                }
            } else {
                n = music._withUnsafeGuaranteedRef { $0.renderTail(into: chunk) }
                if n == 0 { break }
            }
            out += music._withUnsafeGuaranteedRef { $0.limit(chunk, frames: n) }
        }
        return out
    }

    /// Applies waiting commands, then fills `buffer` with the next frames of the session, or
    /// silence while paused; an attached stage mixes into the session's frames before a
    /// pause's fades. Audio thread only: from `render(into:)`, or from the stage.
    ///
    /// - Parameter buffer: room for `buffer.count / channels` interleaved frames.
    /// - Returns: frames written: fewer than asked when a pause or the end falls inside the
    ///   block, 0 once playback is over.
    ///
    /// Real-time safety: allocates nothing, takes no lock, makes no system call.
    @_noAllocation @_noLocks
    public func renderSession(into buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        audioThread.check()
        while let command = commandsRef._withUnsafeGuaranteedRef({ $0.pop() }) {
            apply(command)
        }
        if state.pointee.link != nil { followLink() }
        let level = clickLevelRef._withUnsafeGuaranteedRef({ $0.level() })
        rendererRef._withUnsafeGuaranteedRef({ $0.setClickLevel(level) })
        let channels = state.pointee.channels
        let wanted = buffer.count / channels
        if wanted == 0 { return 0 }
        var frames = wanted
        switch state.pointee.phase {
        case .finished:
            return 0
        case .paused:
            return silence(buffer, frames: wanted)
        case .pausing:
            let left = state.pointee.pauseAt - state.pointee.frame
            if left <= 0 {
                state.pointee.phase = .paused
                return silence(buffer, frames: wanted)
            }
            frames = Int(min(Int64(wanted), left))
        case .playing, .stopping:
            break
        }
        if state.pointee.diverged {
            // A skipped rest or a faster cadence ends the plan before the renderer's fixed
            // length; stop there rather than play the difference as silence.
            followRenderer()
            if let end = liveEndFrame() {
                let left = end - state.pointee.frame
                if left <= 0 {
                    state.pointee.phase = .finished
                    return 0
                }
                frames = Int(min(Int64(frames), left))
            }
        }
        let block = UnsafeMutableBufferPointer(rebasing: buffer[0..<(frames * channels)])
        let done = rendererRef._withUnsafeGuaranteedRef({ $0.render(into: block) })
        if done == 0 {
            state.pointee.phase = .finished
            return 0
        }
        let first = state.pointee.frame
        if let music = state.pointee.music, let base = block.baseAddress {
            // Before a pause's fades, so that a pause fades the music with the clicks; a stop's
            // fade (the renderer's own, `Renderer.fadeOut`) reaches zero on frame `stopEnd − 1`.
            let endMoved = state.pointee.diverged
            let cuesMoved = state.pointee.cuesMoved
            let stopping = state.pointee.phase == .stopping
            let fadeEnd = stopping ? state.pointee.stopEnd : Int64.max
            let fadeLength = stopping ? state.pointee.stopFade : 0
            music._withUnsafeGuaranteedRef {
                $0.mix(base, frames: done, at: first, fadeEnd: fadeEnd, fadeLength: fadeLength, endMoved: endMoved, cuesMoved: cuesMoved)
            }
        }
        state.pointee.frame += Int64(done)
        state.pointee.outputFrames += Int64(done)
        if state.pointee.fadeInLeft > 0 { fadeIn(block, frames: done) }
        if state.pointee.phase == .pausing {
            fadeBeforePause(block, from: first, frames: done)
            if state.pointee.frame >= state.pointee.pauseAt { state.pointee.phase = .paused }
        }
        // Note the clicks just rendered, with their output frames, while no silence has
        // been added after them.
        followRenderer()
        return done
    }

    /// Ramps the frames before `pauseAt` down to silence (see `pauseFadeSeconds`).
    @_noAllocation @_noLocks
    private func fadeBeforePause(_ block: UnsafeMutableBufferPointer<Float>, from first: Int64, frames: Int) {
        let end = state.pointee.pauseAt
        let length = state.pointee.pauseFadeLength
        guard length > 0 else { return }
        let channels = state.pointee.channels
        let start = end - length
        for i in 0..<frames {
            let f = first + Int64(i)
            if f < start || f >= end { continue }
            let gain = Float(end - f) / Float(length + 1)
            for c in 0..<channels { block[i * channels + c] *= gain }
        }
    }

    /// Ramps the first frames after a pause that fell mid-sound up from silence.
    @_noAllocation @_noLocks
    private func fadeIn(_ block: UnsafeMutableBufferPointer<Float>, frames: Int) {
        let channels = state.pointee.channels
        let length = state.pointee.pauseFade
        let state = self.state
        for i in 0..<frames {
            if state.pointee.fadeInLeft <= 0 { break }
            let gain = Float(length - state.pointee.fadeInLeft + 1) / Float(length + 1)
            for c in 0..<channels { block[i * channels + c] *= gain }
            state.pointee.fadeInLeft -= 1
        }
    }

    @_noAllocation @_noLocks
    private func silence(_ buffer: UnsafeMutableBufferPointer<Float>, frames: Int) -> Int {
        buffer.baseAddress!.update(repeating: 0, count: frames * state.pointee.channels)
        state.pointee.outputFrames += Int64(frames)
        return frames
    }

    /// Publishes where playback is, with the device's underrun count. Audio thread only.
    ///
    /// Real-time safety: allocates nothing, takes no lock, makes no system call.
    @_noAllocation @_noLocks
    public func publish(underruns: Int) {
        publish(underruns: underruns, device: .playing, reconnectSecondsLeft: 0, bufferFrames: 0, bufferGrowths: 0)
    }

    /// Publishes where playback is, with what the device is doing. Audio thread only.
    ///
    /// The set, step and tempo are those of the last click heard: the last one rendered at or
    /// before `heardOutputFrame`, the output frame the device is playing now (what was handed
    /// to it less its delay, which through a sound server or a Bluetooth headset is 100–300 ms:
    /// a step or more). So the last step of a set is still that set's, and a rest begins once
    /// the set's last click has been heard. `Int64.max` (the default) publishes what was
    /// rendered, for a device whose delay is not known.
    ///
    /// Real-time safety: allocates nothing, takes no lock, makes no system call.
    @_noAllocation @_noLocks
    public func publish(underruns: Int, device: LiveDeviceState, reconnectSecondsLeft: Int, bufferFrames: Int,
                        bufferGrowths: Int, heardOutputFrame: Int64 = Int64.max) {
        audioThread.check()
        let p = rendererRef._withUnsafeGuaranteedRef({ $0.position() })
        followRenderer()
        let t = state.pointee.shadow
        let seen = state.pointee.clicksSeen
        // Frames handed over or rendered and not heard yet.
        let lag = heardOutputFrame == Int64.max ? 0 : max(0, state.pointee.outputFrames - heardOutputFrame)
        // The last click heard, among the remembered ones (all of them but after a long stall).
        // (No `&&` on what reads `self`: its autoclosure would retain it.)
        let memory = Self.clickMemory
        let clicks = self.clicks
        var heard = seen - 1
        let oldest = max(0, seen - memory)
        while heard >= oldest {
            if clicks[heard % memory] <= heardOutputFrame { break }
            heard -= 1
        }
        if heard < oldest, seen > memory { heard = oldest }
        var set = p.set
        var step = 0
        var countIn = 0
        var caution = false
        var cadence = 60 / t.currentStepInterval
        // A rest is heard once the set's last click has been; until then the set goes on.
        var rest = p.restFramesLeft.map { $0 + lag }
        if rest != nil, heard != seen - 1 { rest = nil }
        if heard >= 0 {
            let last = clickEvents[heard % memory]
            cadence = 60 / clickIntervals[heard % memory]
            if rest == nil {
                set = last.set
                if last.step < 0 {
                    countIn = t.countInLength + last.step + 1
                } else {
                    step = last.step + 1
                }
            }
        } else {
            caution = state.pointee.hasCaution
        }
        if rest != nil { cadence = state.pointee.targetCadence }
        // 60 / (60 / x) is not always x again: round to a thousandth of a step per minute.
        cadence = Double(roundedToInt64(cadence * 1000)) / 1000
        let snapshot = LiveStatus(
            frame: max(0, p.frame - lag), outputFrames: state.pointee.outputFrames, cadence: cadence,
            targetCadence: state.pointee.targetCadence, set: set, sets: p.sets, step: step,
            countIn: countIn, countInLength: t.countInLength,
            restFramesLeft: rest, phase: state.pointee.phase, underruns: underruns,
            caution: caution, pauseAfterCue: state.pointee.pauseAfterCue, device: device,
            reconnectSecondsLeft: reconnectSecondsLeft, bufferFrames: bufferFrames, bufferGrowths: bufferGrowths,
            linkPeers: state.pointee.link == nil ? -1 : state.pointee.linkPeers)
        statusRef._withUnsafeGuaranteedRef({ $0.publish(snapshot) })
    }

    /// The output frame of the first click rendered at or after `outputFrame`, among the
    /// last `clickMemory` clicks; nil when none is. For resuming after the device went away:
    /// the first click the runner did not hear. Audio thread only.
    @_noAllocation @_noLocks
    public func firstClick(atOrAfter outputFrame: Int64) -> Int64? {
        let seen = state.pointee.clicksSeen
        let kept = min(seen, Self.clickMemory)
        var found: Int64? = nil
        var k = seen - 1
        while k >= seen - kept {
            let frame = clicks[k % Self.clickMemory]
            if frame < outputFrame { break }
            found = frame
            k -= 1
        }
        return found
    }

    /// The output frame of the next click not rendered yet, or nil when the plan has none left.
    /// Audio thread only.
    @_noAllocation @_noLocks
    public func nextClickOutputFrame() -> Int64? {
        followRenderer()
        guard let event = state.pointee.shadow.peek() else { return nil }
        return event.frame + state.pointee.outputFrames - state.pointee.frame
    }

    /// Frames of the session still to render before it ends, as it stands (no more keys), or
    /// `limit` when it ends later than that; nil while paused or about to pause, when no end is
    /// in sight. For knowing when a session should be over by the wall clock although the
    /// device stopped taking frames. Audio thread only.
    ///
    /// Real-time safety: allocates nothing, takes no lock; looks at most `limit` frames of the
    /// timeline ahead (a copy of it), so the cost is that of the clicks within `limit`.
    @_noAllocation @_noLocks
    public func sessionFramesLeft(atMost limit: Int64) -> Int64? {
        let now = state.pointee.frame
        var end: Int64
        switch state.pointee.phase {
        case .paused, .pausing:
            return nil
        case .finished:
            return 0
        case .stopping:
            return min(limit, state.pointee.stopFade)
        case .playing:
            end = state.pointee.totalFrames
            if state.pointee.diverged {
                followRenderer()
                var t = state.pointee.shadow
                var found = false
                // Bounded: an hour at 300 spm in quarter steps is 72 000 clicks.
                for _ in 0..<(1 << 20) {
                    let over: Bool
                    switch t.phase {
                    case .finished: over = true
                    case .countIn, .steps: over = false
                    }
                    if over {
                        let planEnd = roundedToInt64(t.finishedAt * Double(t.sampleRate))
                        end = state.pointee.capped ? min(state.pointee.totalFrames, planEnd) : planEnd
                        found = true
                        break
                    }
                    guard let event = t.peek(), event.frame - now <= limit else { break }
                    t.advance()
                }
                // Not found within `limit`: only a cap (a hard limit) may still end it sooner.
                // (Nested ifs: `&&` would capture, and retain, self.)
                if !found {
                    if !state.pointee.capped { return limit }
                    if state.pointee.totalFrames - now > limit { return limit }
                }
            }
        }
        return max(0, min(limit, end - now))
    }

    /// The first step rendered at the tempo a tempo key asked for: its output frame, and how
    /// many such steps there have been (each key, or burst of keys before its step, adds one).
    /// For measuring key-to-sound time. Audio thread only.
    @_noAllocation @_noLocks
    public func newTempoStep() -> (count: Int, outputFrame: Int64) {
        (state.pointee.newTempoCount, state.pointee.newTempoOutputFrame)
    }

    /// The tempo of the last click rendered, in steps per minute. Audio thread only.
    @_noAllocation @_noLocks
    public func playingCadence() -> Double {
        60 / (state.pointee.clicksSeen > 0 ? state.pointee.lastClickInterval : state.pointee.shadow.currentStepInterval)
    }

    /// The frame of the next step boundary at or after the renderer's position: the next step
    /// or count-in click (subdivisions are not boundaries), or the end of the current set when
    /// that comes first. Nil when the plan has no step left. Audio thread only.
    ///
    /// Real-time safety: copies the timeline (a value of plain numbers); allocates nothing.
    @_noAllocation @_noLocks
    public func nextStepFrame() -> Int64? {
        nextStepFrame(atOrAfter: state.pointee.frame)
    }

    /// The frame of the next step boundary at or after `now` (not before the renderer's
    /// position). Audio thread only.
    @_noAllocation @_noLocks
    public func nextStepFrame(atOrAfter now: Int64) -> Int64? {
        followRenderer()
        var t = state.pointee.shadow
        let ended = t.previousSetEndFrame ?? Int64.min
        // A step has at most four clicks (`PlanLimits.subdivide`); the bound only guards a bug
        // (and covers looking a long cue's length ahead, for `say`).
        for _ in 0..<4096 {
            if let end = t.previousSetEndFrame, end != ended, end >= now { return end }
            guard let event = t.peek() else { return nil }
            if event.frame >= now {
                switch event.level {
                case .subdivision: break
                case .accent, .step, .countIn: return event.frame
                }
            }
            t.advance()
        }
        return nil
    }

    /// Where the plan ends now that its last click has been consumed: the end of the last set
    /// (the last step's start plus its interval, or a timed set's end), as the timeline
    /// computes it; nil before. Only asked after a live change moved the end.
    @_noAllocation @_noLocks
    private func liveEndFrame() -> Int64? {
        let t = state.pointee.shadow
        switch t.phase {
        case .countIn, .steps:
            return nil
        case .finished:
            let frame = roundedToInt64(t.finishedAt * Double(t.sampleRate))
            // A cap (--duration) stays a hard limit; otherwise the plan's live end rules.
            return state.pointee.capped ? min(state.pointee.totalFrames, frame) : frame
        }
    }

    /// Moves the copy of the timeline past every event the renderer has consumed: those
    /// before the frame it has rendered up to.
    @_noAllocation @_noLocks
    func followRenderer() {
        let now = state.pointee.frame
        // Rendered frames are output frames shifted by the silence of the pauses so far.
        let offset = state.pointee.outputFrames - now
        // A new cadence asked for (a key, or any other way): time its first step.
        if state.pointee.targetCadence != state.pointee.tempoNoted {
            if !state.pointee.tempoNoted.isNaN { state.pointee.tempoKeyPending = true }
            state.pointee.tempoNoted = state.pointee.targetCadence
        }
        // `Self.clickMemory` read into an instance constant: called from another file, this
        // function may not read a static (its initialisation may take a lock).
        let memory = clickCapacity
        while let event = state.pointee.shadow.peek(), event.frame < now {
            if state.pointee.tempoKeyPending, state.pointee.shadow.cadence == state.pointee.targetCadence {
                switch event.level {
                case .step, .accent:
                    state.pointee.tempoKeyPending = false
                    state.pointee.newTempoOutputFrame = event.frame + offset
                    state.pointee.newTempoCount += 1
                case .subdivision, .countIn:
                    break
                }
            }
            state.pointee.lastClick = event
            state.pointee.lastClickInterval = state.pointee.shadow.currentStepInterval
            clicks[state.pointee.clicksSeen % memory] = event.frame + offset
            clickEvents[state.pointee.clicksSeen % memory] = event
            clickIntervals[state.pointee.clicksSeen % memory] = state.pointee.lastClickInterval
            state.pointee.clicksSeen += 1
            state.pointee.shadow.advance()
        }
    }

    /// For tests: where the followed timeline is, to compare with `renderer.position()`.
    func followedPosition() -> (set: Int, step: Int, cadence: Double) {
        followRenderer()
        let t = state.pointee.shadow
        return (t.setIndex, max(0, t.stepIndex), t.cadence)
    }

    /// True while commands other than a stop still mean something.
    @_noAllocation @_noLocks
    private func isRunning() -> Bool {
        switch state.pointee.phase {
        case .playing, .pausing, .paused: return true
        case .stopping, .finished: return false
        }
    }

    @_noAllocation @_noLocks
    func apply(_ command: LiveCommand) {
        let wasRunning = isPlayingOrPausing()
        applyCommand(command)
        // A pause or a resume of this device's own stops or starts the Link session too (a
        // runner who quits, or whose drill ends, leaves the others playing).
        if state.pointee.link != nil, !state.pointee.linkApplying, wasRunning != isPlayingOrPausing() {
            switch state.pointee.phase {
            case .playing: shareStartStop(true)
            case .pausing, .paused: shareStartStop(false)
            case .stopping, .finished: break
            }
        }
    }

    /// Playing, or playing on to a pause: the session plays.
    @_noAllocation @_noLocks
    func isPlayingOrPausing() -> Bool {
        switch state.pointee.phase {
        case .playing: return true
        case .pausing, .paused, .stopping, .finished: return false
        }
    }

    @_noAllocation @_noLocks
    private func applyCommand(_ command: LiveCommand) {
        switch command {
        case .changeCadence(let delta):
            changeCadence(to: state.pointee.targetCadence + delta)
        case .setCadence(let spm):
            changeCadence(to: spm)
        case .pause:
            if state.pointee.phase == .playing { apply(.togglePause) }
        case .resume:
            switch state.pointee.phase {
            case .pausing, .paused: apply(.togglePause)
            case .playing, .stopping, .finished: break
            }
        case .say(let sample):
            say(sample)
        case .togglePause:
            switch state.pointee.phase {
            case .playing:
                // A spoken cue is finished first; then the pause falls on the next step
                // boundary (a click starts there from silence), or at once where none is near.
                let now = state.pointee.frame
                let cueEnd = rendererRef._withUnsafeGuaranteedRef({ $0.cuesSoundingUntil() }) ?? now
                let from = max(now, cueEnd)
                var at = from
                var onStep = false
                let resting = rendererRef._withUnsafeGuaranteedRef({ $0.position() }).restFramesLeft != nil
                if !resting, let next = nextStepFrame(atOrAfter: from), next - from <= state.pointee.pauseWaitLimit {
                    at = next
                    onStep = true
                }
                // Never stop on a non-zero sample: at least a short fade, even "at once".
                if !onStep { at = max(at, now + state.pointee.pauseFade) }
                state.pointee.pauseAt = at
                state.pointee.pauseFadeLength = min(state.pointee.pauseFade, at - now)
                state.pointee.pauseOnStep = onStep
                state.pointee.pauseAfterCue = cueEnd > now
                state.pointee.phase = .pausing
            case .pausing:
                state.pointee.phase = .playing
                state.pointee.pauseAfterCue = false
            case .paused:
                state.pointee.phase = .playing
                state.pointee.pauseAfterCue = false
                // A pause between steps resumes mid-sound: ramp it in. Music under the clicks
                // is always mid-sound.
                // (Not `||`: its autoclosure would capture, and retain, self.)
                var midSound = !state.pointee.pauseOnStep
                if state.pointee.music != nil { midSound = true }
                if midSound { state.pointee.fadeInLeft = state.pointee.pauseFade }
            case .stopping, .finished:
                break
            }
        case .skip:
            guard isRunning() else { return }
            followRenderer()
            // What the renderer does inside: its timeline's skipRest/endSet(at: frame / rate).
            let rate = Double(state.pointee.shadow.sampleRate)
            let now = Double(state.pointee.frame) / rate
            if rendererRef._withUnsafeGuaranteedRef({ $0.position() }).restFramesLeft != nil {
                rendererRef._withUnsafeGuaranteedRef({ $0.skipRest() })
                state.pointee.shadow.skipRest(at: now)
            } else {
                rendererRef._withUnsafeGuaranteedRef({ $0.endSet() })
                state.pointee.shadow.endSet(at: now)
            }
            state.pointee.diverged = true
            state.pointee.cuesMoved = true
        case .stop:
            switch state.pointee.phase {
            case .paused:
                state.pointee.phase = .finished
            case .playing, .pausing:
                let fade = state.pointee.stopFade
                rendererRef._withUnsafeGuaranteedRef({ $0.fadeOut(frames: fade) })
                state.pointee.stopEnd = state.pointee.frame + max(1, fade)
                state.pointee.phase = .stopping
            case .stopping, .finished:
                break
            }
        }
    }
}

extension LivePlayback {
    @_noAllocation @_noLocks
    private func changeCadence(to asked: Double) {
        guard isRunning() else { return }
        // PlanLimits.cadence, as literals (as Timeline does): a static's lazy
        // initialisation may take a lock.
        let target = min(max(asked, 30), 300)
        state.pointee.targetCadence = target
        followRenderer()
        rendererRef._withUnsafeGuaranteedRef({ $0.changeCadence(to: target) })
        // A slower cadence lengthens the plan: let the renderer run on; the followed
        // timeline's end (liveEndFrame) stops playback where the plan now ends.
        rendererRef._withUnsafeGuaranteedRef({ $0.openEnd() })
        // The renderer's own call, with the same numbers: the two timelines stay in step.
        let now = Double(state.pointee.frame) / Double(state.pointee.shadow.sampleRate)
        state.pointee.shadow.changeCadence(to: target, at: now)
        state.pointee.diverged = true
        state.pointee.cuesMoved = true
    }

    /// Places a said sound on the first step boundary, at least the clicks' duck attack
    /// ahead, on which it overlaps no cue sound; while resting, at once (or when the sound
    /// in the way ends). Dropped when no step is left or too many sounds wait.
    @_noAllocation @_noLocks
    private func say(_ sample: SpokenSample) {
        // Another store's sound may be freed while this player plays: never read it.
        guard sample.owner == spokenIdentity, isRunning() else { return }
        followRenderer()
        let length = Int64(sample.samples.count)
        var from = state.pointee.frame + state.pointee.sayLead
        let resting = rendererRef._withUnsafeGuaranteedRef({ $0.position() }).restFramesLeft != nil
        for _ in 0..<64 {
            var start = from
            if !resting {
                guard let step = nextStepFrame(atOrAfter: from) else { return }
                start = step
            }
            if let busy = rendererRef._withUnsafeGuaranteedRef({ $0.cueOverlap(start: start, length: length) }) {
                from = max(busy, start + 1)
                continue
            }
            if rendererRef._withUnsafeGuaranteedRef({ $0.say(sample, at: start) }) { state.pointee.cuesMoved = true }
            return
        }
    }
}

/// The player's mutable state, behind one pointer so the audio thread touches no reference
/// counts and no exclusivity bookkeeping.
struct LiveState {
    /// A copy of the renderer's timeline, moved along behind it (see `LivePlayback`).
    var shadow: Timeline
    var targetCadence: Double
    let channels: Int
    let stopFade: Int64
    let pauseWaitLimit: Int64
    var phase: LivePhase = .playing
    var pauseAt: Int64 = 0
    /// Frames the renderer has rendered (its own counter is not callable from the audio thread).
    var frame: Int64 = 0
    var outputFrames: Int64 = 0
    /// The renderer's length, fixed when it was made.
    let totalFrames: Int64
    /// The renderer's length is a user's cap, not the plan's.
    let capped: Bool
    /// True once a cadence change or a skipped rest may have moved the end of the plan.
    var diverged = false
    /// True once cues may sound elsewhere than the plan put them (`diverged`, or a live say).
    var cuesMoved = false
    /// Where a stop's fade ends (`Renderer.fadeOut`), once stopping.
    var stopEnd = Int64.max
    /// The music under the clicks (`LivePlayback.playMusic`), if any; owned by the player.
    var music: Unmanaged<LiveMix>?
    /// The cadence asked for when the followed timeline last looked (nan before), whether a
    /// step at a newly asked cadence is still to be rendered, the output frame of the first
    /// such step and how many there have been (one per tempo key, or burst of keys).
    var tempoNoted = Double.nan
    var tempoKeyPending = false
    var newTempoOutputFrame: Int64 = -1
    var newTempoCount = 0
    /// The pause's fade: its full length, the length of the one under way, whether the pause
    /// falls on a step boundary, whether it waits for a cue, and what is left of a fade-in.
    var pauseFade: Int64 = 1
    var pauseFadeLength: Int64 = 0
    var pauseOnStep = true
    var pauseAfterCue = false
    var fadeInLeft: Int64 = 0
    /// The last click rendered and the interval of its step; clicks rendered so far.
    var lastClick = ClickEvent(frame: 0, time: 0, level: .step, set: 0, step: 0)
    var lastClickInterval: Double = 1
    var clicksSeen = 0
    var hasCaution = false
    /// A said sound starts at least this far ahead: the clicks' duck attack.
    var sayLead: Int64 = 0
    /// The Ableton Link session followed (`LivePlayback.follow(link:quantum:)`), if any.
    var link: Unmanaged<LinkSession>?
    var linkQuantum = 2
    /// Output frame `linkFrame` is heard at `linkMicros` on Link's clock (the engine says
    /// before each block); `Int64.min` before it has said.
    var linkFrame: Int64 = 0
    var linkMicros = Int64.min
    /// The tempo last committed to the session or taken from it (nan before the first look),
    /// the one the session was made with, and until when (Link's clock) a player alone
    /// changes nothing in it.
    var linkTempo = Double.nan
    var linkOwnTempo = Double.nan
    var linkQuietUntil: Int64 = 0
    /// Peers seen at the last block, and the most seen.
    var linkPeers = 0
    var linkMostPeers = 0
    /// How far the last step looked at was from the session's grid, in seconds (+: late), and
    /// the largest such offset seen once a first step had been placed, and steps moved.
    var linkOffset = 0.0
    var linkLargestOffset = 0.0
    var linkMoves = 0
    var linkLooked = false
    /// Whether the session plays (start/stop sync), as last seen or set; whether it has been
    /// looked at; and whether the player itself is pausing or resuming for the session.
    var linkPlaying = false
    var linkStartStopSeen = false
    var linkApplying = false

    init(shadow: Timeline, targetCadence: Double, channels: Int, stopFade: Int64, pauseWaitLimit: Int64, totalFrames: Int64,
         capped: Bool) {
        self.totalFrames = totalFrames
        self.capped = capped
        self.shadow = shadow
        self.targetCadence = targetCadence
        self.channels = channels
        self.stopFade = stopFade
        self.pauseWaitLimit = pauseWaitLimit
    }
}
