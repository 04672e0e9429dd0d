
// A sound said live, as the renderer plays it. The live target's `SpokenSamples` store owns
// the memory; the core only needs its shape.

/// A cue sound to say live: samples at the output rate, already at their level. The memory
/// belongs to the `SpokenSamples` store that made it (`owner`), which keeps it for as long as
/// that store lives; the audio thread only borrows it. A `LivePlayback` says only samples of
/// its own store (`LivePlayback.spoken`), so a sample can never outlive what plays it.
public struct SpokenSample: @unchecked Sendable, Equatable {
    public let samples: UnsafeBufferPointer<Float>
    /// The store that owns the memory (its identity, as a number: no reference to retain).
    public let owner: UInt

    @_noAllocation @_noLocks
    public init(samples: UnsafeBufferPointer<Float>, owner: UInt) {
        self.samples = samples
        self.owner = owner
    }

    public static func == (a: SpokenSample, b: SpokenSample) -> Bool {
        a.samples.baseAddress == b.samples.baseAddress && a.samples.count == b.samples.count && a.owner == b.owner
    }
}
