/// Sample rate and channel count of rendered audio.
public struct RenderFormat: Sendable, Equatable {
    public var sampleRate: Int
    public var channels: Int

    public init(sampleRate: Int = 48_000, channels: Int = 2) {
        self.sampleRate = sampleRate
        self.channels = channels
    }
}

/// A click that is sounding: which sample and how far into it.
struct Voice {
    var sound: Int
    var position: Int
    /// Frames left of a steal fade, or −1 while the voice plays normally.
    var fadeLeft: Int
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
    private let core: UnsafeMutablePointer<RenderCore>

    /// Voices that may sound at once; the oldest is faded out quickly when more are needed.
    public static let voiceCapacity = 64
    /// A track cut short by a cap fades out over this long so it never ends on a jump.
    public static let endFadeSeconds = 0.005

    /// - Parameters:
    ///   - plan: the session to render.
    ///   - sound: the click sound, at `format.sampleRate`.
    ///   - format: output rate and channels.
    ///   - maxDuration: a cap in seconds (`--duration`), or nil for the whole plan.
    public init(plan: SessionPlan, sound: ClickSound, format: RenderFormat, maxDuration: Double? = nil) {
        precondition(sound.sampleRate == format.sampleRate, "click sound must be at the output rate")
        precondition(format.channels >= 1)
        self.format = format
        let rate = Double(format.sampleRate)
        let planFrames = Int64((Timeline.planDuration(of: plan) * rate).rounded())
        var total = planFrames
        if let cap = maxDuration {
            total = min(total, Int64((cap * rate).rounded()))
        }
        totalFrames = max(0, total)
        let fade = total < planFrames ? Int64((Self.endFadeSeconds * rate).rounded()) : 0
        core = .allocate(capacity: 1)
        core.initialize(to: RenderCore(
            timeline: Timeline(plan: plan, sampleRate: format.sampleRate),
            sound: sound, channels: format.channels, totalFrames: totalFrames, endFade: fade))
    }

    deinit {
        core.pointee.release()
        core.deinitialize(count: 1)
        core.deallocate()
    }

    /// Frames rendered so far.
    public var framesRendered: Int64 { core.pointee.frame }

    /// True once every frame of the track has been rendered.
    public var isFinished: Bool { core.pointee.frame >= core.pointee.endFrame }

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

    /// Changes the cadence from the next step on.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func changeCadence(to cadence: Double) {
        core.pointee.timeline.changeCadence(to: cadence)
    }

    /// Ends a rest now: the next set's count-in starts at the current frame.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func skipRest() {
        core.pointee.skipRest()
    }

    /// Fades everything out over `frames` frames and ends the track there.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func fadeOut(frames: Int64) {
        core.pointee.fadeOut(frames: frames)
    }

    /// Where the renderer is, for a status line.
    @_noAllocation @_noLocks
    public func position() -> RenderPosition {
        core.pointee.position()
    }
}

/// The renderer's state, kept behind one pointer so the render path touches no reference
/// counts and no exclusivity bookkeeping.
struct RenderCore {
    var timeline: Timeline
    let channels: Int
    /// The three click samples (accent, step, subdivision), owned here.
    let samples: UnsafeMutablePointer<UnsafeMutableBufferPointer<Float>>
    let voices: UnsafeMutablePointer<Voice>
    var voiceCount = 0
    var frame: Int64 = 0
    var endFrame: Int64
    /// Frames over which the master gain falls to zero, ending at `endFrame`; 0 for none.
    var endFade: Int64
    var nextEvent: ClickEvent?

    init(timeline: Timeline, sound: ClickSound, channels: Int, totalFrames: Int64, endFade: Int64) {
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
        voices = .allocate(capacity: Renderer.voiceCapacity)
        nextEvent = self.timeline.peek()
    }

    func release() {
        for i in 0..<3 { samples[i].deallocate() }
        samples.deallocate()
        voices.deallocate()
    }

    /// Frames of the fade applied when a voice is stolen from a full pool.
    static let stealFadeFrames = 32

    @_noAllocation @_noLocks
    mutating func render(into buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        let wanted = Int64(buffer.count / channels)
        let count = Int(max(0, min(wanted, endFrame - frame)))
        guard count > 0 else { return 0 }
        base.update(repeating: 0, count: count * channels)

        var done = 0
        while done < count {
            // Mix up to the next click's frame, then start it.
            var until = count
            if let event = nextEvent {
                let offset = event.frame - frame
                if offset < Int64(count) { until = Int(max(Int64(done), offset)) }
            }
            mixVoices(into: base, from: done, to: until)
            done = until
            if done < count, let event = nextEvent {
                startVoice(level: event.level)
                timeline.advance()
                nextEvent = timeline.peek()
            }
        }
        if endFade > 0 { applyEndFade(base, count: count) }
        if channels > 1 {
            for i in 0..<count {
                let s = base[i * channels]
                for c in 1..<channels { base[i * channels + c] = s }
            }
        }
        frame += Int64(count)
        return count
    }

    /// Adds every sounding voice into channel 0 of frames `from..<to` of the block.
    @_noAllocation @_noLocks
    @inline(__always)
    mutating func mixVoices(into out: UnsafeMutablePointer<Float>, from: Int, to: Int) {
        guard from < to else { return }
        var v = 0
        while v < voiceCount {
            let sample = samples[voices[v].sound]
            let start = voices[v].position
            var n = min(to - from, sample.count - start)
            if voices[v].fadeLeft >= 0 { n = min(n, voices[v].fadeLeft) }
            if voices[v].fadeLeft >= 0 {
                let total = Float(Self.stealFadeFrames)
                for i in 0..<n {
                    let g = Float(voices[v].fadeLeft - i) / total
                    out[(from + i) * channels] += sample[start + i] * g
                }
                voices[v].fadeLeft -= n
            } else if channels == 1 {
                let o = out + from
                for i in 0..<n { o[i] += sample[start + i] }
            } else {
                for i in 0..<n { out[(from + i) * channels] += sample[start + i] }
            }
            voices[v].position = start + n
            if voices[v].position >= sample.count || voices[v].fadeLeft == 0 {
                voiceCount -= 1
                voices[v] = voices[voiceCount]
            } else {
                v += 1
            }
        }
    }

    @_noAllocation @_noLocks
    mutating func startVoice(level: ClickLevel) {
        let sound: Int
        switch level {
        case .accent, .countIn: sound = 0
        case .step: sound = 1
        case .subdivision: sound = 2
        }
        if voiceCount == Renderer.voiceCapacity {
            // Fade the oldest playing voice rather than cut it off or drop the new click.
            var oldest = -1
            for v in 0..<voiceCount where voices[v].fadeLeft < 0 {
                if oldest < 0 || voices[v].position > voices[oldest].position { oldest = v }
            }
            if oldest >= 0 { voices[oldest].fadeLeft = Self.stealFadeFrames }
            // A pool full of fading voices: the newest click replaces the most faded one.
            if oldest < 0 {
                voiceCount -= 1
            }
            if voiceCount == Renderer.voiceCapacity { return }
        }
        voices[voiceCount] = Voice(sound: sound, position: 0, fadeLeft: -1)
        voiceCount += 1
    }

    @_noAllocation @_noLocks
    func applyEndFade(_ base: UnsafeMutablePointer<Float>, count: Int) {
        // Linear to exactly zero on the last frame.
        let fadeStart = endFrame - endFade
        for i in 0..<count {
            let f = frame + Int64(i)
            if f >= fadeStart {
                base[i * channels] *= Float(endFrame - 1 - f) / Float(endFade)
            }
        }
    }

    @_noAllocation @_noLocks
    mutating func fadeOut(frames: Int64) {
        let end = frame + max(1, frames)
        if end < endFrame {
            endFrame = end
            endFade = max(1, frames)
        }
    }

    @_noAllocation @_noLocks
    mutating func skipRest() {
        timeline.skipRest(at: Double(frame) / Double(timeline.sampleRate))
        nextEvent = timeline.peek()
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
