import CSampleRate
import CSndFile
import Glibc

/// A music file decoded and converted once, at the track's rate and channel count: one pass of
/// it, kept in an unlinked temporary file mapped into memory, from which every pass over the
/// track (the loudness analysis, the gain search, the written pass) reads without decoding or
/// converting again.
///
/// Any format libsndfile reads (WAV, FLAC, Ogg, Opus, MP3, …); what libsndfile refuses (M4A/AAC
/// and the rest of what phones hold) is handed to FFmpeg. Only as much of the file as the track
/// can use is decoded: a song longer than the track stops decoding at the track's length.
///
/// The temporary file, not the heap, holds the samples: an hour of stereo music at 48 kHz is
/// 1.4 GB, which the page cache can hold or drop as memory allows. It is removed on close (it
/// has no name from the start).
public final class MusicLoop {
    public let path: String
    public let sampleRate: Int
    public let channels: Int
    /// Frames of one pass of the music at the track's rate (at most what the track needs).
    public let frames: Int
    /// Frames of the loop crossfade.
    public let crossfadeFrames: Int
    /// The libraries that decoded it: "libsndfile" or "FFmpeg".
    public let decoder: String
    private let store: SpillStore

    static let blockFrames = 4_096
    public static let defaultCrossfadeSeconds = 1.0

    /// Decodes and converts `path` for a track at `sampleRate` with `channels` channels.
    /// - Parameters:
    ///   - maxFrames: frames the track lasts; decoding stops there.
    ///   - progress: told the fraction of the file decoded so far, now and then.
    ///   - checkpoint: called between blocks; throws to stop (Ctrl-C).
    /// - Throws: `SoundFileError` — `.missing` (66) when there is no such file or it is not a
    ///   regular file, `.unreadable` (65) when neither libsndfile nor FFmpeg can decode it, it
    ///   holds no audio, or its samples are not numbers; `.io` (74) when reading fails part way
    ///   or the temporary file cannot be written — or what `checkpoint` throws.
    public init(path: String, sampleRate: Int, channels: Int, maxFrames: Int64,
                crossfadeSeconds: Double = defaultCrossfadeSeconds,
                progress: (Double) -> Void = { _ in }, checkpoint: () throws -> Void = {}) throws {
        precondition(sampleRate > 0 && channels >= 1 && maxFrames >= 0)
        let source = try openMusic(path)
        self.path = path
        self.sampleRate = sampleRate
        self.channels = channels
        decoder = source.library
        store = try SpillStore(channels: channels, path: path)
        let fileChannels = source.channels
        let ratio = Double(sampleRate) / Double(source.sampleRate)
        var converter: OpaquePointer? = nil
        if source.sampleRate != sampleRate {
            var error: Int32 = 0
            // libsamplerate's fastest sinc converter: 97 dB of signal to noise, plenty for a bed
            // under clicks, at about a third of the medium converter's cost.
            converter = src_new(Int32(SRC_SINC_FASTEST), Int32(channels), &error)
            if converter == nil {
                throw SoundFileError(kind: .unreadable, path: path, call: "src_new", reason: String(cString: src_strerror(error)))
            }
        }
        defer { if let converter { src_delete(converter) } }
        let raw = UnsafeMutablePointer<Float>.allocate(capacity: Self.blockFrames * fileChannels)
        let input = UnsafeMutablePointer<Float>.allocate(capacity: Self.blockFrames * channels)
        let convertedCapacity = Int((Double(Self.blockFrames) * ratio).rounded(.up)) + 64
        let converted = UnsafeMutablePointer<Float>.allocate(capacity: convertedCapacity * channels)
        defer { raw.deallocate(); input.deallocate(); converted.deallocate() }

        var read: Int64 = 0
        var ended = false
        var blocks = 0
        while !ended && Int64(store.frames) < maxFrames {
            blocks += 1
            if blocks % 16 == 0 {
                try checkpoint()
                if source.expectedFrames > 0 { progress(min(1, Double(read) / Double(source.expectedFrames))) }
            }
            let got = try source.read(into: raw, capacity: Self.blockFrames)
            if got == 0 { ended = true }
            read += Int64(got)
            mapChannels(raw, fileChannels: fileChannels, into: input, channels: channels, frames: got)
            guard let converter else {
                try store.append(input, frames: got)
                continue
            }
            var offset = 0
            repeat {
                var data = SRC_DATA()
                data.data_in = UnsafePointer(input + offset * channels)
                data.input_frames = got - offset
                data.data_out = converted
                data.output_frames = convertedCapacity
                data.end_of_input = ended ? 1 : 0
                data.src_ratio = ratio
                let status = src_process(converter, &data)
                if status != 0 {
                    throw SoundFileError(kind: .io, path: path, call: "src_process", reason: String(cString: src_strerror(status)))
                }
                offset += data.input_frames_used
                try store.append(converted, frames: data.output_frames_gen)
                // At the end, drain the converter until it gives no more.
                if offset >= got && !(ended && data.output_frames_gen > 0) { break }
            } while true
        }
        progress(1)
        frames = min(store.frames, Int(clamping: maxFrames))
        if store.frames == 0 && maxFrames > 0 {
            throw SoundFileError(kind: .unreadable, path: path, call: source.library == "FFmpeg" ? "avcodec_receive_frame" : "sf_readf_float",
                                 reason: "the file holds no audio")
        }
        crossfadeFrames = max(0, min(Int((crossfadeSeconds * Double(sampleRate)).rounded()), frames / 4))
    }

    /// Opens `path` as `init` would and closes it again, decoding nothing: the same error for a
    /// file that is missing or that no library reads, where it costs almost nothing (before the
    /// coach's remote starts its server and prints its address).
    public static func checkReadable(_ path: String) throws(SoundFileError) {
        _ = try openMusic(path)
    }

    /// Interleaved frames of the pass, `frames` of them.
    var samples: UnsafePointer<Float> { UnsafePointer(store.base!) }
}

/// The music under a track: a cursor over a `MusicLoop`, looped or cut to the track's length.
///
/// A loop shorter than the track repeats with an equal-power crossfade (no seam, no click); the
/// bed fades in over a few milliseconds at the start and out over a few seconds at the end of
/// the track, so the music never starts or stops on a jump.
///
/// Channels: a mono file plays on both sides; a stereo file keeps its sides; a file with more
/// channels contributes its first two. For a mono track every channel is averaged.
public struct MusicBed {
    public let loop: MusicLoop
    /// Frames the bed lasts: the track's length (`Int64.max` once `openEnd()` was called).
    public private(set) var totalFrames: Int64
    private var emitted: Int64 = 0
    private let fadeInFrames: Int64
    private let fadeOutFrames: Int64
    // The loop's numbers and samples, copied out of it: reading them through the class would
    // retain it, which the real-time path must not. `loop` keeps the samples alive.
    private let music: UnsafePointer<Float>
    private let loopFrames: Int
    private let fade: Int
    private let loopChannels: Int

    public static let fadeInSeconds = 0.010
    public static let fadeOutSeconds = 3.0

    public var channels: Int { loop.channels }
    public var crossfadeFrames: Int { loop.crossfadeFrames }

    /// A bed of `totalFrames` frames over music decoded once.
    public init(loop: MusicLoop, totalFrames: Int64) {
        precondition(totalFrames >= 0)
        self.loop = loop
        self.totalFrames = totalFrames
        fadeInFrames = Int64((Self.fadeInSeconds * Double(loop.sampleRate)).rounded())
        fadeOutFrames = min(Int64((Self.fadeOutSeconds * Double(loop.sampleRate)).rounded()), totalFrames / 4)
        music = loop.samples
        loopFrames = loop.frames
        fade = loop.crossfadeFrames
        loopChannels = loop.channels
    }

    /// From here on the bed has no end and no fade-out: live playback after a tempo key, whose
    /// end is no longer the track's length. The music loops on until the player stops it.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public mutating func openEnd() {
        if totalFrames - emitted > fadeOutFrames { totalFrames = Int64.max }
    }

    /// Frames read (or skipped) so far.
    public var position: Int64 { emitted }

    /// Decodes `path` for a track of `totalFrames` frames at `sampleRate` with `channels` channels.
    /// - Throws: as `MusicLoop.init`.
    public init(path: String, sampleRate: Int, channels: Int, totalFrames: Int64,
                crossfadeSeconds: Double = MusicLoop.defaultCrossfadeSeconds) throws {
        self.init(loop: try MusicLoop(path: path, sampleRate: sampleRate, channels: channels, maxFrames: totalFrames,
                                      crossfadeSeconds: crossfadeSeconds),
                  totalFrames: totalFrames)
    }

    /// Fills `buffer` with the next interleaved frames of the bed.
    /// - Returns: frames written; fewer than asked only at the end of the track.
    ///
    /// Real-time safety: allocates nothing, takes no lock (live playback reads it).
    @_noAllocation @_noLocks
    public mutating func read(into buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        guard let out = buffer.baseAddress else { return 0 }
        let channels = loopChannels
        let wanted = Int(min(Int64(buffer.count / channels), totalFrames - emitted))
        let music = self.music
        let fade = self.fade
        // Pass k ≥ 1 starts with its first `fade` frames crossfaded with the last `fade` of the
        // pass before; the pass then runs to `fade` frames before its end: a period of
        // frames − fade.
        let period = Int64(loopFrames - fade)
        var done = 0
        while done < wanted {
            let f = emitted + Int64(done)
            let pass = f / period, i = Int(f % period)
            let to = out + done * channels
            if pass > 0 && i < fade {
                let n = min(wanted - done, fade - i)
                for j in 0..<n {
                    let (fadeIn, fadeOut) = Self.equalPower(i + j, of: fade)
                    let a = music + (i + j) * channels, b = music + (loopFrames - fade + i + j) * channels
                    for c in 0..<channels { to[j * channels + c] = a[c] * fadeIn + b[c] * fadeOut }
                }
                done += n
            } else {
                let n = min(wanted - done, Int(period) - i)
                // A loop, not `update(from:count:)`, which the checker takes for one that may
                // deallocate (it does not know the samples are plain floats).
                let from = music + i * channels
                for k in 0..<n * channels { to[k] = from[k] }
                done += n
            }
        }
        applyFades(out, frames: done)
        emitted += Int64(done)
        return done
    }

    /// Moves on by `frames` frames (at most to the end of the track) without reading them.
    /// - Returns: the frames skipped.
    @_noAllocation @_noLocks
    public mutating func skip(_ frames: Int) -> Int {
        let n = Int(min(Int64(frames), totalFrames - emitted))
        emitted += Int64(n)
        return n
    }

    /// The fade-in at the track's start and the fade-out at its end. (Mutating although it
    /// changes nothing: a plain method would copy `self`, retaining `loop`.)
    @_noAllocation @_noLocks
    private mutating func applyFades(_ out: UnsafeMutablePointer<Float>, frames: Int) {
        let channels = loopChannels
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

    /// Gains for frame `i` of an `n`-frame crossfade: their squares sum to 1, so uncorrelated
    /// music keeps its loudness through the seam.
    @_noAllocation @_noLocks
    private static func equalPower(_ i: Int, of n: Int) -> (fadeIn: Float, fadeOut: Float) {
        let x = (Float(i) + 0.5) / Float(n)
        // libm's sinf and cosf, vouched for: the checker cannot see into C; they compute and
        // return, neither allocating nor locking.
        return _unsafePerformance { (sin(Float.pi / 2 * x), cos(Float.pi / 2 * x)) }
    }
}

/// `frames` frames of `fileChannels` channels in the track's channels.
private func mapChannels(_ raw: UnsafeMutablePointer<Float>, fileChannels: Int, into input: UnsafeMutablePointer<Float>,
                         channels: Int, frames: Int) {
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

/// Where decoded music comes from, block by block, at the file's own rate and channels.
final class MusicSource {
    let library: String
    let channels: Int
    let sampleRate: Int
    /// Frames at the file's rate, as its header says (0 when unknown).
    let expectedFrames: Int64
    private let soundFile: OpaquePointer?
    private let ffmpeg: FFmpegMusicDecoder?
    private let path: String

    init(soundFile: OpaquePointer, info: SF_INFO, path: String) {
        library = "libsndfile"
        self.soundFile = soundFile
        ffmpeg = nil
        self.path = path
        channels = Int(info.channels)
        sampleRate = Int(info.samplerate)
        expectedFrames = Int64(info.frames)
    }

    init(ffmpeg: FFmpegMusicDecoder) {
        library = "FFmpeg"
        soundFile = nil
        self.ffmpeg = ffmpeg
        path = ffmpeg.path
        channels = ffmpeg.channels
        sampleRate = ffmpeg.sampleRate
        expectedFrames = ffmpeg.expectedFrames
    }

    deinit { if let soundFile { sf_close(soundFile) } }

    /// Up to `capacity` frames, interleaved; 0 at the end.
    /// The corresponding C function is `sf_readf_float` (or FFmpeg's decoding calls).
    func read(into raw: UnsafeMutablePointer<Float>, capacity: Int) throws(SoundFileError) -> Int {
        if let ffmpeg { return try ffmpeg.read(into: raw, capacity: capacity) }
        let got = Int(sf_readf_float(soundFile, raw, sf_count_t(capacity)))
        try sndfileCheck(got < capacity && sf_error(soundFile) != 0, "sf_readf_float", path: path, message: .handle(soundFile!))
        try requireFinite(UnsafeBufferPointer(start: raw, count: got * channels), path: path)
        return got
    }
}

/// Opens music with libsndfile, or — only when libsndfile cannot read it — with FFmpeg.
func openMusic(_ path: String) throws(SoundFileError) -> MusicSource {
    do throws(SoundFileError) {
        let (file, info) = try openSound(path)
        guard info.channels > 0, info.samplerate > 0, info.frames > 0 else {
            sf_close(file)
            throw SoundFileError(kind: .unreadable, path: path, call: "sf_open", reason: "the file holds no audio")
        }
        return MusicSource(soundFile: file, info: info, path: path)
    } catch where error.call == "sf_open_fd" {
        // Not a format libsndfile knows (M4A/AAC, …): FFmpeg's turn, on a fresh descriptor.
        let fd = try openRegularFile(path)
        return MusicSource(ffmpeg: try FFmpegMusicDecoder(fd: fd, path: path))
    }
}

/// Interleaved float frames appended to an unlinked temporary file and read back through a
/// memory map: decoded music the page cache holds or drops as memory allows.
final class SpillStore {
    let channels: Int
    private(set) var frames = 0
    private(set) var base: UnsafeMutablePointer<Float>?
    private var capacityFrames = 0
    private let fd: Int32
    private let path: String

    /// - Parameter path: the music file, for messages.
    init(channels: Int, path: String) throws(SoundFileError) {
        self.channels = channels
        self.path = path
        let folder = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(folder)/stridecue-music-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 {
            throw SoundFileError(kind: .io, path: path, call: "mkstemp",
                                 reason: "cannot keep the decoded music in \(folder) (\(String(cString: strerror(errno))))")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        self.fd = fd
    }

    deinit {
        if let base { munmap(base, capacityFrames * channels * 4) }
        close(fd)
    }

    /// Appends `count` frames, growing the file and its map as needed.
    /// The corresponding C calls are `posix_fallocate`, `munmap` and `mmap`.
    func append(_ source: UnsafePointer<Float>, frames count: Int) throws(SoundFileError) {
        guard count > 0 else { return }
        if frames + count > capacityFrames {
            let grown = max(frames + count, capacityFrames * 2, 1 << 16)
            let bytes = grown * channels * 4
            // Space reserved up front: a full disk is an error here, not a SIGBUS on a write
            // into the map.
            let reserved = posix_fallocate(fd, 0, off_t(bytes))
            if reserved != 0 { errno = reserved; throw failure("posix_fallocate") }
            if let base { munmap(base, capacityFrames * channels * 4) }
            base = nil
            guard let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
                throw failure("mmap")
            }
            base = mapped.assumingMemoryBound(to: Float.self)
            capacityFrames = grown
        }
        (base! + frames * channels).update(from: source, count: count * channels)
        frames += count
    }

    private func failure(_ call: String) -> SoundFileError {
        SoundFileError(kind: .io, path: path, call: call,
                       reason: "cannot keep the decoded music in a temporary file (\(call): \(String(cString: strerror(errno))))")
    }
}
