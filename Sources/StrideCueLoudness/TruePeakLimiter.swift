import Glibc

/// A look-ahead true-peak limiter: keeps every sample, and every point between samples, of a
/// signal at or below a ceiling, turning the whole mix down smoothly around a peak instead of
/// clipping it.
///
/// A sparse click track has a high crest factor: brought to a loudness target it may peak
/// above 0 dBFS. The limiter is what lets such a track reach the target with a true peak at or
/// under the ceiling; between peaks its gain is exactly 1, so the samples pass unchanged.
///
/// How it works, per frame (channels are linked: one gain for all, so the stereo image and the
/// balance of clicks, voice and music stay as they are):
/// 1. Peak detection, oversampled: the sample and three points between it and the previous
///    one, interpolated 4× by a 12-tap-per-phase Kaiser-windowed sinc, as a true-peak meter
///    does. Stretches whose samples cannot reach the ceiling skip the interpolation.
/// 2. The gain each frame needs, `ceiling / peak` (or 1), and its minimum over the next
///    `lookahead` frames (a monotonic queue).
/// 3. Instant attack and exponential release towards that minimum, then a moving average over
///    `lookahead` frames: the gain slides down over the look-ahead time, reaching what the peak
///    needs exactly when the peak arrives (the average of values that are each no larger than
///    the peak's need is no larger than it), and recovers smoothly after.
///
/// The output is the input delayed by `latency` frames. `init` allocates everything; `process`
/// allocates nothing.
///
/// A companion signal (a stem of the mix: the clicks or the voice alone) can ride along: it
/// goes through its own delay line and gets, frame for frame, the gain computed from the mix,
/// so stems limited this way add up to the limited mix.
public struct TruePeakLimiter: ~Copyable {
    public let channels: Int
    /// Frames between a frame going in and the same frame coming out.
    public let latency: Int
    /// The largest amplitude let through, linear.
    public let ceiling: Float
    /// Frames over which the gain falls before a peak.
    public let lookahead: Int
    /// The smallest gain applied so far (1 when the limiter never acted).
    public private(set) var smallestGain: Float = 1

    private let releaseStep: Double
    private let inverseLookahead: Double
    /// 3 phases × `taps` coefficients: the points ¼, ½ and ¾ of the way between two samples.
    private let coefficients: UnsafeMutablePointer<Float>
    /// No interpolated point is larger than this times the largest sample around it.
    private let overshootBound: Float
    /// Per channel, the last `taps − 1` input samples (oldest first) and room for a chunk
    /// after them: the interpolator's window slides along this.
    private let history: UnsafeMutablePointer<Float>
    private var historyStride: Int { Self.taps - 1 + Self.chunkFrames }
    /// Per frame of a chunk: the largest (interpolated) peak, then the gain it needs; the gains.
    private let peaks: UnsafeMutablePointer<Float>
    private let gains: UnsafeMutablePointer<Float>
    /// The audio waiting for its gain: `latency` frames.
    private let delay: UnsafeMutablePointer<Float>
    /// Room for the delay line and one chunk, in order.
    private let scratch: UnsafeMutablePointer<Float>
    /// The companion's delay line (empty without one).
    private let companionDelay: UnsafeMutablePointer<Float>
    public let hasCompanion: Bool
    /// Monotonic queue of (frame, needed gain): its front is the minimum over the look-ahead.
    private let queueGain: UnsafeMutablePointer<Float>
    private let queueFrame: UnsafeMutablePointer<Int>
    private var queueHead = 0
    private var queueCount = 0
    /// The envelope's last `lookahead` values and their sum, for the moving average.
    private let box: UnsafeMutablePointer<Double>
    private var boxPosition = 0
    private var boxSum: Double
    private var boxWraps = 0
    private var envelope: Double = 1
    /// Index of the next detected frame.
    private var detected = 0
    /// The largest sample magnitude over at least the last `taps` input frames.
    private var recentMax: Float = 0

    static let taps = 12
    /// The detector judges the frame `detectorDelay` frames before the newest, the centre of
    /// the interpolator's window.
    static let detectorDelay = 5
    static let chunkFrames = 64

    /// - Parameters:
    ///   - sampleRate: in Hz.
    ///   - channels: interleaved channels.
    ///   - ceilingDecibels: the largest true peak allowed, in dBTP (e.g. −1.5).
    ///   - lookaheadSeconds: how long before a peak the gain starts to fall.
    ///   - releaseSeconds: time constant of the recovery after a peak.
    ///   - companion: room for a companion signal (`process(_:alongside:)`).
    public init(sampleRate: Int, channels: Int, ceilingDecibels: Double,
                lookaheadSeconds: Double = 0.0015, releaseSeconds: Double = 0.004, companion: Bool = false) {
        precondition(sampleRate > 0 && channels >= 1)
        self.channels = channels
        hasCompanion = companion
        ceiling = Float(amplitude(decibels: ceilingDecibels))
        lookahead = max(1, Int((lookaheadSeconds * Double(sampleRate)).rounded()))
        latency = lookahead - 1 + Self.detectorDelay
        inverseLookahead = 1 / Double(lookahead)
        releaseStep = 1 - exp(-1 / (releaseSeconds * Double(sampleRate)))

        coefficients = .allocate(capacity: 3 * Self.taps)
        var bound: Float = 1
        for p in 1...3 {
            // Point t = newest − 6 + p/4; tap j holds the sample at newest − 11 + j.
            var h = [Double](repeating: 0, count: Self.taps)
            for j in 0..<Self.taps {
                let u = 5 + Double(p) / 4 - Double(j)
                h[j] = sinc(u) * kaiser(u, halfWidth: 6, beta: 7)
            }
            let sum = h.reduce(0, +)
            var absSum: Float = 0
            for j in 0..<Self.taps {
                let c = Float(h[j] / sum)
                coefficients[(p - 1) * Self.taps + j] = c
                absSum += abs(c)
            }
            bound = max(bound, absSum)
        }
        overshootBound = bound * 1.0001

        history = .allocate(capacity: channels * (Self.taps - 1 + Self.chunkFrames))
        history.initialize(repeating: 0, count: channels * (Self.taps - 1 + Self.chunkFrames))
        peaks = .allocate(capacity: Self.chunkFrames)
        gains = .allocate(capacity: Self.chunkFrames)
        delay = .allocate(capacity: latency * channels)
        delay.initialize(repeating: 0, count: latency * channels)
        scratch = .allocate(capacity: (latency + Self.chunkFrames) * channels)
        companionDelay = .allocate(capacity: companion ? latency * channels : 0)
        if companion { companionDelay.initialize(repeating: 0, count: latency * channels) }
        queueGain = .allocate(capacity: lookahead + 1)
        queueFrame = .allocate(capacity: lookahead + 1)
        box = .allocate(capacity: lookahead)
        box.initialize(repeating: 1, count: lookahead)
        boxSum = Double(lookahead)
    }

    deinit {
        coefficients.deallocate()
        history.deallocate()
        peaks.deallocate()
        gains.deallocate()
        delay.deallocate()
        scratch.deallocate()
        companionDelay.deallocate()
        queueGain.deallocate()
        queueFrame.deallocate()
        box.deallocate()
    }

    /// Limits interleaved frames in place: on return `buffer` holds the frames that went in
    /// `latency` frames earlier (silence at the very start), with the limiter's gain applied.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public mutating func process(_ buffer: UnsafeMutableBufferPointer<Float>) {
        guard let base = buffer.baseAddress else { return }
        let frames = buffer.count / channels
        var start = 0
        while start < frames {
            let n = min(Self.chunkFrames, frames - start)
            processChunk(base + start * channels, frames: n, companion: nil)
            start += n
        }
    }

    /// Limits `buffer` as `process(_:)` does, and gives `companion` (as many frames, same
    /// channels) the same delay and, frame for frame, the same gain: the gain is computed from
    /// `buffer` alone.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public mutating func process(_ buffer: UnsafeMutableBufferPointer<Float>,
                                 alongside companion: UnsafeMutableBufferPointer<Float>) {
        precondition(hasCompanion && companion.count == buffer.count, "limiter companion: not set up, or a different length")
        guard let base = buffer.baseAddress, let other = companion.baseAddress else { return }
        let frames = buffer.count / channels
        var start = 0
        while start < frames {
            let n = min(Self.chunkFrames, frames - start)
            processChunk(base + start * channels, frames: n, companion: other + start * channels)
            start += n
        }
    }

    @_noAllocation @_noLocks
    private mutating func processChunk(_ chunk: UnsafeMutablePointer<Float>, frames: Int,
                                       companion: UnsafeMutablePointer<Float>?) {
        var chunkMax: Float = 0
        for i in 0..<frames * channels { chunkMax = max(chunkMax, abs(chunk[i])) }
        let mayExceed = max(recentMax, chunkMax) * overshootBound > ceiling
        recentMax = frames >= Self.taps ? chunkMax : max(recentMax, chunkMax)

        let idle = envelope == 1 && boxSum == Double(lookahead) && (queueCount == 0 || queueGain[queueHead] == 1)
        if !mayExceed && idle {
            passThrough(chunk, frames: frames)
            if let companion { delayThrough(companion, frames: frames, line: companionDelay) }
            return
        }
        // 1. The peak around each frame, every channel, and the gain it needs.
        for i in 0..<frames { peaks[i] = 0 }
        let keep = Self.taps - 1
        for c in 0..<channels {
            let line = history + c * historyStride
            for i in 0..<frames { line[keep + i] = chunk[i * channels + c] }
            if mayExceed {
                // The window of the frame `i` of the chunk is line[i ..< i + taps]; the frame it
                // judges, `detectorDelay` before the newest, is line[i + taps − 1 − detectorDelay].
                let centre = Self.taps - 1 - Self.detectorDelay
                for i in 0..<frames {
                    let w = line + i
                    var peak = abs(w[centre])
                    for p in 0..<3 {
                        let k = coefficients + p * Self.taps
                        var y: Float = 0
                        for j in 0..<Self.taps { y += w[j] * k[j] }
                        peak = max(peak, abs(y))
                    }
                    peaks[i] = max(peaks[i], peak)
                }
            }
            // Slide the window on: the chunk's last `keep` samples become the history.
            for j in 0..<keep { line[j] = line[frames + j] }
        }
        // 2. The gain, frame by frame (a recurrence: the queue, the release, the average).
        for i in 0..<frames {
            let needed: Float = peaks[i] > ceiling ? ceiling / peaks[i] : 1
            gains[i] = Float(nextGain(needed))
            smallestGain = min(smallestGain, gains[i])
        }
        // 3. Out through the delay line, with the gains.
        delayThrough(chunk, frames: frames, line: delay)
        for i in 0..<frames {
            let g = gains[i]
            if g != 1 { for c in 0..<channels { chunk[i * channels + c] *= g } }
        }
        if let companion {
            delayThrough(companion, frames: frames, line: companionDelay)
            for i in 0..<frames {
                let g = gains[i]
                if g != 1 { for c in 0..<channels { companion[i * channels + c] *= g } }
            }
        }
    }

    /// One detected frame's needed gain in, the gain for the frame leaving the delay line out.
    @_noAllocation @_noLocks
    @inline(__always)
    private mutating func nextGain(_ needed: Float) -> Double {
        let capacity = lookahead + 1
        // Push onto the monotonic queue, dropping larger needs behind it, and expire the front.
        while queueCount > 0 {
            var back = queueHead + queueCount - 1
            if back >= capacity { back -= capacity }
            if queueGain[back] >= needed { queueCount -= 1 } else { break }
        }
        var slot = queueHead + queueCount
        if slot >= capacity { slot -= capacity }
        queueGain[slot] = needed
        queueFrame[slot] = detected
        queueCount += 1
        while queueFrame[queueHead] <= detected - lookahead {
            queueHead = queueHead + 1 == capacity ? 0 : queueHead + 1
            queueCount -= 1
        }
        detected += 1
        let minimum = Double(queueGain[queueHead])

        if minimum < envelope {
            envelope = minimum
        } else {
            envelope += (minimum - envelope) * releaseStep
            // Land exactly on the target once the difference is inaudible (−0.00001 dB), so
            // the gain returns to exactly 1 and the samples pass unchanged again.
            if minimum - envelope < 1e-6 { envelope = minimum }
        }
        boxSum += envelope - box[boxPosition]
        box[boxPosition] = envelope
        boxPosition += 1
        if boxPosition == lookahead {
            boxPosition = 0
            boxWraps += 1
            if boxWraps == 64 {
                // Re-add from scratch now and then so rounding cannot build up.
                boxWraps = 0
                var sum = 0.0
                for i in 0..<lookahead { sum += box[i] }
                boxSum = sum
            }
        }
        return boxSum * inverseLookahead
    }

    /// Frames that need no gain while the limiter is at rest: through the delay line unchanged.
    @_noAllocation @_noLocks
    private mutating func passThrough(_ chunk: UnsafeMutablePointer<Float>, frames: Int) {
        // The interpolator's history: the last `taps − 1` samples of each channel.
        let keep = Self.taps - 1
        for c in 0..<channels {
            let line = history + c * historyStride
            for i in 0..<frames { line[keep + i] = chunk[i * channels + c] }
            for j in 0..<keep { line[j] = line[frames + j] }
        }
        delayThrough(chunk, frames: frames, line: delay)
        // Every need in the window is 1: the queue is one entry, the newest.
        detected += frames
        queueHead = 0
        queueCount = 1
        queueGain[0] = 1
        queueFrame[0] = detected - 1
    }

    /// Replaces the chunk with the frames `latency` earlier and keeps the chunk's own for later,
    /// by block copies: the delay line and the chunk are laid out in order in the scratch
    /// space, the first `frames` go out and the last `latency` stay.
    @_noAllocation @_noLocks
    private mutating func delayThrough(_ chunk: UnsafeMutablePointer<Float>, frames: Int,
                                       line: UnsafeMutablePointer<Float>) {
        copy(line, to: scratch, latency * channels)
        copy(chunk, to: scratch + latency * channels, frames * channels)
        copy(scratch, to: chunk, frames * channels)
        copy(scratch + frames * channels, to: line, latency * channels)
    }
}

/// Real-time safety: allocates nothing, takes no lock.
@_noAllocation @_noLocks
@inline(__always)
private func copy(_ from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { to[i] = from[i] }
}

/// sin(πx)/(πx).
func sinc(_ x: Double) -> Double {
    x == 0 ? 1 : sin(Double.pi * x) / (Double.pi * x)
}

/// The Kaiser window at `x` for a window spanning −halfWidth…halfWidth.
func kaiser(_ x: Double, halfWidth: Double, beta: Double) -> Double {
    let r = x / halfWidth
    guard abs(r) <= 1 else { return 0 }
    return besselI0(beta * (1 - r * r).squareRoot()) / besselI0(beta)
}

/// The modified Bessel function of the first kind, order 0, by its power series.
func besselI0(_ x: Double) -> Double {
    var sum = 1.0, term = 1.0
    let quarter = x * x / 4
    for k in 1..<50 {
        term *= quarter / Double(k * k)
        sum += term
        if term < sum * 1e-17 { break }
    }
    return sum
}
