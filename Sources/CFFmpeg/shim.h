#ifndef STRIDECUE_CFFMPEG_SHIM_H
#define STRIDECUE_CFFMPEG_SHIM_H
// FFmpeg's demuxers, decoders and sample-format converter: music files libsndfile cannot
// read (M4A/AAC above all). Only StrideCueSoundFile's FFmpegMusic.swift calls into them.
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavcodec/avcodec.h>
#include <libswresample/swresample.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
#include <errno.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/types.h>

// Macros Swift cannot import.
static inline int stridecue_averror_eof(void) { return AVERROR_EOF; }
static inline int stridecue_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int stridecue_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }

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

// An AVIOContext reading `fd` through the callbacks above, with an av_malloc'ed buffer.
static inline AVIOContext *stridecue_avio_for_fd(int fd) {
    const int size = 65536;
    unsigned char *buffer = av_malloc(size);
    if (!buffer) return NULL;
    AVIOContext *io = avio_alloc_context(buffer, size, 0, (void *)(intptr_t)fd,
                                         stridecue_av_read, NULL, stridecue_av_seek);
    if (!io) av_free(buffer);
    return io;
}

// Frees an AVIOContext from stridecue_avio_for_fd, its buffer included.
static inline void stridecue_avio_free(AVIOContext **io) {
    if (*io) av_freep(&(*io)->buffer);
    avio_context_free(io);
}
#endif
