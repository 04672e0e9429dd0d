import StrideCueCore
import StrideCueFiles
import StrideCueLoudness
import StrideCueSoundFile

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
