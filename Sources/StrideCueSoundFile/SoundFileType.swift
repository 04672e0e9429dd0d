import CSndFile
import Glibc
import StrideCueCore

/// A container and codec, chosen from a file name's extension. All are written by libsndfile
/// but M4A, which FFmpeg's libraries write (`FFmpegTrackEncoder`).
public enum SoundFileType: String, Sendable, CaseIterable {
    /// RIFF WAVE, PCM or float.
    case wav
    /// FLAC, lossless, 16 or 24 bit.
    case flac
    /// Ogg Vorbis.
    case ogg
    /// Ogg Opus.
    case opus
    /// MPEG-1/2 Layer III, encoded by LAME.
    case mp3
    /// AAC in an MPEG-4 audio file, an iPhone's own format, encoded by FFmpeg.
    case m4a

    /// The type a path's extension names (case-insensitive), or nil.
    public init?(path: String) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        self.init(rawValue: name[name.index(after: dot)...].lowercased())
    }

    /// Lossy types take a `quality`; lossless ones keep every sample.
    public var isLossy: Bool {
        switch self {
        case .wav, .flac: return false
        case .ogg, .opus, .mp3, .m4a: return true
        }
    }

    /// Sample rates the codec accepts, or nil for any rate StrideCue renders.
    ///
    /// Opus runs at five rates only; LAME writes the nine MPEG-1/2/2.5 rates (none above 48 kHz).
    public var sampleRates: [Int]? {
        switch self {
        case .wav, .flac, .ogg: return nil
        case .opus: return [8_000, 12_000, 16_000, 24_000, 48_000]
        case .mp3: return [8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000]
        case .m4a: return FFmpegTrackEncoder.sampleRates
        }
    }

    /// The highest rate libvorbis has encoder settings for.
    static let vorbisMaximumRate = 192_000

    /// Why this type cannot hold `format` at `encoding`, or nil when it can.
    ///
    /// The lossy codecs take float samples and choose their own precision, so `encoding`
    /// only matters to WAV and FLAC; FLAC has no float samples.
    public func problem(with format: RenderFormat, encoding: SampleEncoding) -> String? {
        if let rates = sampleRates, !rates.contains(format.sampleRate) {
            let list = rates.map(String.init)
            return "\(displayName) supports \(list.dropLast().joined(separator: ", ")) or \(list.last!) Hz, not \(format.sampleRate)"
        }
        if self == .ogg, format.sampleRate > Self.vorbisMaximumRate {
            return "Ogg Vorbis supports up to \(Self.vorbisMaximumRate) Hz, not \(format.sampleRate)"
        }
        if self == .flac, encoding == .float32 {
            return "FLAC stores 16- or 24-bit samples, not 32-bit float; use --bits 16 or 24"
        }
        if format.channels < 1 || format.channels > 2 {
            return "\(displayName) files here are mono or stereo, not \(format.channels) channels"
        }
        return nil
    }

    /// The largest data chunk a plain RIFF WAV can describe: its sizes are 32-bit, so a file
    /// past 4 GiB would carry a header that lies about its length (players stop early).
    /// Debug builds take `STRIDECUE_WAV_LIMIT_BYTES`, so tests need not write 4 GiB.
    public static var wavLimitBytes: Int64 {
        #if DEBUG
        if let text = getenv("STRIDECUE_WAV_LIMIT_BYTES").map({ String(cString: $0) }), let bytes = Int64(text), bytes > 0 {
            return bytes
        }
        #endif
        // 4 GiB less the RIFF header and what tags and a channel mask take.
        return (1 << 32) - 64 * 1024
    }

    /// Bytes of sample data in a PCM file of `frames` frames.
    public static func dataBytes(frames: Int64, format: RenderFormat, encoding: SampleEncoding) -> Int64 {
        let bytesPerSample: Int64 = encoding == .pcm16 ? 2 : encoding == .pcm24 ? 3 : 4
        let (bytes, overflow) = frames.multipliedReportingOverflow(by: Int64(format.channels) * bytesPerSample)
        return overflow ? .max : bytes
    }

    /// Whether a WAV of `frames` frames must be written as RF64 (the EBU's 64-bit WAV, which
    /// libsndfile, ffmpeg, sox and the common editors read) to tell its length truly.
    public func needsRF64(frames: Int64, format: RenderFormat, encoding: SampleEncoding) -> Bool {
        self == .wav && Self.dataBytes(frames: frames, format: format, encoding: encoding) > Self.wavLimitBytes
    }

    /// FLAC counts a stream's frames in 36 bits.
    static let flacMaximumFrames: Int64 = (1 << 36) - 1
    /// An MP3's Xing/LAME header counts the stream's bytes in 32 bits; LAME's VBR never
    /// passes 320 kbit/s, so this many seconds always fit.
    static let mp3MaximumSeconds = Double(UInt32.max) / (320_000 / 8)

    /// Why a file of this type cannot hold `frames` frames, or nil when it can. WAV holds any
    /// length (as RF64 past 4 GiB); Ogg counts in 64 bits.
    public func lengthProblem(frames: Int64, format: RenderFormat) -> String? {
        let seconds = Double(frames) / Double(format.sampleRate)
        switch self {
        case .flac where frames > Self.flacMaximumFrames:
            let most = Double(Self.flacMaximumFrames) / Double(format.sampleRate)
            return "FLAC holds at most \(hoursAndMinutes(most)) at \(format.sampleRate) Hz, and this track lasts \(hoursAndMinutes(seconds))"
        case .mp3 where seconds > Self.mp3MaximumSeconds:
            return "an MP3 can say how long it is up to \(hoursAndMinutes(Self.mp3MaximumSeconds)), and this track lasts \(hoursAndMinutes(seconds))"
        default:
            return nil
        }
    }

    /// The name people know the format by.
    public var displayName: String {
        switch self {
        case .wav: return "WAV"
        case .flac: return "FLAC"
        case .ogg: return "Ogg Vorbis"
        case .opus: return "Opus"
        case .mp3: return "MP3"
        case .m4a: return "M4A (AAC)"
        }
    }

    /// The lowercase extensions, for messages: `.wav, .flac, .ogg, .opus or .mp3`.
    public static var extensionList: String {
        let all = allCases.map { ".\($0.rawValue)" }
        return all.dropLast().joined(separator: ", ") + " or " + all.last!
    }

    /// The `SF_INFO.format` for this type.
    func sndfileFormat(encoding: SampleEncoding, tagged: Bool, rf64: Bool = false) -> Int32 {
        switch self {
        case .wav where rf64:
            return Int32(SF_FORMAT_RF64) | encoding.sndfileSubtype
        case .wav:
            // A tagged (phone) WAV carries a channel mask (WAVE_FORMAT_EXTENSIBLE): without one,
            // decoders such as ffmpeg have to guess the speaker layout and warn about it. The
            // plain WAV stays byte for byte what `render` has always written.
            return Int32(tagged ? SF_FORMAT_WAVEX : SF_FORMAT_WAV) | encoding.sndfileSubtype
        case .flac:
            return Int32(SF_FORMAT_FLAC) | (encoding == .pcm24 ? Int32(SF_FORMAT_PCM_24) : Int32(SF_FORMAT_PCM_16))
        case .ogg:
            return Int32(SF_FORMAT_OGG) | Int32(SF_FORMAT_VORBIS)
        case .opus:
            return Int32(SF_FORMAT_OGG) | Int32(SF_FORMAT_OPUS)
        case .mp3:
            return Int32(SF_FORMAT_MPEG) | Int32(SF_FORMAT_MPEG_LAYER_III)
        case .m4a:
            preconditionFailure("M4A is written by FFmpeg, not libsndfile")
        }
    }

    /// The quality StrideCue uses when none is asked for: transparent for clicks and speech,
    /// with room for music (MP3: LAME -V3; Vorbis: quality 0.7; Opus: 64 kbit/s per channel).
    public static let defaultQuality = 7

    /// Qualities `--quality` accepts: 0 smallest file … 10 best sound.
    public static let qualityRange = 0...10
}

/// How a lossy codec is told a 0–10 quality (10 best), through libsndfile's commands.
enum CodecSetting: Equatable {
    /// `SFC_SET_VBR_ENCODING_QUALITY`, 0…1, higher is better.
    case vbrQuality(Double)
    /// `SFC_SET_COMPRESSION_LEVEL`, 0…1, lower is better.
    case compressionLevel(Double)

    /// The setting for `type` at `quality` (0…10), or nil for lossless types.
    ///
    /// - MP3: libsndfile maps compression level c to LAME's VBR quality 10·c, so quality q is
    ///   LAME's `-V (10 − q)`: 10 → V0 (≈ 245 kbit/s), 7 → V3 (≈ 175), 4 → V6 (≈ 115).
    /// - Vorbis: the VBR quality is libvorbis's own 0…1 scale (oggenc's `-q` divided by 10).
    /// - Opus: libsndfile maps compression level c to (1 − c)·250 + 6 kbit/s per channel, a
    ///   range whose top is far past transparent; q is mapped onto 8 + 8·q kbit/s per channel
    ///   instead (7 → 64, 10 → 88).
    static func forType(_ type: SoundFileType, quality: Int) -> CodecSetting? {
        let q = Double(min(10, max(0, quality)))
        switch type {
        case .wav, .flac, .m4a: return nil
        case .mp3: return .compressionLevel(1 - q / 10)
        case .ogg: return .vbrQuality(q / 10)
        case .opus:
            let kbps = 8 + 8 * q
            return .compressionLevel(1 - (kbps - 6) / 250)
        }
    }
}

/// The AAC bit rate for a 0–10 quality, all channels together: 32 + 8·q kbit/s a channel
/// (7 → 88, so 176 kbit/s stereo, where Apple's own music sits near 256).
func aacBitsPerSecond(quality: Int?, channels: Int) -> Int {
    let q = min(10, max(0, quality ?? SoundFileType.defaultQuality))
    return (32 + 8 * q) * 1_000 * channels
}

/// "7 h 5 min", for messages about lengths.
func hoursAndMinutes(_ seconds: Double) -> String {
    let minutes = Int(seconds / 60)
    return minutes >= 60 ? "\(minutes / 60) h \(minutes % 60) min" : "\(minutes) min"
}
