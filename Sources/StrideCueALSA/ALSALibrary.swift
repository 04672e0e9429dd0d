import CALSAShim

/// Process-wide alsa-lib settings.
public enum ALSALibrary {
    /// Stops alsa-lib from printing its own diagnostics ("ALSA lib pcm.c:…: Unknown PCM …")
    /// on standard error. Failures still come back as `ALSAError`s, which say it once, clearly.
    ///
    /// Call it once at start-up, before other threads use alsa-lib.
    /// The corresponding C function is `snd_lib_error_set_handler`.
    public static func silenceErrorMessages() {
        stridecue_alsa_silence_errors()
    }

    /// Lets alsa-lib print its diagnostics again (useful under `--verbose`).
    public static func restoreErrorMessages() {
        stridecue_alsa_restore_errors()
    }
}
