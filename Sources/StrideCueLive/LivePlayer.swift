import StrideCueALSA
import StrideCueCore
import StrideCueFiles
import StrideCueLink
import StrideCueMixdown
import StrideCueSession
import StrideCueTerminal

/// A stop asked for by a signal (Ctrl-C, SIGTERM): no message,
/// exit 128 + `signal`. Front ends end quietly with that status.
public struct Stopped: Error, Sendable {
    public let signal: Int32
    public init(signal: Int32) { self.signal = signal }
}

/// The coach's remote as the commands see it while a drill plays: `LivePlayer` attaches each
/// drill to it, `play --remote` and `coach` take the drills the coach starts from it.
///
/// The server behind it (Hummingbird, SwiftNIO and Foundation) lives in the second executable,
/// `stridecue-remote`, which installs a `CoachRemoteHost` and then runs these same commands:
/// `stridecue` itself never links it, so `render` and the rest start and run as lean as before.
public protocol CoachRemoteSession: AnyObject, Sendable {
    /// The coach's URL, with the session's token: `http://HOST:PORT/#token=TOKEN`.
    var url: String { get }
    /// The URL as a QR code, one string per terminal line.
    func qrCodeLines() throws -> [String]
    /// The drill now playing: its commands and status go to the page (with the runner's
    /// sensor, when `play --sensor` reads one).
    func attach(live: LivePlayback, prepared: PreparedSession, preset: String?, sensor: SensorReadings?)
    /// Playback ended: the page shows the library again.
    func detach()
    /// Shows a one-line message on every page.
    func report(_ message: String)
    /// The preset the coach asked to start, if any.
    func takeStartRequest() -> String?
    /// Waits for the coach to start a preset, for at most `milliseconds` (a signal ends the wait too).
    func waitForStartRequest(milliseconds: Int32) -> String?
}

/// Live playback of one session, shared by `play` and `coach`: preflight, device, playback
/// thread, keys and status; attached to the coach's remote while it plays.
public struct LivePlayer {
    /// Stereo, as `render` writes by default.
    public static let channels = 2
    public static let periodMilliseconds = 5.0
    /// The buffer when no latency is pinned, and how far it may grow after dropouts.
    public static let defaultLatency = 100.0
    public static let maxGrownLatency = 1_000.0

    let device: String
    let rate: Int
    /// Pinned (--latency), in milliseconds; nil: `defaultLatency`, grown after a dropout.
    let latency: Double?
    /// Seconds to wait for a device that went away, and how the runner wrote them.
    let reconnect: (seconds: Double, text: String)
    let keys: Bool
    let verbose: Bool
    /// The runner's own cadence (`play --sensor`), read by the sensor's thread.
    public var sensor: SensorReadings? = nil
    /// `play --log FILE`: the session log, CSV or JSON by the file's extension, written atomically at the end.
    public var logPath: String? = nil
    /// `play --feedback MODE`: how the click answers the sensor, over the preset's `feedback:` mode.
    public var feedback: ClickFeedback? = nil
    /// `--link`: click in step with the Ableton Link session on the network (`LinkFollowing`).
    public var link = false

    public init(device: String, rate: Int, latency: Double?, reconnect: (seconds: Double, text: String),
                keys: Bool, verbose: Bool, link: Bool = false) {
        self.link = link
        self.device = device
        self.rate = rate
        self.latency = latency
        self.reconnect = reconnect
        self.keys = keys
        self.verbose = verbose
    }

    /// Plays `request` to its end, a stop or a signal (which it rethrows as the exit code).
    /// - Parameter music: music to play under the clicks and cues (`play --music`), decoded
    ///   and measured before the device opens.
    public func play(_ request: SessionRequest, remote: (any CoachRemoteSession)?, music: MusicSettings? = nil) throws {
        let started = monotonicSeconds()
        if verbose { ALSALibrary.restoreErrorMessages() } else { ALSALibrary.silenceErrorMessages() }
        let hz = rate
        let buffer = latency ?? Self.defaultLatency
        let renderFormat = RenderFormat(sampleRate: hz, channels: Self.channels)
        let data = DataFolder.locate()
        let resolved = try request.resolve(in: PresetLocator(data: data))
        let prepared = try preflight(resolved, data: data, format: renderFormat)
        var plan = prepared.plan
        if let feedback { plan.feedback.mode = feedback }
        try stopIfInterrupted()
        // Music is decoded and measured before the device opens: a file that cannot be read
        // is the same one line and exit status as `render --music` gives, and nothing plays.
        let liveMusic = try music.map { try prepareMusic($0, for: prepared) }
        if let logPath { try checkReplaceable(logPath) }
        let nudgeWords = try sensor == nil ? nil : plan.feedback.spoken.map { try SpokenNudgeWords($0, rate: hz) }
        // Joined before the device opens, so that the session's peers are known by the first block.
        let linkSession = try link ? joinLink(plan) : nil
        let renderer = prepared.makeRenderer()
        let pcm = try openDevice(PCMConfiguration(
            rate: hz, channels: Self.channels, periodMilliseconds: Self.periodMilliseconds, latencyMilliseconds: buffer))
        if verbose { printError("stridecue: \(describe(pcm))") }
        try stopIfInterrupted()

        let live = LivePlayback(renderer: renderer, plan: plan)
        nudgeWords?.keep(in: live.spoken)
        // The player owns the music's stage from here on.
        if let liveMusic { live.playMusic(liveMusic) }
        if let linkSession {
            live.follow(link: linkSession, quantum: plan.accentEvery > 0 ? plan.accentEvery : 2, tempo: plan.ramp?.from ?? plan.cadence)
        }
        let engine = PlaybackEngine(live: live, device: pcm, options: PlaybackOptions(
            reconnectSeconds: reconnect.seconds, growBuffer: latency == nil, maxLatencyMilliseconds: Self.maxGrownLatency))
        remote?.attach(live: live, prepared: prepared, preset: request.preset, sensor: sensor)
        defer { remote?.detach() }
        var player = Player(engine: engine, plan: plan, rate: hz, keys: keys, verbose: verbose, music: liveMusic != nil)
        player.sensor = sensor
        player.logFormat = logPath.flatMap(SessionLog.Format.init(path:))
        let outcome = player.run()
        // Written however the session ended (a stop, a signal): the steps run are the runner's.
        if let logPath, let log = outcome.log { try replaceFile(logPath, with: Array(log.text.utf8)) }
        if outcome.hungDevice {
            // The playback thread is still blocked in alsa-lib: leave its results alone.
            throw Failure("sound device '\(quoted(device))' stopped taking frames; gave up waiting for it", exitCode: ExitStatus.ioError)
        }

        if environment("STRIDECUE_TIMING") != nil, let first = engine.firstWrite {
            let played = Double(engine.framesWritten) / Double(hz)
            printError("stridecue: timing: first frame handed to ALSA at epoch \(first.epoch) s, "
                + "\(milliseconds(first.monotonic - started)) ms after the command started; "
                + "\(format3(played)) s of frames played in \(format3(engine.playingSeconds)) s; "
                + "CPU \(format3(processCPUSeconds())) s; not responding \(engine.notRespondingEpisodes) times; "
                + "underruns \(engine.underruns)")
        }
        if let error = engine.failure {
            let waited = reconnect.seconds > 0 && error.isDeviceLost ? " and did not come back within \(reconnect.text) s" : ""
            throw Failure(
                error.isDeviceLost
                    ? "sound device '\(quoted(device))' went away while playing (ALSA: \(error.reason))\(waited); playback stopped"
                    : "sound device '\(quoted(device))' failed while playing (\(error)); playback stopped",
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
        if verbose, let delay = engine.delayRange {
            let ms = { (frames: Int) in format((Double(frames) * 1000 / Double(hz)).rounded()) }
            let range = delay.least == delay.most ? "\(ms(delay.most)) ms" : "\(ms(delay.least))–\(ms(delay.most)) ms"
            printError("stridecue: the device's delay, from a frame handed over to its being heard, was \(range); "
                + "the status line follows what is heard")
        }
        if verbose, let report = live.linkReport() {
            let ms = { (seconds: Double) in format3(seconds * 1000) }
            printError("stridecue: link: \(report.mostPeers) peer\(report.mostPeers == 1 ? "" : "s") at most, \(report.peers) at the end, "
                + "at \(format((report.tempo * 100).rounded() / 100)) steps per minute; offset from the session's grid: \(ms(report.lastOffset)) ms at the last step, "
                + "\(ms(report.largestOffset)) ms at most; \(report.moves) step\(report.moves == 1 ? "" : "s") moved onto it")
        }
        if engine.reconnects > 0 && verbose {
            printError("stridecue: the sound device went away and came back \(engine.reconnects) time\(engine.reconnects == 1 ? "" : "s")")
        }
        if outcome.signal != 0 { throw Stopped(signal: outcome.signal) }
    }

    /// How long joining a Link session waits for its peers to answer before playing alone.
    public static let linkJoinMilliseconds = 250

    /// A Link peer at the plan's first tempo, in the session of the network.
    private func joinLink(_ plan: SessionPlan) throws -> LinkSession {
        do {
            let session = try LinkSession(tempo: plan.ramp?.from ?? plan.cadence)
            session.shareStartStop(true)
            try session.enable()
            _ = session.waitForPeers(milliseconds: Self.linkJoinMilliseconds)
            return session
        } catch {
            throw Failure("cannot join the Link session (\(error)); play without --link", exitCode: ExitStatus.unavailable)
        }
    }

    /// Music decoded and measured for `prepared`, saying so on standard error when that takes
    /// a while (a long song, FFmpeg's decoders); a signal meanwhile stops quietly, as in play.
    private func prepareMusic(_ music: MusicSettings, for prepared: PreparedSession) throws -> LiveMusic {
        let started = monotonicSeconds()
        var said = false
        do {
            let ready = try LiveMusic(prepared: prepared, music: music, progress: { done in
                if !said && done < 0.5 && monotonicSeconds() - started > Self.musicNoteSeconds {
                    said = true
                    printError("stridecue: reading the music (\(escaped(music.path)))…")
                }
            }, cancellation: interruptions)
            if environment("STRIDECUE_TIMING") != nil {
                printError("stridecue: timing: music read and measured in \(milliseconds(monotonicSeconds() - started)) ms; "
                    + "CPU \(format3(processCPUSeconds())) s by then")
            }
            if verbose {
                printError("stridecue: music \(escaped(music.path)) read by \(ready.decoder), "
                    + "\(format3(monotonicSeconds() - started)) s, at \(format(music.level)) dB under the clicks")
            }
            return ready
        } catch where interruptions.signal != 0 {
            throw Stopped(signal: interruptions.signal)
        }
    }

    /// Reading the music is announced once it has taken this long.
    static let musicNoteSeconds = 0.5

    /// Opens the device, turning ALSA's refusal into one line a runner can act on.
    private func openDevice(_ configuration: PCMConfiguration) throws -> PCMDevice {
        do {
            return try PCMDevice(name: device, configuration: configuration)
        } catch {
            if error.isUnavailable {
                throw Failure(
                    "no sound device '\(quoted(device))' (ALSA: \(error.reason)); "
                        + "list devices with 'stridecue devices' or write a file with 'stridecue render'",
                    exitCode: ExitStatus.unavailable)
            }
            let asked = error.detail.map { "; asked for \($0)" } ?? ""
            throw Failure(
                "sound device '\(quoted(device))' cannot play this (ALSA: \(error.reason) in \(error.failure.call)\(asked)); "
                    + "try another --rate or --latency, or write a file with 'stridecue render'",
                exitCode: ExitStatus.unavailable)
        }
    }

    private func describe(_ pcm: borrowing PCMDevice) -> String {
        func ms(_ frames: Int) -> String { format(Double((Double(frames) * 10_000 / Double(pcm.rate)).rounded()) / 10) }
        return "playing on '\(pcm.name)' (\(pcm.route.description)) at \(pcm.rate) Hz, \(pcm.channels) channels, "
            + "\(pcm.periodFrames)-frame periods (\(ms(pcm.periodFrames)) ms) in a "
            + "\(pcm.bufferFrames)-frame buffer (\(ms(pcm.bufferFrames)) ms), refilled \(ms(pcm.availMin)) ms at a time"
    }

    private func stopIfInterrupted() throws {
        let signal = interruptions.signal
        if signal != 0 { throw Stopped(signal: signal) }
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
