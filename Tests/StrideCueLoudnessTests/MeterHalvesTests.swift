import Glibc
import Testing
@testable import StrideCueLoudness

/// An export measures a long track on two threads, one meter per half, and reads the two
/// meters as one (`integratedLoudness(with:)`). That must give the loudness one meter gives.
@Suite("a track metered in two halves") struct MeterHalvesTests {
    /// Two minutes of stereo noise whose level moves: loud at the start, quiet bars in the
    /// middle (which the relative gate drops), a long quieter end.
    func uneven(rate: Int = 48_000) -> [Float] {
        var state: UInt32 = 12345
        var samples: [Float] = []
        let frames = rate * 120
        samples.reserveCapacity(frames * 2)
        for i in 0..<frames {
            let seconds = Double(i) / Double(rate)
            let level: Float = seconds < 30 ? 0.5 : (seconds < 50 ? (Int(seconds) % 4 == 0 ? 0.01 : 0.3) : 0.12)
            for _ in 0..<2 {
                state = state &* 1_664_525 &+ 1_013_904_223
                samples.append(level * (Float(state >> 8) / Float(1 << 24) * 2 - 1))
            }
        }
        return samples
    }

    @Test(arguments: [0.5, 0.37, 0.81]) func twoHalvesMeasureAsOne(splitAt fraction: Double) throws {
        let samples = uneven()
        var whole = try LoudnessMeter(channels: 2, sampleRate: 48_000)
        var first = try LoudnessMeter(channels: 2, sampleRate: 48_000)
        var second = try LoudnessMeter(channels: 2, sampleRate: 48_000)
        let split = Int(Double(samples.count / 2) * fraction) * 2
        try samples.withUnsafeBufferPointer { all in
            try whole.add(all)
            try first.add(UnsafeBufferPointer(rebasing: all[0..<split]))
            try second.add(UnsafeBufferPointer(rebasing: all[split...]))
        }
        let one = try whole.integratedLoudness()
        let pooled = try first.integratedLoudness(with: second)
        #expect(abs(pooled - one) < 0.01, "pooled \(pooled) LUFS against \(one) LUFS")
        // Each half alone is far off: the pooling is what makes them agree.
        #expect(abs(try first.integratedLoudness() - one) > 0.5)
    }
}
