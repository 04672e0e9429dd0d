import Glibc
import StrideCueCore
import StrideCueFiles
import StrideCueSoundFile
import Synchronization

/// Encodes on a second thread while the calling thread renders, mixes and meters the next
/// block: two buffers handed back and forth through two semaphores.
///
/// LAME is by far the slowest stage of an MP3 export; with this, rendering, limiting and
/// metering cost no wall time on a machine with two cores. For 16-bit WAV and FLAC the
/// calling thread also quantizes, so that the second thread only writes: for a plain WAV,
/// copying into the page cache is the slowest stage. Every `acquire` is followed by one
/// `submit` or `release`, so both sides take the buffers in the same order. Dropping the
/// encoder without `finish()` (an error, Ctrl-C) stops the thread and removes the file.
public final class EncoderThread {
    private let worker: EncoderWorker

    public init(writer: consuming SoundFileWriter, capacity: Int) {
        worker = EncoderWorker(writer: writer, capacity: capacity)
    }

    deinit { worker.stop() }

    /// The next free buffer, waiting for the encoder to finish with it.
    /// - Throws: the encoder's error, once it has failed.
    public func acquire() throws(SoundFileError) -> (slot: Int, buffer: UnsafeMutableBufferPointer<Float>) {
        try worker.acquire()
    }

    /// Hands `count` samples of buffer `slot` to the encoder.
    public func submit(_ slot: Int, count: Int) { worker.submit(slot, count: count) }

    /// Gives back a buffer taken by `acquire` with nothing in it.
    public func release(_ slot: Int) { worker.submit(slot, count: 0) }

    /// Waits for the encoder to write everything, then finishes and renames the file.
    public func finish(beforeRename: ((_ stamp: String) throws(FileError) -> Void)? = nil) throws(SoundFileError) {
        try worker.finish(beforeRename: beforeRename)
    }

    /// Stops the encoder and removes the temporary file.
    public func abandon() { worker.abandon() }
}

/// The state the encoding thread shares with the caller; the thread keeps it alive while it
/// runs, `EncoderThread` stops the thread when it goes.
private final class EncoderWorker: @unchecked Sendable {
    private var writer: SoundFileWriter?
    private let buffers: [UnsafeMutableBufferPointer<Float>]
    private let counts: UnsafeMutablePointer<Int>
    private let filled: UnsafeMutablePointer<sem_t>
    private let emptied: UnsafeMutablePointer<sem_t>
    private let failed = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private var failure: SoundFileError?
    private var thread = pthread_t()
    private var running = false
    private var nextSlot = 0
    /// For a writer that takes 16-bit samples: the space each buffer is quantized into on the
    /// calling thread, where in it the samples start, and the file offset the next lands at.
    private let int16Space: [UnsafeMutableBufferPointer<Int16>]
    private let int16Starts: UnsafeMutablePointer<UnsafeMutablePointer<Int16>?>
    private var int16Offset: Int64

    init(writer: consuming SoundFileWriter, capacity: Int) {
        let quantizing = writer.takesInt16
        int16Offset = writer.fileOffset
        self.writer = Optional(writer)
        buffers = [.allocate(capacity: capacity), .allocate(capacity: capacity)]
        int16Space = quantizing ? (0..<2).map { _ in .allocate(capacity: capacity + SoundFileWriter.int16Slack) } : []
        int16Starts = .allocate(capacity: 2)
        int16Starts.initialize(repeating: nil, count: 2)
        counts = .allocate(capacity: 2)
        counts.initialize(repeating: 0, count: 2)
        filled = .allocate(capacity: 1)
        emptied = .allocate(capacity: 1)
        sem_init(filled, 0, 0)
        sem_init(emptied, 0, 2)
        // The thread keeps the worker alive until it returns. Without a thread `submit` writes
        // on the calling thread.
        if let started = startThread({ [self] in loop() }) {
            thread = started
            running = true
        }
    }

    deinit {
        sem_destroy(filled)
        sem_destroy(emptied)
        filled.deallocate()
        emptied.deallocate()
        counts.deallocate()
        int16Starts.deallocate()
        for b in buffers { b.deallocate() }
        for b in int16Space { b.deallocate() }
    }

    func acquire() throws(SoundFileError) -> (slot: Int, buffer: UnsafeMutableBufferPointer<Float>) {
        if failed.load(ordering: .acquiring) { throw failure! }
        while sem_wait(emptied) != 0 {}
        if failed.load(ordering: .acquiring) {
            sem_post(emptied)
            throw failure!
        }
        let slot = nextSlot
        nextSlot ^= 1
        return (slot, buffers[slot])
    }

    func submit(_ slot: Int, count: Int) {
        counts[slot] = count
        if !int16Space.isEmpty, count > 0 {
            let start = SoundFileWriter.int16Destination(in: int16Space[slot], forFileOffset: int16Offset)
            SampleQuantizer.toInt16(UnsafeBufferPointer(rebasing: buffers[slot][0..<count]), into: start)
            int16Starts[slot] = start
            int16Offset += Int64(count * MemoryLayout<Int16>.size)
        }
        if running { sem_post(filled) } else { write(slot, count) }
    }

    func finish(beforeRename: ((_ stamp: String) throws(FileError) -> Void)?) throws(SoundFileError) {
        // Both buffers back means every submitted block is written.
        for _ in 0..<2 { while sem_wait(emptied) != 0 {} }
        stopThread()
        if let failure { throw failure }
        guard let finished = writer.take() else { return }
        try finished.commit(beforeRename: beforeRename)
    }

    func abandon() {
        stop()
        writer = nil
    }

    /// Stops the thread (what it has not written is dropped) and drops the writer, which
    /// removes the temporary file unless `finish` committed it.
    func stop() {
        stopThread()
        writer = nil
    }

    private func stopThread() {
        guard running else { return }
        stopping.store(true, ordering: .releasing)
        sem_post(filled)
        pthread_join(thread, nil)
        running = false
    }

    private func loop() {
        var slot = 0
        while true {
            while sem_wait(filled) != 0 {}
            if stopping.load(ordering: .acquiring) { return }
            write(slot, counts[slot])
            slot ^= 1
        }
    }

    private func write(_ slot: Int, _ count: Int) {
        if count > 0, !failed.load(ordering: .relaxed) {
            do throws(SoundFileError) {
                if let start = int16Starts[slot] {
                    try writer!.write(int16: UnsafeBufferPointer(start: start, count: count))
                } else {
                    try writer!.write(UnsafeBufferPointer(rebasing: buffers[slot][0..<count]))
                }
            } catch {
                failure = error
                failed.store(true, ordering: .releasing)
            }
        }
        sem_post(emptied)
    }
}
