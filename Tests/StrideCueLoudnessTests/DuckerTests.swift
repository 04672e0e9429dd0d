import Glibc
import Testing
@testable import StrideCueLoudness

/// The ducker's gains for frames 0..<count, filled in blocks of `block` frames.
func duckGains(_ ducker: Ducker, count: Int, block: Int = 4_800) -> [Float] {
    var ducker = ducker
    var gains = [Float](repeating: 0, count: count)
    gains.withUnsafeMutableBufferPointer { all in
        var start = 0
        while start < count {
            let n = min(block, count - start)
            ducker.fill(UnsafeMutableBufferPointer(rebasing: all[start..<start + n]), from: Int64(start))
            start += n
        }
    }
    return gains
}

func dB(_ x: Float) -> Double { 20 * log10(Double(x)) }

@Suite("Ducking")
struct DuckerTests {
    let rate = 48_000

    @Test func musicDropsByTheDepthDuringACueAndComesBack() {
        let cue: Range<Int64> = 96_000..<144_000   // 2 s to 3 s
        let gains = duckGains(Ducker(intervals: [cue], sampleRate: rate, depth: 10, attack: 0.15, release: 0.5), count: 240_000)
        // Untouched before the fall and after the rise.
        #expect(gains[0..<(96_000 - 7_200)].allSatisfy { $0 == 1 })
        #expect(gains[(144_000 + 24_000)...].allSatisfy { $0 == 1 })
        // Exactly the depth while the cue plays: the fall is over before its first frame.
        for f in [96_000, 120_000, 143_999] { #expect(abs(dB(gains[f]) + 10) < 1e-4, "frame \(f): \(dB(gains[f])) dB") }
        // Glides: no step larger than a smooth 150 ms fall allows, and monotonic ramps.
        var largest: Float = 0
        for i in 1..<gains.count { largest = max(largest, abs(gains[i] - gains[i - 1])) }
        #expect(largest < 0.0002, "largest step \(largest)")
        #expect(zip(gains[88_800..<96_000], gains[88_801...96_000]).allSatisfy { $0 >= $1 })
        #expect(zip(gains[144_000..<168_000], gains[144_001...168_000]).allSatisfy { $0 <= $1 })
    }

    @Test func cuesCloseTogetherKeepTheMusicDown() {
        // 0.4 s apart: less than a rise and a fall, so the music stays down between them.
        let ducker = Ducker(intervals: [48_000..<72_000, 91_200..<110_000], sampleRate: rate, depth: 12)
        let gains = duckGains(ducker, count: 200_000)
        for f in stride(from: 48_000, to: 110_000, by: 1_000) { #expect(abs(dB(gains[f]) + 12) < 1e-4, "frame \(f)") }
    }

    @Test func overlappingAndUnsortedIntervalsAreMerged() {
        let a = duckGains(Ducker(intervals: [100_000..<150_000, 20_000..<40_000, 120_000..<130_000], sampleRate: rate), count: 250_000)
        let b = duckGains(Ducker(intervals: [20_000..<40_000, 100_000..<150_000], sampleRate: rate), count: 250_000)
        #expect(a == b)
    }

    @Test func gainsDoNotDependOnBlockSize() {
        let ducker = Ducker(intervals: [10_000..<30_000, 70_000..<71_000], sampleRate: rate)
        let reference = duckGains(ducker, count: 120_000, block: 120_000)
        for block in [1, 7, 64, 4_096] { #expect(duckGains(ducker, count: 120_000, block: block) == reference, "block \(block)") }
    }

    @Test func noCuesNoDucking() {
        #expect(Ducker(intervals: [], sampleRate: rate).isIdle)
        #expect(duckGains(Ducker(intervals: [0..<1_000], sampleRate: rate, depth: 0), count: 2_000).allSatisfy { $0 == 1 })
    }
}

@Suite("Loudness meter (libebur128)")
struct MeterTests {
    func sine(amplitude: Float, seconds: Double, channels: Int) -> [Float] {
        let n = Int(seconds * 48_000)
        var y = [Float](repeating: 0, count: n * channels)
        for i in 0..<n {
            let v = amplitude * Float(sin(2 * .pi * 997 * Double(i) / 48_000))
            for c in 0..<channels { y[i * channels + c] = v }
        }
        return y
    }

    func loudness(_ y: [Float], channels: Int, dualMono: Bool = false) throws -> Double {
        var meter = try LoudnessMeter(channels: channels, sampleRate: 48_000, dualMono: dualMono)
        try y.withUnsafeBufferPointer { try meter.add($0) }
        return try meter.integratedLoudness()
    }

    @Test func fullScaleSineReadsAsBS1770Says() throws {
        // A full-scale 997 Hz sine in one channel: −3.01 LUFS; on both: 0.0 LUFS.
        #expect(abs(try loudness(sine(amplitude: 1, seconds: 5, channels: 1), channels: 1) + 3.01) < 0.05)
        #expect(abs(try loudness(sine(amplitude: 1, seconds: 5, channels: 2), channels: 2)) < 0.05)
        // Dual mono: a mono channel counted as if it played on both sides.
        #expect(abs(try loudness(sine(amplitude: 1, seconds: 5, channels: 1), channels: 1, dualMono: true)) < 0.05)
    }

    @Test func silenceHasNoLoudness() throws {
        #expect(try loudness([Float](repeating: 0, count: 48_000), channels: 1) == -.infinity)
    }

    @Test func truePeakSeesBetweenSamples() throws {
        // A sine at a quarter of the rate, sampled at ±45°: samples at 0.707, true peak 1.0.
        var y = [Float](repeating: 0, count: 48_000)
        for i in y.indices { y[i] = Float(sin(Double.pi / 2 * Double(i) + .pi / 4)) }
        #expect(abs(try truePeak(y)) < 0.2)
    }
}
