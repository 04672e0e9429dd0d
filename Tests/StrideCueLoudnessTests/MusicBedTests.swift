import Glibc
import Testing
import StrideCueCore
import StrideCueSoundFile
@testable import StrideCueLoudness
import StrideCueTestSupport

/// Writes interleaved samples to a file of the type its name says.
func writeSound(_ samples: [Float], to path: String, rate: Int, channels: Int) throws {
    var writer = try SoundFileWriter(path: path, format: RenderFormat(sampleRate: rate, channels: channels),
                                     type: SoundFileType(path: path)!, encoding: .pcm24)
    try samples.withUnsafeBufferPointer { try writer.write($0) }
    try writer.commit()
}

/// The whole bed, read in blocks of `block` frames.
func readBed(_ path: String, rate: Int = 48_000, channels: Int, frames: Int64, block: Int = 10_000) throws -> [Float] {
    var bed = try MusicBed(path: path, sampleRate: rate, channels: channels, totalFrames: frames)
    var out: [Float] = []
    var buffer = [Float](repeating: 0, count: block * channels)
    while true {
        let n = try buffer.withUnsafeMutableBufferPointer { try bed.read(into: $0) }
        if n == 0 { break }
        out += buffer[0..<n * channels]
    }
    return out
}

func rms(_ x: ArraySlice<Float>) -> Double {
    (x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, x.count))).squareRoot()
}

@Suite("Music bed", .serialized)
struct MusicBedTests {
    @Test func aStereoFileAt44100IsResampledToTheTracksRateAndLength() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        // 3 s of a 441 Hz sine at 44.1 kHz, left only: 4 s of track at 48 kHz loops it once.
        var music = [Float](repeating: 0, count: 3 * 44_100 * 2)
        for i in 0..<(3 * 44_100) { music[2 * i] = 0.5 * Float(sin(2 * .pi * 441 * Double(i) / 44_100)) }
        try writeSound(music, to: dir + "/music.flac", rate: 44_100, channels: 2)
        let bed = try readBed(dir + "/music.flac", channels: 2, frames: 192_000)
        #expect(bed.count == 192_000 * 2)
        let left = stride(from: 0, to: bed.count, by: 2).map { bed[$0] }
        let right = stride(from: 1, to: bed.count, by: 2).map { bed[$0] }
        #expect(right.allSatisfy { abs($0) < 1e-6 })
        // Still 441 Hz: 441 upward zero crossings in the second second.
        let second = left[48_000..<96_000]
        let crossings = zip(second, second.dropFirst()).filter { $0 < 0 && $1 >= 0 }.count
        #expect(abs(crossings - 441) <= 1, "\(crossings) crossings")
        #expect(abs(rms(second) - 0.5 / 2.0.squareRoot()) < 0.01)
    }

    @Test func aShortFileLoopsWithoutAJumpAndTheBedFadesAtTheEnd() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        // 1.2 s of noise-like chords, mono: the loop seams must not click.
        let n = 57_600
        var music = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let t = Double(i) / 48_000
            music[i] = Float(0.2 * sin(2 * .pi * 220 * t) + 0.15 * sin(2 * .pi * 277 * t) + 0.1 * sin(2 * .pi * 330 * t + 1))
        }
        // Ends mid-waveform on purpose: looped without a crossfade it would jump.
        try writeSound(music, to: dir + "/loop.wav", rate: 48_000, channels: 1)
        let frames: Int64 = 480_000
        let bed = try readBed(dir + "/loop.wav", channels: 1, frames: frames, block: 777)
        #expect(bed.count == Int(frames))
        var largestJump: Float = 0
        for i in 1..<bed.count { largestJump = max(largestJump, abs(bed[i] - bed[i - 1])) }
        var musicJump: Float = 0
        for i in 1..<music.count { musicJump = max(musicJump, abs(music[i] - music[i - 1])) }
        #expect(largestJump <= musicJump * 1.5, "largest jump \(largestJump), the music's own \(musicJump)")
        // The music keeps playing through the seams (3 loops in 10 s) and fades to silence at the end.
        for second in 1..<7 { #expect(rms(bed[(second * 48_000)..<((second + 1) * 48_000)]) > 0.1, "second \(second)") }
        #expect(abs(bed[bed.count - 1]) < 1e-6)
        #expect(rms(bed[(bed.count - 4_800)...]) < 0.01)
    }

    @Test func aLongFileIsCutAndMonoTracksAverageTheChannels() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        var music = [Float](repeating: 0, count: 2 * 96_000)
        for i in 0..<96_000 { music[2 * i] = 0.4; music[2 * i + 1] = 0.2 }
        try writeSound(music, to: dir + "/dc.wav", rate: 48_000, channels: 2)
        let bed = try readBed(dir + "/dc.wav", channels: 1, frames: 48_000)
        #expect(bed.count == 48_000)
        #expect(abs(bed[20_000] - 0.3) < 1e-5)
    }

    @Test func duckingLowersTheMusicByItsDepthDuringACueAndRestoresIt() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        var music = [Float](repeating: 0, count: 10 * 48_000)
        for i in music.indices { music[i] = 0.5 * Float(sin(2 * .pi * 1_000 * Double(i) / 48_000)) }
        try writeSound(music, to: dir + "/tone.flac", rate: 48_000, channels: 1)
        var bed = try readBed(dir + "/tone.flac", channels: 1, frames: Int64(music.count))
        // A cue from 3 s to 4 s, ducked by 10 dB, as the export mixes it.
        let gains = duckGains(Ducker(intervals: [144_000..<192_000], sampleRate: 48_000, depth: 10), count: bed.count)
        for i in bed.indices { bed[i] *= gains[i] }
        let before = rms(bed[48_000..<96_000])
        let during = rms(bed[146_400..<189_600])
        let after = rms(bed[240_000..<288_000])
        #expect(abs(20 * log10(during / before) + 10) < 0.05, "during the cue: \(20 * log10(during / before)) dB")
        #expect(abs(20 * log10(after / before)) < 0.05, "after: \(20 * log10(after / before)) dB")
    }

    @Test func missingAndUnreadableFilesAreNamed() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        do {
            _ = try readBed(dir + "/none.mp3", channels: 2, frames: 10)
            Issue.record("a missing file was read")
        } catch let error as SoundFileError {
            #expect(error.kind == .missing)
            #expect(error.path == dir + "/none.mp3")
        }
        let junk = dir + "/junk.mp3"
        let fd = open(junk, O_CREAT | O_WRONLY, 0o644)
        _ = write(fd, "not music at all", 16)
        close(fd)
        do {
            _ = try readBed(junk, channels: 2, frames: 10)
            Issue.record("junk was read")
        } catch let error as SoundFileError {
            #expect(error.kind == .unreadable)
        }
    }
}
