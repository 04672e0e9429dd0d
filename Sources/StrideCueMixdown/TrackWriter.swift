import Glibc
import StrideCueCore
import StrideCueFiles
import StrideCueLoudness
import StrideCueSoundFile
import Synchronization

/// What writing a track did, for the line `export` prints.
public struct TrackReport {
    /// Integrated loudness of the written mix in LUFS, or nil when it was not normalized.
    public var loudness: Double?
    /// The loudness gain applied, in dB.
    public var gain: Double
    /// The limiter's deepest cut in dB (0 when it never acted).
    public var limiting: Double
    /// The normalization target could not be reached within `maximumLimiting` of the limiter.
    public var targetMissed: Bool
    /// Seconds the renderer itself took in the written pass (`STRIDECUE_TIMING`'s "mixing").
    public var renderSeconds = 0.0
    /// Wall-clock seconds of each phase, in the order they ran (`STRIDECUE_TIMING`'s "phases").
    public var phases: [(phase: ProgressPlan.Phase, seconds: Double)] = []
}

/// Frames rendered, mixed and handed to the encoder at a time.
public let trackBlockFrames = 131_072

/// How far past the limiter-free gain the search may go, in dB. The default woodblock at
/// 180 spm needs about 7 dB more gain (and 13 dB off its peaks) to reach −16 LUFS; a target
/// that would need more than this is left short, and the export says so.
public let maximumLimiting = 14.0

/// Writes a track for a phone: the clicks and cues, music under them, normalized to a loudness
/// target with the true peak under a ceiling, tagged, in the format the name asks for.
///
/// Rendering is fast, so the track is rendered more than once (two-pass loudness, with a
/// short search in between when the limiter has to act). Loudness is measured by libebur128
/// on a sample of the track — at most 24 blocks of 2.7 s spread evenly over it, or the whole
/// of a shorter track — which is kept in memory (at most 12 MiB a channel), so the search
/// renders nothing. Music is decoded and converted once, before the first pass (`MusicLoop`),
/// and every pass reads it from there:
/// 1. Analysis at unity gain: the clicks and cues, and the music on its own; with music, the
///    mix with the music at its level (whose sample is the one kept). A sample of a click track stands for all of it (the
///    same clicks over and over); with music or cues, which come and go, the whole track is
///    measured too, and the sample aims off by the difference.
/// 2. The gain that brings the mix to the target. If that pushes a true peak over the
///    ceiling, the limiter takes some loudness back: a few runs over the sample, limited and
///    metered, find by the secant method the gain at which the limited mix lands on the
///    target (within 0.05 LU).
/// 3. The written pass: encoded on a second thread while this one renders and limits. With
///    music or cues it is metered as well; should it miss the target by more than 0.3 LU, the
///    search runs again aiming off by the miss, and the file is written again.
/// One gain for the whole mix: the balance of clicks, voice and music stays as rendered.
///
/// - Parameters:
///   - makeRenderer: a fresh renderer at the start of the track, once per pass.
///   - path: the file to write, atomically (nothing appears there on failure).
///   - settings: from `PhoneOptions.settings(for:…)`.
///   - tags: written when `settings.tagged`.
///   - cues: frames where spoken cues sound; the music ducks under them.
///   - progress: told how far the whole job is, as frames of the track's total, from the
///     music's decoding through every pass to the written one (which may run twice); called
///     on this thread.
///   - cancellation: checked between blocks; when set, the work stops, nothing is written,
///     and its `interruption` is thrown.
///   - stem: write one layer of the mix instead of the mix (`.mix` writes the mix). Every
///     pass but the written one is of the mix, and the written pass renders the mix beside the
///     stem: the stem gets the mix's gain and, frame for frame, the limiter's gain computed
///     from the mix, so the stems of a file add up to its mix.
///   - makeStemRenderer: a fresh renderer of that layer, for the written pass.
public func writeTrack(makeRenderer: @escaping () throws -> Renderer, to path: String, settings: PhoneSettings, tags: TrackTags?,
                cues: [Range<Int64>] = [], progress: @escaping (_ done: Int64, _ total: Int64) -> Void = { _, _ in },
                cancellation: Cancellation = Cancellation(),
                stem: RenderStem = .mix, makeStemRenderer: (() throws -> Renderer)? = nil,
                beforeRename: ((_ stamp: String) throws(FileError) -> Void)? = nil) throws -> TrackReport {
    let first = try makeRenderer()
    let tags = settings.tagged ? tags : nil
    let passes = TrackPasses(makeRenderer: makeRenderer, first: first, settings: settings, cues: cues, path: path,
                             cancellation: cancellation)
    if stem != .mix {
        guard let makeStemRenderer else { preconditionFailure("a stem needs its renderer") }
        passes.stem = (stem, makeStemRenderer)
    }
    let total = first.totalFrames
    let plan = ProgressPlan(total: total, report: progress)
    passes.progress = plan
    passes.beforeRename = beforeRename

    guard settings.loudness != nil || settings.music != nil else {
        plan.phases([.write: 1])
        let written = try passes.write(gain: 0, limited: false, metered: false, tags: tags)
        return TrackReport(loudness: nil, gain: 0, limiting: 0, targetMissed: false, renderSeconds: written.renderSeconds,
                           phases: plan.timings())
    }
    // Shares of the bar, roughly by cost: a lossy encoder makes the written pass the slow one.
    let lossy = settings.type != .wav && settings.type != .flac
    var shares: [ProgressPlan.Phase: Double] = [.analysis: 1, .write: lossy ? 4 : 1.5]
    if settings.music != nil {
        shares[.music] = 1
        shares[.analysis] = 0.3
        if settings.loudness != nil { shares[.measure] = 1 }
    }
    plan.phases(shares)

    // The music is decoded and converted once; every pass reads it from there.
    try passes.loadMusic()

    // Loudness is measured on the sample: the clicks and cues, the music on its own, then the
    // mix with the music at its level.
    plan.begin(.analysis)
    var (mixLoudness, musicLoudness, wholeLoudness) = try passes.analyze()
    if settings.music != nil {
        passes.setMusicGain(mixLoudness: mixLoudness, musicLoudness: musicLoudness)
        if settings.loudness != nil {
            // The mix at unity gain, music at its level: measured whole, and its sample kept
            // for the search, which then renders nothing.
            plan.begin(.measure)
            (mixLoudness, wholeLoudness) = try passes.measureMixAndKeepSample()
        }
    }
    plan.begin(.search)
    guard let target = settings.loudness, mixLoudness.isFinite else {
        // No target (music with --no-normalize), or nothing to normalize: the limiter only
        // keeps the mix's peaks under the ceiling.
        let written = try passes.write(gain: 0, limited: true, metered: false, tags: tags)
        return TrackReport(loudness: nil, gain: 0, limiting: written.limiting, targetMissed: false,
                           renderSeconds: written.renderSeconds, phases: plan.timings())
    }

    // How much louder the whole is than the sample (at unity gain): the sample aims that much lower.
    let offset = wholeLoudness.map { $0.isFinite ? $0 - mixLoudness : 0 } ?? 0
    let unlimited = target - mixLoudness - offset
    var search = GainSearch(target: target - offset)
    while search.needsMore {
        let next = search.points.isEmpty ? unlimited : search.nextGain()
        if search.tried(next) { break }
        let run = try passes.searchRun(gain: next)
        search.record(gain: next, loudness: run.loudness, limited: run.limiting > 0)
    }
    var gain = search.best.gain
    // A sample of a click track stands for the whole of it: the same clicks over and over.
    // Music wanders and cues come and go, so then the written pass is measured as well.
    let verify = !passes.sampleIsWhole && (settings.music != nil || !cues.isEmpty)
    var written = try passes.write(gain: gain, limited: true, metered: verify, tags: tags,
                                   commitIf: { abs($0 - target) <= 0.3 })
    if let loudness = written.loudness, !written.committed {
        // The sample was not typical (a spoken caution it did not include, a loud chorus it
        // missed): the whole is `offset` louder than the sample at this gain. Search the
        // sample again for the gain that puts the whole on the target, and write again.
        let miss = loudness - search.best.loudness
        search = search.retargeted(target - miss)
        while search.needsMore {
            let next = search.nextGain()
            if search.tried(next) { break }
            let run = try passes.searchRun(gain: next)
            search.record(gain: next, loudness: run.loudness, limited: run.limiting > 0)
        }
        gain = search.best.gain
        written = try passes.write(gain: gain, limited: true, metered: true, tags: tags)
    }
    let loudness = written.loudness ?? search.best.loudness
    return TrackReport(loudness: loudness, gain: gain, limiting: written.limiting, targetMissed: loudness < target - 0.5,
                       renderSeconds: written.renderSeconds, phases: plan.timings())
}

/// Finds the gain at which the limited mix reaches the target loudness, by the secant method.
public struct GainSearch {
    public let target: Double
    private(set) var points: [(gain: Double, loudness: Double)] = []
    /// d(loudness)/d(gain) near the answer: 1 while the limiter rests, less when it acts
    /// (each dB of gain then buys only part of a dB of loudness).
    private(set) var slope = 1.0
    private var limited = false

    public init(target: Double) { self.target = target }

    public mutating func record(gain: Double, loudness: Double, limited: Bool) {
        points.append((gain, loudness))
        self.limited = limited
        if points.count >= 2 {
            let a = points[points.count - 2], b = points[points.count - 1]
            if b.gain != a.gain { slope = min(1, max(0.2, (b.loudness - a.loudness) / (b.gain - a.gain))) }
        } else if limited {
            // A limited click track gains about half a dB of loudness per dB of gain at first.
            slope = 0.5
        }
    }

    /// Within 0.05 LU of the target, without the limiter
    /// (loudness is then exactly linear in gain), or out of tries.
    public var needsMore: Bool {
        guard let last = points.last else { return true }
        if points.count >= 8 { return false }
        if !limited { return abs(last.loudness - target) > 0.01 }
        return abs(best.loudness - target) > 0.05
    }

    /// The next gain to measure: from the point nearest the target, along the slope; never
    /// more than `maximumLimiting` past the gain the limiter-free mix would need.
    public func nextGain() -> Double {
        let from = best
        let next = from.gain + (target - from.loudness) / slope
        let free = points[0].gain + (target - points[0].loudness)
        return min(next, max(free, points[0].gain) + maximumLimiting)
    }

    public func tried(_ gain: Double) -> Bool { points.contains { abs($0.gain - gain) < 1e-6 } }

    /// The same measurements, aiming at another target.
    public func retargeted(_ newTarget: Double) -> GainSearch {
        var copy = GainSearch(target: newTarget)
        copy.points = points
        copy.slope = slope
        copy.limited = limited
        // With one point and the limiter barely at work, loudness follows gain dB for dB.
        if points.count == 1 { copy.slope = 1 }
        return copy
    }

    /// The point closest to the target.
    public var best: (gain: Double, loudness: Double) {
        points.min { abs($0.loudness - target) < abs($1.loudness - target) }!
    }
}

/// The passes over one track. Each pass starts from a fresh renderer (and a fresh read of the
/// music), so every pass sees exactly the same samples.
public final class TrackPasses {
    public let makeRenderer: () throws -> Renderer
    public var first: Renderer?
    public let settings: PhoneSettings
    public let format: RenderFormat
    public let totalFrames: Int64
    public let cues: [Range<Int64>]
    public let path: String
    public let cancellation: Cancellation
    /// Linear gain of the music bed, set after `analyze`.
    public var musicGain: Float = 0
    /// The music, decoded and converted once (`loadMusic`).
    public private(set) var music: MusicLoop?
    /// The layer the written pass writes instead of the mix, and its renderers.
    public var stem: (kind: RenderStem, makeRenderer: () throws -> Renderer)?
    /// How far the job is; every block of every pass moves it on.
    public var progress = ProgressPlan(total: 0, report: { _, _ in })
    /// Told the written file's stamp just before it takes its name (see `AtomicFile.commit`).
    public var beforeRename: ((_ stamp: String) throws(FileError) -> Void)?
    /// Every `sampleEvery`-th block (from the middle of the first stretch) is in the search's sample.
    public let sampleEvery: Int
    /// Meter only the left channel, as dual mono, while both channels are the same (clicks and
    /// cues without music): half the metering for the same number.
    public var identicalChannels: Bool

    /// Without music, the sample of the clicks and cues at unity gain, kept from the analysis
    /// so the search need not render again: `sampleChannels` interleaved channels (one while
    /// the track's channels are identical). At most `sampleBlocks` blocks: about 12 MiB mono.
    private var sample: [UnsafeMutableBufferPointer<Float>] = []
    private var sampleChannels = 1

    /// Blocks in the gain search's sample, at most: about a minute of audio.
    public static let sampleBlocks = 24

    public init(makeRenderer: @escaping () throws -> Renderer, first: Renderer, settings: PhoneSettings,
         cues: [Range<Int64>], path: String, cancellation: Cancellation) {
        self.makeRenderer = makeRenderer
        self.cancellation = cancellation
        self.first = first
        self.settings = settings
        self.format = first.format
        self.totalFrames = first.totalFrames
        self.cues = cues
        self.path = path
        sampleEvery = max(1, (Self.blockCount(totalFrames) + Self.sampleBlocks - 1) / Self.sampleBlocks)
        identicalChannels = settings.music == nil && first.format.channels > 1
    }

    deinit { dropSample() }

    private func dropSample() {
        for chunk in sample { chunk.deallocate() }
        sample = []
    }

    /// The clicks and cues of the sample at unity gain, kept for the search (no music), and
    /// of the whole track when `wholeCounts`.
    public func measureMixAndKeepSample() throws -> (sample: Double, whole: Double?) {
        try metering {
            dropSample()
            sampleChannels = identicalChannels ? 1 : format.channels
            if wholeCounts && blockCount >= 4 { return try measureMixInHalves() }
            // At unity gain, no limiter: the clicks and cues, and the music at `musicGain`.
            let mix = try pass(gain: 0, limited: false)
            var meter = try meter()
            var whole = wholeCounts ? try self.meter() : nil
            try eachBlock({ block, _ in try mix.renderBlock(into: block) }) { samples, index in
                if whole != nil { try whole!.add(UnsafeBufferPointer(samples)) }
                if sampled(index) {
                    try meter.add(UnsafeBufferPointer(samples))
                    sample.append(keptCopy(of: UnsafeBufferPointer(samples)))
                }
            }
            let result = (sample: try meter.loudness(), whole: try whole?.loudness())
            return (result, meter.channelsDiffered || whole?.channelsDiffered == true)
        }
    }

    /// Blocks of `trackBlockFrames` in the track (the last may be short).
    private var blockCount: Int { Self.blockCount(totalFrames) }

    private static func blockCount(_ frames: Int64) -> Int {
        Int((frames + Int64(trackBlockFrames) - 1) / Int64(trackBlockFrames))
    }

    /// `measureMixAndKeepSample` for a track measured whole, on two threads: libebur128 takes
    /// two thirds of the pass's time, and a meter takes its frames in order, so each thread
    /// renders, mixes and meters one half of the track (the later one renders the first half's
    /// clicks without the music to get there). The halves' meters are read as one.
    private func measureMixInHalves() throws -> ((sample: Double, whole: Double?), differed: Bool) {
        let split = blockCount / 2
        let earlier = HalfMeasure(mix: try pass(gain: 0, limited: false), whole: try meter(), sample: try meter())
        let later = HalfMeasure(mix: try pass(gain: 0, limited: false), whole: try meter(), sample: try meter())
        let side = SideThread { [self] in try measure(later, blocks: split..<blockCount, reporting: nil) }
        do {
            try measure(earlier, blocks: 0..<split, reporting: later)
        } catch {
            later.abandon.store(true, ordering: .relaxed)
            try? side.join()
            throw error
        }
        try side.join()
        sample = earlier.kept + later.kept
        earlier.kept = []
        later.kept = []
        let result = (sample: try earlier.sample.loudness(with: later.sample),
                      whole: Optional(try earlier.whole.loudness(with: later.whole)))
        let differed = earlier.sample.channelsDiffered || earlier.whole.channelsDiffered
            || later.sample.channelsDiffered || later.whole.channelsDiffered
        return (result, differed)
    }

    /// One half of `measureMixInHalves`: the blocks in `blocks` mixed and metered, the sampled
    /// ones kept. The thread with `reporting` (the other half) checks for Ctrl-C and moves the
    /// progress bar for both; the other stops when told to abandon.
    private func measure(_ half: HalfMeasure, blocks: Range<Int>, reporting other: HalfMeasure?) throws {
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: trackBlockFrames * format.channels)
        defer { block.deallocate() }
        for index in 0..<blocks.upperBound {
            if other != nil {
                try cancellation.check(discarding: path)
            } else if half.abandon.load(ordering: .relaxed) || cancellation.isCancelled {
                return
            }
            let metered = blocks.contains(index)
            let frames = try half.mix.renderBlock(into: block, mixing: metered)
            if frames == 0 { return }
            guard metered else { continue }
            let samples = UnsafeBufferPointer(rebasing: block[0..<frames * format.channels])
            try half.whole.add(samples)
            if sampled(index) {
                try half.sample.add(samples)
                half.kept.append(keptCopy(of: samples))
            }
            half.framesDone.add(Int64(frames), ordering: .relaxed)
            if let other {
                let done = half.framesDone.load(ordering: .relaxed) + other.framesDone.load(ordering: .relaxed)
                progress.advance(Double(done) / Double(max(1, totalFrames)))
            }
        }
    }

    /// A block of the mix as the search's sample keeps it: `sampleChannels` channels.
    private func keptCopy(of samples: UnsafeBufferPointer<Float>) -> UnsafeMutableBufferPointer<Float> {
        let frames = samples.count / format.channels
        let kept = UnsafeMutableBufferPointer<Float>.allocate(capacity: frames * sampleChannels)
        for i in 0..<frames {
            for c in 0..<sampleChannels { kept[i * sampleChannels + c] = samples[i * format.channels + c] }
        }
        return kept
    }

    /// `searchRun` on the kept sample: no rendering, only the gain, the limiter and the meter.
    private func searchKeptSample(gain: Double, limited: Bool) throws -> (loudness: Double, limiting: Double) {
        var limiter = TruePeakLimiter(sampleRate: format.sampleRate, channels: sampleChannels,
                                      ceilingDecibels: settings.peakCeiling)
        // One kept channel stands for identical ones: dual mono, as MixMeter measures them.
        var meter = try LoudnessMeter(channels: sampleChannels, sampleRate: format.sampleRate, dualMono: true)
        let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: trackBlockFrames * sampleChannels)
        defer { scratch.deallocate() }
        let g = Float(amplitude(decibels: gain))
        for chunk in sample {
            try cancellation.check(discarding: path)
            for i in chunk.indices { scratch[i] = chunk[i] * g }
            let samples = UnsafeMutableBufferPointer(rebasing: scratch[0..<chunk.count])
            if limited { limiter.process(samples) }
            try meter.add(UnsafeBufferPointer(samples))
        }
        return (try meter.integratedLoudness(), -decibels(Double(limiter.smallestGain)))
    }

    /// Every block is in the sample (a track up to about a minute): the search measured what
    /// will be written.
    public var sampleIsWhole: Bool { sampleEvery == 1 }

    /// The sample may not stand for the whole: music wanders, and cues (a spoken caution at
    /// the start, words here and there) are louder than the clicks and unevenly spread. Then
    /// the whole track is measured at unity gain alongside the sample, and the written pass is
    /// measured too.
    public var wholeCounts: Bool { !sampleIsWhole && (settings.music != nil || !cues.isEmpty) }

    public func sampled(_ block: Int) -> Bool { block % sampleEvery == sampleEvery / 2 || sampleEvery == 1 }

    private func renderer() throws -> Renderer {
        if let r = first { first = nil; return r }
        return try makeRenderer()
    }

    /// Sets `musicGain` from the analysis (`analyze`): the music sits `level` dB under the
    /// clicks and cues; a silent click track (all rest) puts it under the target instead.
    public func setMusicGain(mixLoudness: Double, musicLoudness: Double) {
        guard let bed = settings.music else { return }
        let reference = mixLoudness.isFinite ? mixLoudness : (settings.loudness ?? PhoneSettings.defaultLoudness)
        musicGain = musicLoudness.isFinite ? Float(amplitude(decibels: reference + bed.level - musicLoudness)) : 0
    }

    /// Decodes and converts the music once (if there is music and it is not loaded yet).
    public func loadMusic() throws {
        guard music == nil, let bed = settings.music else { return }
        progress.begin(.music)
        music = try MusicLoop(path: bed.path, sampleRate: format.sampleRate, channels: format.channels,
                              maxFrames: totalFrames, progress: { [progress] in progress.advance($0) },
                              checkpoint: { [cancellation, path] in try cancellation.check(discarding: path) })
    }

    private func musicBed() throws -> MusicBed? {
        guard settings.music != nil else { return nil }
        try loadMusic()
        return MusicBed(loop: music!, totalFrames: totalFrames)
    }

    /// - Parameter writing: the written pass, which renders the stem beside the mix.
    private func pass(gain: Double, limited: Bool, writing: Bool = false) throws -> MixPass {
        let stem = writing ? self.stem : nil
        return MixPass(renderer: try renderer(), music: try musicBed(), musicGain: musicGain,
                       ducker: Ducker(intervals: cues, sampleRate: format.sampleRate, depth: settings.music?.duck ?? 0),
                       gain: Float(amplitude(decibels: gain)),
                       limiter: limited ? TruePeakLimiter(sampleRate: format.sampleRate, channels: format.channels,
                                                          ceilingDecibels: settings.peakCeiling, companion: stem != nil) : nil,
                       stem: try stem.map { ($0.kind, try $0.makeRenderer()) })
    }

    private func meter() throws -> MixMeter {
        try MixMeter(format: format, identicalChannels: identicalChannels)
    }

    /// Runs `body` again with both channels metered should they turn out to differ.
    private func metering<T>(_ body: () throws -> (T, differed: Bool)) throws -> T {
        let (result, differed) = try body()
        if !differed { return result }
        identicalChannels = false
        return try body().0
    }

    /// The clicks and cues of the sample at unity gain, and the music bed's on its own (−∞
    /// without music).
    public func analyze() throws -> (mix: Double, music: Double, whole: Double?) {
        guard settings.music != nil else {
            let (sample, whole) = try measureMixAndKeepSample()
            return (sample, -.infinity, whole)
        }
        return try metering {
            let renderer = try renderer()
            var bed = try musicBed()
            var clicks = try meter()
            var music = try MixMeter(format: format, identicalChannels: false)
            try eachBlock({ block, _ in renderer.render(into: block) }) { samples, index in
                // The bed moves on all the way, to stay in step with the track.
                guard sampled(index) else { _ = bed!.skip(samples.count / format.channels); return }
                try clicks.add(UnsafeBufferPointer(samples))
                let got = bed!.read(into: samples)
                try music.add(UnsafeBufferPointer(rebasing: samples[0..<got * format.channels]))
            }
            return ((try clicks.loudness(), try music.loudness(), nil), clicks.channelsDiffered)
        }
    }

    /// The sample of the mix at `gain`, through the limiter: its loudness, and the limiter's
    /// deepest cut in dB (0 when it did not act).
    public func searchRun(gain: Double, limited: Bool = true, measuringWhole: Bool = false)
        throws -> (loudness: Double, limiting: Double, whole: Double?) {
        if !sample.isEmpty {
            let (loudness, limiting) = try searchKeptSample(gain: gain, limited: limited)
            return (loudness, limiting, nil)
        }
        return try metering {
            let mix = try pass(gain: gain, limited: false)
            var limiter = TruePeakLimiter(sampleRate: format.sampleRate, channels: format.channels,
                                          ceilingDecibels: settings.peakCeiling)
            var sample = try meter()
            // The whole track at this gain, before the limiter (only asked for at unity gain).
            var whole = measuringWhole ? try self.meter() : nil
            let mixingAll = whole != nil
            try eachBlock({ block, index in try mix.renderBlock(into: block, mixing: sampled(index) || mixingAll) }) { samples, index in
                if whole != nil { try whole!.add(UnsafeBufferPointer(samples)) }
                if sampled(index) {
                    // The sampled blocks run through one limiter back to back; its delay only
                    // shifts them by a few frames, which a loudness measurement cannot see.
                    if limited { limiter.process(samples) }
                    try sample.add(UnsafeBufferPointer(samples))
                }
            }
            let result = (try sample.loudness(), -decibels(Double(limiter.smallestGain)), try whole?.loudness())
            progress.searchRunDone()
            return (result, sample.channelsDiffered || whole?.channelsDiffered == true)
        }
    }

    /// Renders, mixes, limits and writes the track, encoding on a second thread.
    ///
    /// - Parameter commitIf: with `metered`, decides from the measured loudness whether the
    ///   file is kept; when it says no, nothing is written and the measurement comes back.
    public func write(gain: Double, limited: Bool, metered: Bool, tags: TrackTags?,
               commitIf: (Double) -> Bool = { _ in true })
        throws -> (loudness: Double?, limiting: Double, committed: Bool, renderSeconds: Double) {
        progress.begin(.write)
        let mix = try pass(gain: gain, limited: limited, writing: true)
        var meter = metered ? try MixMeter(format: format, identicalChannels: identicalChannels) : nil
        let writer = try SoundFileWriter(path: path, format: format, type: settings.type, encoding: settings.encoding,
                                         quality: settings.quality, tags: tags, frames: totalFrames)
        try writer.reserveSpace(forFrames: totalFrames)
        let encoder = EncoderThread(writer: writer, capacity: trackBlockFrames * format.channels)
        var done: Int64 = 0
        while true {
            try cancellation.check(discarding: path)
            let (slot, block) = try encoder.acquire()
            let frames = try mix.next(into: block)
            if frames == 0 { encoder.release(slot); break }
            let samples = frames * format.channels
            // No encoder is handed a sample that is not a number: LAME aborts on one, and a
            // WAV would carry it to the phone. Inputs are checked as they are read, so this
            // is the last line against a sum that overflowed.
            try requireFiniteMix(UnsafeBufferPointer(rebasing: block[0..<samples]), at: done)
            if meter != nil { try meter!.add(mix.stemming ? mix.lastMix : UnsafeBufferPointer(rebasing: block[0..<samples])) }
            encoder.submit(slot, count: samples)
            done += Int64(frames)
            progress.advance(Double(done) / Double(max(1, totalFrames)))
        }
        var loudness = try meter?.loudness()
        if meter?.channelsDiffered == true {
            // Rare (cues panned one day?): measure the written mix again, both channels.
            identicalChannels = false
            loudness = try measureWritten(gain: gain)
        }
        if let loudness, !commitIf(loudness) {
            encoder.abandon()
            return (loudness, mix.limiting, false, mix.renderSeconds)
        }
        try cancellation.check(discarding: path)
        try encoder.finish(beforeRename: beforeRename)
        return (loudness, mix.limiting, true, mix.renderSeconds)
    }

    /// Refuses a block of the mix holding NaN or an infinity (exit 65), naming the time.
    private func requireFiniteMix(_ samples: UnsafeBufferPointer<Float>, at frame: Int64) throws {
        // One pass the compiler vectorizes: x - x is 0 for every finite x and NaN otherwise.
        var check: Float = 0
        for x in samples { check += x - x }
        guard check.isNaN else { return }
        let first = samples.firstIndex { !$0.isFinite } ?? 0
        let seconds = Double(frame + Int64(first / format.channels)) / Double(format.sampleRate)
        throw Failure("\(path): the mix came out with samples that are not numbers (NaN or infinity) at "
            + "\(PlanText.clock(seconds)); an input sound is out of range; nothing was written",
            exitCode: ExitStatus.dataError)
    }

    /// The loudness of the whole mix at `gain`, limited, as `write` would write it.
    private func measureWritten(gain: Double) throws -> Double {
        let mix = try pass(gain: gain, limited: true)
        var meter = try MixMeter(format: format, identicalChannels: false)
        try eachBlock({ block, _ in try mix.next(into: block) }) { samples, _ in try meter.add(UnsafeBufferPointer(samples)) }
        return try meter.loudness()
    }

    /// Hands `body` every block `render` fills (its samples and its index in the track) until
    /// `render` gives no more frames; throws the interruption if a signal arrives meanwhile.
    private func eachBlock(_ render: (UnsafeMutableBufferPointer<Float>, Int) throws -> Int,
                           _ body: (UnsafeMutableBufferPointer<Float>, Int) throws -> Void) throws {
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: trackBlockFrames * format.channels)
        defer { block.deallocate() }
        var index = 0
        var done: Int64 = 0
        while true {
            try cancellation.check(discarding: path)
            let frames = try render(block, index)
            if frames == 0 { return }
            try body(UnsafeMutableBufferPointer(rebasing: block[0..<frames * format.channels]), index)
            index += 1
            done += Int64(frames)
            progress.advance(Double(done) / Double(max(1, totalFrames)))
        }
    }
}

/// What one thread of `measureMixInHalves` works with and leaves behind.
private final class HalfMeasure: @unchecked Sendable {
    let mix: MixPass
    var whole: MixMeter
    var sample: MixMeter
    /// The sampled blocks of this half, in order; taken over by `TrackPasses.sample`.
    var kept: [UnsafeMutableBufferPointer<Float>] = []
    /// Frames metered so far, read by the other thread for the progress bar.
    let framesDone = Atomic<Int64>(0)
    /// Set when the other half failed: stop at the next block.
    let abandon = Atomic<Bool>(false)

    init(mix: MixPass, whole: consuming MixMeter, sample: consuming MixMeter) {
        self.mix = mix
        self.whole = whole
        self.sample = sample
    }

    deinit { for chunk in kept { chunk.deallocate() } }
}

/// Starts `body` on a new thread, which holds it (and what it captures) until it returns; nil
/// when the system gives no thread. The one place a thread of the mixdown is made.
func startThread(_ body: @escaping () -> Void) -> pthread_t? {
    final class Body { let run: () -> Void; init(_ run: @escaping () -> Void) { self.run = run } }
    let context = Unmanaged.passRetained(Body(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { context in
        Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    guard status == 0 else {
        Unmanaged<Body>.fromOpaque(context).release()
        return nil
    }
    return thread
}

/// Runs `body` on a thread of its own (or, should no thread be had, right here); `join` waits
/// for it and throws what it threw.
final class SideThread: @unchecked Sendable {
    private var thread = pthread_t()
    private var running = false
    private let body: () throws -> Void
    private var failure: (any Error)?

    init(_ body: @escaping () throws -> Void) {
        self.body = body
        if let started = startThread({ [self] in run() }) {
            thread = started
            running = true
        } else {
            run()
        }
    }

    private func run() {
        do { try body() } catch { failure = error }
    }

    func join() throws {
        if running {
            pthread_join(thread, nil)
            running = false
        }
        if let failure { throw failure }
    }
}

/// A libebur128 meter for a mix: every channel, or — while the mix has identical channels —
/// the left one counted as dual mono, which measures the same for half the work.
public struct MixMeter: ~Copyable {
    private var meter: LoudnessMeter
    private let channels: Int
    private let leftOnly: Bool
    private let left: UnsafeMutableBufferPointer<Float>
    /// The channels were not identical after all: the measurement is void.
    private(set) var channelsDiffered = false

    public init(format: RenderFormat, identicalChannels: Bool) throws {
        channels = format.channels
        leftOnly = identicalChannels && format.channels > 1
        // A mono track is played on both earbuds: dual mono (see PhoneSettings).
        meter = try LoudnessMeter(channels: leftOnly ? 1 : format.channels, sampleRate: format.sampleRate, dualMono: true)
        left = .allocate(capacity: leftOnly ? trackBlockFrames : 0)
    }

    deinit { left.deallocate() }

    public mutating func add(_ samples: UnsafeBufferPointer<Float>) throws {
        guard leftOnly else { return try meter.add(samples) }
        var offset = 0
        while offset < samples.count {
            let frames = min(left.count, (samples.count - offset) / channels)
            var same = true
            for i in 0..<frames {
                let frame = offset + i * channels
                left[i] = samples[frame]
                for c in 1..<channels where samples[frame + c] != samples[frame] { same = false }
            }
            if !same { channelsDiffered = true }
            try meter.add(UnsafeBufferPointer(rebasing: left[0..<frames]))
            offset += frames * channels
        }
    }

    public func loudness() throws -> Double { try meter.integratedLoudness() }

    /// The loudness of what this meter and `other` measured, as one track.
    public func loudness(with other: borrowing MixMeter) throws -> Double { try meter.integratedLoudness(with: other.meter) }
}

/// One pass over a track: clicks and cues from a fresh renderer, the music bed under them
/// ducked around cues, the loudness gain, and the limiter (whose delay is taken out, so the
/// pass yields exactly the track's frames, in place).
///
/// With a stem, the pass renders the mix and the stem side by side and yields the stem: it gets
/// the mix's gain and the limiter's gain as computed from the mix, frame for frame.
///
/// Live playback with music (`LiveMix`) runs the same two stages, `MusicUnder` and
/// `LimitedStream`, over the live player's frames.
public final class MixPass {
    public let renderer: Renderer
    /// The music under the clicks and cues, nil without music.
    public var music: MusicUnder?
    public let gain: Float
    /// The limiter, with its delay taken out.
    public var output: LimitedStream
    public let channels: Int
    public let totalFrames: Int64
    /// The layer yielded instead of the mix, and its renderer.
    public let stem: (kind: RenderStem, renderer: Renderer)?
    private var rendered: Int64 = 0
    private var emitted: Int64 = 0
    /// With a stem: the mix, rendered beside it.
    private let mixBlock: UnsafeMutableBufferPointer<Float>
    private var mixCount = 0
    /// Seconds spent in `Renderer.render`.
    private(set) var renderSeconds = 0.0

    public init(renderer: Renderer, music: consuming MusicBed?, musicGain: Float, ducker: Ducker, gain: Float,
         limiter: consuming TruePeakLimiter?, stem: (kind: RenderStem, renderer: Renderer)? = nil) {
        self.renderer = renderer
        self.channels = renderer.format.channels
        self.totalFrames = renderer.totalFrames
        self.gain = gain
        switch limiter {
        case .some(let l): precondition(stem == nil || l.hasCompanion, "a stem needs a limiter with a companion")
        case .none: break
        }
        self.output = LimitedStream(limiter: limiter)
        switch consume music {
        case .some(let bed):
            self.music = MusicUnder(bed: bed, gain: musicGain, ducker: ducker, blockFrames: trackBlockFrames)
        case .none:
            self.music = nil
        }
        self.stem = stem
        mixBlock = .allocate(capacity: stem == nil ? 0 : trackBlockFrames * channels)
    }

    deinit {
        mixBlock.deallocate()
    }

    /// The pass yields a stem; `lastMix` holds the mix beside it.
    public var stemming: Bool { stem != nil }

    /// With a stem: the mix frames beside the stem frames the last `next` returned.
    public var lastMix: UnsafeBufferPointer<Float> { UnsafeBufferPointer(rebasing: mixBlock[0..<mixCount]) }

    /// The limiter's deepest cut so far, in dB (0 when it never acted).
    public var limiting: Double { output.limiting }

    /// The next block of clicks, cues and ducked music at the pass's gain, before the limiter.
    /// With `mixing: false` the track only moves on (rendered, music skipped) and `block`
    /// holds the clicks alone.
    /// - Parameter stemBlock: with a stem, filled with the stem's frames at the pass's gain.
    /// - Returns: frames; 0 once the track is over.
    public func renderBlock(into block: UnsafeMutableBufferPointer<Float>, mixing: Bool = true,
                            stemBlock: UnsafeMutableBufferPointer<Float>? = nil) throws -> Int {
        let capacity = min(block.count / channels, trackBlockFrames)
        let started = monotonicSeconds()
        let n = renderer.render(into: UnsafeMutableBufferPointer(rebasing: block[0..<capacity * channels]))
        if let stemBlock, let stem {
            let s = stem.renderer.render(into: UnsafeMutableBufferPointer(rebasing: stemBlock[0..<capacity * channels]))
            precondition(s == n, "the stem and the mix are rendered in step")
        }
        renderSeconds += monotonicSeconds() - started
        guard n > 0 else { return 0 }
        if music != nil {
            if mixing {
                music!.add(into: block, frames: n, at: rendered, stemBlock: stem?.kind == .music ? stemBlock : nil)
            } else {
                music!.skip(n)
            }
        }
        rendered += Int64(n)
        if mixing && gain != 1 {
            for i in 0..<n * channels { block[i] *= gain }
            if let stemBlock { for i in 0..<n * channels { stemBlock[i] *= gain } }
        }
        return n
    }

    /// Fills `block` (at most `trackBlockFrames` frames) with the next frames of the pass,
    /// limited: the mix, or with a stem the stem (and `lastMix` the mix).
    /// - Returns: frames written; 0 once the track is over.
    public func next(into block: UnsafeMutableBufferPointer<Float>) throws -> Int {
        let capacity = min(block.count / channels, trackBlockFrames)
        // With a stem the mix goes to its own block, the stem to the caller's.
        let mix = stem == nil ? block : mixBlock
        let side: UnsafeMutableBufferPointer<Float>? = stem == nil ? nil : block
        while emitted < totalFrames {
            var n: Int
            if rendered < totalFrames {
                n = try renderBlock(into: UnsafeMutableBufferPointer(rebasing: mix[0..<capacity * channels]), stemBlock: side)
                if n == 0 { rendered = totalFrames; continue }
            } else {
                // Push the limiter's last frames out with silence.
                n = output.flushFrames(upTo: capacity)
                if n <= 0 { break }
                mix.baseAddress!.update(repeating: 0, count: n * channels)
                side?.baseAddress!.update(repeating: 0, count: n * channels)
            }
            n = output.limit(mix, alongside: side, frames: n, channels: channels)
            n = Int(min(Int64(n), totalFrames - emitted))
            if n == 0 { continue }
            emitted += Int64(n)
            mixCount = stem == nil ? 0 : n * channels
            return n
        }
        return 0
    }
}

/// The music under the clicks and cues: the bed at its gain, lowered around cues. A file's
/// passes (`MixPass`) and live playback (`LiveMix`) mix it with this one code.
///
/// Real-time safety: `init` allocates everything; the rest allocates nothing and takes no lock.
public struct MusicUnder: ~Copyable {
    public var bed: MusicBed
    /// Linear gain of the bed: its level under the clicks and cues.
    public let gain: Float
    /// The plan's ducking: around the cues where the plan puts them.
    public var ducker: DuckSchedule
    public let channels: Int
    /// Frames a call may mix at most.
    public let blockFrames: Int
    private let musicBlock: UnsafeMutableBufferPointer<Float>
    /// The music's gain frame by frame (1 where it is not lowered), for the frames last read.
    public let gains: UnsafeMutableBufferPointer<Float>

    public init(bed: consuming MusicBed, gain: Float, ducker: Ducker, blockFrames: Int) {
        channels = bed.channels
        self.bed = bed
        self.gain = gain
        self.ducker = DuckSchedule(ducker)
        self.blockFrames = blockFrames
        musicBlock = .allocate(capacity: blockFrames * channels)
        gains = .allocate(capacity: blockFrames)
    }

    deinit {
        musicBlock.deallocate()
        gains.deallocate()
    }

    /// Adds the next `frames` frames of the ducked music (track frames `frame…`) at its gain
    /// to `block` and, for the music stem, puts the same into `stemBlock`.
    @_noAllocation @_noLocks
    public mutating func add(into block: UnsafeMutableBufferPointer<Float>, frames: Int, at frame: Int64,
                             stemBlock: UnsafeMutableBufferPointer<Float>?) {
        let got = read(frames)
        duck(got, from: frame)
        mix(into: block, frames: got, stemBlock: stemBlock)
        if let stemBlock { for i in got * channels..<frames * channels { stemBlock[i] = 0 } }
    }

    /// Reads the next `frames` frames of the bed (at most `blockFrames`).
    /// - Returns: frames read; fewer only at the end of the bed.
    @_noAllocation @_noLocks
    public mutating func read(_ frames: Int) -> Int {
        bed.read(into: UnsafeMutableBufferPointer(rebasing: musicBlock[0..<frames * channels]))
    }

    /// Moves the bed on by `frames` frames without reading them.
    @_noAllocation @_noLocks
    public mutating func skip(_ frames: Int) {
        _ = bed.skip(frames)
    }

    /// Fills `gains` for the `frames` frames read, from track frame `frame` on: the plan's ducking.
    @_noAllocation @_noLocks
    public mutating func duck(_ frames: Int, from frame: Int64) {
        ducker.fill(UnsafeMutableBufferPointer(rebasing: gains[0..<frames]), from: frame)
    }

    /// Adds the `frames` frames read, at the bed's gain times `gains`, to `block` (and puts
    /// them into `stemBlock`).
    @_noAllocation @_noLocks
    public func mix(into block: UnsafeMutableBufferPointer<Float>, frames: Int, stemBlock: UnsafeMutableBufferPointer<Float>?) {
        let channels = self.channels
        for i in 0..<frames {
            let g = gain * gains[i]
            for c in 0..<channels {
                let m = g * musicBlock[i * channels + c]
                block[i * channels + c] += m
                stemBlock?[i * channels + c] = m
            }
        }
    }
}

/// The true-peak limiter with its delay taken out: frames go in and the same frames come out,
/// limited, in place; the first `latency` frames out (the delay line's silence) are dropped and
/// the last are pushed out with silence at the end. Without a limiter, frames pass unchanged.
/// For a file's passes and live playback alike.
///
/// Real-time safety: `limit` and `flushFrames` allocate nothing and take no lock.
public struct LimitedStream: ~Copyable {
    public var limiter: TruePeakLimiter?
    private var discard: Int
    private var flushed = 0

    public init(limiter: consuming TruePeakLimiter?) {
        discard = limiter?.latency ?? 0
        self.limiter = limiter
    }

    /// The limiter's deepest cut so far, in dB (0 when it never acted).
    public var limiting: Double {
        switch limiter {
        case .some(let l): return -decibels(Double(l.smallestGain))
        case .none: return 0
        }
    }

    /// Frames of silence still to push through (at most `capacity`) to get the last frames
    /// out, counted as pushed; 0 once they are all out.
    @_noAllocation @_noLocks
    public mutating func flushFrames(upTo capacity: Int) -> Int {
        let n = min(capacity, (limiter?.latency ?? 0) - flushed)
        if n <= 0 { return 0 }
        flushed += n
        return n
    }

    /// Limits the first `frames` frames of `mix` in place (with `side` given, frame for frame,
    /// the gain computed from `mix`), then drops what is still the delay's start.
    /// - Returns: the frames left, moved to the front of `mix` (and `side`).
    @_noAllocation @_noLocks
    public mutating func limit(_ mix: UnsafeMutableBufferPointer<Float>, alongside side: UnsafeMutableBufferPointer<Float>?,
                               frames: Int, channels: Int) -> Int {
        var n = frames
        if limiter != nil {
            let block = UnsafeMutableBufferPointer(rebasing: mix[0..<n * channels])
            if let side {
                limiter!.process(block, alongside: UnsafeMutableBufferPointer(rebasing: side[0..<n * channels]))
            } else {
                limiter!.process(block)
            }
        }
        if discard > 0 {
            let d = min(discard, n)
            if d < n {
                // Loops, not `update(from:count:)`, which the checker takes for one that may
                // deallocate. Forward copies: the source is always ahead of the destination.
                for i in 0..<(n - d) * channels { mix[i] = mix[d * channels + i] }
                if let side { for i in 0..<(n - d) * channels { side[i] = side[d * channels + i] } }
            }
            n -= d
            discard -= d
        }
        return n
    }
}

/// How far a track's job is, as frames of the track, over all its phases: the music's decoding,
/// the analysis, the gain search and the written pass, each given a share of the bar by its
/// rough cost. Never moves back, but for a second written pass, which starts its share again.
public final class ProgressPlan {
    public enum Phase: Int, CaseIterable { case music, analysis, measure, search, write }

    private let total: Int64
    private let report: (_ done: Int64, _ total: Int64) -> Void
    private var shares: [Double] = [0, 0, 0, 0, 1]
    private var current = Phase.write
    private var runs = 0
    private var last: Int64 = 0
    private var writes = 0
    /// When each phase began, in order.
    private var started: [(phase: Phase, at: Double)] = []

    public init(total: Int64, report: @escaping (_ done: Int64, _ total: Int64) -> Void) {
        self.total = total
        self.report = report
    }

    /// The share each phase takes (phases left out take none).
    public func phases(_ shares: [Phase: Double]) {
        self.shares = Phase.allCases.map { shares[$0] ?? 0 }
    }

    public func begin(_ phase: Phase) {
        started.append((phase, monotonicSeconds()))
        current = phase
        if phase == .search { runs = 0 }
        if phase == .write {
            writes += 1
            if writes > 1 { last = position(0) }
        }
        advance(0)
    }

    /// How long each phase took so far (the last one until now), in the order they ran.
    public func timings() -> [(phase: Phase, seconds: Double)] {
        let now = monotonicSeconds()
        return started.indices.map { i in
            (started[i].phase, (i + 1 < started.count ? started[i + 1].at : now) - started[i].at)
        }
    }

    /// A full run of the gain search is over: the next takes half the share left.
    public func searchRunDone() { runs += 1 }

    /// `fraction` (0…1) of the current phase (of the current search run) is done.
    public func advance(_ fraction: Double) {
        let done = position(min(1, max(0, fraction)))
        guard done > last || (done == 0 && last == 0) else { return }
        last = done
        report(done, total)
    }

    private func position(_ fraction: Double) -> Int64 {
        let sum = shares.reduce(0, +)
        guard sum > 0 else { return 0 }
        let start = shares[0..<current.rawValue].reduce(0, +)
        var within = fraction
        if current == .search {
            // Runs take 1/2, 1/4, … of the search's share: how many there will be is unknown.
            let before = 1 - pow(0.5, Double(runs))
            within = before + pow(0.5, Double(runs + 1)) * fraction
        }
        return Int64((start + shares[current.rawValue] * within) / sum * Double(total))
    }
}

/// Encodes on a second thread while the calling thread renders, mixes and meters the next
/// block: two buffers handed back and forth through two semaphores.
///
/// LAME is by far the slowest stage of an MP3 export; with this, rendering, limiting and
/// metering cost no wall time on a machine with two cores. For 16-bit WAV and FLAC the
/// calling thread also quantizes, so that the second thread only writes: for a plain WAV,
/// copying into the page cache is the slowest stage. Every `acquire` is followed by one
/// `submit` or `release`, so both sides take the buffers in the same order. Dropping the
/// encoder without `finish()` (an error, Ctrl-C) stops the thread and removes the file.
public final class EncoderThread {
    private let worker: EncoderWorker

    public init(writer: consuming SoundFileWriter, capacity: Int) {
        worker = EncoderWorker(writer: writer, capacity: capacity)
    }

    deinit { worker.stop() }

    /// The next free buffer, waiting for the encoder to finish with it.
    /// - Throws: the encoder's error, once it has failed.
    public func acquire() throws(SoundFileError) -> (slot: Int, buffer: UnsafeMutableBufferPointer<Float>) {
        try worker.acquire()
    }

    /// Hands `count` samples of buffer `slot` to the encoder.
    public func submit(_ slot: Int, count: Int) { worker.submit(slot, count: count) }

    /// Gives back a buffer taken by `acquire` with nothing in it.
    public func release(_ slot: Int) { worker.submit(slot, count: 0) }

    /// Waits for the encoder to write everything, then finishes and renames the file.
    public func finish(beforeRename: ((_ stamp: String) throws(FileError) -> Void)? = nil) throws(SoundFileError) {
        try worker.finish(beforeRename: beforeRename)
    }

    /// Stops the encoder and removes the temporary file.
    public func abandon() { worker.abandon() }
}

/// The state the encoding thread shares with the caller; the thread keeps it alive while it
/// runs, `EncoderThread` stops the thread when it goes.
private final class EncoderWorker: @unchecked Sendable {
    private var writer: SoundFileWriter?
    private let buffers: [UnsafeMutableBufferPointer<Float>]
    private let counts: UnsafeMutablePointer<Int>
    private let filled: UnsafeMutablePointer<sem_t>
    private let emptied: UnsafeMutablePointer<sem_t>
    private let failed = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private var failure: SoundFileError?
    private var thread = pthread_t()
    private var running = false
    private var nextSlot = 0
    /// For a writer that takes 16-bit samples: the space each buffer is quantized into on the
    /// calling thread, where in it the samples start, and the file offset the next lands at.
    private let int16Space: [UnsafeMutableBufferPointer<Int16>]
    private let int16Starts: UnsafeMutablePointer<UnsafeMutablePointer<Int16>?>
    private var int16Offset: Int64

    init(writer: consuming SoundFileWriter, capacity: Int) {
        let quantizing = writer.takesInt16
        int16Offset = writer.fileOffset
        self.writer = Optional(writer)
        buffers = [.allocate(capacity: capacity), .allocate(capacity: capacity)]
        int16Space = quantizing ? (0..<2).map { _ in .allocate(capacity: capacity + SoundFileWriter.int16Slack) } : []
        int16Starts = .allocate(capacity: 2)
        int16Starts.initialize(repeating: nil, count: 2)
        counts = .allocate(capacity: 2)
        counts.initialize(repeating: 0, count: 2)
        filled = .allocate(capacity: 1)
        emptied = .allocate(capacity: 1)
        sem_init(filled, 0, 0)
        sem_init(emptied, 0, 2)
        // The thread keeps the worker alive until it returns. Without a thread `submit` writes
        // on the calling thread.
        if let started = startThread({ [self] in loop() }) {
            thread = started
            running = true
        }
    }

    deinit {
        sem_destroy(filled)
        sem_destroy(emptied)
        filled.deallocate()
        emptied.deallocate()
        counts.deallocate()
        int16Starts.deallocate()
        for b in buffers { b.deallocate() }
        for b in int16Space { b.deallocate() }
    }

    func acquire() throws(SoundFileError) -> (slot: Int, buffer: UnsafeMutableBufferPointer<Float>) {
        if failed.load(ordering: .acquiring) { throw failure! }
        while sem_wait(emptied) != 0 {}
        if failed.load(ordering: .acquiring) {
            sem_post(emptied)
            throw failure!
        }
        let slot = nextSlot
        nextSlot ^= 1
        return (slot, buffers[slot])
    }

    func submit(_ slot: Int, count: Int) {
        counts[slot] = count
        if !int16Space.isEmpty, count > 0 {
            let start = SoundFileWriter.int16Destination(in: int16Space[slot], forFileOffset: int16Offset)
            SampleQuantizer.toInt16(UnsafeBufferPointer(rebasing: buffers[slot][0..<count]), into: start)
            int16Starts[slot] = start
            int16Offset += Int64(count * MemoryLayout<Int16>.size)
        }
        if running { sem_post(filled) } else { write(slot, count) }
    }

    func finish(beforeRename: ((_ stamp: String) throws(FileError) -> Void)?) throws(SoundFileError) {
        // Both buffers back means every submitted block is written.
        for _ in 0..<2 { while sem_wait(emptied) != 0 {} }
        stopThread()
        if let failure { throw failure }
        guard let finished = writer.take() else { return }
        try finished.commit(beforeRename: beforeRename)
    }

    func abandon() {
        stop()
        writer = nil
    }

    /// Stops the thread (what it has not written is dropped) and drops the writer, which
    /// removes the temporary file unless `finish` committed it.
    func stop() {
        stopThread()
        writer = nil
    }

    private func stopThread() {
        guard running else { return }
        stopping.store(true, ordering: .releasing)
        sem_post(filled)
        pthread_join(thread, nil)
        running = false
    }

    private func loop() {
        var slot = 0
        while true {
            while sem_wait(filled) != 0 {}
            if stopping.load(ordering: .acquiring) { return }
            write(slot, counts[slot])
            slot ^= 1
        }
    }

    private func write(_ slot: Int, _ count: Int) {
        if count > 0, !failed.load(ordering: .relaxed) {
            do throws(SoundFileError) {
                if let start = int16Starts[slot] {
                    try writer!.write(int16: UnsafeBufferPointer(start: start, count: count))
                } else {
                    try writer!.write(UnsafeBufferPointer(rebasing: buffers[slot][0..<count]))
                }
            } catch {
                failure = error
                failed.store(true, ordering: .releasing)
            }
        }
        sem_post(emptied)
    }
}
