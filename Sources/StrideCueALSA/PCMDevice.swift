import CALSA
import Glibc
import StrideCueFiles

// MARK: The one seam to alsa-lib

// `ALSAError`, `alsaCheck` and `RealTimeCalls` live in this file on purpose:
// debug builds compile file by file, and the `@_noAllocation @_noLocks` checker only sees
// into functions of the file being compiled. Anything `write` calls that is defined in
// another file, even an initializer, is "not available" to it. (ALSAError.swift adds the text.)

/// A failed alsa-lib call: which function, and the negative error code it returned.
///
/// Plain data (no strings, no references), so that the real-time write path can create and
/// throw one without allocating or reference counting; the text (`reason`, `description`,
/// in ALSAError.swift) is produced only when someone asks for it.
public struct ALSAError: Error, Sendable {
    /// The alsa-lib function that failed, e.g. `snd_pcm_writei`.
    public let call: StaticString
    /// The negative error code alsa-lib returned, e.g. `-ENODEV`.
    public let code: Int32

    public init(call: StaticString, code: Int32) {
        self.call = call
        self.code = code
    }
}

/// Passes an alsa-lib result through, or throws it as an `ALSAError` naming the call.
///
/// Every alsa-lib call in this module goes through here (results of type
/// `snd_pcm_sframes_t` are examined case by case by the write loop instead, because their
/// negative codes are recovered there, not thrown).
///
/// - Parameters:
///   - result: what the call returned; negative values are `-errno` codes.
///   - call: the C function's name, for the error.
/// - Returns: `result`, when it is not negative.
///
/// Real-time safety: allocates nothing and takes no lock, also when it throws.
@inline(__always)
@discardableResult
func alsaCheck(_ result: Int32, _ call: StaticString) throws(ALSAError) -> Int32 {
    if result < 0 {
        throw ALSAError(call: call, code: result)
    }
    return result
}

/// The C calls made on the real-time path, and only those.
///
/// `@_noAllocation @_noLocks` code may only call functions the compiler can see into, and it
/// cannot see into C: it rejects every alsa-lib call ("called function is not available in
/// this module"). Each call below is vouched for instead, with `_unsafePerformance`, for
/// this reason: in the steady state these calls copy frames, make system calls (ioctl,
/// poll, nanosleep) and may take the PCM's own mutex, which only the thread that owns the
/// device ever takes, so it is never contended. Nothing here allocates in alsa-lib's
/// write, recover and wait paths. Keeping the list short keeps that promise checkable.
private enum RealTimeCalls {
    /// The corresponding C function is `snd_pcm_writei`.
    @inline(__always)
    static func writei(_ pcm: OpaquePointer, _ frames: UnsafePointer<Int16>, _ count: Int) -> Int {
        _unsafePerformance { snd_pcm_writei(pcm, frames, snd_pcm_uframes_t(count)) }
    }

    /// The corresponding C function is `snd_pcm_recover`, told to be silent.
    @inline(__always)
    static func recover(_ pcm: OpaquePointer, _ error: Int32) -> Int32 {
        _unsafePerformance { snd_pcm_recover(pcm, error, 1) }
    }

    /// The corresponding C function is `snd_pcm_wait`.
    @inline(__always)
    static func wait(_ pcm: OpaquePointer, milliseconds: Int32) -> Int32 {
        _unsafePerformance { snd_pcm_wait(pcm, milliseconds) }
    }

    /// The corresponding C function is `snd_pcm_resume`.
    @inline(__always)
    static func resume(_ pcm: OpaquePointer) -> Int32 {
        _unsafePerformance { snd_pcm_resume(pcm) }
    }

    /// The corresponding C function is `snd_pcm_prepare`.
    @inline(__always)
    static func prepare(_ pcm: OpaquePointer) -> Int32 {
        _unsafePerformance { snd_pcm_prepare(pcm) }
    }

    /// The corresponding C function is `usleep`.
    @inline(__always)
    static func sleep(microseconds: UInt32) {
        _ = _unsafePerformance { usleep(microseconds) }
    }

    /// The corresponding C function is `poll`.
    @inline(__always)
    static func poll(_ descriptors: UnsafeMutablePointer<pollfd>, _ count: Int, milliseconds: Int32) -> Int32 {
        _unsafePerformance { Glibc.poll(descriptors, nfds_t(count), milliseconds) }
    }

    /// The one monotonic clock in nanoseconds, for a stall measured on the wall clock.
    @inline(__always)
    static func nanoseconds() -> Int64 { MonotonicClock.nanoseconds() }

    /// The corresponding C function is `snd_pcm_poll_descriptors_revents`.
    @inline(__always)
    static func revents(_ pcm: OpaquePointer, _ descriptors: UnsafeMutablePointer<pollfd>, _ count: Int) -> (Int32, UInt16) {
        var events: UInt16 = 0
        let result = _unsafePerformance { snd_pcm_poll_descriptors_revents(pcm, descriptors, UInt32(count), &events) }
        return (result, events)
    }

    /// The corresponding C function is `snd_pcm_poll_descriptors`.
    @inline(__always)
    static func pollDescriptors(_ pcm: OpaquePointer, _ descriptors: UnsafeMutablePointer<pollfd>, _ count: Int) -> Int32 {
        _unsafePerformance { snd_pcm_poll_descriptors(pcm, descriptors, UInt32(count)) }
    }

    /// The corresponding C function is `snd_pcm_avail_update`.
    @inline(__always)
    static func availUpdate(_ pcm: OpaquePointer) -> Int {
        _unsafePerformance { snd_pcm_avail_update(pcm) }
    }

    /// The corresponding C function is `snd_pcm_state`.
    @inline(__always)
    static func state(_ pcm: OpaquePointer) -> snd_pcm_state_t {
        _unsafePerformance { snd_pcm_state(pcm) }
    }

    /// The corresponding C function is `snd_pcm_start`.
    @inline(__always)
    static func start(_ pcm: OpaquePointer) -> Int32 {
        _unsafePerformance { snd_pcm_start(pcm) }
    }

    /// The corresponding C function is `snd_pcm_delay`.
    @inline(__always)
    static func delay(_ pcm: OpaquePointer) -> (Int32, Int) {
        var frames: snd_pcm_sframes_t = 0
        let result = _unsafePerformance { snd_pcm_delay(pcm, &frames) }
        return (result, frames)
    }

    /// The corresponding C functions are `snd_pcm_rewindable` and `snd_pcm_rewind`.
    @inline(__always)
    static func rewind(_ pcm: OpaquePointer, keeping margin: Int) -> Int {
        _unsafePerformance {
            let rewindable = snd_pcm_rewindable(pcm)
            guard rewindable > margin else { return 0 }
            let done = snd_pcm_rewind(pcm, snd_pcm_uframes_t(rewindable - margin))
            return done > 0 ? done : 0
        }
    }
}

// MARK: The device

/// How to set up a playback PCM: sample rate, channels, and the period and buffer lengths.
///
/// Lengths are given in milliseconds and turned into frames at `rate`; the device may round
/// them (`PCMDevice` reports what it got). The defaults, 5 ms periods in a 20 ms buffer,
/// held without underruns on an idle two-core machine; a busy one wants a longer latency.
public struct PCMConfiguration: Sendable, Equatable {
    /// Frames per second; the device must support it exactly (no resampling).
    public var rate: Int
    /// Interleaved channels per frame.
    public var channels: Int
    /// How often the device wakes the writer.
    public var periodMilliseconds: Double
    /// The whole buffer: how far the writer may run ahead of the speaker, and the
    /// worst-case delay from writing a frame to hearing it.
    public var latencyMilliseconds: Double

    public init(
        rate: Int = 48_000,
        channels: Int = 2,
        periodMilliseconds: Double = 5,
        latencyMilliseconds: Double = 20
    ) {
        self.rate = rate
        self.channels = channels
        self.periodMilliseconds = periodMilliseconds
        self.latencyMilliseconds = latencyMilliseconds
    }

    /// The buffer length asked of the device, in frames (at least 2).
    public var bufferFrames: Int {
        max(2, Int((latencyMilliseconds * Double(rate) / 1000).rounded()))
    }

    /// The period length asked of the device, in frames: the configured period, but never
    /// more than half the buffer, so that there are always at least two periods.
    public var periodFrames: Int {
        let period = max(1, Int((periodMilliseconds * Double(rate) / 1000).rounded()))
        return min(period, bufferFrames / 2)
    }
}

/// How a `write(_:wakeup:stallMilliseconds:)` ended.
public enum WriteStop: Sendable, Equatable {
    /// Every frame was taken.
    case done
    /// The wake-up descriptor became readable while waiting for room.
    case woken
    /// The device ran dry (`-EPIPE`); it is in XRUN until `recover()` or `reconfigure(…)`.
    case underrun
    /// No room came for the stall time: the device has stopped taking frames.
    case stalled
    /// Anything not recoverable here, notably `-ENODEV` and `-EIO` (the device is gone).
    case failed(ALSAError)
}

/// What a PCM's frames go through on their way to the speaker.
/// How the playback thread asks to be scheduled: `PCMRoute.writerScheduling`.
public enum WriterScheduling: Sendable, Equatable {
    /// SCHED_FIFO (priority 20, or what RLIMIT_RTPRIO allows).
    case realTime
    /// SCHED_OTHER at the default nice level, as the sound server's other clients.
    case ordinary
}

public enum PCMRoute: Sendable, Equatable {
    /// A kernel driver (`hw`, `plughw`, `dmix`…), or a plugin that behaves like one.
    case card
    /// The PulseAudio sound server, through alsa-plugins' `pulse` plugin (also PipeWire's
    /// `pipewire-pulse` seen through it).
    case pulseAudio
    /// The PipeWire sound server, through its own `pipewire` ALSA plugin.
    case pipeWire

    /// A server mixes streams on its own clock, hands frames on in bursts (a period of its
    /// own, not ours) and adds buffering of its own behind ALSA's buffer.
    public var isSoundServer: Bool { self != .card }

    /// How the playback thread is scheduled on this route.
    ///
    /// A card is paced by its interrupt alone, so the writer is real-time. PipeWire pulls from
    /// the buffer on its own real-time data thread each graph cycle, so an ordinary writer is
    /// enough (soaked 10 min with every core busy, no dropout, 0.57x aplay's CPU). PulseAudio's
    /// plugin carries every frame on its own mainloop thread, which the writer depends on: the
    /// writer is real-time and that thread is raised just under it (`raisePluginThreads`). At
    /// nice -11 instead, as PulseAudio raises its own daemon, both cost less than half the CPU,
    /// but dropped out under a heavy load in the 60 s test where SCHED_FIFO held.
    public var writerScheduling: WriterScheduling {
        self == .pipeWire ? .ordinary : .realTime
    }

    /// E.g. "the PulseAudio sound server".
    public var description: String {
        switch self {
        case .card: "a sound card"
        case .pulseAudio: "the PulseAudio sound server"
        case .pipeWire: "the PipeWire sound server"
        }
    }

    /// Reads the route from alsa-lib's description of an open PCM (`snd_pcm_dump`): each
    /// server's plugin names itself there ("ALSA <-> PulseAudio PCM I/O Plugin"), also under
    /// a `plug` or `softvol` layer.
    static func of(_ pcm: OpaquePointer) -> PCMRoute {
        var output: OpaquePointer?
        guard snd_output_buffer_open(&output) >= 0, let output else { return .card }
        defer { snd_output_close(output) }
        _ = snd_pcm_dump(pcm, output)
        var text: UnsafeMutablePointer<CChar>?
        let length = snd_output_buffer_string(output, &text)
        guard length > 0, let text else { return .card }
        let dump = String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
        if dump.contains("PulseAudio PCM I/O Plugin") { return .pulseAudio }
        if dump.contains("PipeWire PCM I/O Plugin") { return .pipeWire }
        return .card
    }
}

/// An open ALSA playback PCM, configured for interleaved signed 16-bit little-endian frames.
///
/// The handle is owned: the struct cannot be copied, and closing happens in `deinit`.
/// The PCM is non-blocking: a writer waits for room in `poll` on the PCM's own descriptors
/// and, optionally, a wake-up descriptor (an eventfd) of its own, so that stopping never
/// depends on the device. The device starts itself once the buffer has been filled (start
/// threshold = buffer), and reports running dry as an underrun (stop threshold = buffer).
///
/// Use it from one thread at a time. alsa-lib does not tie a PCM to the thread that opened
/// it, so the playback thread may own a device opened elsewhere.
public struct PCMDevice: ~Copyable {
    /// The owned `snd_pcm_t *`.
    let handle: OpaquePointer
    /// The PCM name it was opened with, e.g. `default`, `hw:0,0`, `null`.
    public let name: String
    /// Frames per second, exactly as configured.
    public let rate: Int
    /// Interleaved channels per frame.
    public let channels: Int
    /// Frames per period, as the device granted it.
    public private(set) var periodFrames: Int
    /// Frames in the whole buffer, as the device granted it.
    public private(set) var bufferFrames: Int
    /// Frames buffered before the device starts by itself, as installed (the whole buffer).
    public private(set) var startThreshold: Int
    /// Free frames at which the device stops with an underrun, as installed (the whole buffer,
    /// i.e. when it runs dry).
    public private(set) var stopThreshold: Int
    /// Free frames the device waits for before waking a blocked writer, as installed (half
    /// the buffer in whole periods; see `PCMDevice.wakeFrames`).
    public private(set) var availMin: Int
    /// Underruns met by `write` and `drain` since the device was opened.
    public private(set) var underruns: Int = 0
    /// A sound card, or the sound server behind the PCM.
    public let route: PCMRoute
    /// The PCM's poll descriptors, then one slot for a writer's wake-up descriptor.
    private var descriptors: UnsafeMutablePointer<pollfd>
    private var descriptorCount: Int

    /// Opens a PCM by name for blocking playback and configures it.
    ///
    /// - Parameters:
    ///   - name: an ALSA PCM name: `default`, `hw:0,0`, `plughw:1`, `null`, or any PCM
    ///     defined in an ALSA configuration (`ALSA_CONFIG_PATH`).
    ///   - configuration: rate, channels, period and buffer lengths.
    /// - Throws: `PCMOpenError` naming the device: from `snd_pcm_open` when the device cannot
    ///   be opened (`-ENOENT` unknown or absent, `-EBUSY` in use, `-EACCES`…; `isUnavailable`),
    ///   or from the configuring call that refused (e.g. `snd_pcm_hw_params_set_rate` with
    ///   `-EINVAL` when the device cannot play `rate` exactly; `detail` says what was asked).
    public init(name: String, configuration: PCMConfiguration = PCMConfiguration()) throws(PCMOpenError) {
        precondition(configuration.rate > 0 && configuration.channels > 0, "PCMConfiguration needs a positive rate and channel count")
        precondition(configuration.latencyMilliseconds > 0 && configuration.periodMilliseconds > 0, "PCMConfiguration needs positive lengths")
        let threadsBefore = PCMDevice.threadIDs()
        let pcm = try PCMDevice.openPlayback(name)
        let route = PCMRoute.of(pcm)
        var configuration = configuration
        if route == .pulseAudio {
            PCMDevice.raisePluginThreads(PCMDevice.threadIDs().subtracting(threadsBefore))
            configuration.periodMilliseconds = PCMDevice.serverPeriodMilliseconds(configuration)
        }
        var refused: String? = nil
        let period: Int, buffer: Int, software: (start: Int, stop: Int, availMin: Int)
        let polled: (UnsafeMutablePointer<pollfd>, Int)
        do throws(ALSAError) {
            (period, buffer) = try PCMDevice.configureHardware(pcm, configuration, refused: &refused)
            software = try PCMDevice.configureSoftware(pcm, periodFrames: period, bufferFrames: buffer, route: route)
            polled = try PCMDevice.pollDescriptors(pcm)
        } catch {
            snd_pcm_close(pcm)
            throw PCMOpenError(device: name, failure: error, detail: refused)
        }
        self.handle = pcm
        self.name = name
        self.rate = configuration.rate
        self.channels = configuration.channels
        self.periodFrames = period
        self.bufferFrames = buffer
        self.startThreshold = software.start
        self.stopThreshold = software.stop
        self.availMin = software.availMin
        (self.descriptors, self.descriptorCount) = polled
        self.route = route
    }

    deinit {
        // Closing without drain discards what has not been played; callers that want the
        // tail heard call `drain()` first.
        snd_pcm_close(handle)
        descriptors.deallocate()
    }

    /// The PCM's poll descriptors, in room for one more (the writer's wake-up descriptor).
    private static func pollDescriptors(_ pcm: OpaquePointer) throws(ALSAError) -> (UnsafeMutablePointer<pollfd>, Int) {
        let count = Int(try alsaCheck(snd_pcm_poll_descriptors_count(pcm), "snd_pcm_poll_descriptors_count"))
        let descriptors = UnsafeMutablePointer<pollfd>.allocate(capacity: count + 1)
        descriptors.initialize(repeating: pollfd(fd: -1, events: 0, revents: 0), count: count + 1)
        let filled = snd_pcm_poll_descriptors(pcm, descriptors, UInt32(count))
        if filled < 0 {
            descriptors.deallocate()
            throw ALSAError(call: "snd_pcm_poll_descriptors", code: filled)
        }
        return (descriptors, Int(filled))
    }

    /// Checks that a PCM opens for playback, then closes it again.
    ///
    /// - Throws: the same error `init` would throw from `snd_pcm_open`.
    /// - Returns: what the PCM goes through, as far as alsa-lib tells before it is set up.
    @discardableResult
    public static func probe(_ name: String) throws(PCMOpenError) -> PCMRoute {
        let pcm = try openPlayback(name)
        defer { snd_pcm_close(pcm) }
        return PCMRoute.of(pcm)
    }

    /// Writes interleaved frames, waiting until the device has taken all of them.
    ///
    /// Underruns (`-EPIPE`) are recovered with `snd_pcm_recover` and counted in `underruns`;
    /// the rest of `samples` is then written to the restarted stream, so what follows the gap
    /// is exactly what would have followed without it. A suspended device (`-ESTRPIPE`) is
    /// resumed, or prepared again where it cannot resume.
    ///
    /// - Parameter samples: `channels` interleaved samples per frame; the count must be a
    ///   multiple of `channels`.
    /// - Throws: `ALSAError` for anything not recoverable, notably `-ENODEV` and `-EIO` (the
    ///   device is gone; `isDeviceLost`), or when recovery itself fails.
    ///
    /// Real-time safety: no allocation and no locks in this function (compiler-checked);
    /// it sleeps in `poll` until the device has room, as a period-paced writer should.
    /// The corresponding C function is `snd_pcm_writei`.
    @_noAllocation @_noLocks
    public mutating func write(_ samples: UnsafeBufferPointer<Int16>) throws(ALSAError) {
        guard let base = samples.baseAddress else { return }
        var done = 0
        while done < samples.count {
            let (frames, stop) = write(
                UnsafeBufferPointer(start: base + done, count: samples.count - done), wakeup: -1, stallMilliseconds: -1)
            done += frames * channels
            switch stop {
            case .done, .woken, .stalled:
                break
            case .underrun:
                // Ran dry: the device stopped. Recovering prepares it again; the next writes
                // refill the buffer and it restarts at the start threshold. The listener hears
                // a gap, and the stream carries on where it was rather than jumping ahead.
                try recover()
            case .failed(let error):
                throw error
            }
        }
    }

    /// Writes interleaved frames until all are taken, or until something needs the caller:
    /// the wake-up descriptor became readable, the device ran dry, stopped taking frames for
    /// `stallMilliseconds`, or failed.
    ///
    /// While the device has no room, the thread sleeps in `poll` on the PCM's descriptors and
    /// `wakeup`, so another thread can always get it back (by writing to an eventfd) however
    /// the device behaves. `wakeup` is not read here: the caller drains it.
    ///
    /// - Parameters:
    ///   - samples: whole interleaved frames.
    ///   - wakeup: a descriptor that becomes readable when the caller is wanted, or -1.
    ///   - stallMilliseconds: how long to wait for room before returning `.stalled`; -1 forever.
    ///     Counted on the wall clock from the first wait: a device whose descriptors wake the
    ///     writer without giving it room (a plugin re-reading its state each period) still
    ///     stalls.
    ///   - waitFirst: wait for room before trying to write, for a caller that knows the buffer
    ///     is about full (it has just filled it): saves alsa-lib's refused write (its lock and
    ///     a look at the device) at every wake-up.
    /// - Returns: the frames taken, and why the call returned. An underrun is counted in
    ///   `underruns` and left for the caller to `recover()` from (or to `reconfigure`).
    ///
    /// Real-time safety: no allocation and no locks (compiler-checked); sleeps only in `poll`.
    /// The corresponding C function is `snd_pcm_writei`.
    @_noAllocation @_noLocks
    public mutating func write(
        _ samples: UnsafeBufferPointer<Int16>, wakeup: Int32, stallMilliseconds: Int32, waitFirst: Bool = false
    ) -> (frames: Int, stop: WriteStop) {
        precondition(samples.count % channels == 0, "write needs whole frames")
        guard var next = samples.baseAddress else { return (0, .done) }
        let total = samples.count / channels
        var remaining = total
        // When the wait for room began to count (the first time there was none), in ns.
        var waitingSince: Int64 = -1
        var waiting = waitFirst
        // The PCM's descriptors said "ready" just now; how often in a row they did for nothing.
        var afterDeviceWake = false
        var wokenForNothing = 0
        while remaining > 0 {
            let result = waiting ? 0 : RealTimeCalls.writei(handle, next, remaining)
            waiting = false
            if result > 0 {
                remaining -= result
                next += result * channels
                waitingSince = -1
                afterDeviceWake = false
                wokenForNothing = 0
                continue
            }
            switch result {
            case 0, -Int(EAGAIN):
                // No room: sleep until the device has some, or the caller is wanted.
                var timeout = stallMilliseconds
                if stallMilliseconds >= 0 {
                    let now = RealTimeCalls.nanoseconds()
                    if waitingSince < 0 { waitingSince = now }
                    let left = Int64(stallMilliseconds) * 1_000_000 - (now - waitingSince)
                    if left <= 0 { return (total - remaining, .stalled) }
                    timeout = Int32((left + 999_999) / 1_000_000)
                }
                // Buffer full before the start threshold (a server may count its own latency
                // against the buffer): start it, or it would wait for room that never comes.
                if RealTimeCalls.state(handle) == SND_PCM_STATE_PREPARED, RealTimeCalls.availUpdate(handle) == 0,
                   RealTimeCalls.start(handle) == 0 {
                    continue
                }
                // Where the wait starts: at 0, the PCM's descriptors and the wake-up; at
                // descriptorCount, the wake-up alone (a timed sleep).
                var count = 0
                if afterDeviceWake {
                    afterDeviceWake = false
                    wokenForNothing += 1
                }
                if wokenForNothing > 1 {
                    // Still woken with no room: PulseAudio's plugin keeps its descriptor readable
                    // while one of its periods is free, whatever avail_min says, so polling it
                    // again would return at once and spin this thread, starving the server it
                    // waits on. Sleep instead for as long as the device takes to free a wake-up's
                    // worth.
                    let avail = RealTimeCalls.availUpdate(handle)
                    if avail < 0 { continue }  // the write reports it
                    let missing = max(1, availMin - avail)
                    let sleep = Int32(min(Int64(missing) * 1000 / Int64(rate) + 1, Int64(Int32.max)))
                    timeout = timeout < 0 ? sleep : min(timeout, sleep)
                    count = descriptorCount
                }
                if count == 0 {
                    // Asked again before each poll, as snd_pcm_wait does: it re-arms them (PipeWire's
                    // plugin clears its eventfd here when there is no room, and leaves it readable
                    // otherwise).
                    _ = RealTimeCalls.pollDescriptors(handle, descriptors, descriptorCount)
                }
                descriptors[descriptorCount] = pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0)
                let ready = RealTimeCalls.poll(descriptors + count, descriptorCount + 1 - count, milliseconds: timeout)
                if ready == 0 {
                    if count > 0 { continue }  // slept as long as the device needed: try again
                    return (total - remaining, .stalled)
                }
                if ready < 0 { continue }  // EINTR: look again
                if descriptors[descriptorCount].revents != 0 { return (total - remaining, .woken) }
                // The PCM's own events (plugins translate theirs); an error shows in the next write.
                _ = RealTimeCalls.revents(handle, descriptors, descriptorCount)
                afterDeviceWake = true
            case -Int(EPIPE):
                underruns += 1
                return (total - remaining, .underrun)
            case -Int(ESTRPIPE):
                do throws(ALSAError) {
                    try resumeAfterSuspend()
                } catch {
                    return (total - remaining, .failed(error))
                }
            case -Int(EINTR):
                continue
            case -Int(EBADFD):
                // The PCM is not in a state that takes writes: this type never leaves it so,
                // so it is a bug, not a condition to carry on from.
                preconditionFailure("snd_pcm_writei: PCM not prepared (EBADFD)")
            default:
                return (total - remaining, .failed(ALSAError(call: "snd_pcm_writei", code: Int32(truncatingIfNeeded: result))))
            }
        }
        return (total, .done)
    }

    /// Prepares the device again after an underrun, so that writes refill it and it restarts.
    ///
    /// Real-time safety: no allocation and no locks. The corresponding C function is `snd_pcm_recover`.
    @_noAllocation @_noLocks
    public mutating func recover() throws(ALSAError) {
        try alsaCheck(RealTimeCalls.recover(handle, -EPIPE), "snd_pcm_recover")
    }

    /// Frames written but not yet played, or nil when the device cannot say (it ran dry, or
    /// is gone).
    ///
    /// Real-time safety: no allocation and no locks. The corresponding C function is `snd_pcm_delay`.
    @_noAllocation @_noLocks
    public func queuedFrames() -> Int? {
        let (result, frames) = RealTimeCalls.delay(handle)
        return result < 0 ? nil : max(0, frames)
    }

    /// Takes back what was written but not yet played, all but `margin` frames (what the
    /// device may already be reading), so that what is written next follows sooner.
    /// - Returns: the frames taken back; 0 when the device cannot rewind.
    ///
    /// Real-time safety: no allocation and no locks. The corresponding C function is `snd_pcm_rewind`.
    @_noAllocation @_noLocks
    public mutating func rewind(keeping margin: Int) -> Int {
        // PulseAudio's plugin hands frames to the server as they are written: moving ALSA's
        // pointer back would take nothing back, and what is written next would play twice.
        if route == .pulseAudio { return 0 }
        return RealTimeCalls.rewind(handle, keeping: margin)
    }

    /// Lets what was written play out and stops the device right after its last frame,
    /// without letting it run dry (on real hardware a ring buffer that runs dry may replay
    /// stale frames before the driver notices): for at most `limitMilliseconds`, returning
    /// early when `wakeup` becomes readable, or when the device has stopped moving once the
    /// tail should have played (a hung device: by then it has not moved for two periods, and
    /// at least 40 ms). Whatever is left then is dropped, so that the device is never waited
    /// on longer than that.
    ///
    /// A card drains (`snd_pcm_drain`, waited for in `poll`): it stops at its last frame. A
    /// sound server's plugin would block in its own drain, out of reach of `wakeup`, and its
    /// delay never falls to zero (the server's own buffering stays in it), so a server is fed
    /// `silence` instead, until its delay says that everything before the silence has been
    /// heard; then the silence is dropped.
    /// - Parameter silence: zeroed frames to feed a sound server, at least a period's worth.
    /// - Returns: true when everything written was played.
    ///
    /// Not for the real-time loop's steady state: it runs once, at the end.
    public mutating func finish(wakeup: Int32, limitMilliseconds: Int, silence: UnsafeBufferPointer<Int16>) -> Bool {
        let played = route.isSoundServer
            ? playOutIntoSilence(silence, wakeup: wakeup, limitMilliseconds: limitMilliseconds)
            : drainWithin(wakeup: wakeup, limitMilliseconds: limitMilliseconds)
        _ = snd_pcm_drop(handle)
        _ = snd_pcm_prepare(handle)
        return played
    }

    /// A card's drain, non-blocking and polled.
    private mutating func drainWithin(wakeup: Int32, limitMilliseconds: Int) -> Bool {
        switch snd_pcm_drain(handle) {
        case 0:
            return true  // done already (nothing queued, or a device that plays at once)
        case -EAGAIN:
            break
        case -EPIPE:
            underruns += 1  // it ran dry before the end
            return true
        default:
            return false
        }
        let started = monotonicMilliseconds()
        let stall = max(40, 2 * periodFrames * 1000 / rate + 5)
        var expectedEnd = Int.max
        var lastQueued = -1
        var movedAt = started
        var wake = pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0)
        while snd_pcm_state(handle) == SND_PCM_STATE_DRAINING {
            let now = monotonicMilliseconds()
            let queued = queuedFrames() ?? 0
            if lastQueued < 0 { expectedEnd = now + queued * 1000 / rate }
            if queued != lastQueued {
                lastQueued = queued
                movedAt = now
            }
            let left = limitMilliseconds - (now - started)
            if left <= 0 || (now >= expectedEnd && now - movedAt >= stall) { return false }
            // In slices, so that a device that stops moving is noticed soon after the end.
            let wait = Int32(min(left, 20, max(1, queued * 1000 / rate + 1)))
            if Glibc.poll(&wake, 1, wait) > 0 { return false }
        }
        return true
    }

    /// A sound server's tail: silence written behind the last frame until the server's
    /// delay is no more than the silence.
    private mutating func playOutIntoSilence(_ silence: UnsafeBufferPointer<Int16>, wakeup: Int32, limitMilliseconds: Int) -> Bool {
        let started = monotonicMilliseconds()
        var padding = 0
        while true {
            guard let queued = queuedFrames() else { return true }  // ran dry or gone: nothing left to hear
            if queued <= padding { return true }
            let left = limitMilliseconds - (monotonicMilliseconds() - started)
            if left <= 0 { return false }
            let (frames, stop) = write(silence, wakeup: wakeup, stallMilliseconds: Int32(min(left, 500)))
            padding += frames
            switch stop {
            case .done: continue
            case .underrun: return true  // everything before the silence was played
            case .woken, .stalled, .failed: return false
            }
        }
    }

    /// Gives the device another buffer length, keeping everything else; what was buffered is
    /// dropped (call it after an underrun, when nothing is). The device is prepared again.
    ///
    /// Not real-time safe: alsa-lib may allocate; it runs after a dropout, when the sound has
    /// already stopped.
    public mutating func reconfigure(latencyMilliseconds: Double) throws(ALSAError) {
        _ = snd_pcm_drop(handle)
        var refused: String? = nil
        let configuration = PCMConfiguration(
            rate: rate, channels: channels,
            periodMilliseconds: Double(periodFrames) * 1000 / Double(rate), latencyMilliseconds: latencyMilliseconds)
        let (period, buffer) = try PCMDevice.configureHardware(handle, configuration, refused: &refused)
        let software = try PCMDevice.configureSoftware(handle, periodFrames: period, bufferFrames: buffer, route: route)
        periodFrames = period
        bufferFrames = buffer
        startThreshold = software.start
        stopThreshold = software.stop
        availMin = software.availMin
        let (fresh, count) = try PCMDevice.pollDescriptors(handle)
        descriptors.deallocate()
        descriptors = fresh
        descriptorCount = count
        try alsaCheck(snd_pcm_prepare(handle), "snd_pcm_prepare")
    }

    /// Waits until every written frame has been played, then prepares the device again,
    /// so that later writes start a new stream.
    ///
    /// If fewer frames than the buffer were written the device has not started yet; draining
    /// starts it. An underrun that happened before the call counts, and leaves nothing to drain.
    /// The corresponding C function is `snd_pcm_drain`.
    public mutating func drain() throws(ALSAError) {
        // The PCM is non-blocking, where draining returns -EAGAIN at once: block for this.
        _ = snd_pcm_nonblock(handle, 0)
        defer { _ = snd_pcm_nonblock(handle, 1) }
        let result = snd_pcm_drain(handle)
        if result == -EPIPE {
            underruns += 1
        } else if result == -ESTRPIPE {
            // Suspended: what was buffered is lost either way.
        } else {
            try alsaCheck(result, "snd_pcm_drain")
        }
        try alsaCheck(snd_pcm_prepare(handle), "snd_pcm_prepare")
    }

    /// Real-time safety: no allocation or locks; may sleep while the device wakes up.
    @_noAllocation @_noLocks
    private func resumeAfterSuspend() throws(ALSAError) {
        var result: Int32
        repeat {
            result = RealTimeCalls.resume(handle)
            if result == -EAGAIN {
                // The driver is still waking up (system resume); try again shortly.
                RealTimeCalls.sleep(microseconds: 10_000)
            }
        } while result == -EAGAIN
        if result < 0 {
            // The device cannot resume in place (-ENOSYS and others): start over.
            try alsaCheck(RealTimeCalls.prepare(handle), "snd_pcm_prepare")
        }
    }

    // MARK: Opening and configuring

    /// The period asked of PulseAudio's plugin: a quarter of the buffer, at least the configured one.
    ///
    /// The plugin makes a period the server's request size (its `minreq`): the server asks for
    /// frames, and the plugin's mainloop thread wakes, once per period, and the writer with it.
    /// The buffer alone sets how far ahead the writer runs and how long a hiccup it rides out; a
    /// 5 ms period there only wakes both threads 200 times a second.
    static func serverPeriodMilliseconds(_ configuration: PCMConfiguration) -> Double {
        max(configuration.periodMilliseconds, configuration.latencyMilliseconds / 4)
    }

    /// Puts the threads PulseAudio's plugin started in `snd_pcm_open` at SCHED_FIFO 10, below the
    /// playback thread's 20, where the system allows.
    ///
    /// The plugin's threaded mainloop carries every frame written to the server, and the
    /// real-time playback thread depends on it. Left ordinary, a busy machine held it up while
    /// the playback thread had written in time, and the server ran dry: a priority inversion.
    private static func raisePluginThreads(_ threads: Set<Int32>) {
        guard !threads.isEmpty, getenv("STRIDECUE_NO_REALTIME") == nil else { return }
        let resetOnFork: Int32 = 0x4000_0000  // SCHED_RESET_ON_FORK: what they fork starts ordinary
        for thread in threads where sched_getscheduler(thread) & 0x3 == SCHED_OTHER {
            var parameters = sched_param(sched_priority: 10)
            _ = sched_setscheduler(thread, SCHED_FIFO | resetOnFork, &parameters)
        }
    }

    /// This process's threads, from /proc/self/task.
    private static func threadIDs() -> Set<Int32> {
        guard let folder = opendir("/proc/self/task") else { return [] }
        defer { closedir(folder) }
        var threads = Set<Int32>()
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if let thread = Int32(name) { threads.insert(thread) }
        }
        return threads
    }

    /// Opens for non-blocking playback.
    ///
    /// Opened in blocking mode, a busy hardware device makes `snd_pcm_open` wait until it is
    /// free; opened non-blocking it fails at once with `-EBUSY`, which can be reported. Writes
    /// stay non-blocking too: a writer waits in `poll`, where it can also be woken.
    private static func openPlayback(_ name: String) throws(PCMOpenError) -> OpaquePointer {
        var pcm: OpaquePointer?
        let result = snd_pcm_open(&pcm, name, SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK)
        guard result >= 0, let pcm else {
            throw PCMOpenError(device: name, failure: ALSAError(call: "snd_pcm_open", code: result < 0 ? result : -ENODEV))
        }
        return pcm
    }

    /// Interleaved S16_LE at exactly the configured rate and channels; the period and buffer
    /// as near the configured lengths as the device allows.
    /// - Parameter refused: set to what was asked, when the device refuses the rate.
    /// - Returns: the period and buffer sizes granted, in frames.
    private static func configureHardware(
        _ pcm: OpaquePointer, _ configuration: PCMConfiguration, refused: inout String?
    ) throws(ALSAError) -> (period: Int, buffer: Int) {
        // snd_pcm_hw_params_alloca is a macro; this is the same stack allocation.
        try withUnsafeTemporaryAllocation(byteCount: snd_pcm_hw_params_sizeof(), alignment: 16) {
            (raw: UnsafeMutableRawBufferPointer) throws(ALSAError) -> (period: Int, buffer: Int) in
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            let params = OpaquePointer(raw.baseAddress!)
            try alsaCheck(snd_pcm_hw_params_any(pcm, params), "snd_pcm_hw_params_any")
            try alsaCheck(
                snd_pcm_hw_params_set_access(pcm, params, SND_PCM_ACCESS_RW_INTERLEAVED),
                "snd_pcm_hw_params_set_access")
            try alsaCheck(
                snd_pcm_hw_params_set_format(pcm, params, SND_PCM_FORMAT_S16_LE),
                "snd_pcm_hw_params_set_format")
            try alsaCheck(
                snd_pcm_hw_params_set_channels(pcm, params, UInt32(configuration.channels)),
                "snd_pcm_hw_params_set_channels")
            // With resampling allowed, a plug layer would accept any rate and convert: the
            // clicks would no longer land on exact frames. Ask for the rate itself or fail.
            try alsaCheck(snd_pcm_hw_params_set_rate_resample(pcm, params, 0), "snd_pcm_hw_params_set_rate_resample")
            let rateResult = snd_pcm_hw_params_set_rate(pcm, params, UInt32(configuration.rate), 0)
            if rateResult < 0 {
                refused = "\(configuration.rate) Hz exactly; \(offeredRates(params))"
                throw ALSAError(call: "snd_pcm_hw_params_set_rate", code: rateResult)
            }
            var period = snd_pcm_uframes_t(configuration.periodFrames)
            var direction: Int32 = 0
            try alsaCheck(
                snd_pcm_hw_params_set_period_size_near(pcm, params, &period, &direction),
                "snd_pcm_hw_params_set_period_size_near")
            var buffer = snd_pcm_uframes_t(configuration.bufferFrames)
            try alsaCheck(
                snd_pcm_hw_params_set_buffer_size_near(pcm, params, &buffer),
                "snd_pcm_hw_params_set_buffer_size_near")
            try alsaCheck(snd_pcm_hw_params(pcm, params), "snd_pcm_hw_params")
            // Read back what was installed: the _near calls may have been adjusted again.
            try alsaCheck(
                snd_pcm_hw_params_get_period_size(params, &period, &direction),
                "snd_pcm_hw_params_get_period_size")
            try alsaCheck(snd_pcm_hw_params_get_buffer_size(params, &buffer), "snd_pcm_hw_params_get_buffer_size")
            return (Int(period), Int(buffer))
        }
    }

    /// The rate range the device still offers, for the error message.
    private static func offeredRates(_ params: OpaquePointer) -> String {
        var low: UInt32 = 0
        var high: UInt32 = 0
        var direction: Int32 = 0
        guard snd_pcm_hw_params_get_rate_min(params, &low, &direction) >= 0,
            snd_pcm_hw_params_get_rate_max(params, &high, &direction) >= 0
        else { return "the device did not say which rates it offers" }
        return low == high ? "the device offers \(low) Hz" : "the device offers \(low)–\(high) Hz"
    }

    /// Free frames to wait for before waking the writer: half the buffer, in whole periods
    /// (at least one). Each wake-up then refills half the buffer, and the other half is the
    /// margin: 10 ms in the default 20 ms buffer of 5 ms periods. A wake-up costs far more
    /// than the few microseconds of rendering it is for, so this halves playback's CPU time
    /// against waking every period, and a longer --latency costs less still.
    ///
    /// Through a sound server it is one period, as `aplay` does: there the buffer is the
    /// server's queue for the stream, which the server drains on its own schedule (PipeWire
    /// pulls a whole wake-up's worth per graph cycle), and the frames reach it through the
    /// plugin's own thread, which a busy machine can hold up. Topped up every period, the
    /// queue keeps nearly the whole buffer as margin; refilled half at a time it keeps half,
    /// and through PipeWire with both cores busy that dropped out once in two 30 s runs
    /// where every period held in both.
    public static func wakeFrames(periodFrames: Int, bufferFrames: Int, route: PCMRoute = .card) -> Int {
        if route.isSoundServer { return periodFrames }
        return max(1, bufferFrames / 2 / periodFrames) * periodFrames
    }

    /// Start when the buffer is full (so playback begins with a whole buffer of margin), stop
    /// when it runs dry (so underruns are reported, not played as stale data), wake the
    /// writer when half the buffer has room (`wakeFrames`).
    /// - Returns: the thresholds as the device installed them.
    private static func configureSoftware(
        _ pcm: OpaquePointer, periodFrames: Int, bufferFrames: Int, route: PCMRoute
    ) throws(ALSAError) -> (start: Int, stop: Int, availMin: Int) {
        try withUnsafeTemporaryAllocation(byteCount: snd_pcm_sw_params_sizeof(), alignment: 16) {
            (raw: UnsafeMutableRawBufferPointer) throws(ALSAError) -> (start: Int, stop: Int, availMin: Int) in
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            let params = OpaquePointer(raw.baseAddress!)
            try alsaCheck(snd_pcm_sw_params_current(pcm, params), "snd_pcm_sw_params_current")
            try alsaCheck(
                snd_pcm_sw_params_set_start_threshold(pcm, params, snd_pcm_uframes_t(bufferFrames)),
                "snd_pcm_sw_params_set_start_threshold")
            try alsaCheck(
                snd_pcm_sw_params_set_stop_threshold(pcm, params, snd_pcm_uframes_t(bufferFrames)),
                "snd_pcm_sw_params_set_stop_threshold")
            try alsaCheck(
                snd_pcm_sw_params_set_avail_min(
                    pcm, params, snd_pcm_uframes_t(wakeFrames(periodFrames: periodFrames, bufferFrames: bufferFrames, route: route))),
                "snd_pcm_sw_params_set_avail_min")
            try alsaCheck(snd_pcm_sw_params(pcm, params), "snd_pcm_sw_params")
            try alsaCheck(snd_pcm_sw_params_current(pcm, params), "snd_pcm_sw_params_current")
            var start: snd_pcm_uframes_t = 0
            var stop: snd_pcm_uframes_t = 0
            var availMin: snd_pcm_uframes_t = 0
            try alsaCheck(snd_pcm_sw_params_get_start_threshold(params, &start), "snd_pcm_sw_params_get_start_threshold")
            try alsaCheck(snd_pcm_sw_params_get_stop_threshold(params, &stop), "snd_pcm_sw_params_get_stop_threshold")
            try alsaCheck(snd_pcm_sw_params_get_avail_min(params, &availMin), "snd_pcm_sw_params_get_avail_min")
            return (Int(start), Int(stop), Int(availMin))
        }
    }
}

/// Milliseconds on the monotonic clock, for bounded waits.
private func monotonicMilliseconds() -> Int { MonotonicClock.milliseconds() }
