import Glibc
import StrideCueALSA
import StrideCueCore
import StrideCueFiles
import StrideCueTerminal
import Synchronization

// MARK: The main thread: keys, status, signals

/// Runs the playback thread and, meanwhile, the terminal: keys in, status out, signals.
public struct Player {
    public init(engine: PlaybackEngine, plan: SessionPlan, rate: Int, keys: Bool, verbose: Bool, music: Bool = false) {
        self.music = music
        self.engine = engine
        self.plan = plan
        self.rate = rate
        self.keys = keys
        self.verbose = verbose
    }

    public let engine: PlaybackEngine
    /// The plan as started, for the status line's next cue (cues fall on steps, which
    /// tempo keys do not move).
    public let plan: SessionPlan
    public let rate: Int
    public let keys: Bool
    public let verbose: Bool
    /// Music plays under the clicks: the status line says so, last (the first thing a narrow
    /// terminal cuts).
    public let music: Bool
    /// The runner's own cadence (`play --sensor`), shown beside the target.
    public var sensor: SensorReadings? = nil
    /// `play --log`: a row per step heard, returned in `Outcome.log`.
    public var logFormat: SessionLog.Format? = nil

    public struct Outcome {
        /// The signal that stopped playback, or 0.
        public var signal: Int32 = 0
        /// The device stopped taking frames, and the playback thread never came back, or the
        /// session's time ran out meanwhile (`PlaybackEngine.hungAtEnd`).
        public var hungDevice = false
        /// The session log, when one was asked for (`logFormat`).
        public var log: SessionLog? = nil
    }

    /// Status line refresh interval.
    public static let statusInterval = 0.1
    public static let pollMilliseconds: Int32 = 100
    /// How long a stop may take before the device is taken to be hung and given up on: the
    /// fade from what the device has not played yet, and a margin. Within 100 ms either way.
    public static let stopTimeout = 0.080
    /// How long a note ("dropout: buffer now 200 ms") stays on the status line.
    public static let noteSeconds = 4.0

    public func run() -> Outcome {
        var outcome = Outcome()
        let terminal = keys ? Terminal.enterKeyMode() : false
        defer { if terminal { Terminal.restore() } }
        let showStatus = isatty(2) == 1

        guard engine.start() else {
            printError("stridecue: cannot start the playback thread")
            outcome.hungDevice = true
            return outcome
        }
        if verbose { reportRealTime() }

        var stopAsked: Double? = nil
        var abandoned = false
        var lastStatus = 0.0
        var growthsSeen = 0
        var note = ""
        var noteUntil = 0.0
        var columns = Terminal.columns()
        _ = Terminal.wasResized()  // a resize before the loop is not news
        if showStatus { Terminal.watchResizes() }
        var statusShown = false
        var shownLine = ""
        let feedback = plan.feedback
        var sensorStatus = sensor.map { SensorStatus(readings: $0, tolerance: feedback.band) }
        var log = logFormat.map { SessionLog(format: $0, rate: rate, tolerance: feedback.band) }
        // `feedback: fade`: decided here from the sensor, handed to the playback thread as one atomic.
        var fadeBand = feedback.mode == .fade && sensor != nil ? CadenceBand(tolerance: feedback.band) : nil
        // `feedback: nudge`: new cadences go to the playback thread through the command queue.
        var nudge = feedback.mode == .nudge && sensor != nil ? NudgeFeedback(step: feedback.step) : nil
        // The spoken nudge: words made before playback (`SpokenNudgeWords`), said through the command queue.
        var spokenNudge = sensor != nil ? feedback.spoken.map { SpokenNudge(settings: $0, band: feedback.band) } : nil
        // For `make bench`: when each nudge was asked for (STRIDECUE_TIMING), to split a notification's
        // way to the sound into the sensor's part and the playback's.
        let timing = getenv("STRIDECUE_TIMING") != nil
        var nudgesAsked: [String] = []
        var input = [UInt8](repeating: 0, count: 64)
        var keys = KeyReader()
        var reading = terminal
        var keyModeOn = terminal
        let wakeup = SignalWakeup()
        while !engine.finished.load(ordering: .acquiring) {
            let signal = interruptions.signal
            if signal != 0 && outcome.signal == 0 {
                outcome.signal = signal
                if stopAsked == nil { stop(&stopAsked) }
            }
            if let asked = stopAsked, !abandoned, monotonicSeconds() - asked > Self.stopTimeout {
                // The device is not letting the fade play: drop it and end now.
                engine.abandon()
                abandoned = true
            }
            if let asked = stopAsked, monotonicSeconds() - asked > 2 {
                outcome.hungDevice = true  // the playback thread did not answer at all
                break
            }
            // Sleep until a key, the end of playback, a signal (its handler signals the
            // wake-up) or the next status refresh. With no terminal to serve and no stop
            // to watch over, that is the end or a signal: no wake-ups while playing.
            // In the background (after Ctrl-Z and bg), reading the terminal would stop us (SIGTTIN).
            let listening = reading && Terminal.inForeground()
            if listening && !keyModeOn {
                Terminal.reenterKeyMode()
                keyModeOn = true
            } else if !listening {
                keyModeOn = false
            }
            var descriptors = [
                pollfd(fd: engine.finishedWakeUp.descriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: listening ? 0 : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeup.read, events: Int16(POLLIN), revents: 0),
            ]
            // Keys alone need no timer: a key, a signal (Ctrl-Z and fg interrupt the poll) or
            // the end wakes the player. In the background it looks again now and then.
            let watching = showStatus || log != nil || fadeBand != nil || nudge != nil || spokenNudge != nil || (terminal && !listening) || stopAsked != nil || wakeup.read < 0
            let timeout = keys.isWaiting ? KeyReader.escapeWaitMilliseconds
                : stopAsked != nil ? 10 : watching ? Self.pollMilliseconds : -1
            let ready = poll(&descriptors, 3, timeout)
            var actions: [KeyAction] = []
            if ready > 0 && descriptors[2].revents != 0 { wakeup.drain() }
            if ready > 0 && listening && descriptors[1].revents != 0 {
                let n = read(0, &input, input.count)
                if n > 0 {
                    actions = keys.feed(input[0..<n])
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    reading = false  // the terminal went away; Ctrl-C and SIGTERM still stop
                }
            } else if keys.isWaiting && (ready == 0 || descriptors[1].revents == 0) {
                actions = keys.flush()
            }
            for action in actions {
                switch action {
                case .command(let command):
                    _ = engine.send(command)
                case .quit:
                    if stopAsked == nil { stop(&stopAsked) }
                case .interrupt:
                    if outcome.signal == 0 { outcome.signal = SIGINT }
                    if stopAsked == nil { stop(&stopAsked) }
                }
            }
            log?.sample(engine.live.status.read(), sensor: sensor?.read())
            if fadeBand != nil, let reading = sensor?.read() {
                let status = engine.live.status.read()
                fadeBand?.update(frame: status.frame, target: status.targetCadence, measured: reading.liveCadence)
                engine.live.clickLevel.set(FadeFeedback(hold: feedback.hold).clickLevel(band: fadeBand!, rate: rate))
            }
            if nudge != nil, let reading = sensor?.read() {
                let status = engine.live.status.read()
                // Not during the count-in, a rest or the preset's ramp: those keep the plan's shape.
                let ramping = plan.ramp.map { status.step <= $0.steps } ?? false  // each set's start
                if status.step > 0, status.countIn == 0, status.restFramesLeft == nil, !ramping,
                   let asked = nudge?.update(measured: reading.liveCadence, goal: plan.cadence, now: monotonicSeconds(),
                                             band: feedback.band) {
                    _ = engine.send(.setCadence(to: asked))
                    if timing { nudgesAsked.append("\(format(asked)) spm at epoch \(Self.epochNow())") }
                }
            }
            if spokenNudge != nil, let reading = sensor?.read() {
                let status = engine.live.status.read()
                // On a set's steps only: a count-in, a rest or the caution starts the clock again.
                let onStep = status.step > 0 && status.countIn == 0 && status.restFramesLeft == nil && !status.caution
                if let side = spokenNudge?.update(frame: status.frame, target: status.targetCadence,
                                                  measured: onStep ? reading.liveCadence : nil, rate: rate),
                   let words = feedback.spoken?.words(side), let sample = engine.live.spoken.sample(for: SpokenNudgeWords.key(side)),
                   engine.send(.say(sample)) {
                    note = "said \"\(words)\""
                    noteUntil = monotonicSeconds() + Self.noteSeconds
                }
            }
            let now = monotonicSeconds()
            let resizedNow = Terminal.wasResized()
            if resizedNow { columns = Terminal.columns() }
            if showStatus && (resizedNow || now - lastStatus >= Self.statusInterval) {
                lastStatus = now
                let status = engine.live.status.read()
                if status.bufferGrowths > growthsSeen {
                    growthsSeen = status.bufferGrowths
                    note = "dropout: buffer now \(Self.milliseconds(status.bufferFrames, rate: rate)) ms"
                    noteUntil = now + Self.noteSeconds
                }
                var measured = sensorStatus?.text(status, rate: rate)
                if fadeBand != nil, engine.live.clickLevel.level() == 0 { measured? += ", clicks faded" }
                var line = StatusLine.text(status, rate: rate, plan: plan, music: music, sensor: measured)
                if now < noteUntil { line = note + "  " + line }
                line = StatusLine.fit(line, columns: columns)
                // Drawn again only when it says something new (or the window changed).
                if line != shownLine || resizedNow {
                    writeStandardError("\r" + line + "\u{1B}[K")
                    shownLine = line
                }
                statusShown = true
            }
        }
        if !outcome.hungDevice {
            engine.join()
            if engine.hungAtEnd && outcome.signal == 0 { outcome.hungDevice = true }
        }
        log?.sample(engine.live.status.read(), sensor: sensor?.read())
        log?.nudgeMoved = nudge?.moved
        log?.spokenNudges = spokenNudge?.said
        outcome.log = log
        if statusShown {
            let status = engine.live.status.read()
            let measured = sensorStatus?.text(status, rate: rate)
            let line = StatusLine.text(status, rate: rate, plan: plan, music: music, sensor: measured)
            writeStandardError("\r" + StatusLine.fit(line, columns: Terminal.columns()) + "\u{1B}[K\n")
        }
        if !outcome.hungDevice && getenv("STRIDECUE_TIMING") != nil {
            // For `make bench`: key to sound is measured from the key written into the terminal.
            for time in engine.tempoStepsHanded {
                printError("stridecue: timing: first step at the new tempo handed to ALSA at epoch \(time) s")
            }
            for asked in nudgesAsked { printError("stridecue: timing: nudge asked for \(asked) s") }
        }
        return outcome
    }

    /// CLOCK_REALTIME now, as seconds with nine decimals, as the playback thread reports its times.
    static func epochNow() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)  // cannot fail for this clock
        return epochText(now)
    }

    static func milliseconds(_ frames: Int, rate: Int) -> Int { Int((Double(frames) * 1000 / Double(rate)).rounded()) }

    /// What the signal handler signals while a player sleeps (`signalWakeup`): one for the
    /// whole process, made on first use and never closed. A handler that read the descriptor
    /// just before a player ended never writes to a closed (or reused) one, and drill after
    /// drill costs no descriptor (`coach` plays hundreds in one run). Without one (-1) the
    /// player polls with a timeout, as without keys.
    private static let signalWakeUp = WakeUp()

    /// The process's signal wake-up, published for the handler while this player runs.
    private final class SignalWakeup {
        let read: Int32

        init() {
            read = Player.signalWakeUp.descriptor
            drain()  // what an earlier player's signals left
            signalWakeup.store(read, ordering: .releasing)
        }

        deinit { signalWakeup.store(-1, ordering: .releasing) }

        func drain() { Player.signalWakeUp.drain() }
    }

    private func stop(_ asked: inout Double?) {
        asked = monotonicSeconds()
        engine.stop()
    }

    /// One line under --verbose: what real-time help the system gave.
    private func reportRealTime() {
        let deadline = monotonicSeconds() + 1
        while !engine.prepared.load(ordering: .acquiring) && monotonicSeconds() < deadline { usleep(1_000) }
        guard engine.prepared.load(ordering: .acquiring) else { return }
        if engine.schedulingError == -1 {
            printError("stridecue: playback thread: real-time scheduling and memory locking not asked for (STRIDECUE_NO_REALTIME)")
            return
        }
        let granted = engine.schedulingError == 0
        let refusal = granted ? "" : String(cString: strerror(engine.schedulingError))
        let scheduling = switch engine.scheduling {
        case .realTime:
            granted ? "SCHED_FIFO priority \(engine.schedulingPriority)" : "no real-time scheduling (SCHED_FIFO: \(refusal))"
        case .ordinary:
            "ordinary scheduling, as the sound server's other clients"
        }
        let locking = engine.lockingError == 0
            ? "memory locked"
            : "memory not locked (mlockall: \(String(cString: strerror(engine.lockingError))))"
        let advice = granted && engine.lockingError == 0
            ? "" : "; carrying on without (if the sound drops out, try a longer --latency)"
        printError("stridecue: playback thread: \(scheduling), \(locking)\(advice)")
    }
}
