import Glibc
import Testing
@testable import StrideCueLoudness

/// Runs `signal` (interleaved) through a limiter in blocks of `block` frames and returns the
/// output with the limiter's delay taken out.
func limited(_ signal: [Float], channels: Int = 1, ceiling: Double = -1.5, block: Int = 4096,
             rate: Int = 48_000) -> (output: [Float], smallestGain: Float) {
    var limiter = TruePeakLimiter(sampleRate: rate, channels: channels, ceilingDecibels: ceiling)
    let latency = limiter.latency
    var padded = signal + [Float](repeating: 0, count: latency * channels)
    padded.withUnsafeMutableBufferPointer { all in
        var start = 0
        while start < all.count {
            let n = min(block * channels, all.count - start)
            limiter.process(UnsafeMutableBufferPointer(rebasing: all[start..<start + n]))
            start += n
        }
    }
    return (Array(padded[(latency * channels)...]), limiter.smallestGain)
}

/// The true peak of a signal as libebur128 measures it, in dBTP.
func truePeak(_ samples: [Float], channels: Int = 1, rate: Int = 48_000) throws -> Double {
    var meter = try LoudnessMeter(channels: channels, sampleRate: rate, truePeak: true)
    try samples.withUnsafeBufferPointer { try meter.add($0) }
    return try meter.truePeak()
}

/// A click like the woodblock's: two decaying partials every `period` frames.
func clicks(count: Int, period: Int, peak: Float, rate: Int = 48_000) -> [Float] {
    var y = [Float](repeating: 0, count: count * period)
    for k in 0..<count {
        for i in 0..<min(period, 2_880) {
            let t = Double(i) / Double(rate)
            let attack = min(1, Double(i) / 48)
            let v = attack * (sin(2 * .pi * 1_200 * t) * exp(-t / 0.012) + 0.45 * sin(2 * .pi * 2_964 * t) * exp(-t / 0.006))
            y[k * period + i] = Float(v) * peak
        }
    }
    return y
}

@Suite("True-peak limiter")
struct LimiterTests {
    @Test func quietSignalPassesUnchangedAfterItsDelay() {
        let signal = clicks(count: 6, period: 16_000, peak: 0.5)
        let (output, smallestGain) = limited(signal)
        #expect(output == signal)
        #expect(smallestGain == 1)
    }

    @Test(arguments: [1, 2])
    func loudClicksStayUnderTheCeilingMeasuredByLibebur128(channels: Int) throws {
        // Clicks 8 dB over full scale, the worst a loudness gain asks of the limiter.
        let mono = clicks(count: 12, period: 16_000, peak: 2.5)
        let signal = channels == 1 ? mono : mono.flatMap { [$0, -$0 * 0.5] }
        let (output, smallestGain) = limited(signal, channels: channels, ceiling: -1.5)
        let peak = try truePeak(output, channels: channels)
        #expect(peak <= -1.4, "true peak \(peak) dBTP")
        #expect(peak >= -3, "limited far below the ceiling: \(peak) dBTP")
        #expect(smallestGain < 0.5)
        // Between clicks the gain is back to exactly 1: the tail of each click is untouched.
        let late = 12_000
        #expect(output[late * channels] == signal[late * channels])
    }

    @Test func outputDoesNotDependOnBlockSize() {
        let signal = clicks(count: 4, period: 9_000, peak: 3)
        let reference = limited(signal, block: 4096).output
        for block in [1, 7, 64, 100, 48_000] {
            #expect(limited(signal, block: block).output == reference, "block \(block)")
        }
    }

    @Test func gainMovesSmoothly() {
        // A full-scale square-ish burst: the gain may not jump between neighbouring samples
        // by more than the look-ahead ramp allows.
        var signal = [Float](repeating: 0, count: 48_000)
        for i in 10_000..<10_480 { signal[i] = Float(sin(2 * .pi * 100 * Double(i) / 48_000)) * 3 }
        for i in 20_000..<48_000 { signal[i] = Float(sin(2 * .pi * 440 * Double(i) / 48_000)) * 0.2 }
        let output = limited(signal).output
        var largestStep: Float = 0
        for i in 1..<output.count { largestStep = max(largestStep, abs(output[i] - output[i - 1])) }
        var inputStep: Float = 0
        for i in 1..<signal.count { inputStep = max(inputStep, abs(signal[i] - signal[i - 1])) }
        #expect(largestStep < inputStep, "largest step \(largestStep), input's \(inputStep)")
        #expect(output[47_000] == signal[47_000])
    }
}
