import Foundation
import Glibc
import StrideCueTestSupport
import Testing

extension ALSATests {
    /// `stridecue play` through the sound servers most runners have, started for real by each test
    /// (scripts/sound-server.sh): ALSA's `default` goes through the server's own ALSA plugin, as on
    /// a desktop, and the server's sink is recorded to see what a runner would have heard. Each
    /// test starts servers of its own: they run side by side (scripts/run-tests.sh runs the
    /// minute under load alone).
    @Suite("Through a sound server")
    struct SoundServerTests {
        /// PulseAudio and PipeWire at once, each with its own player, while both cores are kept
        /// busy: each server's player shares the machine with the busy loops and with the other
        /// server and its player, a heavier load than either alone (and half `make test`'s time).
        @Test("60 s with both cores busy, through both servers at once: on time, no dropout, never 'not responding', every click on the rendered grid")
        func steadyUnderLoad() throws {
            let environment = try ALSATestEnvironment.ready()
            let servers = try SoundServer.Kind.allCases.map { try SoundServer($0) }
            let recordings = try servers.map { try $0.recordSink() }
            let busy = try BusyCores()
            let sessions = try servers.map {
                try TerminalSession(["play", "--spm", "180", "--duration", "60s"], environment, extraEnvironment: $0.environment)
            }
            let ends = sessions.map { $0.finish(timeout: 75) }
            busy.stop()
            for server in servers { server.stopRecording() }

            let folder = try TemporaryFolder()
            let rendered = folder.file("rendered.wav")
            let render = try runStridecue(["render", "--spm", "180", "--duration", "60s", "--bits", "16", "--quiet", "-o", rendered], environment)
            #expect(render.status == 0)
            let expected = clickOnsets(leftChannel(try wavData(rendered)))
            try #require(expected.count == 180)
            for (index, server) in servers.enumerated() {
                let name = server.kind.testDescription
                let (status, exited, _) = ends[index]
                let screen = sessions[index].screen
                #expect(exited && status == 0, "\(name): \(screen)")
                #expect(!screen.contains("NOT RESPONDING"), "\(name): \(screen)")
                #expect(!screen.contains("underrun") && !screen.contains("dropout"), "\(name): \(screen)")
                let heard = clickOnsets(leftChannel(try #require(readBytes(recordings[index]))))
                try #require(heard.count >= 1, "\(name): nothing was heard")
                let offset = heard[0] - expected[0]
                let late = zip(heard, expected).enumerated().first { $0.element.0 - $0.element.1 != offset }
                #expect(late == nil, "\(name): step \(late.map { $0.offset + 1 } ?? 0) is \(late.map { $0.element.0 - $0.element.1 - offset } ?? 0) frames off the grid")
                #expect(heard.count == expected.count, "\(name): \(heard.count) clicks heard of \(expected.count)")
            }
        }

        @Test("--verbose says the route, the period the server is fed in and how the playback thread is scheduled",
              arguments: SoundServer.Kind.allCases)
        func verboseSaysHowItPlays(_ kind: SoundServer.Kind) throws {
            let environment = try ALSATestEnvironment.ready()
            let server = try SoundServer(kind)
            let run = try runStridecue(["play", "--spm", "180", "--duration", "1s", "--no-keys", "--verbose"], environment,
                                       extraEnvironment: server.environment)
            #expect(run.status == 0, "\(run.stderr)")
            switch kind {
            case .pulse:
                // PulseAudio's plugin makes a period the server's request size: a quarter of the
                // buffer, so that neither its thread nor the writer wakes 200 times a second.
                #expect(run.stderr.contains("(the PulseAudio sound server) at 48000 Hz, 2 channels, 1200-frame periods (25 ms) in a 4800-frame buffer (100 ms)"),
                        "\(run.stderr)")
                let scheduling = getuid() == 0 ? "SCHED_FIFO priority 20" : "no real-time scheduling"
                #expect(run.stderr.contains("stridecue: playback thread: \(scheduling)"), "\(run.stderr)")
            case .pipewire:
                #expect(run.stderr.contains("(the PipeWire sound server) at 48000 Hz, 2 channels, 240-frame periods (5 ms)"), "\(run.stderr)")
                #expect(run.stderr.contains("stridecue: playback thread: ordinary scheduling, as the sound server's other clients"),
                        "\(run.stderr)")
            }
        }

        @Test("'devices' says that default opens and which server it plays through", arguments: SoundServer.Kind.allCases)
        func devicesNameTheServer(_ kind: SoundServer.Kind) throws {
            let environment = try ALSATestEnvironment.ready()
            let server = try SoundServer(kind)
            let run = try runStridecue(["devices"], environment, extraEnvironment: server.environment)
            #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
            let name = kind == .pulse ? "the PulseAudio sound server" : "the PipeWire sound server"
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.hasPrefix("* default") && $0.hasSuffix("opens now; plays through \(name)") }, "\(run.stdout)")
            #expect(!run.stdout.contains("will open"), "\(run.stdout)")
            if !FileManager.default.fileExists(atPath: "/dev/snd") {
                #expect(lines.contains("Sound cards: none that ALSA sees itself; 'default' plays through \(name),"), "\(run.stdout)")
            }
        }

        @Test("a tempo key, a pause and 'q' act through the server as on a card", arguments: SoundServer.Kind.allCases)
        func keys(_ kind: SoundServer.Kind) throws {
            let environment = try ALSATestEnvironment.ready()
            let server = try SoundServer(kind)
            let recording = try server.recordSink()
            let session = try TerminalSession(["play", "--spm", "180"], environment, extraEnvironment: server.environment)
            #expect(session.wait(seconds: 5) { $0.contains("step 4 ") })
            session.type("+")
            #expect(session.wait(seconds: 5) { $0.contains("181 spm") })
            #expect(session.wait(seconds: 5) { $0.contains("step 9 ") })
            session.type(" ")
            #expect(session.wait(seconds: 5) { $0.contains("PAUSED") })
            // More than a second of the pause's silence heard through the server, then resume.
            let pausedAt = fileSize(recording)
            #expect(waitUntil { fileSize(recording) >= pausedAt + 60_000 * 4 })
            session.type(" ")
            #expect(session.wait(seconds: 5) { _ in !session.lastStatus.contains("PAUSED") })
            // A few steps after the pause.
            let resumed = stepShown(session.lastStatus) ?? 0
            #expect(session.wait(seconds: 10) { _ in (stepShown(session.lastStatus) ?? 0) >= resumed + 4 }, "\(session.lastStatus)")
            session.type("q")
            let (status, exited, _) = session.finish()
            server.stopRecording()
            #expect(exited && status == 0)
            #expect(session.isCooked)
            #expect(!session.screen.contains("NOT RESPONDING") && !session.screen.contains("underrun"), "\(session.screen)")

            // Through the server, as on the card: an exact 180 spm grid, then an exact 181 spm
            // grid from a step after the key, one longer gap for the pause, and 181 spm again.
            let heard = clickOnsets(leftChannel(try #require(readBytes(recording))))
            try #require(heard.count > 12, "\(heard)")
            let gaps = zip(heard.dropFirst(), heard).map { $0 - $1 }
            let changed = try #require(gaps.firstIndex { $0 != 16_000 }, "no change heard: \(gaps)")
            #expect(changed >= 3, "the key was typed after step 4: \(gaps)")
            let after = gaps[changed...]
            let paused = after.filter { $0 > 20_000 }
            #expect(paused.count == 1 && (paused.first ?? 0) >= 48_000, "one pause of a second or more: \(gaps)")
            #expect(after.filter { $0 <= 20_000 }.allSatisfy { $0 == 15_911 || $0 == 15_912 }, "181 spm is 15 911.6 frames a step: \(gaps)")
        }
    }
}

/// The step the status line shows ("… step 12 …").
private func stepShown(_ status: String) -> Int? {
    guard let label = status.range(of: "step ") else { return nil }
    return Int(status[label.upperBound...].prefix { $0.isNumber })
}
