import Glibc
import StrideCueFiles
import Synchronization

/// Opens a device that went away again, on a thread of its own with ordinary scheduling, so
/// that the playback thread (SCHED_FIFO) allocates and frees nothing during a reconnect:
/// opening a PCM allocates in alsa-lib (its configuration, the plugin's state, a sound
/// server's connection) and in `PCMDevice`'s set-up, and closing one frees all that. It also
/// gives a device that ran dry a longer buffer (`lend`, then `takeBack`): setting the hardware
/// and software parameters again allocates in alsa-lib and replaces the poll descriptors.
///
/// The playback thread hands the lost device over (`handOver`), asks for a fresh one (`ask`)
/// and takes it when it is there (`take`); this thread closes the lost one, tries one open
/// per request and signals the playback thread's wake-up when it has an answer. alsa-lib does
/// not tie a PCM to the thread that opened it. Made, with its thread, before playback starts.
public final class DeviceReopener: @unchecked Sendable {
    /// Where a request stands. Only the playback thread moves it from `idle` to `asked` and
    /// from `opened`/`failed` back to `idle`; only this thread moves it from `asked`.
    private enum State: Int {
        case idle, asked, opened, failed, quitting
        /// A device lent for a longer buffer; `regrown` and `kept` when this thread is done.
        case regrowAsked, regrown, kept
    }

    private let state = Atomic<Int>(State.idle.rawValue)
    /// Set (release) by the playback thread when `lost` holds a device to close.
    private let holdsLost = Atomic<Bool>(false)
    /// The device that went away, moved here to be closed on this thread.
    private let lost: UnsafeMutablePointer<PCMDevice>
    /// The fresh device, once `state` is `opened`; the lent one from `lend` to `takeBack`.
    private let fresh: UnsafeMutablePointer<PCMDevice>
    /// The buffer to ask for, in frames: the one the lost device had grown to.
    private let bufferFrames = Atomic<Int>(0)
    /// This thread sleeps on it between requests.
    private let request = WakeUp()
    /// The playback thread's wake-up, signalled with each answer.
    private let answer: Int32
    private let name: String
    private let rate: Int
    private let channels: Int
    private let periodMilliseconds: Double
    private var thread: pthread_t?

    /// - Parameter answer: the descriptor of the playback thread's `WakeUp`.
    public init(name: String, rate: Int, channels: Int, periodMilliseconds: Double, answer: Int32) {
        self.name = name
        self.rate = rate
        self.channels = channels
        self.periodMilliseconds = periodMilliseconds
        self.answer = answer
        lost = .allocate(capacity: 1)
        fresh = .allocate(capacity: 1)
    }

    deinit {
        lost.deallocate()
        fresh.deallocate()
    }

    /// Starts the thread. - Returns: false when it could not be started (then no reconnect).
    public func start() -> Bool {
        var handle = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&handle, nil, { raw in
            let reopener = Unmanaged<DeviceReopener>.fromOpaque(raw!).takeRetainedValue()
            reopener.run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<DeviceReopener>.fromOpaque(context).release()
            return false
        }
        thread = handle
        return true
    }

    /// Ends the thread once it has closed what it holds (a device it opened too late included),
    /// and waits for it. From the thread that started it, after playback has ended.
    public func quit() {
        guard let handle = thread else { return }
        let before = state.exchange(State.quitting.rawValue, ordering: .acquiringAndReleasing)
        request.signal()
        pthread_join(handle, nil)
        thread = nil
        // Opened, and never taken: playback gave up (or stopped) first.
        if before == State.opened.rawValue { fresh.deinitialize(count: 1) }
        // Lent and never taken back: the playback thread always takes a lent device back
        // before it ends, so this is only a safety net against a leaked PCM.
        if before == State.regrown.rawValue || before == State.kept.rawValue { fresh.deinitialize(count: 1) }
    }

    // MARK: The playback thread's side

    /// Moves the lost device out of `device` (left uninitialized), to be closed on this thread.
    /// Real-time safety: allocates nothing, takes no lock (a move of the struct's bytes).
    @_noAllocation @_noLocks
    public func handOver(_ device: UnsafeMutablePointer<PCMDevice>) {
        lost.moveInitialize(from: device, count: 1)
        holdsLost.store(true, ordering: .releasing)
    }

    /// Asks for one attempt at opening the device, with a buffer of `bufferFrames`.
    /// Real-time safety: allocates nothing, takes no lock (atomics and an eventfd write).
    @_noAllocation @_noLocks
    public func ask(bufferFrames frames: Int) {
        bufferFrames.store(frames, ordering: .relaxed)
        state.store(State.asked.rawValue, ordering: .releasing)
        WakeUp.signal(request.descriptor)
    }

    /// The answer to the last `ask`: true with the fresh device moved into `device`, false when
    /// the attempt failed, nil while it is under way (or nothing was asked).
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func take(into device: UnsafeMutablePointer<PCMDevice>) -> Bool? {
        let now = state.load(ordering: .acquiring)
        if now == State.opened.rawValue {
            device.moveInitialize(from: fresh, count: 1)
            state.store(State.idle.rawValue, ordering: .releasing)
            return true
        }
        if now == State.failed.rawValue {
            state.store(State.idle.rawValue, ordering: .releasing)
            return false
        }
        return nil
    }

    /// Lends the device that ran dry (moved out of `device`, left uninitialized) to be given a
    /// buffer of `bufferFrames` on this thread; `takeBack` returns it.
    /// Real-time safety: allocates nothing, takes no lock (a move, atomics and an eventfd write).
    @_noAllocation @_noLocks
    public func lend(_ device: UnsafeMutablePointer<PCMDevice>, bufferFrames frames: Int) {
        fresh.moveInitialize(from: device, count: 1)
        bufferFrames.store(frames, ordering: .relaxed)
        state.store(State.regrowAsked.rawValue, ordering: .releasing)
        WakeUp.signal(request.descriptor)
    }

    /// The lent device, moved back into `device` once this thread is done with it: true when
    /// it took the longer buffer, false when it kept the one it had (it is in XRUN still, to be
    /// recovered); nil while the work is under way (`device` then stays uninitialized).
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public func takeBack(into device: UnsafeMutablePointer<PCMDevice>) -> Bool? {
        let now = state.load(ordering: .acquiring)
        guard now == State.regrown.rawValue || now == State.kept.rawValue else { return nil }
        device.moveInitialize(from: fresh, count: 1)
        state.store(State.idle.rawValue, ordering: .releasing)
        return now == State.regrown.rawValue
    }

    // MARK: This thread

    private func run() {
        while true {
            request.wait(milliseconds: -1)
            if holdsLost.exchange(false, ordering: .acquiringAndReleasing) { lost.deinitialize(count: 1) }
            let now = state.load(ordering: .acquiring)
            if now == State.quitting.rawValue { return }
            if now == State.regrowAsked.rawValue {
                let latency = Double(bufferFrames.load(ordering: .relaxed)) * 1000 / Double(rate)
                let grown = (try? fresh.pointee.reconfigure(latencyMilliseconds: latency)) != nil
                let done = grown ? State.regrown : State.kept
                if !state.compareExchange(expected: State.regrowAsked.rawValue, desired: done.rawValue,
                                          ordering: .acquiringAndReleasing).exchanged {
                    fresh.deinitialize(count: 1)  // quitting
                    return
                }
                WakeUp.signal(answer)
                continue
            }
            guard now == State.asked.rawValue else { continue }
            let configuration = PCMConfiguration(
                rate: rate, channels: channels, periodMilliseconds: periodMilliseconds,
                latencyMilliseconds: Double(bufferFrames.load(ordering: .relaxed)) * 1000 / Double(rate))
            if let device = try? PCMDevice(name: name, configuration: configuration) {
                fresh.initialize(to: device)
                if !state.compareExchange(expected: State.asked.rawValue, desired: State.opened.rawValue,
                                          ordering: .acquiringAndReleasing).exchanged {
                    fresh.deinitialize(count: 1)  // quitting: opened too late
                    return
                }
            } else if !state.compareExchange(expected: State.asked.rawValue, desired: State.failed.rawValue,
                                             ordering: .acquiringAndReleasing).exchanged {
                return
            }
            WakeUp.signal(answer)
        }
    }
}
