#ifndef STRIDECUE_CFFMPEG_SHIM_H
#define STRIDECUE_CFFMPEG_SHIM_H
// FFmpeg's demuxers, decoders and sample-format converter: music files libsndfile cannot
// read (M4A/AAC above all); and its AAC encoder and M4A muxer, for tracks an iPhone plays as
// its own. Only StrideCueSoundFile's FFmpegMusic.swift and FFmpegTrack.swift call into them, and
// only through pointers FFmpegLibrary.swift finds with dlsym: nothing here links against
// FFmpeg, so its libraries (and the hundred codec libraries they pull in) are loaded only
// when a music file needs them.
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavformat/version.h>
#include <libavcodec/avcodec.h>
#include <libavcodec/version.h>
#include <libswresample/swresample.h>
#include <libswresample/version.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/version.h>
#include <errno.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/types.h>

// Macros Swift cannot import.
static inline int stridecue_averror_eof(void) { return AVERROR_EOF; }
static inline int stridecue_averror_eagain(void) { return AVERROR(EAGAIN); }

// The major versions the headers describe: the sonames to open (libavformat.so.59, …).
static inline int stridecue_avformat_major(void) { return LIBAVFORMAT_VERSION_MAJOR; }
static inline int stridecue_avcodec_major(void) { return LIBAVCODEC_VERSION_MAJOR; }
static inline int stridecue_swresample_major(void) { return LIBSWRESAMPLE_VERSION_MAJOR; }
static inline int stridecue_avutil_major(void) { return LIBAVUTIL_VERSION_MAJOR; }

// The type of each FFmpeg function StrideCue calls, as a function pointer: `__typeof__`
// takes it from FFmpeg's own declaration (no reference to the symbol), so a pointer found
// with dlsym is called with exactly the declared signature.
#define STRIDECUE_FN(name) typedef __typeof__(&name) stridecue_fn_##name;
STRIDECUE_FN(av_strerror)
STRIDECUE_FN(av_log_set_level)
STRIDECUE_FN(av_malloc)
STRIDECUE_FN(av_freep)
STRIDECUE_FN(av_dict_set)
STRIDECUE_FN(av_dict_free)
STRIDECUE_FN(av_channel_layout_uninit)
STRIDECUE_FN(av_channel_layout_default)
STRIDECUE_FN(av_frame_alloc)
STRIDECUE_FN(av_frame_free)
STRIDECUE_FN(av_frame_unref)
STRIDECUE_FN(avio_alloc_context)
STRIDECUE_FN(avio_context_free)
STRIDECUE_FN(avformat_alloc_context)
STRIDECUE_FN(avformat_open_input)
STRIDECUE_FN(avformat_find_stream_info)
STRIDECUE_FN(av_find_best_stream)
STRIDECUE_FN(av_read_frame)
STRIDECUE_FN(avformat_close_input)
STRIDECUE_FN(avcodec_alloc_context3)
STRIDECUE_FN(avcodec_parameters_to_context)
STRIDECUE_FN(avcodec_open2)
STRIDECUE_FN(avcodec_send_packet)
STRIDECUE_FN(avcodec_receive_frame)
STRIDECUE_FN(avcodec_free_context)
STRIDECUE_FN(av_packet_alloc)
STRIDECUE_FN(av_packet_free)
STRIDECUE_FN(av_packet_unref)
STRIDECUE_FN(swr_alloc_set_opts2)
STRIDECUE_FN(swr_init)
STRIDECUE_FN(swr_get_out_samples)
STRIDECUE_FN(swr_convert)
STRIDECUE_FN(swr_free)
STRIDECUE_FN(avcodec_find_encoder_by_name)
STRIDECUE_FN(avformat_alloc_output_context2)
STRIDECUE_FN(avformat_new_stream)
STRIDECUE_FN(avformat_free_context)
STRIDECUE_FN(avcodec_parameters_from_context)
STRIDECUE_FN(avformat_write_header)
STRIDECUE_FN(av_interleaved_write_frame)
STRIDECUE_FN(av_write_trailer)
STRIDECUE_FN(avcodec_send_frame)
STRIDECUE_FN(avcodec_receive_packet)
STRIDECUE_FN(av_frame_get_buffer)
STRIDECUE_FN(av_frame_make_writable)
STRIDECUE_FN(av_packet_rescale_ts)
#undef STRIDECUE_FN

// The I/O callbacks of an AVIOContext over a file descriptor StrideCue opened and checked
// itself (O_NONBLOCK, fstat: a regular file), so FFmpeg never opens a path on its own: a FIFO
// or a device named as music is refused before FFmpeg sees it. `opaque` is the descriptor.
static inline int stridecue_av_read(void *opaque, uint8_t *buffer, int size) {
    int fd = (int)(intptr_t)opaque;
    for (;;) {
        ssize_t n = read(fd, buffer, (size_t)size);
        if (n > 0) return (int)n;
        if (n == 0) return AVERROR_EOF;
        if (errno != EINTR) return AVERROR(errno);
    }
}

static inline int64_t stridecue_av_seek(void *opaque, int64_t offset, int whence) {
    int fd = (int)(intptr_t)opaque;
    if (whence & AVSEEK_SIZE) {
        off_t here = lseek(fd, 0, SEEK_CUR);
        off_t end = lseek(fd, 0, SEEK_END);
        if (here < 0 || end < 0 || lseek(fd, here, SEEK_SET) < 0) return AVERROR(errno);
        return (int64_t)end;
    }
    off_t at = lseek(fd, (off_t)offset, whence & ~AVSEEK_FORCE);
    return at < 0 ? AVERROR(errno) : (int64_t)at;
}
// The write callback of an AVIOContext over the descriptor of the unnamed file a track is
// written into (StrideCue's AtomicFile): FFmpeg never opens or names the file itself.
// FFmpeg 7 made the buffer const.
#if defined(FF_API_AVIO_WRITE_NONCONST) && !FF_API_AVIO_WRITE_NONCONST
#define STRIDECUE_AVIO_WRITE_CONST const
#else
#define STRIDECUE_AVIO_WRITE_CONST
#endif
static inline int stridecue_av_write(void *opaque, STRIDECUE_AVIO_WRITE_CONST uint8_t *buffer, int size) {
    int fd = (int)(intptr_t)opaque;
    int done = 0;
    while (done < size) {
        ssize_t n = write(fd, buffer + done, (size_t)(size - done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return AVERROR(errno);
        if (n == 0) return AVERROR(ENOSPC);
        done += (int)n;
    }
    return size;
}
#endif
