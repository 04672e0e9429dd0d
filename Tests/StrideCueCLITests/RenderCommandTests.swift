import Foundation
import StrideCueTestSupport
import Testing
import StrideCueCore
import StrideCueSoundFile
import StrideCuePresets

@Suite("stridecue render, end to end", .serialized)
struct RenderCommandTests {
    @Test func plainClickTrackHasExactLengthAndClickPositions() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let out = dir + "/track.wav"
        let run = try stridecue(["render", "--spm", "172.5", "--duration", "1:00", "--rate", "44100",
                                 "--channels", "1", "--sound", "beep", "-o", out])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty)   // not a terminal: no progress bar
        let sound = try readBack(out)
        #expect(sound.sampleRate == 44_100 && sound.channels == 1)
        #expect(sound.frameCount == 60 * 44_100)
        // 172.5 spm: step k starts at round(k · 8/23 s · 44 100).
        let expected = (0..<173).map { k in Int((Double(k) * 8 * 44_100 / 23).rounded()) }
        #expect(clickOnsets(sound.samples) == expected)
        #expect(files(in: dir) == ["track.wav"])  // no temporary left behind
    }

    @Test func stereo24BitAndFloatFiles() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        for (bits, subtype) in [("24", "24"), ("32f", "float")] {
            let out = "\(dir)/t\(bits).wav"
            let run = try stridecue(["render", "--duration", "5s", "--bits", bits, "-o", out])
            #expect(run.status == 0, "\(run.stderr)")
            let sound = try readBack(out)
            #expect(sound.channels == 2 && sound.sampleRate == 48_000 && sound.frameCount == 240_000, "\(subtype)")
            // 180 spm at 48 kHz: a click every 16 000 frames, on both channels.
            let left = stride(from: 0, to: sound.samples.count, by: 2).map { sound.samples[$0] }
            #expect(clickOnsets(left) == (0..<15).map { $0 * 16_000 })
        }
    }

    /// render reserves a WAV's space before writing it (a full disk is known at once); what is
    /// left on disk is the file, not the reserve.
    @Test func aWAVKeepsNoReservedSpacePastItsEnd() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        for bits in ["16", "24", "32f"] {
            let out = "\(dir)/t\(bits).wav"
            let run = try stridecue(["render", "--duration", "20s", "--bits", bits, "-o", out])
            #expect(run.status == 0, "\(run.stderr)")
            var info = stat()
            #expect(stat(out, &info) == 0)
            let block = Int64(max(info.st_blksize, 512))
            let rounded = (Int64(info.st_size) + block - 1) / block * block
            #expect(Int64(info.st_blocks) * 512 <= rounded, "\(bits) bits: \(info.st_blocks * 512) bytes on disk for \(info.st_size)")
        }
    }

    @Test func bumKicksPresetRendersToThePlansLength() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let out = dir + "/bum-kicks.wav"
        // The clicks stem: the mix also holds speech, which would confuse onset detection.
        let run = try stridecue(["render", "bum-kicks", "-o", out, "--rate", "48000", "--channels", "1", "--stem", "clicks"])
        #expect(run.status == 0, "\(run.stderr)")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: packageRoot + "/Presets/bum-kicks.yaml")))
        let plan = try decodePreset(bytes, file: "bum-kicks.yaml").plan
        let sound = try readBack(out)
        #expect(sound.frameCount == Int((Timeline.planDuration(of: plan) * 48_000).rounded()))
        // Every click of the plan is in the file where the timeline puts it.
        var timeline = Timeline(plan: plan, sampleRate: 48_000)
        var expected: [Int] = []
        while let e = timeline.peek() { expected.append(Int(e.frame)); timeline.advance() }
        #expect(clickOnsets(sound.samples, gap: 100) == expected)
    }

    @Test func durationCapsAPresetAndSpmOverridesItsCadence() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let out = dir + "/capped.wav"
        let run = try stridecue(["render", "bum-kicks", "--duration", "3s", "--spm", "200", "-o", out])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try readBack(out).frameCount == 3 * 48_000)
    }

    @Test func recordedClickAtAnotherRateIsConverted() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let out = dir + "/stick.wav"
        let run = try stridecue(["render", "--sound", "stick", "--duration", "4s", "--spm", "120",
                                 "--channels", "1", "--accent-every", "2", "-o", out])
        #expect(run.status == 0, "\(run.stderr)")
        let sound = try readBack(out)
        // A recording's first quantized sample may round to 0: the onset is within a frame.
        let found = clickOnsets(sound.samples)
        #expect(found.count == 8)
        for (k, f) in found.enumerated() { #expect(abs(f - k * 24_000) <= 1, "click \(k) at \(f)") }
        // The 44.1 kHz stick lasts 90 ms: at 48 kHz, about 4 320 frames, not 3 969.
        let firstClick = sound.samples[0..<20_000]
        let lastNonZero = firstClick.lastIndex(where: { $0 != 0 })!
        #expect(abs(lastNonZero - 4_320) < 200, "click length \(lastNonZero)")
    }

    /// Every flag case is parsed in process (StrideCueCommandTests); these check the binary
    /// end to end: one line, exit 64, nothing written — for a value ArgumentParser refuses,
    /// one a command's check refuses, and one only the preflight can (an unknown sound).
    @Test(arguments: [
        (["--spm", "0"], "stridecue: --spm must be a number of steps per minute from 30 to 300, such as 172.5; got '0'"),
        (["--subdivide", "5"], "stridecue: --subdivide must be a whole number from 1 to 4; got '5'"),
        (["--sound", "gong"], "stridecue: --sound must be one of: woodblock, beep, cowbell, stick; got 'gong'"),
    ])
    func badFlagsExit64WithOneLine(flags: [String], message: String) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let run = try stridecue(["render"] + flags + ["-o", dir + "/x.wav"])
        #expect(run.status == 64)
        #expect(run.stderr == message + "\n")
        #expect(files(in: dir).isEmpty)
    }

    @Test func badPresetExits65WithItsPosition() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = dir + "/bad.yaml"
        try "name: Bad\ncadence: 0\n".write(toFile: preset, atomically: true, encoding: .utf8)
        let run = try stridecue(["render", preset, "-o", dir + "/x.wav"])
        #expect(run.status == 65)
        #expect(run.stderr == "stridecue: \(preset):2:10: cadence must be between 30 and 300 steps per minute, got 0\n")
        #expect(files(in: dir) == ["bad.yaml"])
    }

    @Test func unknownSoundInAPresetExits65() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = dir + "/gong.yaml"
        try "cadence: 180\nsound: gong\n".write(toFile: preset, atomically: true, encoding: .utf8)
        let run = try stridecue(["render", preset, "-o", dir + "/x.wav"])
        #expect(run.status == 65)
        #expect(run.stderr.hasPrefix("stridecue: \(preset):2:8: unknown click sound 'gong'"), "\(run.stderr)")
    }

    @Test func missingPresetExits66() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let named = try stridecue(["render", "no-such-drill", "-o", dir + "/x.wav"])
        #expect(named.status == 66)
        #expect(named.stderr.hasPrefix("stridecue: no preset named 'no-such-drill'; built-in presets: "))
        let path = try stridecue(["render", dir + "/none.yaml", "-o", dir + "/x.wav"])
        #expect(path.status == 66)
        #expect(path.stderr == "stridecue: \(dir)/none.yaml: no such preset file\n")
    }

    @Test func outputInAMissingFolderExits73() throws {
        let run = try stridecue(["render", "--duration", "1s", "-o", "/nonexistent-folder/x.wav"])
        #expect(run.status == 73)
        #expect(run.stderr == "stridecue: /nonexistent-folder/x.wav: No such file or directory\n")
    }

    @Test func fileSizeLimitIsAnIOErrorAndLeavesNothing() throws {
        // A file-size limit makes write(2) fail part way, like a full disk.
        let folder = try TemporaryFolder(), dir = folder.path
        let run = try stridecue(["render", "--duration", "10m", "-o", dir + "/big.wav"],
                                shellPrefix: "ulimit -f 200; trap '' XFSZ")
        #expect(run.status == 74)
        #expect(run.stderr.hasPrefix("stridecue: \(dir)/big.wav: File too large"), "\(run.stderr)")
        #expect(files(in: dir).isEmpty)
    }

    /// A 1 MiB tmpfs, which root may mount (CI runs as root).
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func fullDiskIsAnIOErrorAndLeavesNothing() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "cannot mount a tmpfs on \(dir)")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [dir]
            try? umount.run()
            umount.waitUntilExit()
        }
        let run = try stridecue(["render", "--duration", "1m", "-o", dir + "/full.wav"])
        #expect(run.status == 74)
        #expect(run.stderr == "stridecue: \(dir)/full.wav: No space left on device\n")
        #expect(files(in: dir).isEmpty)
    }

    @Test(arguments: [(SIGINT, Int32(130), "interrupted"), (SIGTERM, Int32(143), "terminated")])
    func interruptMidWriteLeavesNoFile(signal: Int32, status: Int32, word: String) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let out = dir + "/long.wav"
        // Two hours of mono: seconds of work, and bounded (under 700 MB) should the signal ever
        // be missed. The signal comes once the track is being written, past its first megabyte.
        let running = try launch(["render", "--duration", "2h", "--channels", "1", "-o", out])
        #expect(waitUntilWriting(pid: running.pid, into: dir, pastBytes: 1 << 20))
        kill(running.pid, signal)
        let run = running.wait()
        #expect(run.status == status)
        #expect(run.stderr == "stridecue: \(word); nothing was written to \(out)\n")
        #expect(files(in: dir).isEmpty)
    }
}

@Suite("Progress bar")
struct ProgressBarTests {
    @Test func progressBarShowsOnATerminalOnly() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        // `script` gives the binary a pseudo-terminal; a zero delay stands in for a long render.
        let command = "'\(stridecueBinary)' render --duration 20s -o '\(dir)/t.wav'"
        let (status, text) = try runOnTerminal(command)
        #expect(status == 0)
        #expect(text.contains("] 100%  0:20 / 0:20"), "\(text.debugDescription)")
        // --quiet silences it even on a terminal.
        let quietText = try runOnTerminal(command + " --quiet").text
        #expect(!quietText.contains("%"), "\(quietText.debugDescription)")
    }
}

/// 16-bit samples are quantized to the same offset within a cache line as the file position
/// they are written to, which lets the kernel copy them twice as fast (a WAV's data starts at 44).
@Suite("Placing 16-bit blocks")
struct Int16PlacementTests {
    @Test(arguments: [0, 2, 44, 64, 100, 4_140, 1 << 40])
    func blocksShareTheirFileOffsetsPlaceInACacheLine(offset: Int) {
        let space = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 1_000 + SoundFileWriter.int16Slack)
        defer { space.deallocate() }
        let start = SoundFileWriter.int16Destination(in: space, forFileOffset: Int64(offset))
        #expect((Int(bitPattern: start) - offset) & 63 == 0)
        #expect(start >= space.baseAddress! && start + 1_000 <= space.baseAddress! + space.count)
    }

    @Test func anOddOffsetKeepsTheSamplesAligned() {
        let space = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 100 + SoundFileWriter.int16Slack)
        defer { space.deallocate() }
        #expect(SoundFileWriter.int16Destination(in: space, forFileOffset: 45) == space.baseAddress!)
    }
}
