import CSndFile
import Glibc
import StrideCueCore
import StrideCueFiles

/// Sample encoding of a written file.
public enum SampleEncoding: String, Sendable, CaseIterable {
    case pcm16 = "16"
    case pcm24 = "24"
    case float32 = "32f"

    var sndfileSubtype: Int32 {
        switch self {
        case .pcm16: return Int32(SF_FORMAT_PCM_16)
        case .pcm24: return Int32(SF_FORMAT_PCM_24)
        case .float32: return Int32(SF_FORMAT_FLOAT)
        }
    }
}

/// Writes a sound file atomically: frames go to a hidden temporary file in the destination's
/// folder, which is renamed onto the destination only by `commit()`.
///
/// If the writer is dropped without `commit()` (an error, Ctrl-C), the temporary file is
/// removed and nothing appears at the destination.
///
/// libsndfile writes through StrideCue's own file callbacks (`sf_open_virtual`), so every
/// `write(2)` is seen here: some codecs (LAME's MP3 encoder among them) only log a short write,
/// and a full disk must never pass for a finished file. The corresponding C calls are
/// `AtomicFile` (see there), `sf_open_virtual`, `sf_set_string`, `sf_command`, `sf_writef_*`, `sf_close`,
/// and `write`.
public struct SoundFileWriter: ~Copyable {
    public let path: String
    public let format: RenderFormat
    public let encoding: SampleEncoding
    public let type: SoundFileType
    /// The new version of the file, put in place by `commit()`; discarded when dropped.
    private let atomic: AtomicFile
    private var file: OpaquePointer?
    /// The encoder of an M4A, which libsndfile does not write.
    private var aac: FFmpegTrackEncoder?
    private let sink: UnsafeMutablePointer<FileSink>
    /// Conversion space for one block, allocated once.
    private let int16Block: UnsafeMutableBufferPointer<Int16>
    private let int32Block: UnsafeMutableBufferPointer<Int32>

    /// Samples per conversion block (interleaved).
    public static let blockSamples = 262_144

    /// Creates the temporary file and opens it for writing a plain, untagged WAV.
    /// - Throws: `SoundFileError` of kind `.cannotCreate` when the folder does not exist or
    ///   cannot be written.
    public init(path: String, format: RenderFormat, encoding: SampleEncoding) throws(SoundFileError) {
        try self.init(path: path, format: format, type: .wav, encoding: encoding)
    }

    /// Creates the temporary file and opens it for writing `type`.
    ///
    /// - Parameters:
    ///   - type: the container and codec (see `SoundFileType(path:)`).
    ///   - encoding: sample precision for WAV and FLAC; the lossy codecs take floats.
    ///   - quality: 0 (smallest) … 10 (best) for the lossy codecs, nil for their default
    ///     (`SoundFileType.defaultQuality`); ignored by WAV and FLAC.
    ///   - tags: title, artist and so on, or nil for an untagged file.
    /// - Throws: `.cannotCreate` when the folder cannot be written or the codec refuses the
    ///   format (check `SoundFileType.problem(with:encoding:)` first for a friendlier message).
    ///   - frames: how long the file will be, when known: a WAV that would pass 4 GiB is then
    ///     written as RF64 (see `SoundFileType.needsRF64`), so its header tells its length.
    public init(path: String, format: RenderFormat, type: SoundFileType, encoding: SampleEncoding = .pcm16,
                quality: Int? = nil, tags: TrackTags? = nil, frames: Int64? = nil) throws(SoundFileError) {
        let atomic: AtomicFile
        do throws(FileError) {
            atomic = try AtomicFile(replacing: path)
        } catch {
            throw SoundFileError(kind: .cannotCreate, path: path, call: error.call,
                                 reason: error.reason ?? String(cString: strerror(error.errno)))
        }
        let sink = UnsafeMutablePointer<FileSink>.allocate(capacity: 1)
        sink.initialize(to: FileSink(fd: atomic.descriptor, behind: WriteBehind(descriptor: atomic.descriptor, path: path)))
        func fail(_ error: SoundFileError, closing handle: OpaquePointer? = nil) -> SoundFileError {
            if let handle { sf_close(handle) }
            sink.deallocate()
            return error
        }

        if type == .m4a {
            let encoder: FFmpegTrackEncoder
            do throws(SoundFileError) {
                encoder = try FFmpegTrackEncoder(fd: atomic.descriptor, path: path, format: format,
                                                 bitsPerSecond: aacBitsPerSecond(quality: quality, channels: format.channels),
                                                 tags: tags)
            } catch {
                throw fail(error)
            }
            self.path = path
            self.format = format
            self.encoding = encoding
            self.type = type
            self.atomic = atomic
            self.file = nil
            self.aac = encoder
            self.sink = sink
            int16Block = .allocate(capacity: 0)
            int32Block = .allocate(capacity: 0)
            return
        }
        if type == .mp3, let tags {
            // The ID3 tag goes first; libsndfile's MP3 stream starts after it (see ID3Tag).
            let tag = ID3Tag.bytes(for: tags)
            let written = tag.withUnsafeBytes { FileSink.write(sink, $0.baseAddress!, tag.count) }
            if written != tag.count {
                throw fail(SoundFileError(kind: .io, path: path, call: "write", reason: String(cString: strerror(sink.pointee.error))))
            }
            sink.pointee.base = Int64(tag.count)
        }

        var info = SF_INFO()
        info.samplerate = Int32(format.sampleRate)
        info.channels = Int32(format.channels)
        let rf64 = frames.map { type.needsRF64(frames: $0, format: format, encoding: encoding) } ?? false
        info.format = type.sndfileFormat(encoding: encoding, tagged: tags != nil, rf64: rf64)
        var io = FileSink.virtualIO
        let opened = sf_open_virtual(&io, Int32(SFM_WRITE), &info, sink)
        do throws(SoundFileError) {
            try sndfileCheck(opened == nil, "sf_open_virtual", path: path, kind: .cannotCreate, message: .lastOpen)
        } catch {
            throw fail(error)
        }
        let handle = opened!
        do throws(SoundFileError) {
            try Self.configure(handle, type: type, format: format, quality: quality, tags: tags, path: path)
        } catch {
            throw fail(error, closing: handle)
        }
        self.path = path
        self.format = format
        self.encoding = encoding
        self.type = type
        self.atomic = atomic
        self.file = handle
        self.sink = sink
        int16Block = .allocate(capacity: Self.blockSamples + Self.int16Slack)
        int32Block = .allocate(capacity: Self.blockSamples)
    }

    /// Settings that must reach libsndfile before the first frame: header options, the
    /// codec's quality, the tags.
    private static func configure(_ handle: OpaquePointer, type: SoundFileType, format: RenderFormat,
                                  quality: Int?, tags: TrackTags?, path: String) throws(SoundFileError) {
        func command(_ command: Int32, _ name: String, _ value: Double) throws(SoundFileError) {
            var v = value
            try sndfileCheck(sf_command(handle, command, &v, Int32(MemoryLayout<Double>.size)) != SF_TRUE, "sf_command(\(name))",
                             path: path, kind: .cannotCreate, message: .handle(handle)) { "\(type.displayName) refused the setting (\($0))" }
        }
        switch type {
        case .wav:
            // Without a PEAK chunk the header does not depend on the samples written. (This
            // command answers with the setting before, not with a status: nothing to check.)
            sf_command(handle, Int32(SFC_SET_ADD_PEAK_CHUNK), nil, Int32(SF_FALSE))
            if tags != nil {
                // Mono is the front centre speaker: libsndfile has no WAVEX mask for "mono".
                var map: [Int32] = format.channels == 1 ? [Int32(SF_CHANNEL_MAP_CENTER)]
                    : [Int32(SF_CHANNEL_MAP_LEFT), Int32(SF_CHANNEL_MAP_RIGHT)]
                let size = Int32(map.count * MemoryLayout<Int32>.size)
                try sndfileCheck(sf_command(handle, Int32(SFC_SET_CHANNEL_MAP_INFO), &map, size) != SF_TRUE,
                                 "sf_command(SFC_SET_CHANNEL_MAP_INFO)", path: path, kind: .cannotCreate, message: .handle(handle))
            }
        case .flac, .m4a:
            break
        case .ogg, .opus, .mp3:
            switch CodecSetting.forType(type, quality: quality ?? SoundFileType.defaultQuality) {
            case .vbrQuality(let q)?: try command(Int32(SFC_SET_VBR_ENCODING_QUALITY), "SFC_SET_VBR_ENCODING_QUALITY", q)
            case .compressionLevel(let c)?: try command(Int32(SFC_SET_COMPRESSION_LEVEL), "SFC_SET_COMPRESSION_LEVEL", c)
            case nil: break
            }
            if type == .mp3 {
                // Variable bitrate: silence (rests) costs almost nothing. libsndfile re-reads the
                // quality when the mode changes, so the mode comes after it.
                var mode = Int32(SF_BITRATE_MODE_VARIABLE)
                try sndfileCheck(sf_command(handle, Int32(SFC_SET_BITRATE_MODE), &mode, Int32(MemoryLayout<Int32>.size)) != SF_TRUE,
                                 "sf_command(SFC_SET_BITRATE_MODE)", path: path, kind: .cannotCreate, message: .handle(handle))
            }
        }
        // MP3 tags are already in the file; the others go through libsndfile.
        if let tags, type != .mp3 {
            for (kind, text) in tags.sndfileStrings {
                let status = sf_set_string(handle, kind, text)
                // WAV's INFO chunk has no track number or software field for every version of
                // libsndfile; those two are nice to have, the rest must be there.
                try sndfileCheck(status != 0 && kind != Int32(SF_STR_TRACKNUMBER) && kind != Int32(SF_STR_SOFTWARE),
                                 "sf_set_string", path: path, kind: .cannotCreate, message: .status(status))
            }
        }
    }

    deinit {
        if let file { sf_close(file) }
        sink.deallocate()
        int16Block.deallocate()
        int32Block.deallocate()
    }

    /// Appends interleaved frames rendered as floats in −1…1, quantized for the file's encoding
    /// (WAV, FLAC) or handed to the encoder as they are (the lossy codecs).
    /// - Throws: `.io` when the disk is full or the write fails.
    public mutating func write(_ samples: UnsafeBufferPointer<Float>) throws(SoundFileError) {
        if let aac { return try aac.write(samples) }
        guard let file else { return }
        var offset = 0
        while offset < samples.count {
            let n = min(Self.blockSamples, samples.count - offset)
            let chunk = UnsafeBufferPointer(rebasing: samples[offset..<offset + n])
            let frames = sf_count_t(n / format.channels)
            let written: sf_count_t
            let call: StaticString
            if type.isLossy || encoding == .float32 {
                written = sf_writef_float(file, chunk.baseAddress, frames)
                call = "sf_writef_float"
            } else if encoding == .pcm16 {
                let block = Self.int16Destination(in: int16Block, forFileOffset: sink.pointee.position)
                SampleQuantizer.toInt16(chunk, into: block)
                written = sf_writef_short(file, block, frames)
                call = "sf_writef_short"
            } else {
                SampleQuantizer.toInt24(chunk, into: int32Block.baseAddress!)
                written = sf_writef_int(file, int32Block.baseAddress, frames)
                call = "sf_writef_int"
            }
            try check(file, wrote: written, of: frames, call: call)
            offset += n
        }
    }

    /// Finishes the stream (the encoder's last frames, the header), closes the file and renames
    /// it onto the destination.
    /// - Parameter beforeRename: see `AtomicFile.commit`.
    public consuming func commit(beforeRename: ((_ stamp: String) throws(FileError) -> Void)? = nil) throws(SoundFileError) {
        if let aac {
            try aac.finish()
            self.aac = nil
        } else {
            guard let handle = file else { return }
            file = nil
            let status = sf_close(handle)
            if sink.pointee.error != 0 {
                throw SoundFileError(kind: .io, path: path, call: "write", reason: String(cString: strerror(sink.pointee.error)))
            }
            try sndfileCheck(status != 0, "sf_close", path: path, message: .status(status))
        }
        let fd = sink.pointee.fd
        // Give back space reserved past the end (`reserveSpace` reckoned on a header that
        // turned out shorter); truncating to its own size frees blocks past the end.
        var st = stat()
        _ = try systemCheck(fstat(fd, &st), "fstat", path: path, kind: .io)
        _ = try systemCheck(ftruncate(fd, st.st_size), "ftruncate", path: path, kind: .io)
        sink.pointee.fd = -1
        do throws(FileError) {
            try atomic.commit(beforeRename: beforeRename)
        } catch {
            throw SoundFileError(kind: error.exitStatus == 73 ? .cannotCreate : .io, path: path, call: error.call,
                                 reason: error.reason ?? String(cString: strerror(error.errno)))
        }
    }

    /// Reserves the disk space a WAV of `frames` frames needs, before writing it.
    ///
    /// A full disk is then reported at once, not after minutes of rendering, and the writes
    /// that follow go faster (the filesystem allocates once instead of block by block: 31 →
    /// 23 ms for 77 MB on ext4). Only for WAV, whose size is known in advance; the size of
    /// the file is not changed, and `commit()` gives back what was not used. A filesystem
    /// that cannot reserve space is written as before.
    /// - Throws: `.io` when the space is not there.
    public func reserveSpace(forFrames frames: Int64) throws(SoundFileError) {
        guard type == .wav, frames > 0 else { return }
        let bytesPerSample: Int64 = encoding == .pcm16 ? 2 : encoding == .pcm24 ? 3 : 4
        let (data, overflow) = frames.multipliedReportingOverflow(by: Int64(format.channels) * bytesPerSample)
        guard !overflow else { return }
        let status = fallocate(sink.pointee.fd, FALLOC_FL_KEEP_SIZE, 0, off_t(sink.pointee.position + data))
        if status != 0, errno == EOPNOTSUPP || errno == ENOSYS { return }
        _ = try systemCheck(status, "fallocate", path: path, kind: .io)
    }

    /// Whether this file takes 16-bit PCM (a WAV or FLAC at 16 bits), which a caller may
    /// quantize itself — on another thread than the one writing — and hand to `write(int16:)`.
    public var takesInt16: Bool { !type.isLossy && encoding == .pcm16 }

    /// The byte offset in the file where the next write lands.
    public var fileOffset: Int64 { sink.pointee.position }

    /// Appends interleaved 16-bit frames, already quantized with `SampleQuantizer.toInt16`.
    /// Only for a writer that `takesInt16`.
    /// - Throws: `.io` when the disk is full or the write fails.
    public mutating func write(int16 samples: UnsafeBufferPointer<Int16>) throws(SoundFileError) {
        precondition(takesInt16, "write(int16:) on a \(type.displayName) file at \(encoding.rawValue) bits")
        guard let file, samples.count > 0 else { return }
        let frames = sf_count_t(samples.count / format.channels)
        try check(file, wrote: sf_writef_short(file, samples.baseAddress, frames), of: frames, call: "sf_writef_short")
    }

    /// Throws `.io` unless a `sf_writef_*` call wrote every frame and no `write(2)` failed.
    private func check(_ file: OpaquePointer, wrote written: sf_count_t, of frames: sf_count_t,
                       call: StaticString) throws(SoundFileError) {
        // A failed write(2) underneath is told by its errno: libsndfile's words for it are vague.
        let code = sink.pointee.error != 0 ? sink.pointee.error : errno
        let sinkFailed = sink.pointee.error != 0
        try sndfileCheck(written != frames || sinkFailed || sf_error(file) != 0, "\(call)", path: path, message: .handle(file)) {
            code != 0 && ($0.isEmpty || $0.hasPrefix("No error") || sinkFailed) ? String(cString: strerror(code)) : $0
        }
    }

    /// Where in `space` to put 16-bit samples bound for `offset` in the file: at the same
    /// offset within a cache line. libsndfile hands little-endian 16-bit samples to `write(2)`
    /// as they are, and the kernel copies them into the page cache about twice as fast when
    /// source and destination are equally aligned (a plain WAV's data starts at byte 44).
    /// `space` needs `int16Slack` samples more than it will hold.
    public static func int16Destination(in space: UnsafeMutableBufferPointer<Int16>,
                                        forFileOffset offset: Int64) -> UnsafeMutablePointer<Int16> {
        let base = space.baseAddress!
        let position = Int(truncatingIfNeeded: offset)
        guard position & 1 == 0 else { return base }
        let shift = (position &- Int(bitPattern: base)) & (cacheLine - 1)
        return base + shift / 2
    }

    /// Extra samples `int16Destination` may skip at the start of its space.
    public static let int16Slack = cacheLine / 2

    private static let cacheLine = 64

    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }
}

/// The file libsndfile writes into, seen through its virtual I/O callbacks.
///
/// `base` hides a prefix StrideCue wrote itself (an MP3's ID3 tag): libsndfile sees a file
/// that starts after it. `error` keeps the errno of the first failed `write(2)`; `position` is
/// the file offset the next write goes to.
struct FileSink {
    var fd: Int32
    /// Hands what is written to the disk as the file grows (see `WriteBehind`).
    var behind: WriteBehind?
    var base: Int64 = 0
    var error: Int32 = 0
    var position: Int64 = 0

    /// Writes all of `count` bytes, retrying EINTR and short writes; returns the bytes written.
    static func write(_ sink: UnsafeMutablePointer<FileSink>, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
        var done = 0
        while done < count {
            let n = Glibc.write(sink.pointee.fd, bytes + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                if sink.pointee.error == 0 { sink.pointee.error = errno }
                break
            }
            if n == 0 { break }
            done += n
        }
        sink.pointee.position += Int64(done)
        if sink.pointee.behind != nil && sink.pointee.error == 0 {
            do throws(FileError) {
                try sink.pointee.behind!.wrote(upTo: sink.pointee.position)
            } catch {
                sink.pointee.error = error.errno
                return 0
            }
        }
        return done
    }

    /// The callbacks, which find the sink through libsndfile's `user_data`.
    static var virtualIO: SF_VIRTUAL_IO {
        SF_VIRTUAL_IO(
            get_filelen: { user in
                let sink = user!.assumingMemoryBound(to: FileSink.self)
                var st = stat()
                guard fstat(sink.pointee.fd, &st) == 0 else { return -1 }
                return sf_count_t(st.st_size) - sink.pointee.base
            },
            seek: { offset, whence, user in
                let sink = user!.assumingMemoryBound(to: FileSink.self)
                let target = whence == SEEK_SET ? offset + sink.pointee.base : offset
                let at = lseek(sink.pointee.fd, off_t(target), whence)
                if at >= 0 { sink.pointee.position = Int64(at) }
                return at < 0 ? -1 : sf_count_t(at) - sink.pointee.base
            },
            read: { buffer, count, user in
                let sink = user!.assumingMemoryBound(to: FileSink.self)
                var done = 0
                while done < Int(count) {
                    let n = Glibc.read(sink.pointee.fd, buffer! + done, Int(count) - done)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    done += n
                }
                sink.pointee.position += Int64(done)
                return sf_count_t(done)
            },
            write: { bytes, count, user in
                let sink = user!.assumingMemoryBound(to: FileSink.self)
                return sf_count_t(FileSink.write(sink, bytes!, Int(count)))
            },
            tell: { user in
                let sink = user!.assumingMemoryBound(to: FileSink.self)
                let at = lseek(sink.pointee.fd, 0, SEEK_CUR)
                return at < 0 ? -1 : sf_count_t(at) - sink.pointee.base
            }
        )
    }
}
