#ifndef STRIDECUE_CALSA_SHIM_H_PUBLIC
#define STRIDECUE_CALSA_SHIM_H_PUBLIC

// The few alsa-lib entry points Swift cannot call directly.
// This header deliberately includes no ALSA header: the types Swift needs come from the
// CALSA system module, and declaring them twice would give Swift two copies of each.

#ifdef __cplusplus
extern "C" {
#endif

/// Installs an error handler that drops alsa-lib's diagnostic messages (the
/// "ALSA lib pcm.c:…" lines it prints on stderr). Errors are still returned as codes.
/// Process-wide; call once, early, before other threads use alsa-lib.
/// The handler type is C-variadic, which Swift cannot implement: that is why this is C.
/// The corresponding C function is `snd_lib_error_set_handler`.
void stridecue_alsa_silence_errors(void);

/// Puts back alsa-lib's default handler, which prints to stderr (for `--verbose`).
void stridecue_alsa_restore_errors(void);

#ifdef __cplusplus
}
#endif

#endif
