/// Sample rate and channel count of rendered audio.
public struct RenderFormat: Sendable, Equatable {
    public var sampleRate: Int
    public var channels: Int

    public init(sampleRate: Int = 48_000, channels: Int = 2) {
        self.sampleRate = sampleRate
        self.channels = channels
    }
}

/// Which layer of the mix a renderer produces.
public enum RenderStem: String, Sendable, CaseIterable {
    /// Clicks and cues: what a runner hears.
    case mix
    /// The clicks alone, ducked under cues exactly as in the mix.
    case clicks
    /// The cues alone.
    case voice
    /// Silence from the renderer: the music bed alone, which the mixdown adds (a file's
    /// stems — clicks, voice and music — add up to its mix).
    case music

    /// The clicks sound in this layer.
    public var hasClicks: Bool { self == .mix || self == .clicks }
    /// The cues sound in this layer.
    public var hasVoice: Bool { self == .mix || self == .voice }
}

/// Where the renderer is in the plan, for a status line.
public struct RenderPosition: Sendable, Equatable {
    public var frame: Int64
    public var cadence: Double
    public var set: Int
    public var sets: Int
    public var step: Int
    /// Frames until the next set starts while resting, else nil.
    public var restFramesLeft: Int64?
    public var finished: Bool
}

/// The one renderer: live playback, file export and tests all loop over `render(into:)`.
///
/// Configure it with a plan, a click sound and a format; `init` allocates everything it will
/// ever use (the samples and a fixed pool of voices). After that, rendering allocates nothing
/// and takes no lock, and the output does not depend on how the caller slices it into blocks.
public final class Renderer: @unchecked Sendable {
    public let format: RenderFormat
    /// Frames in the whole track: the plan's length, or the cap when it is shorter.
    public let totalFrames: Int64
    /// True when `maxDuration` cut the plan short: its end is then a hard limit.
    public let isCapped: Bool
    private let core: UnsafeMutablePointer<RenderCore>

    /// Voices that may sound at once; the oldest is faded out quickly when more are needed.
    public static let voiceCapacity = 64
    /// Every track fades out over its last this long, so it never ends on a jump.
    public static let endFadeSeconds = 0.005

    /// Cue sounds that may sound at once; the oldest is faded out quickly when more are needed.
    public static let cueVoiceCapacity = 8

    /// - Parameters:
    ///   - plan: the session to render.
    ///   - sound: the click sound, at `format.sampleRate`.
    ///   - format: output rate and channels.
    ///   - maxDuration: a cap in seconds (`--duration`), or nil for the whole plan.
    ///   - cues: the sounds of the plan's cues, spoken count-in and caution, at
    ///     `format.sampleRate`; nil plays none (the caution's time stays, silent).
    ///   - stem: the whole mix, or one layer of it, time-aligned with the mix.
    public init(plan: SessionPlan, sound: ClickSound, format: RenderFormat, maxDuration: Double? = nil,
                cues: CueVoices? = nil, stem: RenderStem = .mix) {
        precondition(sound.sampleRate == format.sampleRate, "click sound must be at the output rate")
        precondition(cues.map { $0.sampleRate == format.sampleRate } ?? true, "cue sounds must be at the output rate")
        precondition(format.channels >= 1)
        self.format = format
        let rate = Double(format.sampleRate)
        let planFrames = Int64((Timeline.planDuration(of: plan) * rate).rounded())
        let total = Self.totalFrames(of: plan, sampleRate: format.sampleRate, maxDuration: maxDuration)
        totalFrames = total
        isCapped = total < planFrames
        // Every track ends on a fade to zero: a click or a cue still ringing at the plan's end
        // (a subdivision click is longer than its gap at a fast cadence) would end it on a jump.
        let fade = min(total, Int64((Self.endFadeSeconds * rate).rounded()))
        core = .allocate(capacity: 1)
        core.initialize(to: RenderCore(
            timeline: Timeline(plan: plan, sampleRate: format.sampleRate),
            sound: sound, channels: format.channels, totalFrames: totalFrames, endFade: fade,
            plan: plan, cues: cues ?? CueVoices(sampleRate: format.sampleRate), stem: stem))
    }

    /// Frames in the track a renderer for this plan would make: the plan's length, or the cap
    /// when it is shorter. Lets a caller size things without making a renderer.
    public static func totalFrames(of plan: SessionPlan, sampleRate: Int, maxDuration: Double?) -> Int64 {
        let rate = Double(sampleRate)
        var total = Int64((Timeline.planDuration(of: plan) * rate).rounded())
        if let cap = maxDuration {
            total = min(total, Int64((cap * rate).rounded()))
        }
        return max(0, total)
    }

    deinit {
        core.pointee.release()
        core.deinitialize(count: 1)
        core.deallocate()
    }

    /// Frames rendered so far.
    public var framesRendered: Int64 { core.pointee.frame }

    /// Renders the next frames into `buffer`, interleaved, overwriting it.
    ///
    /// - Parameter buffer: room for `buffer.count / channels` frames.
    /// - Returns: the number of frames written; fewer than asked only at the end of the track,
    ///   0 once it is over.
    ///
    /// Real-time safety: allocates nothing, takes no lock, makes no system call.
    @_noAllocation @_noLocks
    public func render(into buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        core.pointee.render(into: buffer)
    }

    /// Changes the cadence from the first step not yet rendered (`Timeline.changeCadence`):
    /// a step it moves before the frame rendered up to sounds at that frame.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func changeCadence(to cadence: Double) {
        core.pointee.changeCadence(to: cadence)
    }

    /// Moves the next step, not rendered yet, by `shift` seconds and, with a cadence, plays on
    /// at it (`Timeline.realign`): for following another device's grid.
    /// - Returns: whether it moved the step (it does only at a step boundary, in a set).
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func realign(by shift: Double, cadence: Double?) -> Bool {
        core.pointee.realign(by: shift, cadence: cadence)
    }

    /// Ends a rest now: the next set's count-in starts at the current frame.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func skipRest() {
        core.pointee.skipRest()
    }

    /// Ends the current set now: its rest starts (or, in the last set, the plan ends).
    /// Clicks and cues already sounding play out; nothing new of that set starts.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func endSet() {
        core.pointee.endSet()
    }

    /// Fades everything out over `frames` frames and ends the track there.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func fadeOut(frames: Int64) {
        core.pointee.fadeOut(frames: frames)
    }

    /// Lets rendering go on past `totalFrames` until `fadeOut(frames:)` or the caller stops:
    /// for live play, where a slower cadence makes the plan longer than it was when the
    /// renderer was made. Does nothing for a capped renderer, whose cap stays a hard limit.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func openEnd() {
        // Two ifs, not `&&`: its autoclosure would capture (and retain) self.
        if isCapped { return }
        if core.pointee.fadingOut { return }
        core.pointee.endFrame = Int64.max
        core.pointee.endFade = 0
    }

    /// Asks the clicks to move toward `level` (0 silent, 1 as planned), a quarter of the way
    /// per click: each click starts at its own level, so a fade takes four steps and never
    /// changes a click midway. For `feedback: fade`.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func setClickLevel(_ level: Float) {
        core.pointee.clickLevelTarget = level
    }

    /// Plays `sample` from `frame` on (not before the current frame), over the clicks, which
    /// duck under it as under any cue: the coach's "say it now".
    /// - Returns: false when `Renderer.spokenCapacity` sounds are already waiting or sounding.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func say(_ sample: SpokenSample, at frame: Int64) -> Bool {
        core.pointee.say(sample, at: frame)
    }

    /// Where a sound `length` frames long starting at `start` would overlap a cue sound that
    /// is sounding, scheduled or said: the end of the latest such sound; nil when it is free.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func cueOverlap(start: Int64, length: Int64) -> Int64? {
        core.pointee.cueOverlap(start: start, length: length)
    }

    /// Sounds said with `say(_:at:)` that may wait or sound at once.
    public static let spokenCapacity = 4

    /// Where the renderer is, for a status line.
    @_noAllocation @_noLocks
    public func position() -> RenderPosition {
        core.pointee.position()
    }

    /// The frame at which the cues sounding now end, or nil when none is sounding.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func cuesSoundingUntil() -> Int64? {
        let c = core
        return c.pointee.cueVoices.framesLeft(c.pointee.cueSamples).map { c.pointee.frame + Int64($0) }
    }

    /// The frame the next cue sound starts at (a scheduled cue, or one said live), as far as
    /// the renderer has looked ahead (at least the clicks' duck attack); nil when none is known.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func nextCueStart() -> Int64? {
        core.pointee.earliestCueFrame()
    }

    /// The click sample of a level, mono at the output rate and at its level in the mix
    /// (count-in clicks use the step sample): for a lead-in click outside the plan.
    public func clickSample(_ level: ClickLevel) -> UnsafeBufferPointer<Float> {
        let index: Int
        switch level {
        case .accent: index = 0
        case .step, .countIn: index = 1
        case .subdivision: index = 2
        }
        return UnsafeBufferPointer(core.pointee.samples[index])
    }
}

/// The renderer's state, kept behind one pointer so the render path touches no reference
/// counts and no exclusivity bookkeeping.
struct RenderCore {
    var timeline: Timeline
    let channels: Int
    /// The three click samples (accent, step, subdivision), owned here.
    let samples: UnsafeMutablePointer<UnsafeMutableBufferPointer<Float>>
    /// The clicks sounding, from `samples`.
    var voices: VoicePool
    var frame: Int64 = 0
    var endFrame: Int64
    /// Frames over which the master gain falls to zero, ending at `endFrame`; 0 for none.
    var endFade: Int64
    /// `fadeOut` was asked for: the end is final.
    var fadingOut = false
    var nextEvent: ClickEvent?

    // Cues.
    let stem: RenderStem
    /// False when there is no cue sound at all: the click path then runs as it always did
    /// (until something is said live).
    var hasCues: Bool
    var cues: CueScheduler
    /// One sample per scheduler part, scaled to its level.
    let cueSamples: UnsafeMutablePointer<UnsafeMutableBufferPointer<Float>>
    /// The cue sounds sounding, from `cueSamples`.
    var cueVoices: VoicePool
    /// The clicks' gain ramps from `duckFrom` at frame `duckStart` toward `duckGain` (ducking)
    /// or 1, a step a frame: a function of the frame alone, however the track is sliced.
    var ducking = false
    /// The clicks' level (`setClickLevel`): asked for, and where the last click started.
    var clickLevelTarget: Float = 1
    var clickLevel: Float = 1
    var duckFrom: Float = 1
    var duckStart: Int64 = 0
    /// Frames from `duckStart` until the ramp has reached its target.
    var duckFrames = 0
    // `CueBalance` copied in: a static's lazy initialisation may take a lock.
    let duckGain: Float
    let duckDown: Float
    let duckUp: Float
    let duckAttack: Int64
    /// Sounds said live: `cueSamples` slots from `cues.partCount` on, borrowed from the
    /// caller's `SpokenSample`s; those waiting to start, by slot and frame.
    let spokenPending: UnsafeMutablePointer<(slot: Int, frame: Int64)>
    var spokenPendingCount = 0

    init(timeline: Timeline, sound: ClickSound, channels: Int, totalFrames: Int64, endFade: Int64,
         plan: SessionPlan, cues: CueVoices, stem: RenderStem) {
        self.timeline = timeline
        self.channels = channels
        self.endFrame = totalFrames
        self.endFade = endFade
        samples = .allocate(capacity: 3)
        for (i, s) in [sound.accent, sound.step, sound.subdivision].enumerated() {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: s.count)
            _ = b.initialize(from: s)
            samples[i] = b
        }
        voices = VoicePool(capacity: Renderer.voiceCapacity)
        nextEvent = self.timeline.peek()

        self.stem = stem
        self.cues = CueScheduler(plan: plan, cues: cues)
        // The same order as the scheduler's parts: cues, count-in words, caution.
        var sounds: [(CueSound, level: Double)] = []
        for (i, parts) in cues.cues.enumerated() {
            for part in parts { sounds.append((part, plan.cues[i].level)) }
        }
        if plan.countInSpoken {
            for word in cues.countIn { sounds.append((word, 0)) }
        }
        if let caution = cues.caution { sounds.append((caution, 0)) }
        precondition(sounds.count == self.cues.partCount)
        hasCues = !sounds.isEmpty
        cueSamples = .allocate(capacity: sounds.count + Renderer.spokenCapacity)
        for i in 0..<Renderer.spokenCapacity {
            cueSamples[sounds.count + i] = UnsafeMutableBufferPointer(start: nil, count: 0)
        }
        spokenPending = .allocate(capacity: Renderer.spokenCapacity)
        // Plain loops over the samples, not `reduce` and a lazy map: unoptimized (debug) builds
        // ran those generically, sample by sample, and a coach's every drill start spent most of
        // its time here (the result is the same).
        for (i, (sound, level)) in sounds.enumerated() {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: sound.samples.count)
            sound.samples.withUnsafeBufferPointer { source in
                var peak: Float = 0
                for k in 0..<source.count { peak = max(peak, abs(source[k])) }
                let gain = peak > 0 ? CueBalance.voicePeak * Float(_exp(level / 20 * _log(10))) / peak : 0
                let target = b.baseAddress!
                for k in 0..<source.count { (target + k).initialize(to: source[k] * gain) }
            }
            cueSamples[i] = b
        }
        cueVoices = VoicePool(capacity: Renderer.cueVoiceCapacity)
        let rate = Double(cues.sampleRate)
        duckGain = CueBalance.duckGain
        duckAttack = Int64((CueBalance.duckAttackSeconds * rate).rounded())
        duckDown = (1 - CueBalance.duckGain) / Float(max(1, duckAttack))
        duckUp = (1 - CueBalance.duckGain) / Float(max(1, (CueBalance.duckReleaseSeconds * rate).rounded()))
        // A cue in the track's first moments would have the clicks duck before the track
        // starts: begin with the gain that ramp would have reached (there is no earlier sample
        // to jump from).
        if hasCues {
            self.cues.fill(through: 0)
            if let first = self.cues.earliest, first.frame - duckAttack < 0 {
                startDuckRamp(ducking: true, at: first.frame - duckAttack, from: 1)
            }
        }
    }

    func release() {
        for i in 0..<3 { samples[i].deallocate() }
        samples.deallocate()
        voices.release()
        for i in 0..<cues.partCount { cueSamples[i].deallocate() }
        cueSamples.deallocate()
        cueVoices.release()
        spokenPending.deallocate()
        cues.release()
    }

    @_noAllocation @_noLocks
    mutating func render(into buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        let wanted = Int64(buffer.count / channels)
        let count = Int(max(0, min(wanted, endFrame - frame)))
        guard count > 0 else { return 0 }
        base.update(repeating: 0, count: count * channels)

        var done = 0
        while done < count {
            // Mix up to the next thing that happens (a click or a cue starts, a cue ends, the
            // clicks start to duck), then make it happen.
            var until = count
            if let event = nextEvent {
                let offset = event.frame - frame
                if offset < Int64(count) { until = Int(max(Int64(done), offset)) }
            }
            var ducked = false
            if hasCues {
                let now = frame + Int64(done)
                cues.fill(through: now)
                // Past this frame the lookahead must look further before anything is decided.
                if let next = cues.nextEventFrame, next - cues.horizon - frame < Int64(until) {
                    until = Int(next - cues.horizon - frame)
                }
                if let first = earliestCueFrame() {
                    until = min(until, Int(max(first, now) - frame))
                    let duckStart = first - duckAttack
                    if duckStart <= now {
                        ducked = true
                    } else {
                        until = min(until, Int(duckStart - frame))
                    }
                }
                for v in 0..<cueVoices.count {
                    ducked = true
                    let voice = cueVoices.voices[v]
                    let left = cueSamples[voice.sound].count - voice.position
                    until = min(until, done + (voice.fadeLeft >= 0 ? min(left, voice.fadeLeft) : left))
                }
            }
            if stem.hasClicks {
                // Segments end where the duck's target changes, so a new ramp starts on the
                // frame the target changed, whatever the block size.
                if hasCues && ducked != ducking {
                    let now = frame + Int64(done)
                    startDuckRamp(ducking: ducked, at: now, from: duckGain(at: now - 1))
                }
                // While the gain moves, each frame is scaled after mixing; once it rests, the
                // gain is applied as the clicks are mixed.
                var steady = done
                let rampEnd = duckStart + Int64(duckFrames)
                if frame + Int64(done) < rampEnd {
                    steady = Int(min(Int64(until), rampEnd - frame))
                    voices.mix(samples, into: base, from: done, to: steady, channels: channels)
                    applyDuck(base, from: done, to: steady)
                }
                voices.mix(samples, into: base, from: steady, to: until, channels: channels, gain: ducking ? duckGain : 1)
            }
            if hasCues { cueVoices.mix(cueSamples, into: base, from: done, to: until, channels: channels, add: stem.hasVoice) }
            done = until
            guard done < count else { break }
            let now = frame + Int64(done)
            if let event = nextEvent, event.frame <= now {
                if stem.hasClicks { startClick(event.level) }
                timeline.advance()
                nextEvent = timeline.peek()
            }
            if hasCues, let first = cues.earliest, first.frame <= now {
                cues.popEarliest()
                startCue(first)
            }
            var p = 0
            while p < spokenPendingCount {
                if spokenPending[p].frame <= now {
                    startCueVoice(part: spokenPending[p].slot)
                    spokenPendingCount -= 1
                    spokenPending[p] = spokenPending[spokenPendingCount]
                } else {
                    p += 1
                }
            }
        }
        if endFade > 0 { applyEndFade(base, count: count) }
        if channels == 2 {
            // The common case, as a loop the compiler can vectorize.
            for i in 0..<count { base[2 * i + 1] = base[2 * i] }
        } else if channels > 2 {
            for i in 0..<count {
                let s = base[i * channels]
                for c in 1..<channels { base[i * channels + c] = s }
            }
        }
        frame += Int64(count)
        return count
    }

    /// Starts the click of `level` (count-in clicks are accented).
    @_noAllocation @_noLocks
    mutating func startClick(_ level: ClickLevel) {
        if clickLevel != clickLevelTarget {
            clickLevel = clickLevelTarget > clickLevel ? min(clickLevelTarget, clickLevel + 0.25) : max(clickLevelTarget, clickLevel - 0.25)
        }
        switch level {
        case .accent, .countIn: voices.start(0, level: clickLevel)
        case .step: voices.start(1, level: clickLevel)
        case .subdivision: voices.start(2, level: clickLevel)
        }
    }

    /// The duck gain `k` frames into the current ramp (0 is the frame before it starts).
    @_noAllocation @_noLocks
    @inline(__always)
    func duckRamp(_ k: Int) -> Float {
        ducking ? max(duckGain, duckFrom - Float(k) * duckDown) : min(1, duckFrom + Float(k) * duckUp)
    }

    /// The clicks' gain at `frame`.
    @_noAllocation @_noLocks
    func duckGain(at frame: Int64) -> Float {
        duckRamp(Int(max(0, min(frame - duckStart + 1, Int64(duckFrames)))))
    }

    /// Starts moving the duck gain from `from` toward its target, from frame `start` on: down
    /// over `duckAttack` frames, up over the release, a straight line either way.
    @_noAllocation @_noLocks
    mutating func startDuckRamp(ducking: Bool, at start: Int64, from: Float) {
        self.ducking = ducking
        duckFrom = from
        duckStart = start
        let target: Float = ducking ? duckGain : 1
        let step = ducking ? duckDown : duckUp
        var k = Int(abs(from - target) / step)
        while k > 0 && duckRamp(k - 1) == target { k -= 1 }
        while duckRamp(k) != target { k += 1 }
        duckFrames = k
    }

    /// Scales the clicks in channel 0 of frames `from..<to` (all inside the current ramp) by
    /// the ramp's gain at each frame.
    @_noAllocation @_noLocks
    func applyDuck(_ out: UnsafeMutablePointer<Float>, from: Int, to: Int) {
        let k0 = Int(frame + Int64(from) - duckStart) + 1
        if channels == 1 {
            let o = out + from
            for i in 0..<(to - from) { o[i] *= duckRamp(k0 + i) }
        } else {
            for i in from..<to { out[i * channels] *= duckRamp(k0 + i - from) }
        }
    }

    /// The first frame a scheduled or said cue sound starts at.
    @_noAllocation @_noLocks
    func earliestCueFrame() -> Int64? {
        var first = cues.earliest?.frame
        for p in 0..<spokenPendingCount {
            let f = spokenPending[p].frame
            if first == nil || f < first! { first = f }
        }
        return first
    }

    @_noAllocation @_noLocks
    mutating func startCue(_ cue: PendingCue) {
        cues.noteStarted(cue)
        startCueVoice(part: cue.part)
    }

    @_noAllocation @_noLocks
    mutating func say(_ sample: SpokenSample, at start: Int64) -> Bool {
        // A slot no waiting or sounding sound uses.
        var slot = -1
        for s in cues.partCount..<(cues.partCount + Renderer.spokenCapacity) {
            var used = false
            for p in 0..<spokenPendingCount where spokenPending[p].slot == s { used = true }
            if cueVoices.isPlaying(s) { used = true }
            if !used {
                slot = s
                break
            }
        }
        guard slot >= 0 else { return false }
        cueSamples[slot] = UnsafeMutableBufferPointer(mutating: sample.samples)
        spokenPending[spokenPendingCount] = (slot, max(start, frame))
        spokenPendingCount += 1
        if !hasCues {
            // The scheduler's lookahead was left behind while there was nothing to schedule.
            cues.resync(to: timeline)
            hasCues = true
        }
        return true
    }

    @_noAllocation @_noLocks
    func cueOverlap(start: Int64, length: Int64) -> Int64? {
        var end = cues.overlap(start: start, length: length)
        for v in 0..<cueVoices.count {
            let voice = cueVoices.voices[v]
            let e = frame + Int64(cueSamples[voice.sound].count - voice.position)
            if e > start { end = max(end ?? e, e) }
        }
        for p in 0..<spokenPendingCount {
            let f = spokenPending[p].frame
            let e = f + Int64(cueSamples[spokenPending[p].slot].count)
            if f < start + length && e > start { end = max(end ?? e, e) }
        }
        return end
    }

    @_noAllocation @_noLocks
    mutating func startCueVoice(part: Int) {
        guard cueSamples[part].count > 0 else { return }
        cueVoices.start(part)
    }

    @_noAllocation @_noLocks
    mutating func changeCadence(to cadence: Double) {
        timeline.changeCadence(to: cadence, at: Double(frame) / Double(timeline.sampleRate))
        nextEvent = timeline.peek()
        if hasCues { cues.resync(to: timeline) }
    }

    @_noAllocation @_noLocks
    mutating func realign(by shift: Double, cadence: Double?) -> Bool {
        guard timeline.realign(by: shift, cadence: cadence, at: Double(frame) / Double(timeline.sampleRate)) else { return false }
        nextEvent = timeline.peek()
        if hasCues { cues.resync(to: timeline) }
        return true
    }

    @_noAllocation @_noLocks
    func applyEndFade(_ base: UnsafeMutablePointer<Float>, count: Int) {
        // Linear to exactly zero on the last frame.
        // Only the frames from `fadeStart` on are touched: most blocks end before it.
        let fadeStart = endFrame - endFade
        let first = max(0, fadeStart - frame)
        guard first < Int64(count) else { return }
        for i in Int(first)..<count {
            let f = frame + Int64(i)
            base[i * channels] *= Float(endFrame - 1 - f) / Float(endFade)
        }
    }

    @_noAllocation @_noLocks
    mutating func fadeOut(frames: Int64) {
        let end = frame + max(1, frames)
        fadingOut = true
        if end < endFrame {
            endFrame = end
            endFade = max(1, frames)
        }
    }

    @_noAllocation @_noLocks
    mutating func endSet() {
        timeline.endSet(at: Double(frame) / Double(timeline.sampleRate))
        nextEvent = timeline.peek()
        if hasCues { cues.resync(to: timeline) }
    }

    @_noAllocation @_noLocks
    mutating func skipRest() {
        timeline.skipRest(at: Double(frame) / Double(timeline.sampleRate))
        nextEvent = timeline.peek()
        if hasCues { cues.resync(to: timeline) }
    }

    @_noAllocation @_noLocks
    func position() -> RenderPosition {
        var restLeft: Int64? = nil
        if let end = timeline.previousSetEndFrame, frame >= end, frame < timeline.setBeginFrame {
            restLeft = timeline.setBeginFrame - frame
        }
        return RenderPosition(
            frame: frame, cadence: timeline.cadence, set: timeline.setIndex, sets: timeline.sets,
            step: max(0, timeline.stepIndex), restFramesLeft: restLeft, finished: frame >= endFrame)
    }
}
