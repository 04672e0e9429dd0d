import StrideCueCore
import Synchronization

/// Owns the sounds said live during one session, made on a control thread: each is scaled
/// like a preset's cue (peak `CueBalance.voicePeak` at `level`) and kept until the store is
/// released. Each `LivePlayback` owns one (`spoken`), so the sounds live as long as the
/// player, which its playback thread holds until it has let go.
/// The same text said twice reuses its sound. At most `capacity` different sounds.
public final class SpokenSamples: @unchecked Sendable {
    public static let capacity = 32
    private let store = Mutex<[String: UnsafeMutableBufferPointer<Float>]>([:])

    public init() {}

    deinit {
        store.withLock { sounds in
            for (_, buffer) in sounds { buffer.deallocate() }
        }
    }

    /// This store's identity, as `SpokenSample.owner` carries it.
    public var identity: UInt { UInt(bitPattern: ObjectIdentifier(self)) }

    /// The sound kept under `key`, if any.
    public func sample(for key: String) -> SpokenSample? {
        store.withLock { sounds in sounds[key].map { SpokenSample(samples: UnsafeBufferPointer($0), owner: identity) } }
    }

    /// Keeps `samples`, scaled to peak at `CueBalance.voicePeak` lowered by `level` dB, under
    /// `key`. Nil when the store is full.
    public func add(_ samples: [Float], level: Double = 0, for key: String) -> SpokenSample? {
        store.withLock { sounds in
            if let kept = sounds[key] { return SpokenSample(samples: UnsafeBufferPointer(kept), owner: identity) }
            guard sounds.count < Self.capacity, !samples.isEmpty else { return nil }
            let peak = samples.reduce(Float(0)) { max($0, abs($1)) }
            let gain = peak > 0 ? CueBalance.voicePeak * Float(_exp(level / 20 * _log(10))) / peak : 0
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: samples.count)
            _ = buffer.initialize(from: samples.lazy.map { $0 * gain })
            sounds[key] = buffer
            return SpokenSample(samples: UnsafeBufferPointer(buffer), owner: identity)
        }
    }
}
