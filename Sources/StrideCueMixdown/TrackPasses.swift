import Glibc
import StrideCueCore
import StrideCueFiles
import StrideCueLoudness
import StrideCueSoundFile
import Synchronization

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
