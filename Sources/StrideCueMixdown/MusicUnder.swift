import Glibc
import StrideCueCore
import StrideCueLoudness
import StrideCueSoundFile

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
