import Glibc
import StrideCueALSA
import Testing
import StrideCueTestSupport

extension ALSATests {
    /// Through the paced fake sound card: a device that consumes frames on the real clock.
    @Suite("Real-time behaviour on the paced fake card", .serialized)
    struct PacedDeviceTests {
        @Test("one second of frames, written blocking, takes no less than one second")
        func blockingWriteIsPaced() throws {
            _ = try ALSATestEnvironment.ready()
            try atRealTimePriority {
                let folder = try TemporaryFolder()
                let path = folder.file("played.raw")
                let samples = countingFrames(48_000)
                var underruns = -1
                // What is measured is pacing, not robustness under load: a roomier buffer than
                // the default keeps a busy test machine from adding underrun gaps to the time.
                // The writer still waits for 800 ms of the second to be played before it is done.
                let configuration = PCMConfiguration(latencyMilliseconds: 200)
                let elapsed = try seconds {
                    var device = try PCMDevice(name: "paced:FILE='\(path)'", configuration: configuration)
                    try write(samples, to: &device, chunkFrames: device.periodFrames)
                    try device.drain()
                    underruns = device.underruns
                }
                #expect(underruns == 0)
                // The card never takes frames faster than the real clock (how much slower a loaded
                // machine makes it is for `make bench`).
                #expect(elapsed >= 0.999, "took \(elapsed) s")

                // The card played every frame once, in order, and nothing else.
                let played = try #require(readBytes(path))
                #expect(played.count == 48_000 * 4)
                #expect(difference(played, littleEndianBytes(samples)) == nil)
            }
        }

        @Test("a blocked writer is woken when half the buffer is free, not at every period")
        func wokenAtHalfTheBuffer() throws {
            _ = try ALSATestEnvironment.ready()
            try atRealTimePriority {
                var device = try PCMDevice(name: "paced")  // 5 ms periods in 20 ms
                let (period, availMin) = (device.periodFrames, device.availMin)
                #expect(period == 240 && availMin == 480)
                try write(countingFrames(960), to: &device, chunkFrames: 960)  // full: the card starts
                // The buffer is full, so this waits until 480 frames are free, 10 ms. A card that
                // woke the writer at every period would wake it after 5 ms too, for nothing: the
                // thread would go to sleep twice.
                let sleepsBefore = voluntaryContextSwitches()
                let waited = try seconds { try write(countingFrames(240, from: 960), to: &device, chunkFrames: 240) }
                let sleeps = voluntaryContextSwitches() - sleepsBefore
                #expect(sleeps == 1, "the writer went to sleep \(sleeps) times")
                #expect(waited >= 0.0095, "woken after \(waited * 1000) ms")
                let underruns = device.underruns
                #expect(underruns == 0)
            }
        }

        /// How many times this thread has gone to sleep (blocked) so far.
        private func voluntaryContextSwitches() -> Int {
            var usage = rusage()
            _ = getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD (a GNU name Swift does not see)
            return usage.ru_nvcsw
        }

        @Test("a writer stalled 100 ms with a 20 ms buffer underruns once, recovers, and carries on")
        func stalledWriterRecovers() throws {
            _ = try ALSATestEnvironment.ready()
            try atRealTimePriority {
                let folder = try TemporaryFolder()
                let path = folder.file("played.raw")
                // One buffer each side of the stall, each written in one call into an empty
                // buffer: the writer never has to keep pace, so a busy machine cannot add
                // underruns of its own, and exactly one is expected.
                let before = countingFrames(960)
                let after = countingFrames(960, from: 960)
                var underruns = -1
                var bufferFrames = 0
                var stall = 0.0
                do {
                    var device = try PCMDevice(name: "paced:FILE='\(path)'")  // 5 ms / 20 ms
                    bufferFrames = device.bufferFrames
                    try write(before, to: &device, chunkFrames: 960)  // full: the card starts
                    stall = seconds { sleepMilliseconds(100) }
                    try write(after, to: &device, chunkFrames: 960)  // -EPIPE, recover, refill, restart
                    try device.drain()
                    underruns = device.underruns
                }
                #expect(bufferFrames == 960)
                #expect(underruns == 1)

                // What was heard: the first buffer, silence from the moment it ran dry (20 ms into
                // the stall) to the restart, then the second buffer, neither skipped nor repeated.
                let played = try #require(readBytes(path))
                let head = littleEndianBytes(before)
                let tail = littleEndianBytes(after)
                let gapBytes = played.count - head.count - tail.count
                let gap = Double(gapBytes / 4) / 48_000
                #expect(gapBytes % 4 == 0)
                #expect(gap >= 0.079, "gap of \(gap) s")
                #expect(abs(gap - (stall - 0.020)) <= 0.010, "gap of \(gap) s after a stall of \(stall) s")
                if gapBytes >= 0 {
                    #expect(difference(Array(played.prefix(head.count)), head) == nil)
                    #expect(difference(Array(played.suffix(tail.count)), tail) == nil)
                    #expect(played[head.count..<(head.count + gapBytes)].allSatisfy { $0 == 0 })
                }
            }
        }

        @Test("an underrun in the middle of a large write loses and repeats nothing")
        func underrunInsideOneWrite() throws {
            _ = try ALSATestEnvironment.ready()
            try atRealTimePriority {
                let folder = try TemporaryFolder()
                let path = folder.file("played.raw")
                let samples = countingFrames(14_400)
                var underruns = -1
                do {
                    // The card runs dry once 6000 frames are in, inside the first 9600-frame write
                    // (100 ms buffer, so the only underrun is the injected one): alsa-lib returns
                    // a partial count, and the next call gets -EPIPE.
                    var device = try PCMDevice(
                        name: "paced:FILE='\(path)',XRUN_AFTER=6000", configuration: PCMConfiguration(latencyMilliseconds: 100))
                    try write(samples, to: &device, chunkFrames: 9_600)
                    try device.drain()
                    underruns = device.underruns
                }
                #expect(underruns == 1)
                // Every frame written was played once and in order; the only other thing the
                // card played is silence (the frames are never zero, so they can be told apart).
                let played = try #require(readBytes(path))
                var sounding: [UInt8] = []
                for frame in stride(from: 0, to: played.count - 3, by: 4) {
                    let bytes = played[frame..<(frame + 4)]
                    if !bytes.allSatisfy({ $0 == 0 }) { sounding += bytes }
                }
                #expect(difference(sounding, littleEndianBytes(samples)) == nil)
            }
        }

        @Test("a device that goes away mid-stream is an error, not a recovery")
        func deviceGone() throws {
            _ = try ALSATestEnvironment.ready()
            // Takes 3000 frames, then fails: the first write returns a partial count, the
            // next gets -ENODEV. All of it fits in the 100 ms buffer, so nothing waits.
            var device = try PCMDevice(name: "paced:DISCONNECT_AFTER=3000", configuration: PCMConfiguration(latencyMilliseconds: 100))
            do {
                try write(countingFrames(4_800), to: &device, chunkFrames: 4_800)
                Issue.record("writing to a disconnected device succeeded")
            } catch {
                #expect(error.call.description == "snd_pcm_writei")
                #expect(error.code == -ENODEV)
                #expect(error.isDeviceLost)
                #expect(error.description == "snd_pcm_writei: No such device (ENODEV)")
            }
            let underruns = device.underruns
            #expect(underruns == 0)
        }

        @Test("the device waits for a full buffer before it starts")
        func startsOnFullBuffer() throws {
            _ = try ALSATestEnvironment.ready()
            try atRealTimePriority {
                var device = try PCMDevice(name: "paced")  // 5 ms / 20 ms
                // Half a buffer, a pause five times the buffer's length, the other half: a device
                // that had started on the first frames would have run dry and reported an underrun.
                try write(countingFrames(480), to: &device, chunkFrames: 480)
                sleepMilliseconds(100)
                try write(countingFrames(480, from: 480), to: &device, chunkFrames: 480)
                try device.drain()
                let underruns = device.underruns
                #expect(underruns == 0)
            }
        }

        @Test("drain plays a buffer that was never filled enough to start")
        func drainStartsAPartialBuffer() throws {
            _ = try ALSATestEnvironment.ready()
            try atRealTimePriority {
                let folder = try TemporaryFolder()
                let path = folder.file("played.raw")
                let samples = countingFrames(600)  // 12.5 ms, under the 20 ms start threshold
                let elapsed = try seconds {
                    var device = try PCMDevice(name: "paced:FILE='\(path)'")
                    try write(samples, to: &device, chunkFrames: 600)
                    try device.drain()
                }
                let played = try #require(readBytes(path))
                #expect(difference(played, littleEndianBytes(samples)) == nil)
                #expect(elapsed >= 0.012, "drained in \(elapsed) s")
            }
        }

        @Test("closing without drain discards the unplayed tail")
        func closeWithoutDrainDiscards() throws {
            _ = try ALSATestEnvironment.ready()
            try atRealTimePriority {
                let folder = try TemporaryFolder()
                let path = folder.file("played.raw")
                let samples = countingFrames(48_000)
                do {
                    // A whole second buffered: the card starts, plays 30 ms of it, and is closed.
                    var device = try PCMDevice(name: "paced:FILE='\(path)'", configuration: PCMConfiguration(latencyMilliseconds: 1_000))
                    try write(samples, to: &device, chunkFrames: 48_000)
                    // The card moves its clock (and records) when asked where it is.
                    var asked = 0
                    while fileSize(path) < 1_440 * 4 && asked < 2_000 {
                        _ = device.queuedFrames()
                        sleepMilliseconds(10)
                        asked += 1
                    }
                    #expect(fileSize(path) >= 1_440 * 4)
                }  // closed with most of the second still buffered
                let played = try #require(readBytes(path))
                let heard = Double(played.count / 4) / 48_000
                #expect(heard >= 0.030 && heard < 1.0, "heard \(heard) s of 1 s")
                // What was heard is the start of what was written, nothing else.
                #expect(difference(played, Array(littleEndianBytes(samples).prefix(played.count))) == nil)
            }
        }
    }
}
