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

// MARK: Live: ducking that follows the cues the renderer schedules

extension DuckerTests {

    /// The follower's gains for frames 0..<count in blocks of `block` frames, told at each
    /// block's start what a renderer would know: the cue `cue` once it is `known` frames away.
    func followerGains(_ cue: Range<Int64>, known: Int64, count: Int, block: Int = 256, down: Double = 0) -> [Float] {
        var follower = CueFollowingDucker(sampleRate: rate, depth: 10)
        follower.start(down: down)
        var gains = [Float](repeating: 0, count: count)
        gains.withUnsafeMutableBufferPointer { all in
            var start = 0
            while start < count {
                let n = min(block, count - start)
                let at = Int64(start)
                let sounding: Int64? = cue.contains(at) ? cue.upperBound : nil
                let next: Int64? = at < cue.lowerBound && cue.lowerBound - at <= known ? cue.lowerBound : nil
                follower.fill(UnsafeMutableBufferPointer(rebasing: all[start..<start + n]), from: at,
                              soundingUntil: sounding, nextStart: next)
                start += n
            }
        }
        return gains
    }

    @Test func theFollowerDucksAsThePlanDoesWhenItSeesTheCueInTime() {
        let cue: Range<Int64> = 96_000..<144_000
        let planned = duckGains(Ducker(intervals: [cue], sampleRate: rate, depth: 10), count: 240_000)
        // Known a second ahead: the same fall (0.15 s), floor and rise (0.5 s), to within a
        // block's rounding of where the rise starts.
        let live = followerGains(cue, known: 48_000, count: 240_000)
        #expect(live[0..<(96_000 - 7_200 - 256)].allSatisfy { $0 == 1 })
        #expect(abs(dB(live[96_000]) + 10) < 0.01)
        #expect(abs(dB(live[143_000]) + 10) < 0.01)
        #expect(live[(144_000 + 24_000 + 256)...].allSatisfy { $0 == 1 })
        for f in stride(from: 80_000, to: 200_000, by: 1_000) {
            #expect(abs(dB(live[f]) - dB(planned[f])) < 0.8, "frame \(f): \(dB(live[f])) against \(dB(planned[f])) dB")
        }
    }

    @Test func aCueSeenLateIsStillMetAtTheFloorWithoutAJump() {
        let cue: Range<Int64> = 96_000..<144_000
        // Known only 10 ms ahead (the clicks' duck attack, what the renderer always knows).
        let live = followerGains(cue, known: 480, count: 160_000)
        #expect(abs(dB(live[96_000]) + 10) < 0.01, "at the floor as the cue starts")
        // A glide, not a jump: the fall is squeezed into the 256 frames left (a raised cosine
        // of 10 dB over 256 frames moves at most 0.062 dB a frame); a jump would be 10 dB.
        var steepest = 0.0
        for f in 1..<live.count { steepest = max(steepest, abs(dB(live[f]) - dB(live[f - 1]))) }
        #expect(steepest < 0.1, "\(steepest) dB in one frame")
        #expect(live[0..<(96_000 - 512)].allSatisfy { $0 == 1 }, "nothing before the cue was known")
    }

    @Test func theFollowerPicksUpWhereThePlanLeftOff() {
        // Halfway down (the plan's ducking mid-fall) and no cue in sight: it rises from there.
        let live = followerGains(0..<0, known: 0, count: 48_000, down: 0.5)
        #expect(abs(dB(live[0]) + 5) < 0.1)
        #expect(live[24_000...].allSatisfy { $0 == 1 })
    }
}
