import CSampleRate
import CSndFile
import Glibc

/// A music file streamed at the track's rate and channel count, looped or cut to the track's
/// length: the bed the clicks and cues are mixed over.
///
/// Any format libsndfile reads (WAV, FLAC, Ogg, Opus, MP3, …). The file is read and resampled
/// in small blocks (libsamplerate's streaming converter), so an hour of music costs no more
/// memory than a second of it. A file shorter than the track is looped with an equal-power
/// crossfade (no seam, no click); the bed fades in over a few milliseconds at the start and
/// out over a few seconds at the end of the track, so the music never starts or stops on a jump.
///
/// Channels: a mono file plays on both sides; a stereo file keeps its sides; a file with more
/// channels contributes its first two. For a mono track every channel is averaged.
public struct MusicBed: ~Copyable {
    public let path: String
    public let sampleRate: Int
    public let channels: Int
    /// Frames the bed lasts: the track's length.
    public let totalFrames: Int64
    /// Frames of the loop crossfade.
    public let crossfadeFrames: Int

    private let file: OpaquePointer
    private let fileChannels: Int
    private let converter: OpaquePointer?
    private let ratio: Double
    /// One block read from the file, and the same mapped to the output channels.
    private let raw: UnsafeMutablePointer<Float>
    private let input: UnsafeMutablePointer<Float>
    private var inputStart = 0
    private var inputCount = 0
    private var fileEnded = false
    /// Converted frames waiting to be handed out (a ring).
    private let fifo: UnsafeMutablePointer<Float>
    private let fifoCapacity: Int
    private var fifoStart = 0
    private var fifoCount = 0
    /// The last frames of a pass, fading out while the next pass fades in.
    private let tail: UnsafeMutablePointer<Float>
    private var tailCount = 0
    private var crossfadePosition = 0
    private let converted: UnsafeMutablePointer<Float>
    private let convertedCapacity: Int
    private var producedThisPass: Int64 = 0
    private var emitted: Int64 = 0
    private let fadeInFrames: Int64
    private let fadeOutFrames: Int64

    static let blockFrames = 4_096
    public static let defaultCrossfadeSeconds = 1.0
    public static let fadeInSeconds = 0.010
    public static let fadeOutSeconds = 3.0

    /// Opens `path` for a track of `totalFrames` frames at `sampleRate` with `channels` channels.
    /// - Throws: `.missing` when there is no such file, `.unreadable` when libsndfile cannot
    ///   decode it or it holds no audio.
    public init(path: String, sampleRate: Int, channels: Int, totalFrames: Int64,
                crossfadeSeconds: Double = defaultCrossfadeSeconds) throws(SoundFileError) {
        precondition(sampleRate > 0 && channels >= 1 && totalFrames >= 0)
        let (file, info) = try openSound(path)
        guard info.channels > 0, info.samplerate > 0, info.frames > 0 else {
            sf_close(file)
            throw SoundFileError(kind: .unreadable, path: path, call: "sf_open", reason: "the file holds no audio")
        }
        let ratio = Double(sampleRate) / Double(info.samplerate)
        var converter: OpaquePointer? = nil
        if info.samplerate != Int32(sampleRate) {
            var error: Int32 = 0
            // Medium quality: 97 dB of rejection, plenty for a bed under clicks, at a third of
            // the best converter's cost (music is converted once per pass of the export).
            converter = src_new(Int32(SRC_SINC_MEDIUM_QUALITY), Int32(channels), &error)
            if converter == nil {
                sf_close(file)
                throw SoundFileError(kind: .unreadable, path: path, call: "src_new", reason: String(cString: src_strerror(error)))
            }
        }
        self.path = path
        self.sampleRate = sampleRate
        self.channels = channels
        self.totalFrames = totalFrames
        self.file = file
        self.fileChannels = Int(info.channels)
        self.converter = converter
        self.ratio = ratio
        let passFrames = Double(info.frames) * ratio
        crossfadeFrames = max(0, min(Int((crossfadeSeconds * Double(sampleRate)).rounded()), Int(passFrames / 4)))
        raw = .allocate(capacity: Self.blockFrames * fileChannels)
        input = .allocate(capacity: Self.blockFrames * channels)
        convertedCapacity = Int((Double(Self.blockFrames) * ratio).rounded(.up)) + 64
        converted = .allocate(capacity: convertedCapacity * channels)
        fifoCapacity = 2 * crossfadeFrames + 2 * convertedCapacity
        fifo = .allocate(capacity: fifoCapacity * channels)
        tail = .allocate(capacity: max(1, crossfadeFrames) * channels)
        fadeInFrames = Int64((Self.fadeInSeconds * Double(sampleRate)).rounded())
        fadeOutFrames = min(Int64((Self.fadeOutSeconds * Double(sampleRate)).rounded()), totalFrames / 4)
    }

    deinit {
        sf_close(file)
        if let converter { src_delete(converter) }
        raw.deallocate()
        input.deallocate()
        converted.deallocate()
        fifo.deallocate()
        tail.deallocate()
    }

    /// Fills `buffer` with the next interleaved frames of the bed.
    /// - Returns: frames written; fewer than asked only at the end of the track.
    /// - Throws: `.io` when reading the file fails part way.
    public mutating func read(into buffer: UnsafeMutableBufferPointer<Float>) throws(SoundFileError) -> Int {
        guard let out = buffer.baseAddress else { return 0 }
        let wanted = Int(min(Int64(buffer.count / channels), totalFrames - emitted))
        var done = 0
        while done < wanted {
            // Hold back the last `crossfadeFrames` of a pass: they become the loop's tail.
            while fifoCount <= crossfadeFrames {
                try produce()
            }
            let n = min(wanted - done, fifoCount - crossfadeFrames)
            for i in 0..<n {
                let from = fifo + ((fifoStart + i) % fifoCapacity) * channels
                let to = out + (done + i) * channels
                for c in 0..<channels { to[c] = from[c] }
            }
            fifoStart = (fifoStart + n) % fifoCapacity
            fifoCount -= n
            done += n
        }
        applyFades(out, frames: done)
        emitted += Int64(done)
        return done
    }

    /// The fade-in at the track's start and the fade-out at its end.
    private func applyFades(_ out: UnsafeMutablePointer<Float>, frames: Int) {
        for i in 0..<frames {
            let f = emitted + Int64(i)
            var g: Float = 1
            if f < fadeInFrames { g = Float(f) / Float(fadeInFrames) }
            let fromEnd = totalFrames - 1 - f
            if fromEnd < fadeOutFrames {
                let x = Float(fromEnd) / Float(fadeOutFrames)
                g *= x * x   // a slow start and a quiet end: closer to how a fade sounds even
            }
            if g != 1 {
                for c in 0..<channels { out[i * channels + c] *= g }
            }
        }
    }

    /// Converts the next block of the file into the FIFO; at the end of the file, sets the
    /// last frames aside as the tail and starts the next pass.
    private mutating func produce() throws(SoundFileError) {
        let made = try convertBlock()
        if made > 0 {
            // The start of a new pass fades in under the previous pass's tail.
            if crossfadePosition < tailCount {
                let n = min(made, tailCount - crossfadePosition)
                for i in 0..<n {
                    let (fadeIn, fadeOut) = equalPower(crossfadePosition + i, of: tailCount)
                    let t = tail + (crossfadePosition + i) * channels
                    let f = converted + i * channels
                    for c in 0..<channels { f[c] = f[c] * fadeIn + t[c] * fadeOut }
                }
                crossfadePosition += n
            }
            push(converted, made)
            return
        }
        // The pass is over.
        if producedThisPass == 0 {
            throw SoundFileError(kind: .unreadable, path: path, call: "sf_readf_float", reason: "the file holds no audio")
        }
        // The tail is never more than half a pass, so every loop moves the music forward and
        // the next pass (as long as this one) always finishes the crossfade.
        tailCount = Int(min(Int64(crossfadeFrames), Int64(fifoCount), producedThisPass / 2))
        let first = fifoCount - tailCount
        for i in 0..<tailCount {
            let from = fifo + ((fifoStart + first + i) % fifoCapacity) * channels
            for c in 0..<channels { tail[i * channels + c] = from[c] }
        }
        fifoCount = first
        crossfadePosition = 0
        try restart()
    }

    /// Gains for frame `i` of an `n`-frame crossfade: their squares sum to 1, so uncorrelated
    /// music keeps its loudness through the seam.
    private func equalPower(_ i: Int, of n: Int) -> (fadeIn: Float, fadeOut: Float) {
        let x = (Float(i) + 0.5) / Float(n)
        return (sin(Float.pi / 2 * x), cos(Float.pi / 2 * x))
    }

    private mutating func push(_ frames: UnsafeMutablePointer<Float>, _ count: Int) {
        precondition(fifoCount + count <= fifoCapacity, "music FIFO overflow")
        for i in 0..<count {
            let to = fifo + ((fifoStart + fifoCount + i) % fifoCapacity) * channels
            for c in 0..<channels { to[c] = frames[i * channels + c] }
        }
        fifoCount += count
        producedThisPass += Int64(count)
    }

    /// Back to the file's first frame for the next pass of a loop.
    private mutating func restart() throws(SoundFileError) {
        if sf_seek(file, 0, SEEK_SET) < 0 {
            throw SoundFileError(kind: .io, path: path, call: "sf_seek", reason: cleaned(String(cString: sf_strerror(file))))
        }
        if let converter {
            let status = src_reset(converter)
            if status != 0 {
                throw SoundFileError(kind: .io, path: path, call: "src_reset", reason: String(cString: src_strerror(status)))
            }
        }
        inputStart = 0
        inputCount = 0
        fileEnded = false
        producedThisPass = 0
    }

    /// Reads and converts until some frames come out; 0 means the pass has ended.
    ///
    /// The corresponding C functions are `sf_readf_float` and `src_process`.
    private mutating func convertBlock() throws(SoundFileError) -> Int {
        while true {
            if inputCount == 0 && !fileEnded {
                let got = Int(sf_readf_float(file, raw, sf_count_t(Self.blockFrames)))
                if got < Self.blockFrames {
                    if sf_error(file) != 0 {
                        throw SoundFileError(kind: .io, path: path, call: "sf_readf_float",
                                             reason: cleaned(String(cString: sf_strerror(file))))
                    }
                    fileEnded = true
                }
                try requireFinite(UnsafeBufferPointer(start: raw, count: got * fileChannels), path: path)
                mapChannels(frames: got)
                inputStart = 0
                inputCount = got
            }
            guard let converter else {
                // Same rate: the mapped frames are the output.
                let n = inputCount
                if n == 0 { return 0 }
                converted.update(from: input + inputStart * channels, count: n * channels)
                inputStart += n
                inputCount = 0
                return n
            }
            var data = SRC_DATA()
            data.data_in = UnsafePointer(input + inputStart * channels)
            data.input_frames = inputCount
            data.data_out = converted
            data.output_frames = convertedCapacity
            data.end_of_input = fileEnded ? 1 : 0
            data.src_ratio = ratio
            let status = src_process(converter, &data)
            if status != 0 {
                throw SoundFileError(kind: .io, path: path, call: "src_process", reason: String(cString: src_strerror(status)))
            }
            inputStart += data.input_frames_used
            inputCount -= data.input_frames_used
            if data.output_frames_gen > 0 { return data.output_frames_gen }
            if fileEnded && inputCount == 0 { return 0 }
        }
    }

    /// The block just read, in the output's channels.
    private func mapChannels(frames: Int) {
        for i in 0..<frames {
            let from = raw + i * fileChannels
            let to = input + i * channels
            if channels == 1 {
                var sum: Float = 0
                for c in 0..<fileChannels { sum += from[c] }
                to[0] = sum / Float(fileChannels)
            } else {
                for c in 0..<channels { to[c] = from[min(c, fileChannels - 1)] }
            }
        }
    }
}
