import StrideCueCore
import StrideCueLoudness

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
