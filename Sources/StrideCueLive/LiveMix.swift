import StrideCueCore
import StrideCueLoudness
import StrideCueMixdown
import StrideCueSession
import StrideCueSoundFile

/// Music for live playback, made ready before the sound device opens: decoded and converted
/// once (`MusicLoop`), and its gain found by the same analysis `render --music FILE
/// --no-normalize` runs (`TrackPasses.analyze`, `setMusicGain`): the music `level` dB under
/// the clicks and cues, at the renderer's own levels.
///
/// Live playback keeps the renderer's levels (no loudness normalization): a runner has a
/// volume knob, and live playback must not wait for a loudness search over the whole track.
public final class LiveMusic {
    public let settings: MusicSettings
    let loop: MusicLoop
    /// Linear gain of the music, as `render --music --no-normalize` finds it.
    public let gain: Float
    let spoken: [Range<Int64>]
    let totalFrames: Int64
    let format: RenderFormat
    /// The WAV ceiling: live playback matches `render --music FILE --no-normalize -o x.wav`.
    let ceiling: Double

    /// The library that decoded the file: "libsndfile" or "FFmpeg".
    public var decoder: String { loop.decoder }

    /// - Parameters:
    ///   - prepared: the session to be played (its renderer's first frame is the track's).
    ///   - progress: the fraction of the work done (decoding, then the analysis), now and then.
    ///   - cancellation: checked between blocks.
    /// - Throws: what `render --music` throws for the same file (`SoundFileError`), or the
    ///   cancellation's interruption.
    public init(prepared: PreparedSession, music: MusicSettings, progress: @escaping (Double) -> Void = { _ in },
                cancellation: Cancellation) throws {
        let settings = PhoneSettings(type: .wav, encoding: .pcm16, quality: nil, loudness: nil, tagged: true, music: music)
        let cues = prepared.spoken
        let passes = TrackPasses(makeRenderer: { prepared.makeRenderer() }, first: prepared.makeRenderer(),
                                 settings: settings, cues: cues, path: music.path, cancellation: cancellation)
        let plan = ProgressPlan(total: 1_000_000, report: { done, total in progress(Double(done) / Double(total)) })
        plan.phases([.music: 1, .analysis: 0.3])
        passes.progress = plan
        try passes.loadMusic()
        plan.begin(.analysis)
        let (mixLoudness, musicLoudness, _) = try passes.analyze()
        passes.setMusicGain(mixLoudness: mixLoudness, musicLoudness: musicLoudness)
        guard let loop = passes.music else { preconditionFailure("music was loaded") }
        self.settings = music
        self.loop = loop
        gain = passes.musicGain
        spoken = cues
        totalFrames = passes.totalFrames
        format = passes.format
        ceiling = settings.peakCeiling
    }
}

/// Music under live playback: the export's own chain — the bed at its gain, ducked under the
/// cues (`MusicUnder`), through the true-peak limiter with its delay taken out
/// (`LimitedStream`) — that a `LivePlayback` drives after the renderer.
///
/// Without keys the frames are, sample for sample, those of `render --music FILE --no-normalize`:
/// the music follows the session's frames (a pause holds it, with the pause's fades), the
/// ducking is the plan's (`Ducker` over the plan's cues). Once cues move (a tempo key, a skipped
/// rest, something the coach says), the ducking follows the cues the renderer schedules
/// (`CueFollowingDucker`); once the end moves, the music loops on until the session ends, and
/// then fades out over `LivePlayback.stopFadeSeconds`.
///
/// The player makes and owns it (`LivePlayback.playMusic`) and drives it from its own render:
/// the stage never calls back into the player.
public final class LiveMix: @unchecked Sendable {
    public let music: LiveMusic
    private let state: UnsafeMutablePointer<LiveMixState>
    // Not retained: the player owns this stage and the renderer, so both outlive the calls.
    private let rendererRef: Unmanaged<Renderer>

    /// Session frames rendered at a time: the ducking looks at the renderer's cues this often
    /// (it knows them at least the clicks' duck attack, 10 ms, ahead).
    public static let chunkFrames = 256
    /// The same, for the audio thread (a static is initialized lazily, behind a lock).
    let chunkFrames = LiveMix.chunkFrames

    /// The music's stage for a session that `renderer` plays.
    init(renderer: Renderer, music: LiveMusic) {
        precondition(renderer.format == music.format, "the music was made ready for another format")
        precondition(renderer.totalFrames == music.totalFrames, "the music was made ready for another session")
        self.music = music
        rendererRef = .passUnretained(renderer)
        let rate = music.format.sampleRate
        let channels = music.format.channels
        let depth = music.settings.duck
        state = .allocate(capacity: 1)
        state.initialize(to: LiveMixState(
            music: MusicUnder(bed: MusicBed(loop: music.loop, totalFrames: music.totalFrames), gain: music.gain,
                              ducker: Ducker(intervals: music.spoken, sampleRate: rate, depth: depth), blockFrames: Self.chunkFrames),
            output: LimitedStream(limiter: TruePeakLimiter(sampleRate: rate, channels: channels, ceilingDecibels: music.ceiling)),
            follower: CueFollowingDucker(sampleRate: rate, depth: depth),
            channels: channels,
            tailLength: max(1, Int64((LivePlayback.stopFadeSeconds * Double(rate)).rounded()))))
    }

    deinit {
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// The limiter's deepest cut so far, in dB. Once playback is over.
    public var limiting: Double { state.pointee.output.limiting }

    /// The session has given its last frame: from here `renderTail` gives what follows.
    var sessionOver: Bool {
        @_noAllocation @_noLocks get { state.pointee.sessionOver }
    }

    /// Notes the session's end. The plan's end fades the music out; an end a key moved comes
    /// unannounced: the music fades out after it, alone. Audio thread.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    func endSession() {
        let st = state
        st.pointee.sessionOver = true
        if st.pointee.endOpened && !st.pointee.stopFaded { st.pointee.tailLeft = st.pointee.tailLength }
    }

    /// After the session's end: the music's own fade (after an end a key moved), then silence
    /// that pushes the limiter's last frames out, into `chunk`. Audio thread.
    /// - Returns: frames of `chunk` filled; 0 once everything is out.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    func renderTail(into chunk: UnsafeMutableBufferPointer<Float>) -> Int {
        let st = state
        let channels = st.pointee.channels
        let want = chunk.count / channels
        if st.pointee.tailLeft > 0 {
            let n = Int(min(Int64(want), st.pointee.tailLeft))
            for i in 0..<n * channels { chunk[i] = 0 }
            let at = st.pointee.nextFrame
            let fadeEnd = at + st.pointee.tailLeft
            mix(chunk.baseAddress!, frames: n, at: at, fadeEnd: fadeEnd, fadeLength: st.pointee.tailLength,
                endMoved: true, cuesMoved: st.pointee.following)
            st.pointee.tailLeft -= Int64(n)
            return n
        }
        let n = st.pointee.output.flushFrames(upTo: want)
        for i in 0..<n * channels { chunk[i] = 0 }
        return n
    }

    /// Puts `frames` frames of `chunk` through the limiter, its delay taken out. Audio thread.
    /// - Returns: the limited frames written back into `chunk` (fewer while the limiter fills).
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    func limit(_ chunk: UnsafeMutableBufferPointer<Float>, frames: Int) -> Int {
        state.pointee.output.limit(chunk, alongside: nil, frames: frames, channels: state.pointee.channels)
    }

    /// Adds the music to `frames` session frames (interleaved, at `base`) from session frame
    /// `at`, before a pause's fades. `fadeEnd` and `fadeLength`: a stop's fade, reaching zero on
    /// frame `fadeEnd − 1` (`Int64.max` and 0 for none). `endMoved`: a tempo key or a skipped
    /// rest moved the session's end; `cuesMoved`: cues no longer fall where the plan put them.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    func mix(_ base: UnsafeMutablePointer<Float>, frames: Int, at first: Int64, fadeEnd: Int64, fadeLength: Int64,
             endMoved: Bool, cuesMoved: Bool) {
        let st = state
        let channels = st.pointee.channels
        if endMoved && !st.pointee.endOpened {
            st.pointee.music.bed.openEnd()
            st.pointee.endOpened = true
        }
        var done = 0
        while done < frames {
            let frame = first + Int64(done)
            let got = st.pointee.music.read(min(frames - done, st.pointee.music.blockFrames))
            if got == 0 { break }
            if cuesMoved {
                if !st.pointee.following {
                    st.pointee.follower.start(down: st.pointee.music.ducker.down(at: frame))
                    st.pointee.following = true
                }
                st.pointee.follower.fill(UnsafeMutableBufferPointer(rebasing: st.pointee.music.gains[0..<got]), from: frame,
                                         soundingUntil: st.pointee.soundingUntil, nextStart: st.pointee.nextStart)
            } else {
                st.pointee.music.duck(got, from: frame)
            }
            if fadeLength > 0 {
                // A stop's fade, as the renderer fades the clicks: to zero on its last frame.
                st.pointee.stopFaded = true
                let gains = st.pointee.music.gains
                for i in 0..<got {
                    let f = frame + Int64(i)
                    if f >= fadeEnd - fadeLength { gains[i] *= Float(max(0, fadeEnd - 1 - f)) / Float(fadeLength) }
                }
            }
            st.pointee.music.mix(into: UnsafeMutableBufferPointer(start: base + done * channels, count: got * channels),
                                 frames: got, stemBlock: nil)
            done += got
        }
        st.pointee.nextFrame = first + Int64(frames)
        // What the renderer knows now: at the first frame of the next chunk.
        st.pointee.soundingUntil = rendererRef._withUnsafeGuaranteedRef({ $0.cuesSoundingUntil() })
        st.pointee.nextStart = rendererRef._withUnsafeGuaranteedRef({ $0.nextCueStart() })
    }
}

/// `LiveMix`'s state, behind one pointer so the audio thread touches no reference counts and
/// no exclusivity bookkeeping.
struct LiveMixState: ~Copyable {
    var music: MusicUnder
    var output: LimitedStream
    var follower: CueFollowingDucker
    let channels: Int
    /// Frames of the music's fade after an end a key moved.
    let tailLength: Int64
    /// The ducking follows the renderer's cues (cues moved).
    var following = false
    /// The bed's end was opened (the end moved).
    var endOpened = false
    /// A stop's fade has run: the music is already silent at the end.
    var stopFaded = false
    /// The session has given its last frame.
    var sessionOver = false
    var tailLeft: Int64 = 0
    /// The session frame after the last one mixed.
    var nextFrame: Int64 = 0
    /// The renderer's cues as of `nextFrame`: where those sounding end, where the next starts.
    var soundingUntil: Int64? = nil
    var nextStart: Int64? = nil

    init(music: consuming MusicUnder, output: consuming LimitedStream, follower: CueFollowingDucker, channels: Int,
         tailLength: Int64) {
        self.music = music
        self.output = output
        self.follower = follower
        self.channels = channels
        self.tailLength = tailLength
    }
}
