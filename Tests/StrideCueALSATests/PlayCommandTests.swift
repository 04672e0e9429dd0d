import Foundation
import Glibc
import StrideCueTestSupport
import Testing
import StrideCueLive

extension ALSATests {
    /// `stridecue play`, run as a user runs it, against the private ALSA configuration:
    /// the `capture` file PCM for byte identity, the paced fake card for real time.
    @Suite("The play command")
    struct PlayCommandTests {
        // MARK: Same bytes as render

        @Test("hands ALSA exactly the frames 'render --bits 16' writes, cues included", arguments: [48_000, 44_100])
        func sameBytesAsRender(rate: Int) throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let preset = folder.file("busy.yaml")
            try busyPreset.write(toFile: preset, atomically: false, encoding: .utf8)
            var sessions = [[preset], ["--spm", "177.5", "--duration", "4s", "--accent-every", "4", "--subdivide", "3", "--sound", "beep"]]
            // Spoken caution and count-in (flite), capped to keep the files small.
            if rate == 48_000 { sessions.append(["bum-kicks", "--duration", "8s"]) }
            for session in sessions {
                let captured = folder.file("captured.raw")
                let rendered = folder.file("rendered.wav")
                let play = try runStridecue(["play"] + session + ["--rate", "\(rate)", "--device", "capture:'\(captured)'"], environment)
                #expect(play.status == 0, "stderr: \(play.stderr)")
                #expect(play.stderr.isEmpty, "stderr: \(play.stderr)")
                let render = try runStridecue(["render"] + session + ["--rate", "\(rate)", "--bits", "16", "--quiet", "-o", rendered], environment)
                #expect(render.status == 0, "stderr: \(render.stderr)")
                let expected = try wavData(rendered)
                let actual = try #require(readBytes(captured))
                #expect(expected.count > rate * 4 * 3)
                #expect(difference(actual, expected) == nil, "\(session)")
                unlink(captured)
                unlink(rendered)
            }
        }

        // MARK: Real time on the paced card

        @Test("3 s of play on the paced card take no less than 3 s, and the card plays every frame")
        func threeSecondsTakeThreeSeconds() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            let rendered = folder.file("rendered.wav")
            // A roomier buffer than the default: this measures pacing, not robustness under load.
            let run = try runStridecue(
                ["play", "--spm", "180", "--duration", "3s", "--device", "paced:FILE='\(played)'", "--latency", "100"],
                environment, extraEnvironment: ["STRIDECUE_TIMING": "1"])
            #expect(run.status == 0, "stderr: \(run.stderr)")
            // "…; 3.000 s of frames played in 3.001 s; underruns 0"
            let timing = try #require(run.stderrLines.first { $0.hasPrefix("stridecue: timing:") }, "stderr: \(run.stderr)")
            let took = try #require(number(after: "played in ", in: timing))
            #expect(timing.contains("3.000 s of frames"))
            #expect(timing.hasSuffix("underruns 0"))
            // Never sooner than the real clock allows (how much later is for `make bench`).
            #expect(took >= 2.999, "played in \(took) s")
            #expect(run.seconds >= 3.0, "the process took \(run.seconds) s")

            _ = try runStridecue(["render", "--spm", "180", "--duration", "3s", "--bits", "16", "--quiet", "-o", rendered], environment)
            #expect(difference(try #require(readBytes(played)), try wavData(rendered)) == nil)
        }

        @Test("an injected underrun is recovered, counted and reported; the session carries on where it was")
        func injectedUnderrun() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            let rendered = folder.file("rendered.wav")
            // The card runs dry once 1 s has been written. 100 ms of buffer: the only underrun
            // on a busy test machine is the injected one.
            let run = try runStridecue(
                ["play", "--spm", "180", "--duration", "2s", "--device", "paced:FILE='\(played)',XRUN_AFTER=48000", "--latency", "100"],
                environment)
            #expect(run.status == 0)
            #expect(run.stderrLines == [
                "stridecue: 1 underrun: the sound dropped out once; a longer --latency (now 100 ms) helps on a busy machine",
            ])
            _ = try runStridecue(["render", "--spm", "180", "--duration", "2s", "--bits", "16", "--quiet", "-o", rendered], environment)
            try expectGapOnly(played: try #require(readBytes(played)), expected: try wavData(rendered))
        }

        @Test("a writer stalled 150 ms underruns, recovers and reports it")
        func stalledWriter() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            let rendered = folder.file("rendered.wav")
            // Stop the whole process for three times its 50 ms buffer, half way through.
            let run = try runStridecue(
                ["play", "--spm", "180", "--duration", "2s", "--device", "paced:FILE='\(played)'", "--latency", "50"],
                environment
            ) { pid in
                #expect(waitUntilPlayed(played, frames: 48_000))
                kill(pid, SIGSTOP)
                usleep(150_000)  // the stall itself
                kill(pid, SIGCONT)
            }
            #expect(run.status == 0)
            let line = try #require(run.stderrLines.last, "no underrun reported")
            let count = try #require(Int(String(line.dropFirst("stridecue: ".count).prefix { $0.isNumber })), "\(line)")
            #expect(count >= 1)
            #expect(line.hasPrefix("stridecue: \(count) underrun"))
            _ = try runStridecue(["render", "--spm", "180", "--duration", "2s", "--bits", "16", "--quiet", "-o", rendered], environment)
            let bytes = try #require(readBytes(played))
            let gap = Double((bytes.count - (try wavData(rendered)).count) / 4) / 48_000
            #expect(gap >= 0.09, "a gap of \(gap) s after a 150 ms stall with a 50 ms buffer")
            if count == 1 { try expectGapOnly(played: bytes, expected: try wavData(rendered)) }
        }

        // MARK: Keys on a terminal

        @Test("'+' moves the clicks to an exact 181 spm grid from the first step not yet rendered; the terminal is restored")
        func tempoKeyKeepsAnExactGrid() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            let session = try TerminalSession(
                ["play", "--spm", "180", "--duration", "4s", "--device", "paced:FILE='\(played)'", "--latency", "100"], environment)
            #expect(session.wait(seconds: 5) { $0.contains("step 4 ") })
            #expect(!session.isCooked, "key mode: no line buffering, no echo")
            session.type("+")
            #expect(session.wait(seconds: 5) { $0.contains("181 spm") })
            let (status, exited, stdout) = session.finish()
            #expect(exited && status == 0)
            #expect(stdout.isEmpty)
            #expect(session.isCooked, "the terminal is back to line mode with echo")
            #expect(session.lastStatus.contains("181 spm"))

            let onsets = clickOnsets(leftChannel(try #require(readBytes(played))))
            try #require(onsets.count > 8)
            let offset = onsets[0]  // where in a click its first non-zero sample falls: 0 for built-ins
            let oldGrid = { (k: Int) in offset + k * 16_000 }
            let changed = try #require(onsets.indices.first { onsets[$0] != oldGrid($0) }, "no change heard: \(onsets)")
            #expect(changed >= 3, "the key was typed after step 4")
            // The grid is re-anchored at the last step rendered when the key arrived (step a,
            // on the old grid); step a + m then sits at exactly
            // (a·60/180 + m·60/181)·48 000, with no drift however long it plays.
            let anchorStep = changed - 1
            let anchor = Double(anchorStep) * 60 / 180
            let expected = (0..<(onsets.count - anchorStep)).map { m in offset + Int(((anchor + Double(m) * 60 / 181) * 48_000).rounded()) }
            #expect(Array(onsets[anchorStep...]) == expected)
            #expect(onsets.count - changed >= 3)
        }

        /// Paused on a step, nothing of that step is rendered: a key then moves that very step.
        /// Before issue 20 it kept its place and only the step after it moved.
        @Test("'-' while paused moves the step the pause holds at: heard at 179 spm from that step")
        func tempoKeyMovesTheFirstStepNotRendered() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            let session = try TerminalSession(
                ["play", "--spm", "180", "--duration", "5s", "--device", "paced:FILE='\(played)'", "--latency", "100"], environment)
            #expect(session.wait(seconds: 5) { $0.contains("step 3 ") })
            session.type(" ")
            #expect(session.wait(seconds: 5) { $0.contains("PAUSED") })
            session.type("-")
            #expect(session.wait(seconds: 5) { $0.contains("179 spm") })
            session.type(" ")
            let (status, exited, _) = session.finish()
            #expect(exited && status == 0)

            let onsets = clickOnsets(leftChannel(try #require(readBytes(played))))
            // The pause is the one gap longer than a step; the step after it (a) is the one the
            // pause held at, at 16 000·a in the session's frames before the key.
            let gaps = zip(onsets.dropFirst(), onsets).map { $0 - $1 }
            let a = try #require(gaps.indices.first { gaps[$0] > 17_000 }, "no pause heard: \(onsets)") + 1
            try #require(onsets.count >= a + 4, "\(onsets)")
            #expect(Array(onsets[..<a]) == (0..<a).map { onsets[0] + $0 * 16_000 })
            // In the session's frames step a − 1 + m is at 16 000·(a − 1) + m·60/179 s: step a
            // moved too, so a's gap to a + 1 is already 179 spm (16 089 or 16 090 frames).
            let base = Double(16_000 * (a - 1))
            let session179 = { (m: Int) in Int((base + Double(m) * 48_000 * 60 / 179).rounded()) }
            let expected = (1...(onsets.count - a)).map { m in onsets[a] + session179(m) - session179(1) }
            #expect(Array(onsets[a...]) == expected)
        }

        @Test("the status line names the next cue and its step, and moves on as the steps are heard")
        func statusShowsTheNextCue() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let preset = folder.file("cues.yaml")
            let text = """
                name: Next cue
                cadence: 180
                set: {steps: 40}
                cues:
                  - say: pull through
                    every: 8
                    offset: 2
                  - say: pop forwards
                    every: 8
                    offset: 5

                """
            #expect(FileManager.default.createFile(atPath: preset, contents: Data(text.utf8)))
            let session = try TerminalSession(["play", preset, "--device", "paced", "--latency", "100"], environment)
            // Steps 2 and 5 have been heard by step 6: "pull through" comes next, on step 10.
            #expect(session.wait(seconds: 8) { $0.contains("step 6 ") })
            #expect(session.wait(seconds: 2) { $0.contains("next \"pull through\" at step 10") }, "\(session.lastStatus)")
            #expect(session.wait(seconds: 5) { $0.contains("step 11 ") })
            #expect(session.wait(seconds: 2) { $0.contains("next \"pop forwards\" at step 13") }, "\(session.lastStatus)")
            session.type("q")
            let (status, exited, _) = session.finish()
            #expect(exited && status == 0)
        }

        @Test("Ctrl-C mid-play fades out, restores the terminal and exits 130")
        func interruptRestoresTheTerminal() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            let session = try TerminalSession(["play", "--spm", "180", "--device", "paced:FILE='\(played)'"], environment)
            #expect(session.wait(seconds: 5) { $0.contains("step 3 ") })
            #expect(!session.isCooked)
            kill(session.process.processIdentifier, SIGINT)
            let (status, exited, _) = session.finish()
            #expect(exited && status == 130)
            #expect(session.isCooked, "the terminal is back to line mode with echo")
            let left = leftChannel(try #require(readBytes(played)))
            #expect(left.last == 0, "faded out to silence")
            #expect(!session.screen.contains("stridecue:"), "no error on an interrupt: \(session.screen)")
        }

        // Without a terminal the player sleeps until playback ends or a signal wakes it.
        @Test("SIGINT or SIGTERM mid-play, no terminal, exits 130 or 143 at once", arguments: [SIGINT, SIGTERM])
        func terminate(signal: Int32) throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            // Endless play: only the signal ends it (or the kill after 10 s, which fails the test).
            let run = try runStridecue(["play", "--spm", "180", "--device", "paced:FILE='\(played)'"], environment) { pid in
                #expect(waitUntilPlayed(played, frames: 24_000))
                kill(pid, signal)
                killAfter(pid, seconds: 10)
            }
            #expect(run.exited && run.status == 128 + signal)
            #expect(run.stderr.isEmpty, "stderr: \(run.stderr)")
        }

        @Test("'q' quits and exits 0; keys arrive in order through the queue")
        func quitKey() throws {
            let environment = try ALSATestEnvironment.ready()
            let session = try TerminalSession(["play", "--spm", "180", "--device", "paced"], environment)
            #expect(session.wait(seconds: 5) { $0.contains("step 2 ") })
            session.type("]]-")  // 180 + 5 + 5 - 1
            #expect(session.wait(seconds: 5) { $0.contains("189 spm") })
            session.type(" ")
            #expect(session.wait(seconds: 5) { $0.contains("PAUSED") })
            session.type("q")
            let (status, exited, _) = session.finish()
            #expect(exited && status == 0)
            #expect(session.isCooked)
        }

        // MARK: Failures

        @Test("an undefined device gives one line and exit 69")
        func noSuchDevice() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try runStridecue(["play", "--spm", "180", "--device", "nosuchpcm"], environment)
            #expect(run.status == 69)
            #expect(run.stdout.isEmpty)
            #expect(run.stderr == "stridecue: no sound device 'nosuchpcm' (ALSA: No such file or directory); "
                + "list devices with 'stridecue devices' or write a file with 'stridecue render'\n")
        }

        @Test("with --reconnect 0, a device that goes away mid-play gives a clear line and exit 74")
        func deviceDisconnected() throws {
            let environment = try ALSATestEnvironment.ready()
            let device = "paced:DISCONNECT_AFTER=24000"
            let run = try runStridecue(["play", "--spm", "180", "--device", device, "--reconnect", "0"], environment)
            #expect(run.status == 74)
            #expect(run.stderr == "stridecue: sound device '\(device)' went away while playing (ALSA: No such device); playback stopped\n")
        }

        @Test("a rate the device cannot play exactly is one clear line and exit 69")
        func rateRefused() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try runStridecue(["play", "--rate", "44100", "--device", "paced48k"], environment)
            #expect(run.status == 69)
            #expect(run.stderr == "stridecue: sound device 'paced48k' cannot play this (ALSA: Invalid argument in "
                + "snd_pcm_hw_params_set_rate; asked for 44100 Hz exactly; the device offers 48000 Hz); "
                + "try another --rate or --latency, or write a file with 'stridecue render'\n")
        }

        @Test("a bad --latency is a usage error")
        func badLatency() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try runStridecue(["play", "--latency", "5", "--device", "null"], environment)
            #expect(run.status == 64)
            #expect(run.stderr == "stridecue: --latency must be between 10 and 2000 ms; got '5'\n")
        }
    }
}

/// The number right after `label` in `text`, e.g. "played in 3.001 s" → 3.001.
private func number(after label: String, in text: String) -> Double? {
    guard let range = text.range(of: label) else { return nil }
    return Double(text[range.upperBound...].prefix { $0.isNumber || $0 == "." })
}

/// `played` is `expected` with one run of silence inserted (an underrun's gap): nothing lost,
/// nothing repeated, the session carried on where it was.
private func expectGapOnly(played: [UInt8], expected: [UInt8]) throws {
    let gap = played.count - expected.count
    try #require(gap >= 0, "\(played.count) bytes played, \(expected.count) rendered")
    var prefix = 0
    while prefix < expected.count && played[prefix] == expected[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < expected.count && played[played.count - 1 - suffix] == expected[expected.count - 1 - suffix] { suffix += 1 }
    #expect(prefix + suffix >= expected.count, "played differs from the render beyond a gap")
    let split = expected.count - suffix
    #expect(played[split..<(split + gap)].allSatisfy { $0 == 0 }, "the gap is silence")
}
