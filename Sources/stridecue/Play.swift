import ArgumentParser
import Glibc
import StrideCueALSA
import StrideCueCore
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
            error is a terminal. A longer --latency survives a busier machine; keys are heard \
            up to that much later. STRIDECUE_TIMING=1 prints when the first frame reached ALSA and the CPU time used; \
            STRIDECUE_NO_REALTIME=1 skips asking for real-time scheduling (for benchmarks).
            Exit codes: 0 done, 64 bad flag, 65 bad preset, 66 missing input, 69 no usable \
            sound device, 74 the device failed or went away, 130 interrupted, 143 terminated.
            """
    )

    @OptionGroup var session: SessionOptions

    @Option(help: "The ALSA device (PCM) to play on; 'stridecue devices' lists them.")
    var device: String = "default"

    @Option(help: "Sample rate in Hz, 8000–192000; the device must play it exactly.")
    var rate: String = "48000"

    @Option(help: ArgumentHelp("Sound card buffer in milliseconds, 10–2000 (5 ms periods).", valueName: "ms"))
    var latency: String = "20"

    @Flag(name: .customLong("no-keys"), help: "Do not read keys from the terminal.")
    var noKeys = false

    @Flag(help: "Say what the device and the system granted (buffer, real-time scheduling); show ALSA's own messages.")
    var verbose = false

    /// Stereo, as `render` writes by default.
    static let channels = 2
    static let periodMilliseconds = 5.0

    func run() throws {
        let started = monotonicSeconds()
        try reportingFailures {
            catchInterrupts()
            if verbose { ALSALibrary.restoreErrorMessages() } else { ALSALibrary.silenceErrorMessages() }
            let hz = try parseWhole("--rate", rate, PlanLimits.sampleRate)
            let buffer = try parseFlag("--latency", latency, "a length in milliseconds", range: 10...2_000, unit: " ms") { Double($0) }
            let renderFormat = RenderFormat(sampleRate: hz, channels: Self.channels)
            let data = DataFolder.locate()
            let (plan, cap, preset) = try session.resolvePlan(data: data)
            let sound = try loadSound(plan.sound, flagged: session.sound != nil, preset: preset, data: data, rate: hz)
            let cues = try prepareCues(plan: plan, preset: preset, data: data, rate: hz)
            try stopIfInterrupted()
            let renderer = Renderer(plan: plan, sound: sound, format: renderFormat, maxDuration: cap, cues: cues)
            let pcm = try openDevice(PCMConfiguration(
                rate: hz, channels: Self.channels, periodMilliseconds: Self.periodMilliseconds, latencyMilliseconds: buffer))
            if verbose { printError("stridecue: \(describe(pcm))") }
            try stopIfInterrupted()

            let live = LivePlayback(renderer: renderer, plan: plan)
            let engine = PlaybackEngine(live: live, device: pcm)
            let player = Player(engine: engine, plan: plan, rate: hz, keys: !noKeys, verbose: verbose)
            let outcome = player.run()
            if outcome.hungDevice {
                // The playback thread is still blocked in alsa-lib: leave its results alone.
                throw Failure("sound device '\(device)' stopped taking frames; gave up waiting for it", exitCode: ExitStatus.ioError)
            }

            if getenv("STRIDECUE_TIMING") != nil, let first = engine.firstWrite {
                let played = Double(engine.framesWritten) / Double(hz)
                printError("stridecue: timing: first frame handed to ALSA at epoch \(first.epoch) s, "
                    + "\(milliseconds(first.monotonic - started)) ms after the command started; "
                    + "\(format3(played)) s of frames played in \(format3(engine.playingSeconds)) s; "
                    + "CPU \(format3(processCPUSeconds())) s; underruns \(engine.underruns)")
            }
            if let error = engine.failure {
                throw Failure(
                    error.isDeviceLost
                        ? "sound device '\(device)' went away while playing (ALSA: \(error.reason)); playback stopped"
                        : "sound device '\(device)' failed while playing (\(error)); playback stopped",
                    exitCode: ExitStatus.ioError)
            }
            if engine.underruns > 0 {
                let n = engine.underruns
                printError("stridecue: \(n) underrun\(n == 1 ? "" : "s"): the sound dropped out \(n == 1 ? "once" : "\(n) times"); "
                    + "a longer --latency (now \(format(buffer)) ms) helps on a busy machine")
            }
            if outcome.signal != 0 { throw ExitCode(128 + outcome.signal) }
        }
    }

    /// Opens the device, turning ALSA's refusal into one line a runner can act on.
    private func openDevice(_ configuration: PCMConfiguration) throws -> PCMDevice {
        do {
            return try PCMDevice(name: device, configuration: configuration)
        } catch {
            if error.isUnavailable {
                throw Failure(
                    "no sound device '\(device)' (ALSA: \(error.reason)); "
                        + "list devices with 'stridecue devices' or write a file with 'stridecue render'",
                    exitCode: ExitStatus.unavailable)
            }
            let asked = error.detail.map { "; asked for \($0)" } ?? ""
            throw Failure(
                "sound device '\(device)' cannot play this (ALSA: \(error.reason) in \(error.failure.call)\(asked)); "
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
        let signal = receivedSignal.load(ordering: .relaxed)
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

// MARK: The playback thread

/// The playback thread's work: render what the device takes at a wake-up (half the buffer),
/// quantize it, hand it to ALSA, publish the status; then drain so the last click is heard.
///
/// Everything the loop touches is allocated before the thread starts, and the loop itself is
/// `@_noAllocation @_noLocks`: the compiler checks that nothing in it allocates or locks.
/// The device paces it: `write` blocks until half the buffer has room, so it runs by the
/// sound card's frame counter, never by the wall clock. One render and one `write` a wake-up:
/// each call into alsa-lib costs more than rendering the frames.
final class PlaybackEngine: @unchecked Sendable {
    let live: LivePlayback
    /// `live` for the loop: reading it from the property would retain it, and a retain may lock.
    private let liveRef: Unmanaged<LivePlayback>
    private let device: UnsafeMutablePointer<PCMDevice>
    private let channels: Int
    /// One wake-up's worth of float frames and the same as 16-bit samples.
    private let floats: UnsafeMutableBufferPointer<Float>
    private let samples: UnsafeMutableBufferPointer<Int16>
    private let results: UnsafeMutablePointer<Results>
    /// Set (release) by the playback thread when it is done; `results` may be read after.
    let finished = Atomic<Bool>(false)
    /// Becomes readable when `finished` is set, so the main thread can sleep in poll until then.
    let finishedSignal: (read: Int32, write: Int32)
    /// Set (release) once real-time scheduling and memory locking have been tried.
    let prepared = Atomic<Bool>(false)

    struct Results {
        var failure: ALSAError? = nil
        var underruns = 0
        var framesWritten: Int64 = 0
        /// CLOCK_REALTIME and CLOCK_MONOTONIC when the first frames were handed to ALSA.
        var firstWriteRealtime = timespec()
        var firstWriteMonotonic = timespec()
        var drained = timespec()
        var wroteAny = false
        /// errno of sched_setscheduler and mlockall; 0 when granted.
        var schedulingError: Int32 = 0
        var schedulingPriority: Int32 = 0
        var lockingError: Int32 = 0
    }

    init(live: LivePlayback, device: consuming PCMDevice) {
        self.live = live
        liveRef = .passUnretained(live)
        channels = device.channels
        periodFrames = device.periodFrames
        bufferFrames = device.bufferFrames
        let block = min(max(device.availMin, device.periodFrames), device.bufferFrames)
        self.device = .allocate(capacity: 1)
        self.device.initialize(to: device)
        floats = .allocate(capacity: block * channels)
        floats.initialize(repeating: 0)
        samples = .allocate(capacity: block * channels)
        samples.initialize(repeating: 0)
        results = .allocate(capacity: 1)
        results.initialize(to: Results())
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        } else {
            ends = [-1, -1]  // poll then only times out: slower to notice the end, nothing worse
        }
        finishedSignal = (ends[0], ends[1])
    }

    deinit {
        if finishedSignal.read >= 0 {
            close(finishedSignal.read)
            close(finishedSignal.write)
        }
        device.deinitialize(count: 1)  // closes the PCM
        device.deallocate()
        floats.deallocate()
        samples.deallocate()
        results.deinitialize(count: 1)
        results.deallocate()
    }

    /// As the device granted them (copied: the device belongs to the playback thread).
    let periodFrames: Int
    let bufferFrames: Int

    // Read these once `finished` is true.
    var failure: ALSAError? { results.pointee.failure }
    var underruns: Int { results.pointee.underruns }
    var framesWritten: Int64 { results.pointee.framesWritten }
    var firstWrite: (epoch: String, monotonic: Double)? {
        guard results.pointee.wroteAny else { return nil }
        let r = results.pointee.firstWriteRealtime
        let ns = String(r.tv_nsec)
        return ("\(r.tv_sec).\(String(repeating: "0", count: 9 - ns.count))\(ns)", seconds(results.pointee.firstWriteMonotonic))
    }
    /// From the first frame handed to ALSA to the end of the drain: how long playing took.
    var playingSeconds: Double {
        results.pointee.wroteAny ? seconds(results.pointee.drained) - seconds(results.pointee.firstWriteMonotonic) : 0
    }
    var schedulingError: Int32 { results.pointee.schedulingError }
    var schedulingPriority: Int32 { results.pointee.schedulingPriority }
    var lockingError: Int32 { results.pointee.lockingError }

    private func seconds(_ t: timespec) -> Double { Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }

    /// The thread's body.
    func threadMain() {
        let realTime = getenv("STRIDECUE_NO_REALTIME") == nil
        if realTime {
            askForRealTimeScheduling()
        } else {
            // For benchmarks: how playback fares where the system grants neither.
            results.pointee.schedulingError = -1
            results.pointee.lockingError = -1
        }
        // Fill the buffer first: the card starts once it is full, so the first click is heard
        // as soon as possible. Locking memory walks every mapped page (a few milliseconds),
        // so it waits until the card is playing from a full buffer.
        var ending = play(until: Int64(bufferFrames))
        if case .limitReached = ending {
            if realTime { lockMemory() }
            prepared.store(true, ordering: .releasing)
            ending = play(until: .max)
        }
        prepared.store(true, ordering: .releasing)
        switch ending {
        case .failed(let error):
            results.pointee.failure = error
        case .finished, .limitReached:
            do {
                try device.pointee.drain()
            } catch {
                results.pointee.failure = error
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &results.pointee.drained)
        results.pointee.underruns = device.pointee.underruns
        finished.store(true, ordering: .releasing)
        var byte: UInt8 = 1
        _ = write(finishedSignal.write, &byte, 1)
    }

    /// Asks for SCHED_FIFO (reset on fork, so helpers do not inherit it); carries on without
    /// it where the system refuses (`RLIMIT_RTPRIO` 0 for ordinary users, no CAP_SYS_NICE).
    private func askForRealTimeScheduling() {
        let resetOnFork: Int32 = 0x4000_0000  // SCHED_RESET_ON_FORK
        var priority: Int32 = 20
        var limit = rlimit()
        if getuid() != 0, getrlimit(__rlimit_resource_t(__RLIMIT_RTPRIO.rawValue), &limit) == 0,
           limit.rlim_cur != ~rlim_t(0), limit.rlim_cur > 0 {
            priority = min(priority, Int32(limit.rlim_cur))
        }
        var parameters = sched_param(sched_priority: priority)
        if sched_setscheduler(0, SCHED_FIFO | resetOnFork, &parameters) == 0 {
            results.pointee.schedulingPriority = priority
        } else {
            results.pointee.schedulingError = errno
        }
    }

    /// Asks that memory never be paged out; carries on without where refused.
    ///
    /// `MCL_CURRENT | MCL_ONFAULT` locks pages as they are touched, so everything the loop
    /// uses (touched in its first periods) stays resident, without reading in every mapped
    /// library (tens of MiB of resident memory). `MCL_FUTURE` is left out: under a
    /// `RLIMIT_MEMLOCK` it would make later allocations on the main thread fail.
    private func lockMemory() {
        let onFault: Int32 = 4  // MCL_ONFAULT, Linux 4.4
        if mlockall(MCL_CURRENT | onFault) != 0 {
            results.pointee.lockingError = errno
        }
    }

    /// How a stretch of `play` ended.
    enum Ending {
        /// Every frame of the session was handed over.
        case finished
        /// The frame limit was reached; more is to come.
        case limitReached
        case failed(ALSAError)
    }

    /// Renders and writes until the session is over, the device fails, or `limit` frames
    /// have been handed over in all.
    @_noAllocation @_noLocks
    private func play(until limit: Int64) -> Ending {
        let base = samples.baseAddress!
        let block = floats
        while results.pointee.framesWritten < limit {
            let frames = liveRef._withUnsafeGuaranteedRef({ $0.render(into: block) })
            if frames == 0 { return .finished }
            let count = frames * channels
            SampleQuantizer.toInt16(UnsafeBufferPointer(rebasing: block[0..<count]), into: base)
            do throws(ALSAError) {
                try device.pointee.write(UnsafeBufferPointer(start: base, count: count))
            } catch {
                return .failed(error)
            }
            if !results.pointee.wroteAny {
                RealTimeClock.read(CLOCK_REALTIME, into: &results.pointee.firstWriteRealtime)
                RealTimeClock.read(CLOCK_MONOTONIC, into: &results.pointee.firstWriteMonotonic)
                results.pointee.wroteAny = true
            }
            results.pointee.framesWritten += Int64(frames)
            let underruns = device.pointee.underruns
            liveRef._withUnsafeGuaranteedRef({ $0.publish(underruns: underruns) })
        }
        return .limitReached
    }
}

/// `clock_gettime` for the real-time loop, vouched for: the checker cannot see into C, and
/// this call is a vDSO read that neither allocates nor locks.
private enum RealTimeClock {
    @inline(__always)
    static func read(_ clock: clockid_t, into time: inout timespec) {
        _ = _unsafePerformance { clock_gettime(clock, &time) }
    }
}

// MARK: The main thread: keys, status, signals

/// Runs the playback thread and, meanwhile, the terminal: keys in, status out, signals.
struct Player {
    let engine: PlaybackEngine
    /// The plan as started, for the status line's next cue (cues fall on steps, which
    /// tempo keys do not move).
    let plan: SessionPlan
    let rate: Int
    let keys: Bool
    let verbose: Bool

    struct Outcome {
        /// The signal that stopped playback, or 0.
        var signal: Int32 = 0
        /// The device stopped taking frames and the playback thread never came back.
        var hungDevice = false
    }

    /// Status line refresh interval.
    static let statusInterval = 0.1
    static let pollMilliseconds: Int32 = 100
    /// How long a stopping player may take before the device is taken to be hung: the fade,
    /// then a drain of at most one buffer, with a generous margin.
    var stopTimeout: Double { 1.0 + 2 * Double(engine.bufferFrames) / Double(rate) }

    func run() -> Outcome {
        var outcome = Outcome()
        let terminal = keys ? Terminal.enterKeyMode() : false
        defer { if terminal { Terminal.restore() } }
        let showStatus = isatty(2) == 1

        guard let thread = startThread() else {
            printError("stridecue: cannot start the playback thread")
            outcome.hungDevice = true
            return outcome
        }
        if verbose { reportRealTime() }

        var stopAsked: Double? = nil
        var lastStatus = 0.0
        var statusShown = false
        var input = [UInt8](repeating: 0, count: 64)
        var reading = terminal
        var keyModeOn = terminal
        let wakeup = SignalWakeup()
        while !engine.finished.load(ordering: .acquiring) {
            let signal = receivedSignal.load(ordering: .relaxed)
            if signal != 0 && outcome.signal == 0 {
                outcome.signal = signal
                if stopAsked == nil { stop(&stopAsked) }
            }
            if let asked = stopAsked, monotonicSeconds() - asked > stopTimeout {
                outcome.hungDevice = true
                break
            }
            // Sleep until a key, the end of playback, a signal (its handler writes to the
            // wakeup pipe) or the next status refresh. With no terminal to serve and no stop
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
                pollfd(fd: engine.finishedSignal.read, events: Int16(POLLIN), revents: 0),
                pollfd(fd: listening ? 0 : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeup.read, events: Int16(POLLIN), revents: 0),
            ]
            let watching = showStatus || terminal || stopAsked != nil || wakeup.read < 0
            let ready = poll(&descriptors, 3, watching ? Self.pollMilliseconds : -1)
            if ready > 0 && descriptors[2].revents != 0 { wakeup.drain() }
            if ready > 0 && listening && descriptors[1].revents != 0 {
                let n = read(0, &input, input.count)
                if n > 0 {
                    for action in Keys.parse(input[0..<n]) {
                        switch action {
                        case .command(let command):
                            engine.live.commands.push(command)
                        case .quit:
                            if stopAsked == nil { stop(&stopAsked) }
                        case .interrupt:
                            if outcome.signal == 0 { outcome.signal = SIGINT }
                            if stopAsked == nil { stop(&stopAsked) }
                        }
                    }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    reading = false  // the terminal went away; Ctrl-C and SIGTERM still stop
                }
            }
            let now = monotonicSeconds()
            if showStatus && now - lastStatus >= Self.statusInterval {
                lastStatus = now
                writeStandardError("\r" + StatusLine.text(engine.live.status.read(), rate: rate, plan: plan) + "\u{1B}[K")
                statusShown = true
            }
        }
        if engine.finished.load(ordering: .acquiring) {
            pthread_join(thread, nil)
        }
        if statusShown {
            writeStandardError("\r" + StatusLine.text(engine.live.status.read(), rate: rate, plan: plan) + "\u{1B}[K\n")
        }
        return outcome
    }

    /// A pipe the signal handler writes to while the player sleeps (`signalWakeup`).
    private final class SignalWakeup {
        let read: Int32

        init() {
            var ends: [Int32] = [-1, -1]
            if pipe(&ends) == 0 {
                for end in ends {
                    _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                    _ = fcntl(end, F_SETFD, FD_CLOEXEC)
                }
            } else {
                ends = [-1, -1]  // then the player polls with a timeout, as without keys
            }
            read = ends[0]
            signalWakeup.store(ends[1], ordering: .releasing)
        }

        // The pipe stays open until the process ends: a handler that read the descriptor
        // just before `deinit` must never write to a closed (or reused) one.
        deinit { signalWakeup.store(-1, ordering: .releasing) }

        func drain() {
            var bytes = [UInt8](repeating: 0, count: 16)
            while Glibc.read(read, &bytes, bytes.count) > 0 {}
        }
    }

    private func stop(_ asked: inout Double?) {
        asked = monotonicSeconds()
        // The queue holds 64 commands; a flood of keys could fill it. Keep trying briefly.
        for _ in 0..<100 {
            if engine.live.commands.push(.stop) { return }
            usleep(1_000)
        }
    }

    /// Starts the playback thread with the stop signals blocked in it, so they interrupt the
    /// main thread's poll instead.
    private func startThread() -> pthread_t? {
        var blocked = sigset_t()
        var previous = sigset_t()
        sigemptyset(&blocked)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT, SIGWINCH] { sigaddset(&blocked, signal) }
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(engine).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            let engine = Unmanaged<PlaybackEngine>.fromOpaque(raw!).takeRetainedValue()
            engine.threadMain()
            return nil
        }, context)
        if result != 0 {
            Unmanaged<PlaybackEngine>.fromOpaque(context).release()
            return nil
        }
        return thread
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
        let scheduling = engine.schedulingError == 0
            ? "SCHED_FIFO priority \(engine.schedulingPriority)"
            : "no real-time scheduling (SCHED_FIFO: \(String(cString: strerror(engine.schedulingError))))"
        let locking = engine.lockingError == 0
            ? "memory locked"
            : "memory not locked (mlockall: \(String(cString: strerror(engine.lockingError))))"
        let advice = engine.schedulingError == 0 && engine.lockingError == 0
            ? "" : "; carrying on without (if the sound drops out, try a longer --latency)"
        printError("stridecue: playback thread: \(scheduling), \(locking)\(advice)")
    }
}

/// What a key does.
enum KeyAction: Equatable {
    case command(LiveCommand)
    case quit
    /// Ctrl-C read as a byte (when the terminal does not turn it into SIGINT).
    case interrupt
}

enum Keys {
    /// Turns bytes read from the terminal into actions. Escape sequences (arrow and function
    /// keys: ESC [ … or ESC O …) are skipped; a lone Esc quits.
    static func parse(_ bytes: ArraySlice<UInt8>) -> [KeyAction] {
        var actions: [KeyAction] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let byte = bytes[i]
            i += 1
            switch byte {
            case UInt8(ascii: "+"), UInt8(ascii: "="): actions.append(.command(.changeCadence(by: 1)))
            case UInt8(ascii: "-"), UInt8(ascii: "_"): actions.append(.command(.changeCadence(by: -1)))
            case UInt8(ascii: "]"): actions.append(.command(.changeCadence(by: 5)))
            case UInt8(ascii: "["): actions.append(.command(.changeCadence(by: -5)))
            case UInt8(ascii: " "): actions.append(.command(.togglePause))
            case UInt8(ascii: "n"), UInt8(ascii: "N"): actions.append(.command(.skip))
            case UInt8(ascii: "q"), UInt8(ascii: "Q"): actions.append(.quit)
            case 0x03: actions.append(.interrupt)
            case 0x1B:
                if i < bytes.endIndex && (bytes[i] == UInt8(ascii: "[") || bytes[i] == UInt8(ascii: "O")) {
                    // Skip to the sequence's final byte (0x40–0x7E).
                    i += 1
                    while i < bytes.endIndex && !(0x40...0x7E).contains(bytes[i]) { i += 1 }
                    if i < bytes.endIndex { i += 1 }
                } else {
                    actions.append(.quit)
                }
            default:
                break
            }
        }
        return actions
    }
}

enum StatusLine {
    /// E.g. `180 spm  set 1/2  step 42  0:14  next "pull through" at step 42`,
    /// `190 spm  set 2/2  count-in 3/4  1:40` or `PAUSED  180 spm  rest 0:45, then set 2/2  1:02`.
    static func text(_ s: LiveStatus, rate: Int, plan: SessionPlan) -> String {
        var parts: [String] = []
        switch s.phase {
        case .paused: parts.append("PAUSED")
        case .pausing: parts.append("pausing at the next step")
        case .stopping, .finished, .playing: break
        }
        let spm = s.targetCadence == s.cadence ? "\(format(s.cadence)) spm" : "\(format(s.cadence)) -> \(format(s.targetCadence)) spm"
        parts.append(spm)
        if let left = s.restFramesLeft {
            parts.append("rest \(clock(left, rate: rate)), then set \(s.set + 1)/\(s.sets)")
        } else {
            if s.sets > 1 { parts.append("set \(s.set + 1)/\(s.sets)") }
            if s.countIn > 0 {
                parts.append("count-in \(s.countIn)/\(s.countInLength)")
            } else if s.step > 0 {
                parts.append("step \(s.step)")
            } else {
                parts.append("starting")
            }
        }
        parts.append(clock(s.frame, rate: rate))
        if let cue = nextCueText(s, plan: plan) { parts.append("next \(cue)") }
        if s.underruns > 0 { parts.append("dropouts \(s.underruns)") }
        return parts.joined(separator: "  ")
    }

    /// The next cue, e.g. `"pull through" at step 10`, `"pop forwards" at step 5 of set 2`,
    /// `"last push" at the set's end`; nil when no cue is left.
    static func nextCueText(_ s: LiveStatus, plan: SessionPlan) -> String? {
        switch s.phase {
        case .stopping, .finished: return nil
        case .playing, .paused, .pausing: break
        }
        let resting = s.restFramesLeft != nil
        let heard = resting || s.countIn > 0 ? 0 : s.step
        guard let next = plan.upcomingCue(set: s.set, stepsHeard: heard, cadence: s.cadence) else { return nil }
        let cue = plan.cues[next.cue]
        let what: String
        switch cue.source {
        case .say(let text): what = "\"\(text)\""
        case .sound(let file): what = file
        }
        // While resting, `set` is already the set to come.
        let laterSet: Int? = next.inNextSet ? s.set + 2 : resting ? s.set + 1 : nil
        let when: String
        switch (next.step, laterSet) {
        case (let step?, nil): when = "at step \(step)"
        case (let step?, let set?): when = "at step \(step) of set \(set)"
        case (nil, nil): when = cue.timing == .halfway ? "halfway" : "at the set's end"
        case (nil, let set?): when = cue.timing == .halfway ? "halfway through set \(set)" : "at the end of set \(set)"
        }
        return "\(what) \(when)"
    }

    /// m:ss, or h:mm:ss from an hour.
    static func clock(_ frames: Int64, rate: Int) -> String {
        let total = Int(max(0, frames) / Int64(rate))
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        let ss = s < 10 ? "0\(s)" : "\(s)"
        if h > 0 { return "\(h):\(m < 10 ? "0\(m)" : "\(m)"):\(ss)" }
        return "\(m):\(ss)"
    }
}

// MARK: The terminal

/// Raw-ish key mode on standard input (no line buffering, no echo; Ctrl-C still signals),
/// restored on every way out: the normal path, SIGINT/SIGTERM/SIGHUP/SIGQUIT (which stop
/// playback through `receivedSignal`), Ctrl-Z (restored while stopped, re-entered on
/// continue) and crashes (restored, then the signal's default action).
///
/// The saved settings live in globals a signal handler can read without locks or allocation.
enum Terminal {
    /// Puts standard input into key mode when it is our terminal in the foreground.
    /// - Returns: false (nothing changed) when it is not a terminal or we are in the background.
    static func enterKeyMode() -> Bool {
        guard isatty(0) == 1 else { return false }
        // In the background of a shell, changing the terminal would stop us (SIGTTOU).
        // tcgetpgrp fails when it is a terminal but not our controlling one: no job control.
        let foreground = tcgetpgrp(0)
        if foreground >= 0 && foreground != getpgrp() { return false }
        var saved = termios()
        guard tcgetattr(0, &saved) == 0 else { return false }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        terminalSaved = saved
        terminalRaw = raw
        installHandlers()
        terminalActive.store(true, ordering: .releasing)
        guard tcsetattr(0, TCSANOW, &terminalRaw) == 0 else {
            terminalActive.store(false, ordering: .releasing)
            return false
        }
        return true
    }

    static func restore() {
        guard terminalActive.exchange(false, ordering: .acquiringAndReleasing) else { return }
        // Sent to the background meanwhile (Ctrl-Z, bg), changing the terminal would stop us
        // with SIGTTOU; with it ignored, the change is made.
        let previous = signal(SIGTTOU, SIG_IGN)
        tcsetattr(0, TCSANOW, &terminalSaved)
        signal(SIGTTOU, previous)
    }

    /// Key mode again after a spell in the background (`fg` after `bg`), where the SIGCONT
    /// handler left the terminal alone.
    static func reenterKeyMode() {
        guard terminalActive.load(ordering: .acquiring) else { return }
        tcsetattr(0, TCSANOW, &terminalRaw)
    }

    /// True when we are the terminal's foreground job, or it has no job control for us.
    static func inForeground() -> Bool {
        let foreground = tcgetpgrp(0)
        return foreground < 0 || foreground == getpgrp()
    }

    private static func installHandlers() {
        // SIGINT and SIGTERM: catchInterrupts() already notes them. These end playback the same way.
        let note: @convention(c) (Int32) -> Void = { signal in
            receivedSignal.store(signal, ordering: .relaxed)
        }
        _ = install(SIGHUP, note)
        _ = install(SIGQUIT, note)
        reinstallStop()
        _ = install(SIGCONT, { _ in
            Terminal.reinstallStop()
            // Continued in the foreground (fg): keys again. In the background (bg), leave the
            // terminal to the shell; keys are read again once brought to the foreground.
            if terminalActive.load(ordering: .acquiring) && Terminal.inForeground() {
                tcsetattr(0, TCSANOW, &terminalRaw)
            }
        })
        // A crash still gives the terminal back; the signal then does what it would have.
        for fatal in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT] {
            _ = install(fatal, { _ in
                if terminalActive.load(ordering: .acquiring) { tcsetattr(0, TCSANOW, &terminalSaved) }
            }, flags: Int32(truncatingIfNeeded: SA_RESETHAND))
        }
    }

    /// Ctrl-Z: hand the terminal back as it was, then stop as Ctrl-Z would have.
    /// Installed again on SIGCONT, since the handler resets itself to stop.
    fileprivate static func reinstallStop() {
        install(SIGTSTP, { _ in
            if terminalActive.load(ordering: .acquiring) { tcsetattr(0, TCSANOW, &terminalSaved) }
            signal(SIGTSTP, SIG_DFL)
            raise(SIGTSTP)  // delivered when this handler returns
        })
    }

    @discardableResult
    private static func install(_ signal: Int32, _ handler: @convention(c) (Int32) -> Void, flags: Int32 = 0) -> Bool {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        action.sa_flags = flags | Int32(truncatingIfNeeded: SA_RESTART)
        sigemptyset(&action.sa_mask)
        return sigaction(signal, &action, nil) == 0
    }
}

// Read by signal handlers: plain globals, initialized before any handler is installed.
nonisolated(unsafe) private var terminalSaved = termios()
nonisolated(unsafe) private var terminalRaw = termios()
private let terminalActive = Atomic<Bool>(false)
