import Foundation
import Glibc
import Testing
import StrideCueTestSupport

extension ALSATests {
    /// `stridecue play --music`, run as a runner runs it, on the paced fake card (and the
    /// unpaced `capture` file PCM where only the samples matter): the same frames as
    /// `render --music FILE --no-normalize`, music that is really there and ducks, a file that
    /// cannot be read refused before the card opens, and a pause that holds the music.
    @Suite("play --music")
    struct PlayMusicTests {
        // MARK: The same frames as the file

        @Test("with no key pressed the card plays, sample for sample, what 'render --music F --no-normalize' writes")
        func sameFramesAsRenderNoNormalize() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let music = folder.file("music.wav")
            // Shorter than the track (so it loops, crossfaded), and at 44.1 kHz (so it is converted).
            try writeNoiseWAV(music, seconds: 3, rate: 44_100, amplitude: 0.3)
            let played = folder.file("played.raw")
            let rendered = folder.file("rendered.wav")
            let session = ["bum-kicks", "--duration", "6s", "--music", music]
            let play = try runStridecue(["play"] + session + ["--device", "paced:FILE='\(played)'"], environment)
            #expect(play.status == 0, "stderr: \(play.stderr)")
            // Nothing said, but the note a slow read of the music gives (on a loaded machine).
            #expect(play.stderrLines.allSatisfy { $0.hasPrefix("stridecue: reading the music (") }, "stderr: \(play.stderr)")
            let render = try runStridecue(["render"] + session + ["--no-normalize", "--quiet", "-o", rendered], environment)
            #expect(render.status == 0, "stderr: \(render.stderr)")
            let expected = try wavData(rendered)
            let actual = try #require(readBytes(played))
            #expect(expected.count == 6 * 48_000 * 4)
            #expect(actual.count == expected.count)
            #expect(difference(actual, expected) == nil)
        }

        // MARK: The music is there, at its level, and ducks

        @Test("the music sounds between the clicks at --music-level, and dips under a spoken cue")
        func musicIsThereAndDucks() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let music = folder.file("music.wav")
            try writeNoiseWAV(music, seconds: 10, rate: 48_000, amplitude: 0.3)
            let session = ["bum-kicks", "--duration", "8s"]
            // The clicks and cues alone, as `play` without music sends them.
            let clicksFile = folder.file("clicks.wav")
            let clicksRun = try runStridecue(["render"] + session + ["--bits", "16", "--quiet", "-o", clicksFile], environment)
            #expect(clicksRun.status == 0, "stderr: \(clicksRun.stderr)")
            let clicks = samples(try wavData(clicksFile))
            // Played with the music at −6 dB and at −12 dB.
            var musicPart: [Double: [Int]] = [:]
            for level in [-6.0, -12.0] {
                let captured = folder.file("captured\(Int(-level)).raw")
                let run = try runStridecue(["play"] + session + ["--music", music, "--music-level", format(level),
                                                                 "--device", "capture:'\(captured)'"], environment)
                #expect(run.status == 0, "stderr: \(run.stderr)")
                let mix = samples(try #require(readBytes(captured)))
                try #require(mix.count == clicks.count)
                musicPart[level] = zip(mix, clicks).map { Int($0) - Int($1) }
            }
            let loud = try #require(musicPart[-6]), soft = try #require(musicPart[-12])

            // Where the spoken cues are: the cue sheet, in seconds.
            let sheet = try runStridecue(["render"] + session + ["--cue-sheet", "-", "--quiet", "-o", folder.file("sheet.wav")], environment)
            let cues = sheet.stdout.split(separator: "\n").dropFirst().compactMap { line -> (Int, Int)? in
                let fields = line.split(separator: ",")
                guard fields.count >= 2, let start = Double(fields[0]), let end = Double(fields[1]) else { return nil }
                return (Int(start * 48_000), Int(end * 48_000))
            }
            // A cue with 1.5 s of music before it and no cue in it (nor the rise after one).
            let cue = try #require(cues.first { cue in
                cue.0 >= 72_000 && !cues.contains { $0.1 > cue.0 - 72_000 && $0.0 < cue.0 }
            }, "no cue with a clear second before it: \(cues)")

            // Before the cue's fall (0.15 s), 0.5 s of music alone: the noise at its level.
            let before = (cue.0 - 33_600)..<(cue.0 - 9_600)
            let during = (cue.0 + 2_400)..<min(cue.1, cue.0 + 12_000)
            let loudBefore = rms(loud, before), softBefore = rms(soft, before)
            #expect(loudBefore > 300, "the music is there between the clicks: RMS \(loudBefore)")
            // 6 dB apart: half the amplitude (within the limiter's and the rounding's reach).
            #expect(abs(20 * log10(softBefore / loudBefore) + 6) < 0.3, "−6 dB and −12 dB: RMS \(loudBefore) and \(softBefore)")
            // The default duck is 10 dB: under the cue the music is a third as loud.
            let loudDuring = rms(loud, during)
            #expect(20 * log10(loudDuring / loudBefore) < -9, "under the cue: RMS \(loudDuring) against \(loudBefore)")
        }

        // MARK: Refused before the card opens

        @Test("a missing or corrupt music file: render's one line and exit code, and the card is never opened")
        func unreadableMusicIsRefusedBeforeTheCardOpens() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let corrupt = folder.file("song.wav")
            var junk = [UInt8](repeating: 0, count: 4_000)
            var x: UInt32 = 12_345
            for i in junk.indices { x = x &* 1_103_515_245 &+ 12_345; junk[i] = UInt8(truncatingIfNeeded: x >> 16) }
            try Data(junk).write(to: URL(fileURLWithPath: corrupt))
            for music in [folder.file("missing.wav"), corrupt] {
                let played = folder.file("played.raw")
                let session = ["--spm", "180", "--duration", "2s", "--music", music]
                let play = try runStridecue(["play"] + session + ["--device", "paced:FILE='\(played)'"], environment)
                let render = try runStridecue(["render"] + session + ["--quiet", "-o", folder.file("out.wav")], environment)
                #expect(render.status != 0)
                #expect(play.status == render.status, "play: \(play.stderr) render: \(render.stderr)")
                #expect(play.stderrLines.count == 1 && play.stderr.contains(music), "\(play.stderr)")
                #expect(play.stderr == render.stderr)
                #expect(access(played, F_OK) != 0, "the card was opened")
                #expect(access(folder.file("out.wav"), F_OK) != 0)
                // With the coach's remote, the same line before the server starts: no address
                // is printed for a session that cannot play.
                for remote in [["play"] + session + ["--device", "paced:FILE='\(played)'", "--no-keys", "--remote", "0"],
                               ["coach", "--remote", "127.0.0.1:0", "--no-keys", "--music", music]] {
                    // A coach that failed to check would serve on, waiting for a drill: a
                    // watchdog ends it, and the test fails on its status.
                    let run = try runStridecue(remote, environment, during: { pid in
                        DispatchQueue.global().asyncAfter(deadline: .now() + 30) { kill(pid, SIGTERM) }
                    })
                    #expect(run.status == render.status, "\(remote[0]) --remote: \(run.stderr)")
                    #expect(run.stderr == render.stderr, "\(remote[0]) --remote: \(run.stderr)")
                    #expect(run.stdout.isEmpty, "\(remote[0]) --remote printed: \(run.stdout)")
                    #expect(access(played, F_OK) != 0, "the card was opened")
                }
            }
        }

        // MARK: A pause holds the music

        @Test("space pauses the music with the clicks, without a jump, and resumes it where it stopped")
        func pauseHoldsTheMusic() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let music = folder.file("music.wav")
            try writeNoiseWAV(music, seconds: 10, rate: 48_000, amplitude: 0.3)
            let played = folder.file("played.raw")
            let session = ["--spm", "180", "--duration", "5s", "--music", music]
            let terminal = try TerminalSession(
                ["play"] + session + ["--device", "paced:FILE='\(played)'", "--latency", "100"], environment)
            #expect(terminal.wait(seconds: 5) { $0.contains("step 4 ") })
            terminal.type(" ")
            #expect(terminal.wait(seconds: 5) { $0.contains("PAUSED") })
            // Some silence to find (how much does not matter): 0.4 s of the pause played.
            let pausedAt = fileSize(played)
            #expect(waitUntilPlayed(played, frames: pausedAt / 4 + 19_200))
            terminal.type(" ")
            let (status, exited, _) = terminal.finish()
            #expect(exited && status == 0)
            #expect(terminal.lastStatus.contains("+ music"), "\(terminal.lastStatus)")

            let rendered = folder.file("rendered.wav")
            let render = try runStridecue(["render"] + session + ["--no-normalize", "--quiet", "-o", rendered], environment)
            #expect(render.status == 0, "stderr: \(render.stderr)")
            let file = samples(try wavData(rendered))
            let live = samples(try #require(readBytes(played)))

            // The pause: the longest run of silent frames (both channels) in the recording.
            var best = (start: 0, length: 0), run = 0
            for f in 0..<(live.count / 2) {
                run = live[2 * f] == 0 && live[2 * f + 1] == 0 ? run + 1 : 0
                if run > best.length { best = (f - run + 1, run) }
            }
            let silent = best.start, resumed = best.start + best.length
            try #require(best.length > 4_800, "no pause heard: \(best)")
            let pause = live.count / 2 - file.count / 2
            // Every frame of the file was played, and the pause added silence only.
            #expect(pause > 0 && pause <= best.length && best.length - pause <= 4, "pause \(pause), silence \(best)")

            // The pause's fade: 5 ms (240 frames), or what was left before the step when the key
            // came later than that (a pause falls on the next step boundary).
            let fade = 240
            let stop = resumed - pause  // the first session frame not played before the pause
            #expect(stop >= silent && stop - silent <= 4)
            func fadeFits(_ length: Int) -> Bool {
                for f in (stop - length)..<stop {
                    let gain = Double(stop - f) / Double(length + 1)
                    for c in 0..<2 where abs(Double(live[2 * f + c]) - Double(file[2 * f + c]) * gain) > 1.5 { return false }
                }
                return true
            }
            let length = try #require((1...fade).reversed().first(where: fadeFits), "no fade before the silence")
            // Before it: the file, exactly.
            #expect(Array(live[0..<(2 * (stop - length))]) == Array(file[0..<(2 * (stop - length))]))
            // The fade: each frame the file's, turned down — never a step the fade does not make.
            var peak = 1
            for f in (stop - length)..<stop {
                let gain = Double(stop - f) / Double(length + 1)
                for c in 0..<2 {
                    let expected = Double(file[2 * f + c]) * gain
                    #expect(abs(Double(live[2 * f + c]) - expected) <= 1.5, "frame \(f): \(live[2 * f + c]) against \(expected)")
                    peak = max(peak, abs(Int(file[2 * f + c])))
                }
            }
            #expect(abs(Int(live[2 * (stop - 1)])) <= peak / length + 2, "the last frame before the silence")
            // After it, the music goes on from where it stopped: ramped in over the same 5 ms, then exact.
            for k in 0..<fade {
                let gain = Double(k + 1) / Double(fade + 1)
                for c in 0..<2 {
                    let expected = Double(file[2 * (stop + k) + c]) * gain
                    #expect(abs(Double(live[2 * (resumed + k) + c]) - expected) <= 1.5, "frame \(k) after the pause")
                }
            }
            // Past the ramp (and the limiter's look-ahead and release, should it act), every
            // frame is the file's.
            let settled = stop + fade + 4_800
            #expect(Array(live[(2 * (settled + pause))...]) == Array(file[(2 * settled)...]))
        }
    }
}

/// Deterministic white noise (a fixed-seed generator) as a 16-bit stereo WAV: music with
/// energy at every frame, known to the test.
private func writeNoiseWAV(_ path: String, seconds: Double, rate: Int, amplitude: Double) throws {
    let frames = Int(seconds * Double(rate))
    var x: UInt32 = 2_463_534_242
    var data = [UInt8]()
    data.reserveCapacity(frames * 4)
    for _ in 0..<(frames * 2) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5
        let u = Double(x) / Double(UInt32.max) * 2 - 1
        let s = UInt16(bitPattern: Int16((u * amplitude * 32_767).rounded()))
        data.append(UInt8(truncatingIfNeeded: s))
        data.append(UInt8(truncatingIfNeeded: s >> 8))
    }
    func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    var bytes = Array("RIFF".utf8) + le32(36 + data.count) + Array("WAVEfmt ".utf8)
    bytes += le32(16) + le16(1) + le16(2) + le32(rate) + le32(rate * 4) + le16(4) + le16(16)
    bytes += Array("data".utf8) + le32(data.count) + data
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Interleaved 16-bit little-endian samples.
private func samples(_ bytes: [UInt8]) -> [Int16] {
    stride(from: 0, to: bytes.count - 1, by: 2).map { Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8) }
}

/// Root mean square over the frames `range` of interleaved stereo samples.
private func rms(_ samples: [Int], _ range: Range<Int>) -> Double {
    var sum = 0.0
    for f in range { for c in 0..<2 { sum += Double(samples[2 * f + c] * samples[2 * f + c]) } }
    return (sum / Double(2 * range.count)).squareRoot()
}

private func format(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
