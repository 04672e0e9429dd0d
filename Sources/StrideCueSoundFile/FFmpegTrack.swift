import CFFmpeg
import Glibc
import StrideCueCore

/// A track encoded as AAC in an M4A file (the MPEG-4 audio an iPhone plays as its own) by
/// FFmpeg's libraries: its native AAC encoder and its `ipod` muxer, with the tags a phone
/// shows (title, artist, album, comment, date, track number).
///
/// The file is the unnamed new version of `SoundFileWriter`'s `AtomicFile`: FFmpeg writes and
/// seeks through callbacks on its descriptor and never opens or names a file, so a failed or
/// interrupted encode leaves nothing behind and the old file in place. Every FFmpeg status
/// goes through `avCheck`.
final class FFmpegTrackEncoder {
    private let ff: FFmpegLibrary
    private let path: String
    private let channels: Int
    private var io: UnsafeMutablePointer<AVIOContext>?
    private var muxer: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var stream: UnsafeMutablePointer<AVStream>?
    /// Frames per AAC frame (1024), and how many of the current one are filled.
    private var frameSize = 0
    private var filled = 0
    private var nextTimestamp: Int64 = 0

    /// Sample rates AAC (and so an M4A) carries.
    static let sampleRates = [8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 64_000, 88_200, 96_000]

    /// Sets up the encoder and writes the file's header into `fd`.
    /// - Parameters:
    ///   - bitsPerSecond: the AAC bit rate, all channels together.
    /// - Throws: `.cannotCreate` naming the call when FFmpeg's libraries, its AAC encoder or
    ///   its M4A muxer are not there or refuse the format; `.io` when the header cannot be written.
    init(fd: Int32, path: String, format: RenderFormat, bitsPerSecond: Int, tags: TrackTags?) throws(SoundFileError) {
        switch FFmpegLibrary.shared {
        case .success(let library): ff = library
        case .failure(let error):
            throw SoundFileError(kind: .cannotCreate, path: path, call: "dlopen",
                                 reason: "M4A is written by FFmpeg's libraries, which cannot be opened (\(error.reason))")
        }
        self.path = path
        channels = format.channels
        ff.av_log_set_level(AV_LOG_QUIET)   // errors come back as codes, and are reported once
        let cannot = "cannot write M4A/AAC"
        var context: UnsafeMutablePointer<AVFormatContext>? = nil
        try avCheck(ff.avformat_alloc_output_context2(&context, nil, "ipod", nil), "avformat_alloc_output_context2",
                    path: path, cannot, kind: .cannotCreate)
        let muxer = try avNonNull(context, "avformat_alloc_output_context2", path: path)
        self.muxer = muxer
        let size: Int32 = 65_536
        let buffer = try avNonNull(ff.av_malloc(Int(size)), "av_malloc", path: path)
        io = ff.avio_alloc_context(buffer.assumingMemoryBound(to: UInt8.self), size, 1,
                                   UnsafeMutableRawPointer(bitPattern: Int(fd)), nil, stridecue_av_write, stridecue_av_seek)
        if io == nil {
            var owned: UnsafeMutableRawPointer? = buffer
            ff.av_freep(&owned)
        }
        muxer.pointee.pb = try avNonNull(io, "avio_alloc_context", path: path)
        muxer.pointee.flags |= AVFMT_FLAG_CUSTOM_IO

        guard let encoder = ff.avcodec_find_encoder_by_name("aac") else {
            throw SoundFileError(kind: .cannotCreate, path: path, call: "avcodec_find_encoder_by_name",
                                 reason: "this FFmpeg has no AAC encoder")
        }
        let stream = try avNonNull(ff.avformat_new_stream(muxer, nil), "avformat_new_stream", path: path)
        self.stream = stream
        let codec = try avNonNull(ff.avcodec_alloc_context3(encoder), "avcodec_alloc_context3", path: path)
        self.codec = codec
        codec.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
        codec.pointee.sample_rate = Int32(format.sampleRate)
        ff.av_channel_layout_default(&codec.pointee.ch_layout, Int32(format.channels))
        codec.pointee.bit_rate = Int64(bitsPerSecond)
        codec.pointee.time_base = AVRational(num: 1, den: Int32(format.sampleRate))
        if muxer.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            codec.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
        }
        try avCheck(ff.avcodec_open2(codec, encoder, nil), "avcodec_open2", path: path, cannot, kind: .cannotCreate)
        try avCheck(ff.avcodec_parameters_from_context(stream.pointee.codecpar, codec), "avcodec_parameters_from_context",
                    path: path, cannot, kind: .cannotCreate)
        stream.pointee.time_base = codec.pointee.time_base
        if let tags {
            var fields = [("title", tags.title), ("artist", tags.artist), ("album", tags.album), ("comment", tags.comment),
                          ("date", tags.date)]
            if !tags.trackNumber.isEmpty { fields.append(("track", tags.trackNumber)) }
            for (key, value) in fields where !value.isEmpty {
                try avCheck(ff.av_dict_set(&muxer.pointee.metadata, key, value, 0), "av_dict_set", path: path, cannot,
                            kind: .cannotCreate)
            }
        }
        try avCheck(ff.avformat_write_header(muxer, nil), "avformat_write_header", path: path, "cannot write", kind: .io)

        frameSize = Int(codec.pointee.frame_size > 0 ? codec.pointee.frame_size : 1_024)
        let frame = try avNonNull(ff.av_frame_alloc(), "av_frame_alloc", path: path)
        self.frame = frame
        frame.pointee.nb_samples = Int32(frameSize)
        frame.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
        frame.pointee.sample_rate = Int32(format.sampleRate)
        ff.av_channel_layout_default(&frame.pointee.ch_layout, Int32(format.channels))
        try avCheck(ff.av_frame_get_buffer(frame, 0), "av_frame_get_buffer", path: path, cannot, kind: .io)
        packet = try avNonNull(ff.av_packet_alloc(), "av_packet_alloc", path: path)
    }

    deinit {
        ff.av_frame_free(&frame)
        ff.av_packet_free(&packet)
        ff.avcodec_free_context(&codec)
        if let context = io { ff.av_freep(&context.pointee.buffer) }
        ff.avio_context_free(&io)
        if let muxer {
            muxer.pointee.pb = nil
            ff.avformat_free_context(muxer)
        }
    }

    /// Encodes interleaved frames.
    /// - Throws: `.io` naming the call when encoding or writing fails (a full disk).
    func write(_ samples: UnsafeBufferPointer<Float>) throws(SoundFileError) {
        guard let frame else { return }
        let total = samples.count / channels
        var done = 0
        while done < total {
            if filled == 0 {
                try avCheck(ff.av_frame_make_writable(frame), "av_frame_make_writable", path: path, "cannot write", kind: .io)
            }
            let n = min(frameSize - filled, total - done)
            for c in 0..<channels {
                let plane = UnsafeMutableRawPointer(frame.pointee.extended_data[c]!).assumingMemoryBound(to: Float.self)
                for i in 0..<n { plane[filled + i] = samples[(done + i) * channels + c] }
            }
            filled += n
            done += n
            if filled == frameSize { try send(frame) }
        }
    }

    /// Encodes what is left, writes the file's index (`moov`) and flushes.
    func finish() throws(SoundFileError) {
        if filled > 0, let frame {
            frame.pointee.nb_samples = Int32(filled)
            try send(frame)
        }
        try send(nil)
        try avCheck(ff.av_write_trailer(muxer), "av_write_trailer", path: path, "cannot write", kind: .io)
        if let io, io.pointee.error < 0 {
            try avCheck(io.pointee.error, "avio_flush", path: path, "cannot write", kind: .io)
        }
    }

    /// Hands one frame (nil: the end) to the encoder and writes the packets it gives back.
    private func send(_ frame: UnsafeMutablePointer<AVFrame>?) throws(SoundFileError) {
        if let frame {
            frame.pointee.pts = nextTimestamp
            nextTimestamp += Int64(frame.pointee.nb_samples)
            filled = 0
        }
        try avCheck(ff.avcodec_send_frame(codec, frame), "avcodec_send_frame", path: path, "cannot encode", kind: .io)
        while true {
            let status = ff.avcodec_receive_packet(codec, packet)
            if status == stridecue_averror_eagain() || status == stridecue_averror_eof() { return }
            try avCheck(status, "avcodec_receive_packet", path: path, "cannot encode", kind: .io)
            ff.av_packet_rescale_ts(packet, codec!.pointee.time_base, stream!.pointee.time_base)
            packet!.pointee.stream_index = stream!.pointee.index
            try avCheck(ff.av_interleaved_write_frame(muxer, packet), "av_interleaved_write_frame", path: path,
                        "cannot write", kind: .io)
            if let io, io.pointee.error < 0 {
                try avCheck(io.pointee.error, "avio_write", path: path, "cannot write", kind: .io)
            }
        }
    }
}
