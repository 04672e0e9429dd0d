import CALSA
import Glibc
import StrideCueALSA
import StrideCueCore
import StrideCueFiles
import Synchronization

// MARK: The playback thread

/// How live playback treats the device beyond the configuration it was opened with.
public struct PlaybackOptions: Sendable, Equatable {
    /// Seconds to keep reopening a device that went away (every half second); 0 ends at once.
    public var reconnectSeconds: Double
    /// Grow the buffer after an underrun (doubling, up to `maxLatencyMilliseconds`); false
    /// keeps the buffer a user pinned with --latency.
    public var growBuffer: Bool
    public var maxLatencyMilliseconds: Double

    public init(reconnectSeconds: Double = 0, growBuffer: Bool = false, maxLatencyMilliseconds: Double = 1_000) {
        self.reconnectSeconds = reconnectSeconds
        self.growBuffer = growBuffer
        self.maxLatencyMilliseconds = maxLatencyMilliseconds
    }
}

/// The playback thread's work: render what the device takes at a wake-up (half the buffer),
/// quantize it into a history of recent output, hand it to ALSA, publish the status; then let
/// the tail play out.
///
/// Everything the loop touches is allocated before the thread starts, and the loop itself is
/// `@_noAllocation @_noLocks`: the compiler checks that nothing in it allocates or locks.
/// The device paces it: the writer sleeps in `poll` on the PCM's descriptors and an eventfd
/// until half the buffer has room, so it runs by the sound card's frame counter, never by the
/// wall clock, and `stop()` and `abandon()` reach it whatever the device does.
///
/// Recent output is kept (`history`): after the device goes away and comes back, playback
/// resumes at the first click that was not heard, after a one-step lead-in click; a stop takes
/// back what the device has not played yet and fades out from there.
public final class PlaybackEngine: @unchecked Sendable {
    public let live: LivePlayback
    /// `live` for the loop: reading it from the property would retain it, and a retain may lock.
    private let liveRef: Unmanaged<LivePlayback>
    private let device: UnsafeMutablePointer<PCMDevice>
    private let channels: Int
    private let rate: Int
    private let deviceName: String
    /// The device is a sound server (PulseAudio, PipeWire), not a card: `PCMRoute`.
    private let throughServer: Bool
    /// How the playback thread asks to be scheduled on the device's route.
    public let scheduling: WriterScheduling
    private let periodMilliseconds: Double
    public let options: PlaybackOptions
    /// One wake-up's worth of float frames (at the largest buffer the device may grow to).
    private let floats: UnsafeMutableBufferPointer<Float>
    /// The last `historyFrames` output frames, 16-bit, indexed by output frame modulo its size.
    private let history: UnsafeMutablePointer<Int16>
    private let historyFrames: Int
    /// A one-step lead-in click, built when the device comes back.
    private let leadIn: UnsafeMutablePointer<Int16>
    /// The step click, quantized on every channel: the lead-in's click, made here so that a
    /// reconnect makes nothing.
    private let leadInClick: UnsafeMutableBufferPointer<Int16>
    /// Opens the device again after it went away, off this thread (nil: no reconnecting).
    private let reopener: DeviceReopener?
    /// `reopener` for the loop: reading it from the property would retain it.
    private let reopenerRef: Unmanaged<DeviceReopener>?
    /// A wake-up's worth of silence, fed to a sound server behind the last frame (`finish`).
    private let silence: UnsafeMutableBufferPointer<Int16>
    private let leadInCapacity: Int
    private let loop: UnsafeMutablePointer<LoopState>
    /// `LivePlayback.stopFadeSeconds` in frames.
    private let stopFadeFrames: Int64
    private let results: UnsafeMutablePointer<Results>
    /// Set (release) by the playback thread when it is done; `results` may be read after.
    public let finished = Atomic<Bool>(false)
    /// Signalled when `finished` is set, so the main thread can sleep in poll until then.
    public let finishedWakeUp = WakeUp()
    /// Set (release) once real-time scheduling and memory locking have been tried.
    public let prepared = Atomic<Bool>(false)
    /// What the playback thread polls beside the device: signalled by `stop()`, `abandon()`,
    /// `wake()` and the reopener's answers.
    private let wakeUp = WakeUp()
    /// `wakeUp`'s descriptor, for the loop (reading the object would retain it).
    private let wakeup: Int32
    private let stopAsked = Atomic<Bool>(false)
    private let abandonAsked = Atomic<Bool>(false)

    public struct Results {
        public var failure: ALSAError? = nil
        public var underruns = 0
        public var framesWritten: Int64 = 0
        /// CLOCK_REALTIME and CLOCK_MONOTONIC when the first frames were handed to ALSA.
        public var firstWriteRealtime = timespec()
        public var firstWriteMonotonic = timespec()
        public var drained = timespec()
        public var wroteAny = false
        /// errno of what `scheduling` asked for (sched_setscheduler) and of mlockall; 0 when
        /// granted or nothing was asked; -1 not asked for (STRIDECUE_NO_REALTIME).
        public var schedulingError: Int32 = 0
        /// The SCHED_FIFO priority granted.
        public var schedulingPriority: Int32 = 0
        public var lockingError: Int32 = 0
        /// The buffer the device started with and has now, in frames; times it grew.
        public var firstBufferFrames = 0
        public var bufferFrames = 0
        public var bufferGrowths = 0
        /// Times the device went away and came back.
        public var reconnects = 0
        /// The device hung and was given up on after a stop.
        public var abandoned = false
        /// The device stopped taking frames and the session's time ran out meanwhile.
        public var hungAtEnd = false
        /// Tempo keys whose first step at the new tempo has been handed to ALSA (the first
        /// `tempoStepCapacity` are timed in `tempoStepTimes`).
        public var tempoSteps = 0
        /// Times the device was shown as not responding (no room for the stall time).
        public var notResponding = 0
        /// The device's delay, in frames, as seen while playing: least and most (−1 unseen).
        public var leastDelay = -1
        public var mostDelay = -1
    }

    /// Key-to-sound measurements kept: when the first frame of each new tempo's first step
    /// was handed to ALSA (CLOCK_REALTIME), for the first this many tempo keys.
    public static let tempoStepCapacity = 256
    private let tempoStepTimes: UnsafeMutablePointer<timespec>

    /// The loop's own bookkeeping, behind one pointer.
    struct LoopState {
        /// Output frames rendered into `history`, and handed to the device.
        var rendered: Int64 = 0
        var sent: Int64 = 0
        /// Lead-in frames still to write, and where they start in `leadIn`.
        var leadInLeft = 0
        var leadInNext = 0
        /// Last look at the device: output frames played by then (estimated as sent − queued)
        /// and when (monotonic nanoseconds).
        var playedAtCheck: Int64 = 0
        var checkedAt: Int64 = 0
        /// No output frame before this is sent again (where the last resumption began).
        var resumeFloor: Int64 = 0
        /// Frames rendered before the end (a stop's faded history) end the session.
        var endAfterHistory = false
        var stopHandled = false
        var device: LiveDeviceState = .playing
        var reconnectSecondsLeft = 0
        /// When the device last took frames (monotonic nanoseconds).
        var tookFramesAt: Int64 = 0
        /// The last write handed over a whole wake-up's worth to a running stream.
        var filledLast = false
        /// The device's delay (frames handed over and not yet heard) at the last look, and
        /// `sent` then; -1 before the first.
        var delay = -1
        var delayAskedAtSent: Int64 = 0
    }

    public convenience init(live: LivePlayback, device: consuming PCMDevice) {
        self.init(live: live, device: device, options: PlaybackOptions())
    }

    public init(live: LivePlayback, device: consuming PCMDevice, options: PlaybackOptions) {
        // Debug builds check that only the playback thread renders (LivePlayback's confinement).
        if AudioThread.current == nil { AudioThread.current = { UInt(pthread_self()) } }
        self.live = live
        self.options = options
        liveRef = .passUnretained(live)
        let (channels, rate, period, buffer, availMin) =
            (device.channels, device.rate, device.periodFrames, device.bufferFrames, device.availMin)
        self.channels = channels
        self.rate = rate
        deviceName = device.name
        throughServer = device.route.isSoundServer
        scheduling = device.route.writerScheduling
        periodMilliseconds = Double(period) * 1000 / Double(rate)
        periodFrames = period
        bufferFrames = buffer
        // Blocks are a wake-up's worth (half the buffer); the buffer may grow to the limit.
        let maxBuffer = max(buffer, Int(options.maxLatencyMilliseconds * Double(rate) / 1000) + period)
        let block = max(availMin, period, maxBuffer / 2 + period)
        self.device = .allocate(capacity: 1)
        self.device.initialize(to: device)
        floats = .allocate(capacity: block * channels)
        floats.initialize(repeating: 0)
        // Room for a whole buffer not yet played, plus a step at 30 spm before it, plus a block.
        historyFrames = maxBuffer + 2 * rate + block
        history = .allocate(capacity: historyFrames * channels)
        history.initialize(repeating: 0, count: historyFrames * channels)
        leadInCapacity = 2 * rate + rate / 4
        stopFadeFrames = Int64((LivePlayback.stopFadeSeconds * Double(rate)).rounded())
        leadIn = .allocate(capacity: leadInCapacity * channels)
        leadIn.initialize(repeating: 0, count: leadInCapacity * channels)
        silence = .allocate(capacity: max(availMin, period) * channels)
        silence.initialize(repeating: 0)
        loop = .allocate(capacity: 1)
        loop.initialize(to: LoopState())
        results = .allocate(capacity: 1)
        results.initialize(to: Results())
        tempoStepTimes = .allocate(capacity: Self.tempoStepCapacity)
        tempoStepTimes.initialize(repeating: timespec(), count: Self.tempoStepCapacity)
        results.pointee.firstBufferFrames = bufferFrames
        results.pointee.bufferFrames = bufferFrames
        wakeup = wakeUp.descriptor
        let click = live.renderer.clickSample(.step)
        leadInClick = .allocate(capacity: max(1, click.count * channels))
        leadInClick.initialize(repeating: 0)
        let spread = (0..<(click.count * channels)).map { [channels] in click[$0 / channels] }
        let quantized = leadInClick.baseAddress!
        spread.withUnsafeBufferPointer { SampleQuantizer.toInt16($0, into: quantized) }
        // The reopener's thread also grows the buffer after an underrun.
        reopener = options.reconnectSeconds > 0 || options.growBuffer
            ? DeviceReopener(name: deviceName, rate: rate, channels: channels, periodMilliseconds: periodMilliseconds, answer: wakeup)
            : nil
        reopenerRef = reopener.map { .passUnretained($0) }
    }

    deinit {
        reopener?.quit()
        leadInClick.deallocate()
        if deviceOpen { device.deinitialize(count: 1) }  // closes the PCM
        device.deallocate()
        floats.deallocate()
        history.deallocate()
        leadIn.deallocate()
        silence.deallocate()
        loop.deallocate()
        results.deinitialize(count: 1)
        results.deallocate()
        tempoStepTimes.deallocate()
    }

    /// False while the device is gone (closed, being reopened).
    private var deviceOpen = true

    /// As the device granted them when opened (copied: the device belongs to the playback thread).
    public let periodFrames: Int
    public let bufferFrames: Int

    // Read these once `finished` is true.
    public var failure: ALSAError? { results.pointee.failure }
    public var underruns: Int { results.pointee.underruns }
    public var framesWritten: Int64 { results.pointee.framesWritten }
    public var firstWrite: (epoch: String, monotonic: Double)? {
        guard results.pointee.wroteAny else { return nil }
        return (epochText(results.pointee.firstWriteRealtime), seconds(results.pointee.firstWriteMonotonic))
    }
    /// From the first frame handed to ALSA to the end of the drain: how long playing took.
    public var playingSeconds: Double {
        results.pointee.wroteAny ? seconds(results.pointee.drained) - seconds(results.pointee.firstWriteMonotonic) : 0
    }
    public var schedulingError: Int32 { results.pointee.schedulingError }
    public var schedulingPriority: Int32 { results.pointee.schedulingPriority }
    public var lockingError: Int32 { results.pointee.lockingError }
    /// The buffer now, in frames, and how many times it grew after underruns.
    public var finalBufferFrames: Int { results.pointee.bufferFrames }
    public var bufferGrowths: Int { results.pointee.bufferGrowths }
    public var reconnects: Int { results.pointee.reconnects }
    /// Times the device stopped taking frames for the stall time and was shown as not responding.
    public var notRespondingEpisodes: Int { results.pointee.notResponding }
    /// The device's delay while playing, least and most, in frames; nil when never seen.
    public var delayRange: (least: Int, most: Int)? {
        results.pointee.mostDelay < 0 ? nil : (results.pointee.leastDelay, results.pointee.mostDelay)
    }
    /// When the first frame of the first step at each new tempo was handed to ALSA, as
    /// CLOCK_REALTIME seconds (`"1796494485.931079803"`), one per tempo key (or burst of keys
    /// before that step), at most `tempoStepCapacity`. For measuring key-to-sound time.
    public var tempoStepsHanded: [String] {
        (0..<min(results.pointee.tempoSteps, Self.tempoStepCapacity)).map { epochText(tempoStepTimes[$0]) }
    }

    /// True when a stop found the device hung and playback was given up on.
    public var abandoned: Bool { results.pointee.abandoned }
    /// True when the device stopped taking frames and was given up on when the session's
    /// time ran out (its planned end by the wall clock, from the last frames it took).
    public var hungAtEnd: Bool { results.pointee.hungAtEnd }

    private func seconds(_ t: timespec) -> Double { Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }

    /// The playback thread, once started.
    private var thread: pthread_t?

    /// Locks memory, then starts the playback thread, with the stop signals blocked in it so
    /// they interrupt the controlling thread's waits instead.
    ///
    /// Memory is locked here, before the stream starts: `mlockall` walks every mapped page,
    /// which is no work for a thread that must keep a sound card fed.
    /// - Returns: false when no thread could be started.
    public func start() -> Bool {
        if getenv("STRIDECUE_NO_REALTIME") == nil {
            lockMemory()
        } else {
            results.pointee.lockingError = -1
        }
        var blocked = sigset_t()
        var previous = sigset_t()
        sigemptyset(&blocked)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT, SIGWINCH] { sigaddset(&blocked, signal) }
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var handle = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        if let reopener, !reopener.start() { return false }
        let result = pthread_create(&handle, nil, { raw in
            let engine = Unmanaged<PlaybackEngine>.fromOpaque(raw!).takeRetainedValue()
            engine.threadMain()
            return nil
        }, context)
        if result != 0 {
            Unmanaged<PlaybackEngine>.fromOpaque(context).release()
            reopener?.quit()
            return false
        }
        thread = handle
        return true
    }

    /// Waits for the playback thread to end; call once `finished` is true.
    public func join() {
        guard let handle = thread, finished.load(ordering: .acquiring) else { return }
        pthread_join(handle, nil)
        thread = nil
        reopener?.quit()
    }

    /// Asks the playback thread to fade out and stop. The command queue holds 64 commands; a
    /// flood of keys could fill it, so this keeps trying briefly. The thread is woken, so the
    /// fade starts from what the device has not played yet, not after it.
    public func stop() {
        stopAsked.store(true, ordering: .releasing)
        for _ in 0..<100 {
            if live.commands.push(.stop) { break }
            usleep(1_000)
        }
        wake()
    }

    /// Sends a command and wakes the playback thread so it acts on it at once.
    public func send(_ command: LiveCommand) -> Bool {
        let pushed = live.commands.push(command)
        return pushed
    }

    /// Gives up on the device: the playback thread drops what it holds and ends at once.
    /// For a device that stopped taking frames while a stop was under way.
    public func abandon() {
        abandonAsked.store(true, ordering: .releasing)
        wake()
    }

    /// Makes the playback thread's wait return.
    public func wake() { wakeUp.signal() }

    /// The thread's body.
    private func threadMain() {
        if getenv("STRIDECUE_NO_REALTIME") != nil {
            // For benchmarks: how playback fares where the system grants neither.
            results.pointee.schedulingError = -1
        } else {
            switch scheduling {
            case .realTime: askForRealTimeScheduling()
            case .ordinary: break
            }
        }
        prepared.store(true, ordering: .releasing)
        var ending: Ending
        repeat {
            ending = play()
            switch ending {
            case .underrun:
                if !growOrRecover() { ending = .failed(results.pointee.failure ?? ALSAError(call: "snd_pcm_recover", code: -EIO)) }
            case .lost(let error):
                if !reconnect(after: error) { ending = .failed(error) }
            case .finished, .abandoned, .failed, .hungAtEnd:
                break
            }
        } while ending.goesOn
        switch ending {
        case .failed(let error):
            results.pointee.failure = error
        case .abandoned:
            results.pointee.abandoned = true
        case .hungAtEnd:
            results.pointee.hungAtEnd = true
        case .finished:
            if deviceOpen {
                // The tail plays out, but the device is never waited on much longer than it
                // should take: a device that hangs now is dropped.
                // One that stops moving once the tail should have played is given up on then:
                // the session's end by the wall clock (exit 74, as for a hang before the tail).
                let queued = device.pointee.queuedFrames() ?? device.pointee.bufferFrames
                let limit = queued * 1000 / rate + 250
                let wakeup = abandonAsked.load(ordering: .acquiring) ? -1 : self.wakeup
                if !device.pointee.finish(wakeup: wakeup, limitMilliseconds: limit, silence: UnsafeBufferPointer(silence)) {
                    if abandonAsked.load(ordering: .acquiring) {
                        results.pointee.abandoned = true
                    } else if !stopAsked.load(ordering: .acquiring) {
                        results.pointee.hungAtEnd = true
                    }
                }
            }
        case .underrun, .lost:
            break
        }
        MonotonicClock.read(into: &results.pointee.drained)
        if deviceOpen { results.pointee.underruns = device.pointee.underruns }
        live.releaseAudioThread()
        finished.store(true, ordering: .releasing)
        finishedWakeUp.signal()
    }

    /// After an underrun: a longer buffer where allowed (said on the status line and at the
    /// end), else the same one again. The longer buffer is set on the reopener's thread, which
    /// may allocate (alsa-lib's parameters, new poll descriptors): this thread lends it the
    /// device and sleeps until it is back; the sound has stopped anyway.
    /// - Returns: false when the device would take neither.
    @_noAllocation @_noLocks
    private func growOrRecover() -> Bool {
        let device = self.device
        let results = self.results
        let now = device.pointee.bufferFrames
        let limit = Int(options.maxLatencyMilliseconds * Double(rate) / 1000)
        if options.growBuffer && now < limit, let reopenerRef {
            let wanted = min(limit, now * 2)
            deviceOpen = false
            reopenerRef._withUnsafeGuaranteedRef { $0.lend(device, bufferFrames: wanted) }
            var grown: Bool? = nil
            while grown == nil {
                var sleeper = pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0)
                _ = _unsafePerformance { Glibc.poll(&sleeper, 1, 100) }
                WakeUp.drain(wakeup)
                grown = reopenerRef._withUnsafeGuaranteedRef { $0.takeBack(into: device) }
            }
            deviceOpen = true
            if grown == true {
                results.pointee.bufferFrames = device.pointee.bufferFrames
                results.pointee.bufferGrowths += 1
                return true
            }
            // Kept the buffer it has.
        }
        do {
            try device.pointee.recover()
            return true
        } catch {
            results.pointee.failure = error
            return false
        }
    }

    /// The device went away: hand it to the reopener to be closed, ask for it again every half
    /// second for `reconnectSeconds`, then resume at the first click not heard, after a lead-in
    /// click. The closing and opening, which allocate and free, happen on the reopener's
    /// ordinary thread: this one only asks, sleeps in `poll` and takes the device.
    /// - Returns: false when the time ran out (or a stop came first: then `finished` is set).
    @_noAllocation @_noLocks
    private func reconnect(after error: ALSAError) -> Bool {
        // ALSAError.isDeviceLost, spelled out: the checker cannot see into other files.
        guard let reopenerRef, options.reconnectSeconds > 0, error.code == -ENODEV || error.code == -EIO else { return false }
        let loop = self.loop
        let results = self.results
        let device = self.device
        // What was heard: played by the last look, plus the time since, never more than sent.
        let elapsed = MonotonicClock.nanoseconds() - loop.pointee.checkedAt
        let played = min(loop.pointee.sent,
                         loop.pointee.playedAtCheck + Int64(Double(elapsed) * Double(rate) / 1e9))
        let oldest = max(0, loop.pointee.rendered - Int64(historyFrames) + 1)
        // Resume at the first click not heard: rendered already, or the next one to render.
        var resume = max(max(played, loop.pointee.resumeFloor), oldest)  // (the variadic max makes an array)
        if let click = liveRef._withUnsafeGuaranteedRef({ $0.firstClick(atOrAfter: resume) }), click < loop.pointee.rendered {
            resume = click
        } else if let next = liveRef._withUnsafeGuaranteedRef({ $0.nextClickOutputFrame() }) {
            resume = next
        }
        let underruns = device.pointee.underruns
        let bufferFrames = results.pointee.bufferFrames
        deviceOpen = false
        reopenerRef._withUnsafeGuaranteedRef { $0.handOver(device) }
        let halfSecond: Int64 = 500_000_000
        let deadline = MonotonicClock.nanoseconds() + Int64(options.reconnectSeconds * 1e9)
        var asking = false
        var nextAsk: Int64 = 0
        while true {
            let now = MonotonicClock.nanoseconds()
            let left = deadline - now
            loop.pointee.device = .reconnecting
            // Whole seconds left, rounded up.
            loop.pointee.reconnectSecondsLeft = left > 0 ? Int((left + 999_999_999) / 1_000_000_000) : 0
            publish(underruns: underruns)
            // (Two tests, not `||`: its autoclosure would retain self.)
            if stopAsked.load(ordering: .acquiring) { break }
            if abandonAsked.load(ordering: .acquiring) { break }
            if asking, let opened = reopenerRef._withUnsafeGuaranteedRef({ $0.take(into: device) }) {
                if opened {
                    deviceOpen = true
                    break
                }
                asking = false
                nextAsk = now + halfSecond
            }
            // An attempt under way when the time runs out is still waited for.
            if !asking {
                if left <= 0 { return false }
                if now >= nextAsk {
                    reopenerRef._withUnsafeGuaranteedRef { $0.ask(bufferFrames: bufferFrames) }
                    asking = true
                }
            }
            // Until the reopener answers, a stop, or the next attempt (at most half a second).
            var wait = halfSecond
            if !asking {
                wait = nextAsk - now < left ? nextAsk - now : left
                if wait < 1_000_000 { wait = 1_000_000 }
                if wait > halfSecond { wait = halfSecond }
            }
            var sleeper = pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(truncatingIfNeeded: wait / 1_000_000)
            _ = _unsafePerformance { Glibc.poll(&sleeper, 1, milliseconds) }
            WakeUp.drain(wakeup)
        }
        if !deviceOpen {
            // Stopped while waiting: nothing to fade, nothing to play.
            loop.pointee.endAfterHistory = true
            loop.pointee.sent = loop.pointee.rendered
            return true
        }
        results.pointee.reconnects += 1
        loop.pointee.device = .playing
        // The click to resume at may not be rendered yet: then the lead-in ends where rendering
        // goes on, so that its click still falls one step before it.
        let sent = min(resume, loop.pointee.rendered)
        loop.pointee.sent = sent
        loop.pointee.resumeFloor = sent
        loop.pointee.playedAtCheck = sent
        loop.pointee.checkedAt = MonotonicClock.nanoseconds()
        buildLeadIn(shortenedBy: Int(resume - sent))
        return true
    }

    /// A quarter second of silence (the device settles, and the lead-in stands apart from
    /// the sound that was cut off), then one step at the tempo being played: a step click,
    /// and silence up to the click playback resumes at, `shortenedBy` frames of which are
    /// still to be rendered.
    @_noAllocation @_noLocks
    private func buildLeadIn(shortenedBy rendering: Int) {
        let cadence = liveRef._withUnsafeGuaranteedRef({ $0.playingCadence() })
        let channels = self.channels
        let settle = rate / 4
        let step = max(1, Int(roundedToInt64(60 / cadence * Double(rate))) - rendering)
        let frames = min(leadInCapacity, settle + step)
        leadIn.update(repeating: 0, count: frames * channels)
        let clickFrames = max(0, min(leadInClick.count / channels, frames - settle))
        let click = leadInClick.baseAddress!, start = leadIn + settle * channels
        for i in 0..<(clickFrames * channels) { start[i] = click[i] }
        loop.pointee.leadInLeft = frames
        loop.pointee.leadInNext = 0
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
        /// The device ran dry; it waits in XRUN for `growOrRecover`.
        case underrun
        /// The device failed in a way a reopen may cure.
        case lost(ALSAError)
        case failed(ALSAError)
        /// A stop found the device hung and `abandon()` was called.
        case abandoned
        /// The device stopped taking frames, and the session's time ran out meanwhile.
        case hungAtEnd

        var goesOn: Bool {
            switch self {
            case .underrun, .lost: true
            case .finished, .failed, .abandoned, .hungAtEnd: false
            }
        }
    }

    @_noAllocation @_noLocks
    private func publish(underruns: Int) {
        let loop = self.loop
        let results = self.results
        liveRef._withUnsafeGuaranteedRef({
            $0.publish(underruns: underruns, device: loop.pointee.device, reconnectSecondsLeft: loop.pointee.reconnectSecondsLeft,
                       bufferFrames: results.pointee.bufferFrames, bufferGrowths: results.pointee.bufferGrowths)
        })
    }

    /// Renders and writes until the session is over, or the device needs the thread.
    @_noAllocation @_noLocks
    private func play() -> Ending {
        // A wake-up's worth for the buffer the device has now.
        let wake = min(max(device.pointee.availMin, device.pointee.periodFrames), floats.count / channels)
        let block = UnsafeMutableBufferPointer(rebasing: floats[0..<(wake * channels)])
        let loop = self.loop
        let channels = self.channels
        // Half a second without room: say the device is not responding (and keep waiting). A
        // sound server hands frames on in bursts and may pause a stream for a moment (moving
        // it to another sink, a Bluetooth headset switching profiles): two seconds, or four
        // buffers, before it is said not to respond.
        let stall: Int32 = throughServer ? Int32(max(2_000, 4 * device.pointee.bufferFrames * 1000 / rate)) : 500
        // Within this many frames of the session's end, waits for room are bounded by that
        // end by the wall clock (see `sessionEnd`).
        let nearEnd = Int64(rate / 2)
        loop.pointee.tookFramesAt = MonotonicClock.nanoseconds()
        loop.pointee.filledLast = false
        // Following Link, each block is placed by when it will be heard: the delay is asked
        // after every write, not every 100 ms of frames.
        let linked = liveRef._withUnsafeGuaranteedRef({ $0.followsLink })
        let askDelayEvery: Int64 = linked ? 0 : Int64(rate / 10)
        while true {
            if abandonAsked.load(ordering: .acquiring) { return .abandoned }
            // What to write next: the lead-in, then history not yet sent, then new frames.
            var base: UnsafePointer<Int16>
            var count: Int
            var fromLeadIn = false
            if loop.pointee.leadInLeft > 0 {
                base = UnsafePointer(leadIn + loop.pointee.leadInNext * channels)
                count = loop.pointee.leadInLeft
                fromLeadIn = true
            } else {
                if loop.pointee.sent == loop.pointee.rendered {
                    if loop.pointee.endAfterHistory { return .finished }
                    if linked { noteWhenHeard() }
                    let frames = liveRef._withUnsafeGuaranteedRef({ $0.render(into: block) })
                    if frames == 0 { return .finished }
                    quantizeIntoHistory(frames)
                    loop.pointee.rendered += Int64(frames)
                    publishFromLoop()
                }
                let at = Int(loop.pointee.sent % Int64(historyFrames))
                count = min(Int(loop.pointee.rendered - loop.pointee.sent), historyFrames - at)
                base = UnsafePointer(history + at * channels)
            }
            // Near the session's end, or while the device is not taking frames: the wait for
            // room lasts no longer than the session should (the wall clock's end of --duration).
            var endAt = Int64.max
            var wait = stall
            if let end = sessionEnd(within: loop.pointee.device == .notResponding ? Int64.max : nearEnd) {
                endAt = end
                let left = (end - MonotonicClock.nanoseconds() + 999_999) / 1_000_000
                wait = Int32(max(0, min(Int64(stall), left)))
            }
            // Just after a whole wake-up's worth went into a running stream the buffer is about
            // full: wait for room first rather than have alsa-lib refuse a write.
            let full = loop.pointee.filledLast
            let (frames, stop) = device.pointee.write(
                UnsafeBufferPointer(start: base, count: count * channels), wakeup: wakeup, stallMilliseconds: wait,
                waitFirst: full)
            var filled = false  // (not `&&`: its autoclosure would retain self)
            if frames >= wake { filled = results.pointee.framesWritten + Int64(frames) >= Int64(device.pointee.bufferFrames) }
            loop.pointee.filledLast = filled
            if fromLeadIn {
                loop.pointee.leadInLeft -= frames
                loop.pointee.leadInNext += frames
            } else {
                loop.pointee.sent += Int64(frames)
            }
            if frames > 0 {
                loop.pointee.tookFramesAt = MonotonicClock.nanoseconds()
                noteNewTempoHanded()
                if !results.pointee.wroteAny {
                    WallClock.read(into: &results.pointee.firstWriteRealtime)
                    MonotonicClock.read(into: &results.pointee.firstWriteMonotonic)
                    results.pointee.wroteAny = true
                }
                results.pointee.framesWritten += Int64(frames)
                if loop.pointee.device != .playing {
                    loop.pointee.device = .playing
                    publishFromLoop()
                }
            }
            switch stop {
            case .done:
                // What the runner hears now: the device's delay, asked every 100 ms of frames,
                // as often as the status line is drawn (a system call, or through a server its
                // lock and latency estimate). For the status and the remote (the step heard,
                // not the step written) and for resuming after the device goes away (the time
                // since the last look is added at the loss).
                if loop.pointee.sent - loop.pointee.delayAskedAtSent >= askDelayEvery {
                    loop.pointee.delayAskedAtSent = loop.pointee.sent
                    if let queued = device.pointee.queuedFrames() {
                        noteDelay(queued)
                    }
                }
            case .woken:
                WakeUp.drain(wakeup)
                if abandonAsked.load(ordering: .acquiring) { return .abandoned }
                if stopAsked.load(ordering: .acquiring) && !loop.pointee.stopHandled {
                    loop.pointee.stopHandled = true
                    fadeOutFromDevice()
                }
            case .stalled:
                // No room, and the session is over by the wall clock: the device hung.
                if endAt != Int64.max && MonotonicClock.nanoseconds() >= endAt { return .hungAtEnd }
                if loop.pointee.device != .notResponding {
                    loop.pointee.device = .notResponding
                    results.pointee.notResponding += 1
                    publishFromLoop()
                }
            case .underrun:
                return .underrun
            case .failed(let error):
                // ALSAError.isDeviceLost, spelled out: the checker cannot see into other files.
                return error.code == -ENODEV || error.code == -EIO ? .lost(error) : .failed(error)
            }
        }
    }

    /// When the session should be over by the wall clock (monotonic nanoseconds), if it ends
    /// within `horizon` frames of the renderer's position; nil otherwise, or while paused.
    ///
    /// From the last time the device took frames: the buffer it held then (at most the whole
    /// buffer), what is rendered and not sent yet, and what is still to render, each played
    /// at the rate, plus 30 ms, so that a device whose clock runs a little slow is never taken
    /// for a hung one. Cheap when the end is far: the renderer's
    /// timeline is looked at only `horizon` frames ahead.
    @_noAllocation @_noLocks
    private func sessionEnd(within horizon: Int64) -> Int64? {
        guard let left = liveRef._withUnsafeGuaranteedRef({ $0.sessionFramesLeft(atMost: horizon) }), left < horizon else {
            return nil
        }
        let loop = self.loop
        let ahead = Int64(device.pointee.bufferFrames) + Int64(loop.pointee.leadInLeft)
            + (loop.pointee.rendered - loop.pointee.sent) + left
        // A server may sit on a burst for longer than a card's clock ever drifts.
        let slack: Int64 = throughServer ? 1_000_000_000 : 30_000_000
        return loop.pointee.tookFramesAt + ahead * 1_000_000_000 / Int64(rate) + slack
    }

    /// Times the first frame of a new tempo's first step once it has been handed to ALSA.
    @_noAllocation @_noLocks
    private func noteNewTempoHanded() {
        let (count, frame) = liveRef._withUnsafeGuaranteedRef({ $0.newTempoStep() })
        let results = self.results
        guard count > results.pointee.tempoSteps, loop.pointee.sent > frame else { return }
        if results.pointee.tempoSteps < 256 {  // tempoStepCapacity (a static may take a lock)
            WallClock.read(into: &tempoStepTimes[results.pointee.tempoSteps])
        }
        results.pointee.tempoSteps = count
    }

    @_noAllocation @_noLocks
    private func publishFromLoop() {
        let underruns = device.pointee.underruns
        let loop = self.loop
        let results = self.results
        liveRef._withUnsafeGuaranteedRef({
            $0.publish(underruns: underruns, device: loop.pointee.device, reconnectSecondsLeft: loop.pointee.reconnectSecondsLeft,
                       bufferFrames: results.pointee.bufferFrames, bufferGrowths: results.pointee.bufferGrowths,
                       heardOutputFrame: loop.pointee.delay < 0 ? Int64.max : loop.pointee.sent - Int64(loop.pointee.delay))
        })
    }

    /// Tells the player when the next frame rendered will be heard (for Link): from the
    /// device's delay at the last look, the frames played since at the rate; before the
    /// first look, as if the stream started now.
    @_noAllocation @_noLocks
    private func noteWhenHeard() {
        let loop = self.loop
        let next = loop.pointee.rendered
        let heard: Int64
        if loop.pointee.delay >= 0 {
            heard = loop.pointee.checkedAt + (next - loop.pointee.playedAtCheck) * 1_000_000_000 / Int64(rate)
        } else {
            heard = MonotonicClock.nanoseconds() + (next - loop.pointee.sent) * 1_000_000_000 / Int64(rate)
        }
        liveRef._withUnsafeGuaranteedRef({ $0.noteHeard(outputFrame: next, atMonotonic: heard) })
    }

    /// Keeps the device's delay: where playback is heard, and its range for `--verbose`.
    @_noAllocation @_noLocks
    private func noteDelay(_ queued: Int) {
        let loop = self.loop
        let results = self.results
        loop.pointee.delay = queued
        loop.pointee.playedAtCheck = max(loop.pointee.resumeFloor, loop.pointee.sent - Int64(queued))
        loop.pointee.checkedAt = MonotonicClock.nanoseconds()
        // Only once the stream runs: before, the delay is the buffer being filled.
        if loop.pointee.sent > Int64(results.pointee.bufferFrames) {
            if results.pointee.leastDelay < 0 || queued < results.pointee.leastDelay { results.pointee.leastDelay = queued }
            if queued > results.pointee.mostDelay { results.pointee.mostDelay = queued }
        }
    }

    /// Quantizes the rendered block into the history ring, at the output frame it belongs to.
    @_noAllocation @_noLocks
    private func quantizeIntoHistory(_ frames: Int) {
        let at = Int(loop.pointee.rendered % Int64(historyFrames))
        let first = min(frames, historyFrames - at)
        SampleQuantizer.toInt16(UnsafeBufferPointer(start: floats.baseAddress!, count: first * channels), into: history + at * channels)
        if first < frames {
            SampleQuantizer.toInt16(
                UnsafeBufferPointer(start: floats.baseAddress! + first * channels, count: (frames - first) * channels), into: history)
        }
    }

    /// A stop: take back what the device has not played (all but a period and a little), and
    /// fade out from there over `LivePlayback.stopFadeSeconds`, from the history, so the stop
    /// is heard now rather than a buffer later. When there is too little to take back, the
    /// renderer's own stop fade (the queued `.stop`) follows instead.
    @_noAllocation @_noLocks
    private func fadeOutFromDevice() {
        let fade = stopFadeFrames
        let margin = device.pointee.periodFrames + rate / 200
        let back = device.pointee.rewind(keeping: margin)
        loop.pointee.sent -= Int64(back)
        if loop.pointee.rendered - loop.pointee.sent < fade { return }
        let channels = self.channels
        for k in 0..<fade {
            let frame = loop.pointee.sent + k
            let at = Int(frame % Int64(historyFrames)) * channels
            let gain = Float(fade - k) / Float(fade + 1)
            for c in 0..<channels {
                history[at + c] = Int16(Float(history[at + c]) * gain)
            }
        }
        loop.pointee.rendered = loop.pointee.sent + fade
        loop.pointee.endAfterHistory = true
    }
}

/// The wall clock (`CLOCK_REALTIME`), read on the playback thread for the moments `make bench`
/// compares with a key written into the terminal: a date, not a duration (for those,
/// `MonotonicClock`). Vouched for: the checker cannot see into C, and this call is a vDSO
/// read that neither allocates nor locks. The corresponding C function is `clock_gettime`.
private enum WallClock {
    @inline(__always)
    static func read(into time: inout timespec) {
        _ = _unsafePerformance { clock_gettime(CLOCK_REALTIME, &time) }
    }
}

/// A CLOCK_REALTIME time as seconds with nine decimals (`"1796494485.931079803"`), as
/// `STRIDECUE_TIMING` reports times for the benchmarks to compare with their own clocks.
func epochText(_ time: timespec) -> String {
    let ns = String(time.tv_nsec)
    return "\(time.tv_sec).\(String(repeating: "0", count: 9 - ns.count))\(ns)"
}
