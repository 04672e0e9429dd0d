import ArgumentParser
import StrideCueALSA
import StrideCueCore
import StrideCueFiles
import StrideCueMixdown
import StrideCueSession
import StrideCueTerminal
import Synchronization
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
            minute, ] and [ by 5 (from the next step on); space pauses and resumes on a step \
            boundary; n ends a rest; q or Esc quits.
            The status line (cadence, step, set or rest, elapsed time, next cue) is shown when standard \
            error is a terminal. The buffer starts at 100 ms and doubles after a dropout (up to \
            1000 ms); --latency pins it. A device that goes away is opened again every half second \
            for --reconnect seconds; playback resumes at the first click not heard, after a \
            one-step lead-in click. STRIDECUE_TIMING=1 prints when the first frame reached ALSA and the CPU time used; \
            STRIDECUE_NO_REALTIME=1 skips asking for real-time scheduling (for benchmarks).
            Exit codes: 0 done, 64 bad flag, 65 bad preset, 66 missing input, 69 no usable \
            sound device, 74 the device failed or went away, 130 interrupted, 143 terminated.
            """
    )

    @OptionGroup var session: SessionOptions

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

    @Flag(name: .customLong("no-keys"), help: "Do not read keys from the terminal.")
    var noKeys = false

    @Flag(help: "Say what the device and the system granted (buffer, real-time scheduling); show ALSA's own messages.")
    var verbose = false

    /// Stereo, as `render` writes by default.
    static let channels = 2
    static let periodMilliseconds = 5.0
    /// The buffer when --latency is not given, and how far it may grow after dropouts.
    static let defaultLatency = 100.0
    static let maxGrownLatency = 1_000.0

    func validate() throws {
        try latency?.validate("--latency", 10...2_000, unit: "ms")
        try reconnect.validate("--reconnect", 0...3_600, unit: "s")
    }

    @Option(help: ArgumentHelp("Serve the coach's remote (page and API) on [ADDRESS:]PORT; 127.0.0.1 unless an address is given.", valueName: "[addr:]port"))
    var remote: RemoteAddress?

    func run() throws {
        // The remote's server lives in `stridecue-remote`, so that commands without it start
        // and run as lean as before: `play --remote` runs the same arguments there.
        if remote != nil, CoachRemoteHost.installed == nil { execRemoteFrontEnd() }
        try reportingFailures {
            catchInterrupts()
            let player = LivePlayer(device: device, rate: rate.hz, latency: latency, reconnect: reconnect,
                                    keys: !noKeys, verbose: verbose)
            guard let address = remote, let host = CoachRemoteHost.installed else {
                try player.play(session.request, remote: nil)
                return
            }
            // With the remote, the coach may start another drill; the last one played ends the run.
            let coach = try host.start(address)
            var request = session.request
            while true {
                try player.play(request, remote: coach)
                guard let preset = coach.takeStartRequest() else { return }
                request = SessionRequest(preset: preset)
            }
        }
    }
}

/// Live playback of one session, shared by `play` and `coach`: preflight, device, playback
/// thread, keys and status; attached to the coach's remote while it plays.
struct LivePlayer {
    let device: DeviceName
    let rate: Int
    /// Pinned by --latency; nil: `Play.defaultLatency`, grown after a dropout.
    let latency: DecimalValue?
    let reconnect: DecimalValue
    let keys: Bool
    let verbose: Bool

    /// Plays `request` to its end, a stop or a signal (which it rethrows as the exit code).
    func play(_ request: SessionRequest, remote: (any CoachRemoteSession)?) throws {
        let started = monotonicSeconds()
        if verbose { ALSALibrary.restoreErrorMessages() } else { ALSALibrary.silenceErrorMessages() }
        let hz = rate
        let buffer = latency?.value ?? Play.defaultLatency
        let renderFormat = RenderFormat(sampleRate: hz, channels: Play.channels)
        let data = DataFolder.locate()
        let resolved = try request.resolve(in: PresetLocator(data: data))
        let prepared = try preflight(resolved, data: data, format: renderFormat)
        let plan = prepared.plan
        try stopIfInterrupted()
        let renderer = prepared.makeRenderer()
        let pcm = try openDevice(PCMConfiguration(
            rate: hz, channels: Play.channels, periodMilliseconds: Play.periodMilliseconds, latencyMilliseconds: buffer))
        if verbose { printError("stridecue: \(describe(pcm))") }
        try stopIfInterrupted()

        let live = LivePlayback(renderer: renderer, plan: plan)
        let engine = PlaybackEngine(live: live, device: pcm, options: PlaybackOptions(
            reconnectSeconds: reconnect.value, growBuffer: latency == nil, maxLatencyMilliseconds: Play.maxGrownLatency))
        remote?.attach(live: live, prepared: prepared, preset: request.preset)
        defer { remote?.detach() }
        let player = Player(engine: engine, plan: plan, rate: hz, keys: keys, verbose: verbose)
        let outcome = player.run()
        if outcome.hungDevice {
            // The playback thread is still blocked in alsa-lib: leave its results alone.
            throw Failure("sound device '\(quoted(device.name))' stopped taking frames; gave up waiting for it", exitCode: ExitStatus.ioError)
        }

        if environment("STRIDECUE_TIMING") != nil, let first = engine.firstWrite {
            let played = Double(engine.framesWritten) / Double(hz)
            printError("stridecue: timing: first frame handed to ALSA at epoch \(first.epoch) s, "
                + "\(milliseconds(first.monotonic - started)) ms after the command started; "
                + "\(format3(played)) s of frames played in \(format3(engine.playingSeconds)) s; "
                + "CPU \(format3(processCPUSeconds())) s; underruns \(engine.underruns)")
        }
        if let error = engine.failure {
            let waited = reconnect.value > 0 && error.isDeviceLost ? " and did not come back within \(reconnect.text) s" : ""
            throw Failure(
                error.isDeviceLost
                    ? "sound device '\(quoted(device.name))' went away while playing (ALSA: \(error.reason))\(waited); playback stopped"
                    : "sound device '\(quoted(device.name))' failed while playing (\(error)); playback stopped",
                exitCode: ExitStatus.ioError)
        }
        if engine.underruns > 0 {
            let n = engine.underruns
            let what = "stridecue: \(n) underrun\(n == 1 ? "" : "s"): the sound dropped out \(n == 1 ? "once" : "\(n) times"); "
            if engine.bufferGrowths > 0 {
                let ms = { (frames: Int) in format((Double(frames) * 1000 / Double(hz)).rounded()) }
                printError(what + "the buffer grew from \(ms(engine.bufferFrames)) ms to \(ms(engine.finalBufferFrames)) ms")
            } else {
                printError(what + "a longer --latency (now \(format(buffer)) ms) helps on a busy machine")
            }
        }
        if engine.reconnects > 0 && verbose {
            printError("stridecue: the sound device went away and came back \(engine.reconnects) time\(engine.reconnects == 1 ? "" : "s")")
        }
        if outcome.signal != 0 { throw ExitCode(128 + outcome.signal) }
    }

    /// Opens the device, turning ALSA's refusal into one line a runner can act on.
    private func openDevice(_ configuration: PCMConfiguration) throws -> PCMDevice {
        do {
            return try PCMDevice(name: device.name, configuration: configuration)
        } catch {
            if error.isUnavailable {
                throw Failure(
                    "no sound device '\(quoted(device.name))' (ALSA: \(error.reason)); "
                        + "list devices with 'stridecue devices' or write a file with 'stridecue render'",
                    exitCode: ExitStatus.unavailable)
            }
            let asked = error.detail.map { "; asked for \($0)" } ?? ""
            throw Failure(
                "sound device '\(quoted(device.name))' cannot play this (ALSA: \(error.reason) in \(error.failure.call)\(asked)); "
                    + "try another --rate or --latency, or write a file with 'stridecue render'",
                exitCode: ExitStatus.unavailable)
        }
    }

    private func describe(_ pcm: borrowing PCMDevice) -> String {
        func ms(_ frames: Int) -> String { format(Double((Double(frames) * 10_000 / Double(pcm.rate)).rounded()) / 10) }
        return "playing on '\(pcm.name)' at \(pcm.rate) Hz, \(pcm.channels) channels, "
            + "\(pcm.periodFrames)-frame periods (\(ms(pcm.periodFrames)) ms) in a "
            + "\(pcm.bufferFrames)-frame buffer (\(ms(pcm.bufferFrames)) ms), refilled \(ms(pcm.availMin)) ms at a time"
    }

    private func stopIfInterrupted() throws {
        let signal = interruptions.signal
        if signal != 0 { throw ExitCode(128 + signal) }
    }

    private func milliseconds(_ seconds: Double) -> String { format3(seconds * 1000) }
}

private func format3(_ x: Double) -> String {
    let thousandths = Int((x * 1000).rounded())
    let sign = thousandths < 0 ? "-" : ""
    let a = abs(thousandths)
    let fraction = String(a % 1000)
    return "\(sign)\(a / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}
