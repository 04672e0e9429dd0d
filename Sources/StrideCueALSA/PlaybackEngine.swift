import CALSA
import Glibc
import StrideCueCore
import Synchronization

// MARK: The playback thread

/// The playback thread's work: render what the device takes at a wake-up (half the buffer),
/// quantize it, hand it to ALSA, publish the status; then drain so the last click is heard.
///
/// Everything the loop touches is allocated before the thread starts, and the loop itself is
/// `@_noAllocation @_noLocks`: the compiler checks that nothing in it allocates or locks.
/// The device paces it: `write` blocks until half the buffer has room, so it runs by the
/// sound card's frame counter, never by the wall clock. One render and one `write` a wake-up:
/// each call into alsa-lib costs more than rendering the frames.
public final class PlaybackEngine: @unchecked Sendable {
    public let live: LivePlayback
    /// `live` for the loop: reading it from the property would retain it, and a retain may lock.
    private let liveRef: Unmanaged<LivePlayback>
    private let device: UnsafeMutablePointer<PCMDevice>
    private let channels: Int
    /// One wake-up's worth of float frames and the same as 16-bit samples.
    private let floats: UnsafeMutableBufferPointer<Float>
    private let samples: UnsafeMutableBufferPointer<Int16>
    private let results: UnsafeMutablePointer<Results>
    /// Set (release) by the playback thread when it is done; `results` may be read after.
    public let finished = Atomic<Bool>(false)
    /// Becomes readable when `finished` is set, so the main thread can sleep in poll until then.
    public let finishedSignal: (read: Int32, write: Int32)
    /// Set (release) once real-time scheduling and memory locking have been tried.
    public let prepared = Atomic<Bool>(false)

    public struct Results {
        public var failure: ALSAError? = nil
        public var underruns = 0
        public var framesWritten: Int64 = 0
        /// CLOCK_REALTIME and CLOCK_MONOTONIC when the first frames were handed to ALSA.
        public var firstWriteRealtime = timespec()
        public var firstWriteMonotonic = timespec()
        public var drained = timespec()
        public var wroteAny = false
        /// errno of sched_setscheduler and mlockall; 0 when granted.
        public var schedulingError: Int32 = 0
        public var schedulingPriority: Int32 = 0
        public var lockingError: Int32 = 0
    }

    public init(live: LivePlayback, device: consuming PCMDevice) {
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
    public let periodFrames: Int
    public let bufferFrames: Int

    // Read these once `finished` is true.
    public var failure: ALSAError? { results.pointee.failure }
    public var underruns: Int { results.pointee.underruns }
    public var framesWritten: Int64 { results.pointee.framesWritten }
    public var firstWrite: (epoch: String, monotonic: Double)? {
        guard results.pointee.wroteAny else { return nil }
        let r = results.pointee.firstWriteRealtime
        let ns = String(r.tv_nsec)
        return ("\(r.tv_sec).\(String(repeating: "0", count: 9 - ns.count))\(ns)", seconds(results.pointee.firstWriteMonotonic))
    }
    /// From the first frame handed to ALSA to the end of the drain: how long playing took.
    public var playingSeconds: Double {
        results.pointee.wroteAny ? seconds(results.pointee.drained) - seconds(results.pointee.firstWriteMonotonic) : 0
    }
    public var schedulingError: Int32 { results.pointee.schedulingError }
    public var schedulingPriority: Int32 { results.pointee.schedulingPriority }
    public var lockingError: Int32 { results.pointee.lockingError }

    private func seconds(_ t: timespec) -> Double { Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }

    /// The playback thread, once started.
    private var thread: pthread_t?

    /// Starts the playback thread, with the stop signals blocked in it so they interrupt the
    /// controlling thread's waits instead.
    /// - Returns: false when no thread could be started.
    public func start() -> Bool {
        var blocked = sigset_t()
        var previous = sigset_t()
        sigemptyset(&blocked)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGCONT, SIGWINCH] { sigaddset(&blocked, signal) }
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var handle = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&handle, nil, { raw in
            let engine = Unmanaged<PlaybackEngine>.fromOpaque(raw!).takeRetainedValue()
            engine.threadMain()
            return nil
        }, context)
        if result != 0 {
            Unmanaged<PlaybackEngine>.fromOpaque(context).release()
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
    }

    /// Asks the playback thread to fade out and stop. The command queue holds 64 commands; a
    /// flood of keys could fill it, so this keeps trying briefly.
    public func stop() {
        for _ in 0..<100 {
            if live.commands.push(.stop) { return }
            usleep(1_000)
        }
    }

    /// The thread's body.
    private func threadMain() {
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
    public enum Ending {
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
