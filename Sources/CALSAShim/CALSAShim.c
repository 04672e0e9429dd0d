#include "CALSAShim.h"

#include <alsa/asoundlib.h>

static void stridecue_alsa_quiet_handler(const char *file, int line, const char *function,
                                         int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

void stridecue_alsa_silence_errors(void) {
    snd_lib_error_set_handler(stridecue_alsa_quiet_handler);
}

void stridecue_alsa_restore_errors(void) {
    // NULL selects alsa-lib's built-in handler.
    snd_lib_error_set_handler(NULL);
}
