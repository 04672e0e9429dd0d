import ArgumentParser
import StrideCueCore
import StrideCueSession
import StrideCueSoundFile
import StrideCueTerminal
import StrideCueLive
/// `stridecue play`: a session live through ALSA, from the same renderer as `render`.
///
/// Three parts: the command (here) checks the flags, builds the renderer and opens the device;
/// a playback thread (`PlaybackEngine`) renders, quantizes and writes what the device takes
/// at each wake-up (half the buffer), paced by the device; the main thread reads keys, draws the status line and turns signals
/// into a fade-out. Commands reach the playback thread through `LivePlayback`'s lock-free queue.
struct Play: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "play",
        abstract: "Play a session live through ALSA.",
        discussion: """
            The frames handed to the sound card are, byte for byte, those 'stridecue render \
            --bits 16' writes for the same session, rate and channels (stereo).
            Keys, when standard input is a terminal: + and - change the cadence by 1 step per \
            minute, ] and [ by 5 (from the first step not yet handed to ALSA; in a ramp, its end); space pauses and resumes on a step \
            boundary; n ends the set or rest being played and goes on to the next; q or Esc quits.
            The status line (cadence, step, set or rest, elapsed time, next cue) is shown when standard \
            error is a terminal. The buffer starts at 100 ms and doubles after a dropout (up to \
            1000 ms); --latency pins it. A device that goes away is opened again every half second \
            for --reconnect seconds; playback resumes at the first click not heard, after a \
            one-step lead-in click. STRIDECUE_TIMING=1 prints when the first frame reached ALSA and the CPU time used; \
            STRIDECUE_NO_REALTIME=1 skips asking for real-time scheduling (for benchmarks).
            --music plays a music file under the clicks and cues: without keys the frames are \
            those of 'stridecue render --music FILE --no-normalize' (the renderer's levels, the \
            music --music-level dB under them, ducked under cues, limited to -1.3 dBTP); the file \
            is read before the device opens. Space pauses the music with the clicks; tempo keys \
            change the clicks only.
            Exit codes: 0 done, 64 bad flag, 65 bad preset, 66 missing input, 69 no usable \
            sound device or --sensor, 74 the device failed or went away, 130 interrupted, 143 terminated.
            """
    )

    @OptionGroup var session: SessionOptions

    @OptionGroup var musicOptions: MusicOptions

    @OptionGroup var output: LiveOutputOptions

    @OptionGroup var sensorOptions: SensorOptions

    @Flag(name: .customLong("no-keys"), help: "Do not read keys from the terminal.")
    var noKeys = false

    @Flag(help: "Say what the device and the system granted (buffer, real-time scheduling); show ALSA's own messages.")
    var verbose = false

    func validate() throws {
        try output.validate()
        _ = try musicOptions.settings()
    }

    @Option(help: ArgumentHelp("Serve the coach's remote (page and API) on [ADDRESS:]PORT; 127.0.0.1 unless an address is given.", valueName: "[addr:]port"))
    var remote: RemoteAddress?

    func run() throws {
        // The remote's server lives in `stridecue-remote`, so that commands without it start
        // and run as lean as before: `play --remote` runs the same arguments there.
        if remote != nil, CoachRemoteHost.installed == nil { execRemoteFrontEnd() }
        try reportingFailures {
            catchInterrupts()
            let sensor = try sensorOptions.start()
            defer { sensor?.stop() }
            var player = output.player(keys: !noKeys, verbose: verbose)
            player.sensor = sensor?.readings
            player.logPath = sensorOptions.log
            player.feedback = sensorOptions.feedback
            let music = try musicOptions.settings()
            guard let address = remote, let host = CoachRemoteHost.installed else {
                try player.play(session.request, remote: nil, music: music)
                return
            }
            // Music no library reads is refused before the server starts and prints its address.
            if let music { try MusicLoop.checkReadable(music.path) }
            // With the remote, the coach may start another drill; the last one played ends the run.
            let coach = try host.start(address)
            var request = session.request
            while true {
                try player.play(request, remote: coach, music: music)
                guard let preset = coach.takeStartRequest() else { return }
                request = SessionRequest(preset: preset)
            }
        }
    }
}

/// The sound card and how it is driven, for `play` and `coach` alike.
struct LiveOutputOptions: ParsableArguments {
    @Option(help: "The ALSA device (PCM) to play on; 'stridecue devices' lists them.")
    var device = DeviceName("default")

    @Option(parsing: .unconditional, help: "Sample rate in Hz, 8000 to 192000; the device must play it exactly.")
    var rate = SampleRateValue(48_000)

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Sound card buffer in milliseconds, 10 to 2000 (5 ms periods); pinned. Default: 100, doubled after a dropout.",
        valueName: "ms"))
    var latency: DecimalValue?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Seconds to wait for a device that went away, 0 to 3600; 0 stops at once (exit 74).", valueName: "s"))
    var reconnect = DecimalValue(30)

    @Flag(help: "Click in step with the Ableton Link session on the network (docs/link.md): one beat is one step.")
    var link = false

    func validate() throws {
        try latency?.validate("--latency", 10...2_000, unit: "ms")
        try reconnect.validate("--reconnect", 0...3_600, unit: "s")
    }

    func player(keys: Bool, verbose: Bool) -> LivePlayer {
        LivePlayer(device: device.name, rate: rate.hz, latency: latency?.value, reconnect: (reconnect.value, reconnect.text),
                   keys: keys, verbose: verbose, link: link)
    }
}
