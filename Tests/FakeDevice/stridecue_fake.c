/*
 * StrideCue's paced fake sound card: an ALSA external I/O ("ioplug") plugin.
 *
 * Neither `null` nor `file` consume frames on the real clock, so tests of blocking
 * writes, timing and underrun recovery need a device that does. This one plays
 * nothing, but it behaves like a playback card driven by a sample clock:
 *
 *   - After start, the play position is (elapsed CLOCK_MONOTONIC time) x rate.
 *     Positions come from the clock, never from counting ticks, so they do not drift.
 *   - A timerfd is the poll descriptor. While the card runs it fires at the first
 *     period boundary (the card's period interrupt) at which the free space has
 *     reached avail_min, and stays readable while it is there: the kernel too wakes
 *     a sleeping writer only then, not at every interrupt.
 *   - When the buffer runs dry (avail reaches the stop threshold) the pointer
 *     callback reports -EPIPE and the PCM goes to XRUN, as hardware does.
 *   - With `file "/path"` in its configuration it writes what it "played":
 *     the application's frames at the moment they are played, and silence for the
 *     time between running dry after an underrun and the restart. Frames dropped
 *     (snd_pcm_drop, close without drain) or rewound are not written, as they are
 *     not heard. The file is appended to, so a device closed and opened again (a
 *     reconnect) adds to the same recording.
 *   - With `times "/path"` (and a `file`) it appends a line to that file whenever its clock
 *     starts or runs again after a hang: "ORIGIN NS", meaning that frame F of the played file
 *     is played at CLOCK_MONOTONIC nanoseconds NS + (F - ORIGIN) / rate, until the next line.
 *     Tests compare when two cards played their clicks by that (the host time of each frame).
 *   - With `control "/path"` it reads that file at every callback, as a test's
 *     remote control: "hang" stops the clock (nothing is consumed, no writer is
 *     woken) until the file says otherwise; "unplug" makes the card vanish: what
 *     was played so far stays played, every later call fails with -ENODEV, and
 *     opening the card fails with -ENODEV until the file says otherwise. Each
 *     time the card obeys, it adds a line to "/path.seen": "hung" when its clock has
 *     stopped, "waiting" once a writer has been told there is no room on the hung
 *     card, "moving" when it runs again, "gone" when it has vanished, "refused"
 *     when it was asked to open while unplugged, so that a test waits for the
 *     card's state instead of for a time.
 *
 * Configuration:
 *   pcm.NAME {
 *       type stridecue_fake
 *       file "/tmp/played.raw"   # optional; "" or absent: record nothing
 *       rate 48000               # optional; accept only this rate
 *       xrun_after 2000          # optional; once this many frames have been written
 *                                #   since open, run dry at once (an injected underrun)
 *       disconnect_after 2000    # optional; accept this many frames since open, then
 *                                #   fail every transfer with -ENODEV (device unplugged)
 *       control "/tmp/ctl"       # optional; "hang" or "unplug" in this file injects them
 *       times "/tmp/times"       # optional; when the played file's frames were played
 *   }
 *   pcm_type.stridecue_fake { lib "/abs/path/libasound_module_pcm_stridecue_fake.so" }
 *
 * Limits: playback only, RW interleaved S16_LE, 1-8 channels; one thread per PCM;
 * rewind is modelled (alsa-lib moves the application pointer back, and the next
 * transfer starts there), forward is not; a stop threshold above the buffer size is
 * treated as the buffer size. It must be compiled with -DPIC (alsa-lib's plugin
 * symbol macros otherwise expect a static build and loading fails with
 * "undefined symbol: snd_dlsym_start").
 */

#include "stridecue_fake.h"

#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NSEC_PER_SEC 1000000000ULL

typedef struct {
    snd_pcm_ioplug_t io;

    int timer_fd;
    int out_fd;              /* -1: record nothing */
    char *control;           /* NULL: no remote control */
    int times_fd;            /* -1: no host times */
    int hung;                /* the clock is stopped ("hang") */
    uint64_t hung_ns;        /* since when */
    int writer_told;         /* while hung: a writer has been told there is no room */
    int gone;                /* unplugged: every call fails from now on */
    unsigned int fixed_rate; /* 0: any rate */
    uint64_t xrun_after;       /* 0: never inject an underrun */
    uint64_t disconnect_after; /* 0: never disconnect */
    int xrun_injected;
    uint64_t total_written; /* since open, across restarts */

    /* Set by hw_params. */
    unsigned int rate;
    unsigned int frame_bytes;
    snd_pcm_uframes_t buffer_size;
    snd_pcm_uframes_t period_size;
    uint64_t period_ns;
    unsigned char *ring; /* buffer_size frames: written but not yet played */

    /* Set by sw_params. */
    snd_pcm_uframes_t stop_threshold;
    snd_pcm_uframes_t avail_min;
    snd_pcm_uframes_t boundary;

    /* The stream, counted in frames since the last prepare. */
    int running;
    int draining;
    int xrun;
    uint64_t start_ns;
    uint64_t written; /* handed over by the application */
    uint64_t played;  /* consumed by the clock; also what has been recorded */

    /* Underrun gap to record as silence at the next start. */
    int gap_pending;
    uint64_t dry_ns;
} fake_t;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t frames_in(uint64_t ns, unsigned int rate) {
    /* Split to stay exact without overflow for any realistic run length. */
    return (ns / NSEC_PER_SEC) * rate + (ns % NSEC_PER_SEC) * rate / NSEC_PER_SEC;
}

static uint64_t ns_for(uint64_t frames, unsigned int rate) {
    /* Rounded up so that at the returned time at least `frames` have been played. */
    return (frames / rate) * NSEC_PER_SEC + ((frames % rate) * NSEC_PER_SEC + rate - 1) / rate;
}

static struct timespec to_timespec(uint64_t ns) {
    struct timespec ts = { (time_t)(ns / NSEC_PER_SEC), (long)(ns % NSEC_PER_SEC) };
    return ts;
}

static void write_all(int fd, const unsigned char *bytes, size_t count) {
    while (count > 0) {
        ssize_t n = write(fd, bytes, count);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            SNDERR("stridecue_fake: cannot write the played file: %s", strerror(errno));
            return;
        }
        bytes += n;
        count -= (size_t)n;
    }
}

/* Records the ring's frames up to absolute position `upto` as played. */
static void record_played(fake_t *f, uint64_t upto) {
    while (f->played < upto) {
        uint64_t index = f->played % f->buffer_size;
        uint64_t count = upto - f->played;
        if (count > f->buffer_size - index)
            count = f->buffer_size - index;
        if (f->out_fd >= 0)
            write_all(f->out_fd, f->ring + index * f->frame_bytes, (size_t)(count * f->frame_bytes));
        f->played += count;
    }
}

static void record_silence(fake_t *f, uint64_t frames) {
    static const unsigned char zeros[4096];
    uint64_t bytes = frames * f->frame_bytes;
    if (f->out_fd < 0)
        return;
    while (bytes > 0) {
        size_t n = bytes > sizeof zeros ? sizeof zeros : (size_t)bytes;
        write_all(f->out_fd, zeros, n);
        bytes -= n;
    }
}

/* Notes when the played file's frames are played from now on (see `times` above). */
static void note_times(fake_t *f) {
    char line[64];
    off_t bytes;
    int n;
    if (f->times_fd < 0 || f->out_fd < 0)
        return;
    bytes = lseek(f->out_fd, 0, SEEK_CUR);
    if (bytes < 0)
        return;
    n = snprintf(line, sizeof line, "%lld %llu\n", (long long)((uint64_t)bytes / f->frame_bytes) - (long long)f->played,
                 (unsigned long long)f->start_ns);
    write_all(f->times_fd, (const unsigned char *)line, (size_t)n);
}

enum { CONTROL_OK, CONTROL_HANG, CONTROL_UNPLUG };

/* What the test's control file asks for now. */
static int read_control(const char *path) {
    char text[16];
    ssize_t n;
    int fd;

    if (!path)
        return CONTROL_OK;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CONTROL_OK;
    n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return CONTROL_OK;
    text[n] = 0;
    if (strncmp(text, "hang", 4) == 0)
        return CONTROL_HANG;
    if (strncmp(text, "unplug", 6) == 0)
        return CONTROL_UNPLUG;
    return CONTROL_OK;
}

/* Tells the test what the card has done about its control file: a line WORD added to
 * CONTROL.seen. */
static void acknowledge(const char *control, const char *word) {
    char path[4096], line[32];
    int fd;

    if (!control || snprintf(path, sizeof path, "%s.seen", control) >= (int)sizeof path)
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    snprintf(line, sizeof line, "%s\n", word);
    write_all(fd, (const unsigned char *)line, strlen(line));
    close(fd);
}

static void arm_timer(fake_t *f, uint64_t first_ns) {
    struct itimerspec its;
    its.it_value = to_timespec(first_ns);
    its.it_interval = to_timespec(f->period_ns);
    timerfd_settime(f->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static snd_pcm_uframes_t effective_stop_threshold(const fake_t *f);

/* While running: fire once, at the first period boundary at which avail >= avail_min
 * (at once if it already is), or where the card runs dry, whichever comes first.
 * Otherwise (prepared, draining, stopped): tick every period as before. */
static void arm_wakeup(fake_t *f) {
    struct itimerspec its;
    uint64_t wake_min, wake_frames, xrun_at, periods;
    snd_pcm_uframes_t avail_min = f->avail_min ? f->avail_min : 1;

    if ((f->hung || f->gone) && f->period_size) {
        /* Look at the control file again a period from now. */
        arm_timer(f, now_ns() + f->period_ns);
        return;
    }
    if (!f->running || f->draining || !f->period_size)
        return;
    memset(&its, 0, sizeof its);
    /* avail = buffer - (written - position) reaches avail_min at this position: */
    wake_min = f->written + avail_min > f->buffer_size ? f->written + avail_min - f->buffer_size : 0;
    periods = (wake_min + f->period_size - 1) / f->period_size;
    wake_frames = periods * f->period_size;
    xrun_at = f->written + effective_stop_threshold(f) - f->buffer_size;
    if (xrun_at < wake_frames)
        wake_frames = xrun_at;
    its.it_value = to_timespec(f->start_ns + ns_for(wake_frames, f->rate));
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1; /* zero would disarm */
    timerfd_settime(f->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void disarm_timer(fake_t *f) {
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    timerfd_settime(f->timer_fd, 0, &its, NULL);
}

static snd_pcm_uframes_t effective_stop_threshold(const fake_t *f) {
    if (f->stop_threshold == 0 || f->stop_threshold > f->buffer_size)
        return f->buffer_size;
    return f->stop_threshold;
}

/* Moves the play position to `now`; detects the buffer running dry. */
static void advance_clock(fake_t *f, uint64_t now) {
    uint64_t position, xrun_at;

    if (!f->running)
        return;
    if (f->xrun_after && !f->xrun_injected && f->total_written >= f->xrun_after) {
        /* As if the clock had jumped ahead: all that was written has played, the card is dry. */
        f->xrun_injected = 1;
        record_played(f, f->written);
        f->running = 0;
        f->xrun = 1;
        f->gap_pending = 1;
        f->dry_ns = now;
        return;
    }
    position = frames_in(now - f->start_ns, f->rate);
    if (f->draining) {
        record_played(f, position < f->written ? position : f->written);
        return;
    }
    /* avail = buffer - (written - position) reaches the stop threshold here: */
    xrun_at = f->written + effective_stop_threshold(f) - f->buffer_size;
    if (position >= xrun_at) {
        record_played(f, xrun_at);
        f->running = 0;
        f->xrun = 1;
        f->gap_pending = 1;
        f->dry_ns = f->start_ns + ns_for(xrun_at, f->rate);
        return;
    }
    record_played(f, position);
}

/* Obeys the control file, then moves the clock (unless it is stopped or the card gone). */
static void advance(fake_t *f, uint64_t now) {
    int control;

    if (f->gone)
        return;
    control = read_control(f->control);
    if (f->hung && control != CONTROL_HANG) {
        /* The clock runs again from where it stopped: nothing is lost, all is late. */
        f->start_ns += now - f->hung_ns;
        note_times(f);
        f->hung = 0;
        f->writer_told = 0;
        acknowledge(f->control, "moving");
    }
    if (f->hung)
        return;
    advance_clock(f, now);
    if (control == CONTROL_HANG) {
        f->hung = 1;
        f->hung_ns = now;
        acknowledge(f->control, "hung");
    } else if (control == CONTROL_UNPLUG) {
        /* What was played stays played; what was buffered is lost with the card. */
        f->gone = 1;
        f->running = 0;
        arm_wakeup(f);
        acknowledge(f->control, "gone");
    }
}

static int fake_start(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;
    uint64_t now = now_ns();

    advance(f, now);
    if (f->gone)
        return -ENODEV;
    if (f->gap_pending) {
        record_silence(f, frames_in(now - f->dry_ns, f->rate));
        f->gap_pending = 0;
    }
    f->start_ns = now;
    f->running = 1;
    f->xrun = 0;
    note_times(f);
    arm_wakeup(f);
    return 0;
}

static int fake_stop(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;

    advance(f, now_ns());
    f->running = 0;
    f->draining = 0;
    /* Whatever is still in the ring was never heard. */
    f->written = f->played;
    disarm_timer(f);
    return 0;
}

static snd_pcm_sframes_t fake_pointer(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;

    advance(f, now_ns());
    if (f->gone) {
        /* All taken, as far as alsa-lib can tell, so that a writer reaches the transfer
         * and hears -ENODEV there, as from a card that is gone. */
        return (snd_pcm_sframes_t)(f->boundary ? f->written % f->boundary : f->written);
    }
    if (f->xrun)
        return -EPIPE;
    /* SND_PCM_IOPLUG_FLAG_BOUNDARY_WA: positions wrap at the boundary, not the buffer,
     * so a whole buffer played between two calls is not mistaken for none. */
    if (f->boundary)
        return (snd_pcm_sframes_t)(f->played % f->boundary);
    return (snd_pcm_sframes_t)f->played;
}

static snd_pcm_sframes_t fake_transfer(snd_pcm_ioplug_t *io, const snd_pcm_channel_area_t *areas,
                                       snd_pcm_uframes_t offset, snd_pcm_uframes_t size) {
    fake_t *f = io->private_data;
    const unsigned char *src =
        (const unsigned char *)areas[0].addr + (areas[0].first + areas[0].step * offset) / 8;
    snd_pcm_uframes_t left = size;
    uint64_t appl = io->appl_ptr, mine, back;

    advance(f, now_ns());
    if (f->gone)
        return -ENODEV;
    /* After snd_pcm_rewind alsa-lib's application pointer is behind what was written:
     * the rewound frames were never played, and this transfer replaces them. */
    mine = f->boundary ? f->written % f->boundary : f->written;
    if (appl != mine) {
        back = mine >= appl ? mine - appl : mine + f->boundary - appl;
        if (back <= f->written - f->played) {
            f->written -= back;
            f->total_written -= back;
        }
    }
    if (f->disconnect_after) {
        if (f->total_written >= f->disconnect_after)
            return -ENODEV;
        if (left > f->disconnect_after - f->total_written) {
            /* Take what fits; alsa-lib comes back for the rest and gets -ENODEV. */
            left = f->disconnect_after - f->total_written;
            size = left;
        }
    }
    while (left > 0) {
        uint64_t index = f->written % f->buffer_size;
        uint64_t count = left;
        if (count > f->buffer_size - index)
            count = f->buffer_size - index;
        memcpy(f->ring + index * f->frame_bytes, src, (size_t)(count * f->frame_bytes));
        src += count * f->frame_bytes;
        f->written += count;
        f->total_written += count;
        left -= count;
    }
    /* Below avail_min now: the next wake-up moves to later. */
    if (f->buffer_size - (f->written - f->played) < (f->avail_min ? f->avail_min : 1))
        arm_wakeup(f);
    return (snd_pcm_sframes_t)size;
}

static int fake_prepare(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;

    advance(f, now_ns());
    if (f->gone)
        return -ENODEV;
    if (f->running)
        fake_stop(io);
    f->written = 0;
    f->played = 0;
    f->xrun = 0;
    f->draining = 0;
    /* Tick while prepared too, so that a poller waiting for room is woken. */
    arm_timer(f, now_ns() + f->period_ns);
    return 0;
}

static int fake_drain(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;
    uint64_t end_ns;
    struct timespec until;

    if (f->gone)
        return -ENODEV;
    if (f->xrun)
        return 0;
    f->draining = 1;
    arm_timer(f, now_ns() + f->period_ns);
    if (!f->running) {
        /* Drained before reaching the start threshold: play what there is. */
        if (f->written == f->played)
            return 0;
        fake_start(io);
    }
    end_ns = f->start_ns + ns_for(f->written, f->rate);
    if (io->nonblock && now_ns() < end_ns)
        return -EAGAIN; /* the pointer callback finishes it */
    until = to_timespec(end_ns);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {
    }
    advance(f, now_ns());
    return 0;
}

static int fake_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfd, unsigned int nfds,
                             unsigned short *revents) {
    fake_t *f = io->private_data;
    uint64_t expirations;
    (void)pfd;
    (void)nfds;

    int ready;

    advance(f, now_ns());
    ready = f->buffer_size - (f->written - f->played) >= (f->avail_min ? f->avail_min : 1);
    if (f->gone || f->hung || !(ready && f->running && !f->draining && !f->xrun)) {
        /* Non-blocking timerfd: consume the ticks so poll sleeps until the next one.
         * (A running card with room is left readable: it stays ready until written.) */
        while (read(f->timer_fd, &expirations, sizeof expirations) < 0 && errno == EINTR) {
        }
    }
    if (f->gone) {
        /* Wake the writer: its next write hears -ENODEV. */
        *revents = POLLOUT | POLLERR;
        arm_wakeup(f);
    } else if (f->hung) {
        *revents = 0; /* no room will come: the clock has stopped */
        arm_wakeup(f);
        if (!f->writer_told) {
            f->writer_told = 1;
            acknowledge(f->control, "waiting");
        }
    } else if (io->state == SND_PCM_STATE_XRUN) {
        /* alsa-lib turns POLLERR into the state's error (-EPIPE). */
        *revents = POLLOUT | POLLERR;
    } else if (f->xrun) {
        /* alsa-lib has not seen the XRUN yet; POLLERR now would read as -EIO.
         * Wake the writer: its next avail update gets -EPIPE from the pointer. */
        *revents = POLLOUT;
    } else if (ready) {
        *revents = POLLOUT;
    } else {
        *revents = 0;
        arm_wakeup(f);
    }
    return 0;
}

static int fake_hw_params(snd_pcm_ioplug_t *io, snd_pcm_hw_params_t *params) {
    fake_t *f = io->private_data;
    unsigned char *ring;
    (void)params;

    f->rate = io->rate;
    f->frame_bytes = io->channels * 2;
    f->buffer_size = io->buffer_size;
    f->period_size = io->period_size;
    f->period_ns = ns_for(io->period_size, io->rate);
    ring = realloc(f->ring, f->buffer_size * f->frame_bytes);
    if (!ring)
        return -ENOMEM;
    f->ring = ring;
    return 0;
}

static int fake_hw_free(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;

    free(f->ring);
    f->ring = NULL;
    return 0;
}

static int fake_sw_params(snd_pcm_ioplug_t *io, snd_pcm_sw_params_t *params) {
    fake_t *f = io->private_data;

    snd_pcm_sw_params_get_stop_threshold(params, &f->stop_threshold);
    snd_pcm_sw_params_get_avail_min(params, &f->avail_min);
    snd_pcm_sw_params_get_boundary(params, &f->boundary);
    arm_wakeup(f);
    return 0;
}

static int fake_close(snd_pcm_ioplug_t *io) {
    fake_t *f = io->private_data;

    if (f->running)
        fake_stop(io);
    if (f->timer_fd >= 0)
        close(f->timer_fd);
    if (f->out_fd >= 0)
        close(f->out_fd);
    if (f->times_fd >= 0)
        close(f->times_fd);
    free(f->control);
    free(f->ring);
    free(f);
    return 0;
}

static const snd_pcm_ioplug_callback_t fake_callbacks = {
    .start = fake_start,
    .stop = fake_stop,
    .pointer = fake_pointer,
    .transfer = fake_transfer,
    .close = fake_close,
    .hw_params = fake_hw_params,
    .hw_free = fake_hw_free,
    .sw_params = fake_sw_params,
    .prepare = fake_prepare,
    .drain = fake_drain,
    .poll_revents = fake_poll_revents,
};

static int fake_constrain(fake_t *f) {
    static const unsigned int access_list[] = { SND_PCM_ACCESS_RW_INTERLEAVED };
    static const unsigned int format_list[] = { SND_PCM_FORMAT_S16_LE };
    int err;

    err = snd_pcm_ioplug_set_param_list(&f->io, SND_PCM_IOPLUG_HW_ACCESS, 1, access_list);
    if (err < 0)
        return err;
    err = snd_pcm_ioplug_set_param_list(&f->io, SND_PCM_IOPLUG_HW_FORMAT, 1, format_list);
    if (err < 0)
        return err;
    err = snd_pcm_ioplug_set_param_minmax(&f->io, SND_PCM_IOPLUG_HW_CHANNELS, 1, 8);
    if (err < 0)
        return err;
    err = snd_pcm_ioplug_set_param_minmax(&f->io, SND_PCM_IOPLUG_HW_RATE,
                                          f->fixed_rate ? f->fixed_rate : 8000,
                                          f->fixed_rate ? f->fixed_rate : 192000);
    if (err < 0)
        return err;
    err = snd_pcm_ioplug_set_param_minmax(&f->io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, 64, 1 << 20);
    if (err < 0)
        return err;
    err = snd_pcm_ioplug_set_param_minmax(&f->io, SND_PCM_IOPLUG_HW_PERIODS, 2, 1024);
    if (err < 0)
        return err;
    return snd_pcm_ioplug_set_param_minmax(&f->io, SND_PCM_IOPLUG_HW_BUFFER_BYTES, 128, 4 << 20);
}

SND_PCM_PLUGIN_DEFINE_FUNC(stridecue_fake) {
    snd_config_iterator_t i, next;
    const char *file = NULL, *control = NULL, *times = NULL;
    long rate = 0, xrun_after = 0, disconnect_after = 0;
    fake_t *f;
    int err;
    (void)root;

    snd_config_for_each(i, next, conf) {
        snd_config_t *n = snd_config_iterator_entry(i);
        const char *id;
        if (snd_config_get_id(n, &id) < 0)
            continue;
        /* Fields every PCM definition may carry (alsa-lib keeps its own check private). */
        if (strcmp(id, "comment") == 0 || strcmp(id, "type") == 0 || strcmp(id, "hint") == 0)
            continue;
        if (strcmp(id, "file") == 0) {
            if (snd_config_get_string(n, &file) < 0) {
                SNDERR("stridecue_fake: file must be a string");
                return -EINVAL;
            }
            continue;
        }
        if (strcmp(id, "times") == 0) {
            if (snd_config_get_string(n, &times) < 0) {
                SNDERR("stridecue_fake: times must be a string");
                return -EINVAL;
            }
            continue;
        }
        if (strcmp(id, "control") == 0) {
            if (snd_config_get_string(n, &control) < 0) {
                SNDERR("stridecue_fake: control must be a string");
                return -EINVAL;
            }
            continue;
        }
        if (strcmp(id, "rate") == 0) {
            if (snd_config_get_integer(n, &rate) < 0 || rate < 1000 || rate > 768000) {
                SNDERR("stridecue_fake: rate must be an integer sample rate");
                return -EINVAL;
            }
            continue;
        }
        if (strcmp(id, "xrun_after") == 0 || strcmp(id, "disconnect_after") == 0) {
            long *target = id[0] == 'x' ? &xrun_after : &disconnect_after;
            if (snd_config_get_integer(n, target) < 0 || *target < 0) {
                SNDERR("stridecue_fake: %s must be a frame count", id);
                return -EINVAL;
            }
            continue;
        }
        SNDERR("stridecue_fake: unknown field %s", id);
        return -EINVAL;
    }
    if (stream != SND_PCM_STREAM_PLAYBACK) {
        SNDERR("stridecue_fake: playback only");
        return -EINVAL;
    }

    /* An unplugged card cannot be opened until it is plugged back. */
    if (control && control[0] && read_control(control) == CONTROL_UNPLUG) {
        acknowledge(control, "refused");
        return -ENODEV;
    }
    f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    if (control && control[0] && !(f->control = strdup(control))) {
        free(f);
        return -ENOMEM;
    }
    f->out_fd = -1;
    f->times_fd = -1;
    f->fixed_rate = (unsigned int)rate;
    f->xrun_after = (uint64_t)xrun_after;
    f->disconnect_after = (uint64_t)disconnect_after;
    f->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (f->timer_fd < 0) {
        err = -errno;
        free(f->control);
        free(f);
        return err;
    }
    if (file && file[0]) {
        f->out_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (f->out_fd < 0) {
            err = -errno;
            SNDERR("stridecue_fake: cannot open %s: %s", file, strerror(errno));
            close(f->timer_fd);
            free(f->control);
            free(f);
            return err;
        }
    }
    if (times && times[0]) {
        f->times_fd = open(times, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (f->times_fd < 0) {
            err = -errno;
            SNDERR("stridecue_fake: cannot open %s: %s", times, strerror(errno));
            if (f->out_fd >= 0)
                close(f->out_fd);
            close(f->timer_fd);
            free(f->control);
            free(f);
            return err;
        }
    }

    f->io.version = SND_PCM_IOPLUG_VERSION;
    f->io.name = "StrideCue paced fake sound card";
    f->io.flags = SND_PCM_IOPLUG_FLAG_MONOTONIC | SND_PCM_IOPLUG_FLAG_BOUNDARY_WA;
    f->io.poll_fd = f->timer_fd;
    f->io.poll_events = POLLIN;
    f->io.mmap_rw = 0;
    f->io.callback = &fake_callbacks;
    f->io.private_data = f;

    err = snd_pcm_ioplug_create(&f->io, name, stream, mode);
    if (err < 0) {
        if (f->out_fd >= 0)
            close(f->out_fd);
        if (f->times_fd >= 0)
            close(f->times_fd);
        close(f->timer_fd);
        free(f->control);
        free(f);
        return err;
    }
    err = fake_constrain(f);
    if (err < 0) {
        snd_pcm_ioplug_delete(&f->io); /* calls fake_close, which frees f */
        return err;
    }
    *pcmp = f->io.pcm;
    return 0;
}

SND_PCM_PLUGIN_SYMBOL(stridecue_fake);
