import Glibc
import StrideCueALSA
import Testing
import StrideCueTestSupport

extension ALSATests {
    @Suite("Opening, configuring and writing", .serialized)
    struct PCMDeviceTests {
        @Test("null opens with the default 5 ms / 20 ms setup and takes writes")
        func nullTakesWrites() throws {
            _ = try ALSATestEnvironment.ready()
            var device = try PCMDevice(name: "null")
            let (rate, channels, period, buffer) = (device.rate, device.channels, device.periodFrames, device.bufferFrames)
            #expect(rate == 48_000)
            #expect(channels == 2)
            #expect(period == 240)
            #expect(buffer == 960)
            // Start on a full buffer, report running dry, wake the writer when half is free.
            let (start, stop, availMin) = (device.startThreshold, device.stopThreshold, device.availMin)
            #expect(start == 960)
            #expect(stop == 960)
            #expect(availMin == 480)
            try write(countingFrames(48_000), to: &device, chunkFrames: 240)
            try device.drain()
            let underruns = device.underruns
            #expect(underruns == 0)
        }

        @Test("the writer is woken when half the buffer is free, in whole periods, at least one")
        func wakeFrames() {
            #expect(PCMDevice.wakeFrames(periodFrames: 240, bufferFrames: 960) == 480)
            #expect(PCMDevice.wakeFrames(periodFrames: 240, bufferFrames: 1200) == 480)  // 5 periods: 2 of them
            #expect(PCMDevice.wakeFrames(periodFrames: 240, bufferFrames: 480) == 240)
            #expect(PCMDevice.wakeFrames(periodFrames: 240, bufferFrames: 96_000) == 48_000)
            #expect(PCMDevice.wakeFrames(periodFrames: 1_000, bufferFrames: 1_500) == 1_000)
            // A server's queue is topped up every period.
            #expect(PCMDevice.wakeFrames(periodFrames: 240, bufferFrames: 4_800, route: .pulseAudio) == 240)
            #expect(PCMDevice.wakeFrames(periodFrames: 240, bufferFrames: 4_800, route: .pipeWire) == 240)
        }

        @Test("an undefined PCM is a typed error naming the device, with ALSA's ENOENT text")
        func undefinedPCM() throws {
            _ = try ALSATestEnvironment.ready()
            do {
                _ = try PCMDevice(name: "stridecue_no_such_pcm")
                Issue.record("an undefined PCM opened")
            } catch {
                #expect(error.device == "stridecue_no_such_pcm")
                #expect(error.failure.call.description == "snd_pcm_open")
                #expect(error.failure.code == -ENOENT)
                #expect(error.reason == "No such file or directory")
                #expect(error.isUnavailable)
                #expect(error.description == "cannot open PCM 'stridecue_no_such_pcm': No such file or directory (snd_pcm_open, ENOENT)")
            }
        }

        @Test("a rate the device cannot play exactly is refused, not resampled")
        func inexactRateRefused() throws {
            _ = try ALSATestEnvironment.ready()
            do {
                _ = try PCMDevice(name: "paced48k", configuration: PCMConfiguration(rate: 44_100))
                Issue.record("44100 Hz was accepted by a 48000 Hz-only device")
            } catch {
                #expect(error.device == "paced48k")
                #expect(error.failure.call.description == "snd_pcm_hw_params_set_rate")
                #expect(error.failure.code == -EINVAL)
                #expect(!error.isUnavailable)
                #expect(error.detail == "44100 Hz exactly; the device offers 48000 Hz")
            }
            // The same device at its own rate opens: the refusal was about the rate.
            let device = try PCMDevice(name: "paced48k", configuration: PCMConfiguration(rate: 48_000))
            let rate = device.rate
            #expect(rate == 48_000)
        }

        @Test("the latency sets the buffer; the period never exceeds half of it")
        func latencySetsBuffer() throws {
            _ = try ALSATestEnvironment.ready()
            let device = try PCMDevice(name: "null", configuration: PCMConfiguration(rate: 44_100, channels: 1, latencyMilliseconds: 8))
            let (period, buffer) = (device.periodFrames, device.bufferFrames)
            #expect(buffer == 353)  // 8 ms at 44.1 kHz
            #expect(period == 176)  // 5 ms would be 221: more than half the buffer
        }

        @Test("the file plugin receives exactly the bytes written, whatever the chunk sizes")
        func captureIsByteIdentical() throws {
            _ = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let path = folder.file("capture.raw")
            var generator = SeededGenerator(state: 20_240_601)
            let frames = 96_000
            var samples: [Int16] = []
            samples.reserveCapacity(frames * 2)
            for _ in 0..<(frames * 2) { samples.append(Int16.random(in: .min ... .max, using: &generator)) }

            do {
                var device = try PCMDevice(name: "capture:'\(path)'")
                try samples.withUnsafeBufferPointer { (all: UnsafeBufferPointer<Int16>) throws(ALSAError) in
                    var start = 0
                    while start < all.count {
                        let chunk = Int.random(in: 1...5_000, using: &generator) * 2
                        let end = min(all.count, start + chunk)
                        try device.write(UnsafeBufferPointer(rebasing: all[start..<end]))
                        start = end
                    }
                }
                try device.drain()
            }  // closed here: the file plugin flushes on close

            let captured = try #require(readBytes(path))
            let expected = littleEndianBytes(samples)
            #expect(difference(captured, expected) == nil)
        }
    }
}
