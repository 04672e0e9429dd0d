import Foundation
import Glibc
import StrideCueTestSupport
import Testing

extension ALSATests {
    /// `stridecue play` against a paced card that hangs, goes away or runs dry, driven by the
    /// card's control file (Tests/FakeDevice/stridecue_fake.c), as a runner meets them.
    @Suite("Play when the device misbehaves")
    struct DeviceFaultTests {
        @Test("a hung device and Ctrl-C: playback returns and exits 130")
        func hungDeviceInterrupted() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let card = CardControl(path: folder.file("control"))
            let played = folder.file("played.raw")
            let run = try runStridecue(
                ["play", "--spm", "180", "--device", "paced:FILE='\(played)',CONTROL='\(card.path)'"], environment
            ) { pid in
                #expect(waitUntilPlayed(played, frames: 38_400))
                // The card stops taking frames, and the writer waits on it.
                #expect(card.set("hang", until: "waiting"))
                kill(pid, SIGINT)
                killAfter(pid, seconds: 10)
            }
            #expect(run.exited, "the process had to be killed: it never returned from the hung device")
            #expect(run.status == 130, "stderr: \(run.stderr)")
            #expect(run.stderr.isEmpty, "stderr: \(run.stderr)")
        }

        @Test("a device that hangs mid-session: the end of --duration still ends play, with one line and exit 74")
        func hungDeviceAtTheEndOfDuration() throws {
            let environment = try ALSATestEnvironment.ready()
            // Short names: the message names the device, and a name past 60 characters is cut.
            let folder = try TemporaryFolder("sc")
            let card = CardControl(path: folder.file("c"))
            let played = folder.file("p")
            let device = "paced:FILE='\(played)',CONTROL='\(card.path)'"
            let run = try runStridecue(["play", "--spm", "180", "--duration", "2s", "--device", device], environment) { pid in
                #expect(waitUntilPlayed(played, frames: 38_400))
                #expect(card.set("hang", until: "hung"))  // and it stays hung: nothing moves the session's frames on
                killAfter(pid, seconds: 10)
            }
            #expect(run.exited, "the process had to be killed: the end of --duration never came on the hung device")
            #expect(run.status == 74, "stderr: \(run.stderr)")
            #expect(run.stderrLines == ["stridecue: sound device '\(device)' stopped taking frames; gave up waiting for it"])
        }

        @Test("a device that hangs for a moment and moves again: play carries on to the end and exits 0")
        func briefHangIsNotTheEnd() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let card = CardControl(path: folder.file("control"))
            let played = folder.file("played.raw")
            let run = try runStridecue(
                ["play", "--spm", "180", "--duration", "2s", "--device", "paced:FILE='\(played)',CONTROL='\(card.path)'"], environment
            ) { pid in
                #expect(waitUntilPlayed(played, frames: 33_600))
                // Hung until the writer waits on it, then moving again.
                #expect(card.set("hang", until: "waiting"))
                #expect(card.set("moving", until: "moving"))
                killAfter(pid, seconds: 10)
            }
            #expect(run.exited && run.status == 0, "stderr: \(run.stderr)")
            #expect(run.stderr.isEmpty, "stderr: \(run.stderr)")
            // Nothing lost to the hang: all 2 s were played, late.
            #expect(try #require(readBytes(played)).count == 2 * 48_000 * 4)
        }

        @Test("unplugged and back: every planned click is heard exactly once, on the grid after a lead-in")
        func unpluggedAndBack() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let card = CardControl(path: folder.file("control"))
            let played = folder.file("played.raw")
            let rendered = folder.file("rendered.wav")
            let run = try runStridecue(
                ["play", "--spm", "180", "--duration", "5s", "--device", "paced:FILE='\(played)',CONTROL='\(card.path)'"],
                environment
            ) { pid in
                #expect(waitUntilPlayed(played, frames: 81_600))
                // Gone, and still gone when the player first tries to open it again; then back.
                #expect(card.set("unplug", until: "gone"))
                #expect(waitUntil { card.saw("refused") })
                card.write("plugged")
                killAfter(pid, seconds: 20)
            }
            #expect(run.exited && run.status == 0, "stderr: \(run.stderr)")
            #expect(run.stderr.isEmpty, "stderr: \(run.stderr)")
            _ = try runStridecue(["render", "--spm", "180", "--duration", "5s", "--bits", "16", "--quiet", "-o", rendered], environment)
            let planned = clickOnsets(leftChannel(try wavData(rendered)))
            let heard = clickOnsets(leftChannel(try #require(readBytes(played))))
            try #require(planned.count == 15, "\(planned)")
            // One more than planned: the lead-in.
            try #require(heard.count == planned.count + 1, "heard \(heard), planned \(planned)")
            let leadIn = try #require(heard.indices.first { heard[$0] != planned[$0] })
            #expect(leadIn >= 3 && leadIn < planned.count, "the sound stopped after about 1.6 s: \(heard)")
            // Before it, exactly the plan; after it, the rest of the plan one step (16 000 frames) on.
            #expect(Array(heard[..<leadIn]) == Array(planned[..<leadIn]))
            let after = heard[(leadIn + 1)...].map { $0 - heard[leadIn] - 16_000 }
            #expect(after == planned[leadIn...].map { $0 - planned[leadIn] }, "heard \(heard), planned \(planned)")
        }

        @Test("unplugged for longer than --reconnect: one line and exit 74")
        func unpluggedTooLong() throws {
            let environment = try ALSATestEnvironment.ready()
            // Short names: the message names the device, and a name past 60 characters is cut.
            let folder = try TemporaryFolder("sc")
            let card = CardControl(path: folder.file("c"))
            let played = folder.file("p")
            let device = "paced:FILE='\(played)',CONTROL='\(card.path)'"
            let run = try runStridecue(["play", "--spm", "180", "--device", device, "--reconnect", "1"], environment) { pid in
                #expect(waitUntilPlayed(played, frames: 33_600))
                #expect(card.set("unplug", until: "gone"))
                killAfter(pid, seconds: 15)
            }
            #expect(run.exited && run.status == 74)
            #expect(run.stderrLines == [
                "stridecue: sound device '\(device)' went away while playing (ALSA: No such device) "
                    + "and did not come back within 1 s; playback stopped",
            ])
        }

        @Test("an underrun at the default buffer grows it, and no second underrun follows")
        func underrunGrowsTheBuffer() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try runStridecue(
                ["play", "--spm", "180", "--duration", "3s", "--device", "paced:XRUN_AFTER=48000"], environment)
            #expect(run.exited && run.status == 0)
            #expect(run.stderrLines == [
                "stridecue: 1 underrun: the sound dropped out once; the buffer grew from 100 ms to 200 ms",
            ])
        }

        @Test("the status line on a 50-column terminal never reaches the last column")
        func statusFitsANarrowTerminal() throws {
            let environment = try ALSATestEnvironment.ready()
            let session = try TerminalSession(["play", "bum-kicks", "--device", "paced"], environment, columns: 50)
            #expect(session.wait(seconds: 15) { $0.contains("count-in") })
            #expect(session.wait(seconds: 10) { $0.contains("step 3") })
            session.type("q")
            let (status, exited, _) = session.finish()
            #expect(exited && status == 0)
            let lines = session.screen.replacingOccurrences(of: "\u{1B}[K", with: "")
                .split(whereSeparator: { $0 == "\r" || $0 == "\n" })
            #expect(lines.count > 5)
            // Columns are taken by printable characters only (escape sequences take none).
            for line in lines {
                let printable = line.filter { !($0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false) }
                #expect(printable.count <= 49, "\(printable.count) columns: \(printable)")
            }
            #expect(session.screen.contains("caution"), "the caution is said while it is spoken")
        }

        @Test("a pause asked in a spoken cue lets it finish, then fades: no sample step above the fade's")
        func pauseInACue() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let preset = folder.file("cue.yaml")
            let played = folder.file("played.raw")
            let rendered = folder.file("rendered.wav")
            try """
                name: Pause in a cue
                cadence: 120
                set: {steps: 12}
                cues:
                  - say: pull through
                    at: step 3
                    steps: 3

                """.write(toFile: preset, atomically: false, encoding: .utf8)
            let session = try TerminalSession(["play", preset, "--device", "paced:FILE='\(played)'"], environment)
            #expect(session.wait(seconds: 10) { $0.contains("step 3 ") })
            session.type(" ")
            #expect(session.wait(seconds: 5) { $0.contains("pausing after the cue") })
            #expect(session.wait(seconds: 5) { $0.contains("PAUSED") })
            // Half a second of the pause's silence played, then resume.
            let pausedAt = fileSize(played)
            #expect(waitUntilPlayed(played, frames: pausedAt / 4 + 24_000))
            session.type(" ")
            let (status, exited, _) = session.finish(timeout: 20)
            #expect(exited && status == 0)
            _ = try runStridecue(["render", preset, "--bits", "16", "--quiet", "-o", rendered], environment)
            let expected = leftChannel(try wavData(rendered))
            let heard = leftChannel(try #require(readBytes(played)))
            let pause = heard.count - expected.count
            try #require(pause > 12_000, "a pause of \(pause) frames")
            var prefix = 0
            while prefix < expected.count && heard[prefix] == expected[prefix] { prefix += 1 }
            var suffix = 0
            while suffix < expected.count && heard[heard.count - 1 - suffix] == expected[expected.count - 1 - suffix] { suffix += 1 }
            // Only the fade (5 ms, 240 frames) differs from the render; the cue before it is whole.
            #expect(prefix + suffix >= expected.count - 240, "prefix \(prefix), suffix \(suffix) of \(expected.count)")
            let fadeStep = 32_767 / 241 + 1
            let from = max(0, prefix - 1)
            let to = min(heard.count - 1, heard.count - suffix + 1)
            if from < to {
                for i in from..<to where heard[i] != 0 || heard[i + 1] != 0 {
                    // Into the silence and out of it, nothing jumps more than a fade step at the edge.
                    if heard[i + 1] == 0 || heard[i] == 0 {
                        #expect(abs(Int(heard[i + 1]) - Int(heard[i])) <= fadeStep, "a step at frame \(i)")
                    }
                }
            }
        }
    }
}

/// Kills `pid` if it has not exited after `seconds`, so a hung program fails the test instead
/// of hanging it. Runs on its own thread.
func killAfter(_ pid: pid_t, seconds: Double) {
    Thread.detachNewThread {
        let deadline = monotonicNow() + seconds
        while monotonicNow() < deadline {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  !stat.contains(") Z ") else { return }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
    }
}
