import CFFmpeg
import Glibc

/// The one place an FFmpeg status is checked: a negative `AVERROR` becomes a `SoundFileError`
/// naming the call, with FFmpeg's own words for the code.
/// - Parameters:
///   - what: the failure as a person reads it, e.g. "not a sound file StrideCue can read".
@discardableResult
func avCheck(_ code: Int32, _ call: StaticString, path: String, _ what: String,
             kind: SoundFileError.Kind = .unreadable) throws(SoundFileError) -> Int32 {
    guard code < 0 else { return code }
    throw SoundFileError(kind: kind, path: path, call: "\(call)", reason: "\(what) (\(call): \(averrorText(code)))")
}

/// The same for a call that returns an object: NULL means out of memory (or, for the
/// allocation of a converter, arguments it refuses).
func avNonNull<T>(_ pointer: T?, _ call: StaticString, path: String) throws(SoundFileError) -> T {
    guard let pointer else {
        throw SoundFileError(kind: .io, path: path, call: "\(call)", reason: "\(call) returned nothing (out of memory?)")
    }
    return pointer
}

/// FFmpeg's message for an error code.
func averrorText(_ code: Int32) -> String {
    var text = [CChar](repeating: 0, count: 128)
    guard case .success(let ff) = FFmpegLibrary.shared, ff.av_strerror(code, &text, text.count) >= 0 else {
        return "error \(code)"
    }
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Container formats StrideCue lets FFmpeg probe for music: the ones phones and music stores
/// use. Playlists (HLS, concat) are left out on purpose: they would make FFmpeg open other
/// files or URLs the file names.
let musicFormats = "mov,mp4,m4a,3gp,3g2,mj2,mp3,ogg,flac,wav,w64,aiff,caf,matroska,webm,aac,asf,wv,ape,au,dsf,tta"

/// Music decoded by FFmpeg (libavformat, libavcodec, libswresample): what libsndfile cannot
/// read, M4A/AAC above all. Block by block, as interleaved floats at the file's own rate and
/// channel count (libswresample converts only the sample format here; the rate is converted
/// with libsamplerate like every other sound StrideCue reads).
///
/// Nothing of FFmpeg runs unless libsndfile has refused the file first (`MusicBed`), so a click
/// track, or music in WAV or FLAC, never calls into it. FFmpeg never opens a path itself: it
/// reads through callbacks on a descriptor StrideCue opened and checked as a regular file.
final class FFmpegMusicDecoder {
    let path: String
    private let ff: FFmpegLibrary
    private(set) var channels = 0
    private(set) var sampleRate = 0
    /// Frames the file says it holds at its own rate (0 when it does not say).
    private(set) var expectedFrames: Int64 = 0

    private let fd: Int32
    private var io: UnsafeMutablePointer<AVIOContext>?
    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var converter: OpaquePointer?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var streamIndex: Int32 = -1
    /// Converted frames not yet handed out.
    private var pending: UnsafeMutablePointer<Float>
    private var pendingCapacity = 0
    private var pendingStart = 0
    private var pendingCount = 0
    private var flushing = false
    private var ended = false

    /// Opens `fd` (a regular file, already checked) as music.
    /// - Throws: `.unreadable` (65) naming the FFmpeg call when no demuxer or decoder takes it.
    init(fd: Int32, path: String) throws(SoundFileError) {
        let ff: FFmpegLibrary
        switch FFmpegLibrary.shared {
        case .success(let library): ff = library
        case .failure(let error):
            close(fd)
            throw SoundFileError(kind: .unreadable, path: path, call: "dlopen",
                                 reason: "not a sound file libsndfile can read, and FFmpeg's libraries, which read "
                                     + "more kinds, cannot be opened (\(error.reason))")
        }
        self.ff = ff
        self.fd = fd
        self.path = path
        pending = .allocate(capacity: 0)
        ff.av_log_set_level(AV_LOG_QUIET)   // errors come back as codes, and are reported once
        var io = Self.contextReading(fd, ff)
        guard io != nil, var format = ff.avformat_alloc_context() else {
            Self.free(&io, ff)
            close(fd)
            throw SoundFileError(kind: .io, path: path, call: "avformat_alloc_context", reason: "out of memory")
        }
        format.pointee.pb = io
        format.pointee.flags |= AVFMT_FLAG_CUSTOM_IO
        var options: OpaquePointer? = nil
        _ = ff.av_dict_set(&options, "format_whitelist", musicFormats, 0)
        var opened: UnsafeMutablePointer<AVFormatContext>? = format
        let status = ff.avformat_open_input(&opened, nil, nil, &options)
        ff.av_dict_free(&options)
        self.io = io
        self.format = opened   // NULL after a failure: avformat_open_input freed it
        let unreadable = "not a sound file StrideCue can read"
        try avCheck(status, "avformat_open_input", path: path, unreadable)
        format = opened!
        try avCheck(ff.avformat_find_stream_info(format, nil), "avformat_find_stream_info", path: path, unreadable)
        var decoder: UnsafePointer<AVCodec>? = nil
        let index = try avCheck(ff.av_find_best_stream(format, AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0),
                                "av_find_best_stream", path: path, "holds no audio StrideCue can decode")
        let stream = format.pointee.streams[Int(index)]!
        let context = try avNonNull(ff.avcodec_alloc_context3(decoder), "avcodec_alloc_context3", path: path)
        codec = context
        try avCheck(ff.avcodec_parameters_to_context(context, stream.pointee.codecpar), "avcodec_parameters_to_context",
                    path: path, unreadable)
        try avCheck(ff.avcodec_open2(context, decoder, nil), "avcodec_open2", path: path, "cannot decode its audio")
        let count = context.pointee.ch_layout.nb_channels
        guard count > 0, context.pointee.sample_rate > 0 else {
            throw SoundFileError(kind: .unreadable, path: path, call: "avcodec_open2",
                                 reason: "the audio has no channels or no sample rate")
        }
        if context.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC {
            ff.av_channel_layout_uninit(&context.pointee.ch_layout)
            ff.av_channel_layout_default(&context.pointee.ch_layout, count)
        }
        // Only the sample format changes: planar or integer to interleaved float, same
        // channels, same rate.
        var swr: OpaquePointer? = nil
        try avCheck(ff.swr_alloc_set_opts2(&swr, &context.pointee.ch_layout, AV_SAMPLE_FMT_FLT, context.pointee.sample_rate,
                                        &context.pointee.ch_layout, context.pointee.sample_fmt, context.pointee.sample_rate,
                                        0, nil), "swr_alloc_set_opts2", path: path, "cannot convert its audio")
        converter = swr
        try avCheck(ff.swr_init(swr), "swr_init", path: path, "cannot convert its audio")
        packet = try avNonNull(ff.av_packet_alloc(), "av_packet_alloc", path: path)
        frame = try avNonNull(ff.av_frame_alloc(), "av_frame_alloc", path: path)
        streamIndex = index
        channels = Int(count)
        sampleRate = Int(context.pointee.sample_rate)
        // The length, when the file says: the stream's own, or the container's.
        let tb = stream.pointee.time_base
        if stream.pointee.duration > 0, tb.den > 0 {
            expectedFrames = stream.pointee.duration * Int64(tb.num) * Int64(sampleRate) / Int64(tb.den)
        } else if format.pointee.duration > 0 {
            expectedFrames = format.pointee.duration * Int64(sampleRate) / Int64(AV_TIME_BASE)
        }
    }

    deinit {
        ff.av_frame_free(&frame)
        ff.av_packet_free(&packet)
        ff.swr_free(&converter)
        ff.avcodec_free_context(&codec)
        ff.avformat_close_input(&format)
        Self.free(&io, ff)
        close(fd)
        pending.deallocate()
    }

    /// An AVIOContext reading `fd` through the shim's callbacks, with an av_malloc'ed buffer.
    private static func contextReading(_ fd: Int32, _ ff: FFmpegLibrary) -> UnsafeMutablePointer<AVIOContext>? {
        let size: Int32 = 65_536
        guard let buffer = ff.av_malloc(Int(size)) else { return nil }
        let io = ff.avio_alloc_context(buffer.assumingMemoryBound(to: UInt8.self), size, 0,
                                       UnsafeMutableRawPointer(bitPattern: Int(fd)),
                                       stridecue_av_read, nil, stridecue_av_seek)
        if io == nil {
            var owned: UnsafeMutableRawPointer? = buffer
            ff.av_freep(&owned)
        }
        return io
    }

    /// Frees an AVIOContext from `contextReading`, its buffer included.
    private static func free(_ io: inout UnsafeMutablePointer<AVIOContext>?, _ ff: FFmpegLibrary) {
        if let context = io { ff.av_freep(&context.pointee.buffer) }
        ff.avio_context_free(&io)
    }

    /// Up to `capacity` frames, interleaved, at the file's rate.
    /// - Returns: frames; 0 at the end of the audio.
    /// - Throws: `.unreadable` (65) naming the call when a packet cannot be read or decoded,
    ///   or the decoded audio holds NaN or an infinity.
    func read(into buffer: UnsafeMutablePointer<Float>, capacity: Int) throws(SoundFileError) -> Int {
        while pendingCount == 0 {
            if ended { return 0 }
            try decodeFrame()
        }
        let n = min(capacity, pendingCount)
        buffer.update(from: pending + pendingStart * channels, count: n * channels)
        pendingStart += n
        pendingCount -= n
        return n
    }

    /// Decodes the next frame into `pending`, reading packets as the decoder asks for them;
    /// sets `ended` once the decoder is drained.
    private func decodeFrame() throws(SoundFileError) {
        let again = stridecue_averror_eagain(), eof = stridecue_averror_eof()
        let corrupt = "cannot decode its audio; is the file damaged?"
        while true {
            let received = ff.avcodec_receive_frame(codec, frame)
            if received == eof { ended = true; return }
            if received != again {
                try avCheck(received, "avcodec_receive_frame", path: path, corrupt)
                try convert()
                ff.av_frame_unref(frame)
                return
            }
            // The decoder wants input: the next packet of our stream, or the flush at the end.
            if flushing { ended = true; return }
            let got = ff.av_read_frame(format, packet)
            if got == eof {
                flushing = true
                try avCheck(ff.avcodec_send_packet(codec, nil), "avcodec_send_packet", path: path, corrupt)
                continue
            }
            try avCheck(got, "av_read_frame", path: path, corrupt)
            defer { ff.av_packet_unref(packet) }
            if packet!.pointee.stream_index != streamIndex { continue }
            try avCheck(ff.avcodec_send_packet(codec, packet), "avcodec_send_packet", path: path, corrupt)
        }
    }

    /// The decoded frame as interleaved floats in `pending`.
    private func convert() throws(SoundFileError) {
        let inFrames = frame!.pointee.nb_samples
        let room = Int(try avCheck(ff.swr_get_out_samples(converter, inFrames), "swr_get_out_samples", path: path,
                                   "cannot convert its audio"))
        if room > pendingCapacity {
            pending.deallocate()
            pending = .allocate(capacity: room * channels)
            pendingCapacity = room
        }
        var out: UnsafeMutablePointer<UInt8>? = UnsafeMutableRawPointer(pending).assumingMemoryBound(to: UInt8.self)
        let input = UnsafeMutableRawPointer(frame!.pointee.extended_data!)
            .assumingMemoryBound(to: UnsafePointer<UInt8>?.self)
        let made = try avCheck(ff.swr_convert(converter, &out, Int32(room), input, inFrames), "swr_convert", path: path,
                               "cannot convert its audio")
        pendingStart = 0
        pendingCount = Int(made)
        try requireFinite(UnsafeBufferPointer(start: pending, count: pendingCount * channels), path: path,
                          call: "avcodec_receive_frame")
    }
}
