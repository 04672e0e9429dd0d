import CFFmpeg
import Glibc

/// FFmpeg's functions, found in its shared libraries the first time libsndfile refuses a music
/// file.
///
/// libavformat and libavcodec pull in about a hundred codec libraries (x264, dav1d, vpx, …)
/// that the dynamic loader would map and relocate at every start of every command — a click
/// track, a `presets` listing — if they were linked in. Opened with `dlopen` on first use, as
/// flite is, they cost only a render whose music libsndfile cannot read. The sonames are the
/// major versions of the headers StrideCue was built with (`libavformat.so.59` on Debian 12).
///
/// Every call into FFmpeg goes through one of these pointers (`FFmpegMusicDecoder`,
/// `FFmpegTrackEncoder`).
struct FFmpegLibrary: @unchecked Sendable {
    let av_strerror: stridecue_fn_av_strerror
    let av_log_set_level: stridecue_fn_av_log_set_level
    let av_malloc: stridecue_fn_av_malloc
    let av_freep: stridecue_fn_av_freep
    let av_dict_set: stridecue_fn_av_dict_set
    let av_dict_free: stridecue_fn_av_dict_free
    let av_channel_layout_uninit: stridecue_fn_av_channel_layout_uninit
    let av_channel_layout_default: stridecue_fn_av_channel_layout_default
    let av_frame_alloc: stridecue_fn_av_frame_alloc
    let av_frame_free: stridecue_fn_av_frame_free
    let av_frame_unref: stridecue_fn_av_frame_unref
    let avio_alloc_context: stridecue_fn_avio_alloc_context
    let avio_context_free: stridecue_fn_avio_context_free
    let avformat_alloc_context: stridecue_fn_avformat_alloc_context
    let avformat_open_input: stridecue_fn_avformat_open_input
    let avformat_find_stream_info: stridecue_fn_avformat_find_stream_info
    let av_find_best_stream: stridecue_fn_av_find_best_stream
    let av_read_frame: stridecue_fn_av_read_frame
    let avformat_close_input: stridecue_fn_avformat_close_input
    let avcodec_alloc_context3: stridecue_fn_avcodec_alloc_context3
    let avcodec_parameters_to_context: stridecue_fn_avcodec_parameters_to_context
    let avcodec_open2: stridecue_fn_avcodec_open2
    let avcodec_send_packet: stridecue_fn_avcodec_send_packet
    let avcodec_receive_frame: stridecue_fn_avcodec_receive_frame
    let avcodec_free_context: stridecue_fn_avcodec_free_context
    let av_packet_alloc: stridecue_fn_av_packet_alloc
    let av_packet_free: stridecue_fn_av_packet_free
    let av_packet_unref: stridecue_fn_av_packet_unref
    let swr_alloc_set_opts2: stridecue_fn_swr_alloc_set_opts2
    let swr_init: stridecue_fn_swr_init
    let swr_get_out_samples: stridecue_fn_swr_get_out_samples
    let swr_convert: stridecue_fn_swr_convert
    let swr_free: stridecue_fn_swr_free
    let avcodec_find_encoder_by_name: stridecue_fn_avcodec_find_encoder_by_name
    let avformat_alloc_output_context2: stridecue_fn_avformat_alloc_output_context2
    let avformat_new_stream: stridecue_fn_avformat_new_stream
    let avformat_free_context: stridecue_fn_avformat_free_context
    let avcodec_parameters_from_context: stridecue_fn_avcodec_parameters_from_context
    let avformat_write_header: stridecue_fn_avformat_write_header
    let av_interleaved_write_frame: stridecue_fn_av_interleaved_write_frame
    let av_write_trailer: stridecue_fn_av_write_trailer
    let avcodec_send_frame: stridecue_fn_avcodec_send_frame
    let avcodec_receive_packet: stridecue_fn_avcodec_receive_packet
    let av_frame_get_buffer: stridecue_fn_av_frame_get_buffer
    let av_frame_make_writable: stridecue_fn_av_frame_make_writable
    let av_packet_rescale_ts: stridecue_fn_av_packet_rescale_ts

    /// The libraries, opened once for the process (a failure is kept and reported again).
    static let shared: Result<FFmpegLibrary, FFmpegLoadError> = Result { () throws(FFmpegLoadError) in try load() }

    /// The sonames, in the order they are opened (each after the ones it needs).
    static var libraries: [String] {
        ["libavutil.so.\(stridecue_avutil_major())", "libswresample.so.\(stridecue_swresample_major())",
         "libavcodec.so.\(stridecue_avcodec_major())", "libavformat.so.\(stridecue_avformat_major())"]
    }

    private static func load() throws(FFmpegLoadError) -> FFmpegLibrary {
        var handles: [UnsafeMutableRawPointer] = []
        for library in libraries {
            // Lazy binding: StrideCue calls about thirty of FFmpeg's thousands of functions.
            guard let handle = dlopen(library, RTLD_LAZY) else { throw FFmpegLoadError(reason: lastError()) }
            handles.append(handle)
        }
        func find<F>(_ name: String) throws(FFmpegLoadError) -> F {
            for handle in handles.reversed() {
                if let address = dlsym(handle, name) { return unsafeBitCast(address, to: F.self) }
            }
            throw FFmpegLoadError(reason: "\(name) is not in \(libraries.joined(separator: ", "))")
        }
        return FFmpegLibrary(
            av_strerror: try find("av_strerror"), av_log_set_level: try find("av_log_set_level"),
            av_malloc: try find("av_malloc"), av_freep: try find("av_freep"),
            av_dict_set: try find("av_dict_set"), av_dict_free: try find("av_dict_free"),
            av_channel_layout_uninit: try find("av_channel_layout_uninit"),
            av_channel_layout_default: try find("av_channel_layout_default"),
            av_frame_alloc: try find("av_frame_alloc"), av_frame_free: try find("av_frame_free"),
            av_frame_unref: try find("av_frame_unref"),
            avio_alloc_context: try find("avio_alloc_context"), avio_context_free: try find("avio_context_free"),
            avformat_alloc_context: try find("avformat_alloc_context"), avformat_open_input: try find("avformat_open_input"),
            avformat_find_stream_info: try find("avformat_find_stream_info"),
            av_find_best_stream: try find("av_find_best_stream"), av_read_frame: try find("av_read_frame"),
            avformat_close_input: try find("avformat_close_input"),
            avcodec_alloc_context3: try find("avcodec_alloc_context3"),
            avcodec_parameters_to_context: try find("avcodec_parameters_to_context"),
            avcodec_open2: try find("avcodec_open2"), avcodec_send_packet: try find("avcodec_send_packet"),
            avcodec_receive_frame: try find("avcodec_receive_frame"), avcodec_free_context: try find("avcodec_free_context"),
            av_packet_alloc: try find("av_packet_alloc"), av_packet_free: try find("av_packet_free"),
            av_packet_unref: try find("av_packet_unref"),
            swr_alloc_set_opts2: try find("swr_alloc_set_opts2"), swr_init: try find("swr_init"),
            swr_get_out_samples: try find("swr_get_out_samples"), swr_convert: try find("swr_convert"),
            swr_free: try find("swr_free"),
            avcodec_find_encoder_by_name: try find("avcodec_find_encoder_by_name"),
            avformat_alloc_output_context2: try find("avformat_alloc_output_context2"),
            avformat_new_stream: try find("avformat_new_stream"),
            avformat_free_context: try find("avformat_free_context"),
            avcodec_parameters_from_context: try find("avcodec_parameters_from_context"),
            avformat_write_header: try find("avformat_write_header"),
            av_interleaved_write_frame: try find("av_interleaved_write_frame"),
            av_write_trailer: try find("av_write_trailer"),
            avcodec_send_frame: try find("avcodec_send_frame"),
            avcodec_receive_packet: try find("avcodec_receive_packet"),
            av_frame_get_buffer: try find("av_frame_get_buffer"),
            av_frame_make_writable: try find("av_frame_make_writable"),
            av_packet_rescale_ts: try find("av_packet_rescale_ts"))
    }

    private static func lastError() -> String {
        dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
    }
}

/// FFmpeg's libraries could not be opened: the music file is reported as unreadable, saying why.
struct FFmpegLoadError: Error {
    let reason: String
}
