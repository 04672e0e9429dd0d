import Foundation
import Testing
import StrideCueCore
import StrideCueSoundFile
import StrideCuePresets
import StrideCueTestSupport

/// Issue 14 on the real binary: what an attacker or an unlucky user feeds StrideCue — audio
/// that is not numbers, FIFOs, concurrent edits, terminal escapes in files, a SIGKILL mid-write,
/// a private output — ends in one line and the right exit code, never a crash, a hang, a lost
/// edit, a raw escape or a file left behind.
@Suite("Hostile input, end to end", .serialized)
struct HostileInputTests {
    // MARK: Audio that is not numbers

    static let badValues: [(name: String, value: Float)] = [("nan", .nan), ("inf", .infinity), ("-inf", -.infinity)]
    static let inputs = ["music", "cue", "click"]
    static let formats = ["wav", "flac", "ogg", "opus", "mp3"]

    /// Every input × every output format × NaN, +Inf and −Inf: exit 65, one line naming the
    /// file, and nothing in the folder but what the test put there.
    @Test(arguments: inputs, formats)
    func nonFiniteAudioIsRefusedThroughEveryInputAndFormat(input: String, format: String) throws {
        for bad in Self.badValues {
            let folder = try TemporaryFolder(), dir = folder.path
            // 3 s of a soft tone with one bad sample late in it: music is read while rendering,
            // after the output has been opened.
            let rate = 44_100
            var samples = (0..<3 * rate).map { Float(0.2 * sin(2 * Double.pi * 330 * Double($0) / Double(rate))) }
            samples[Int(2.5 * Double(rate))] = bad.value
            var arguments: [String]
            var environment: [String: String] = [:]
            let badFile: String
            switch input {
            case "music":
                badFile = dir + "/music.wav"
                try writeFloatWAV(samples, to: badFile, rate: rate)
                arguments = ["render", "--spm", "180", "--duration", "10s", "--music", badFile]
            case "cue":
                badFile = dir + "/coach.wav"
                var cue = Array(samples[0..<rate])
                cue[rate / 2] = bad.value
                try writeFloatWAV(cue, to: badFile, rate: rate)
                let preset = dir + "/drill.yaml"
                try "cadence: 180\nset: {steps: 16}\ncues:\n  - {sound: coach.wav, at: step 3, steps: 4}\n"
                    .write(toFile: preset, atomically: false, encoding: .utf8)
                arguments = ["render", preset]
            default:
                // A click sound is looked up by name in the data folder's Sounds/clicks/.
                let clicks = dir + "/data/Sounds/clicks"
                try FileManager.default.createDirectory(atPath: clicks, withIntermediateDirectories: true)
                var click = [Float](repeating: 0, count: 2_000)
                click[100] = 0.5
                click[200] = bad.value
                badFile = clicks + "/tock.wav"
                try writeFloatWAV(click, to: badFile, rate: rate)
                let preset = dir + "/drill.yaml"
                try "cadence: 180\nset: {steps: 16}\nsound: tock\n".write(toFile: preset, atomically: false, encoding: .utf8)
                arguments = ["render", preset]
                environment["STRIDECUE_DATA"] = dir + "/data"
            }
            let before = files(in: dir)
            let out = dir + "/out." + format
            let run = try runWithDeadline(arguments + ["-o", out], environment: environment)
            let context = "\(input) \(bad.name) → \(format): \(run.stderr)"
            #expect(run.status == 65, "\(context)")
            #expect(run.stderr.hasSuffix("holds samples that are not numbers (NaN or infinity); StrideCue refuses such audio\n"), "\(context)")
            #expect(run.stderr.contains((badFile as NSString).lastPathComponent), "\(context)")
            #expect(run.stderr.filter { $0 == "\n" }.count == 1, "\(context)")
            #expect(files(in: dir) == before, "\(context)")
        }
    }

    /// The WAVs above really hold what they say: libsndfile decodes them, and the reader refuses them.
    @Test func theFloatWAVsDecodeToTheirBadSamples() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        try writeFloatWAV([0.25, -0.5], to: dir + "/good.wav", rate: 8_000)
        let good = try readBack(dir + "/good.wav")
        #expect(good.samples == [0.25, -0.5] && good.sampleRate == 8_000 && good.channels == 1)
        for bad in Self.badValues {
            try writeFloatWAV([0.25, bad.value], to: dir + "/bad.wav", rate: 8_000)
            #expect(throws: SoundFileError.self) { try readBack(dir + "/bad.wav") }
        }
    }

    // MARK: FIFOs

    static let fifoPositions = ["preset path", "preset check", "STRIDECUE_PRESETS entry", "user preset", "music",
                                "cue sound", "click sound", "click accent"]

    /// A FIFO wherever a file is read: one line, exit 66, and the command returns (nothing
    /// ever opens the FIFO's other end, so a blocking open would hang until the deadline).
    @Test(arguments: fifoPositions)
    func aFifoInEveryInputPositionIsRefused(position: String) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let home = try ConfigHome()
        var environment = home.environment
        let fifo: String
        var arguments: [String]
        let preset = dir + "/drill.yaml"
        switch position {
        case "preset path", "preset check":
            fifo = dir + "/piped.yaml"
            arguments = position == "preset path" ? ["render", fifo, "-o", dir + "/o.wav"] : ["preset", "check", fifo]
        case "STRIDECUE_PRESETS entry":
            try FileManager.default.createDirectory(atPath: dir + "/extra", withIntermediateDirectories: true)
            fifo = dir + "/extra/piped.yaml"
            environment["STRIDECUE_PRESETS"] = dir + "/extra"
            arguments = ["render", "piped", "-o", dir + "/o.wav"]
        case "user preset":
            try FileManager.default.createDirectory(atPath: home.presets, withIntermediateDirectories: true)
            fifo = home.presets + "/mine.yaml"
            arguments = ["preset", "set", "mine", "cadence=170"]
        case "music":
            fifo = dir + "/music.wav"
            arguments = ["render", "--spm", "180", "--duration", "5s", "--music", fifo, "-o", dir + "/o.mp3"]
        case "cue sound":
            fifo = dir + "/coach.wav"
            try "cadence: 180\nset: {steps: 8}\ncues:\n  - {sound: coach.wav, at: step 3}\n"
                .write(toFile: preset, atomically: false, encoding: .utf8)
            arguments = ["render", preset, "-o", dir + "/o.wav"]
        default:
            let clicks = dir + "/data/Sounds/clicks"
            try FileManager.default.createDirectory(atPath: clicks, withIntermediateDirectories: true)
            if position == "click accent" {
                var click = [Float](repeating: 0, count: 500)
                click[10] = 0.5
                try writeFloatWAV(click, to: clicks + "/tock.wav", rate: 48_000)
                fifo = clicks + "/tock-accent.wav"
            } else {
                fifo = clicks + "/tock.wav"
            }
            try "cadence: 180\nset: {steps: 8}\nsound: tock\n".write(toFile: preset, atomically: false, encoding: .utf8)
            environment["STRIDECUE_DATA"] = dir + "/data"
            arguments = ["render", preset, "-o", dir + "/o.wav"]
        }
        #expect(mkfifo(fifo, 0o644) == 0)
        let run = try runWithDeadline(arguments, environment: environment)
        #expect(run.status == 66, "\(position): \(run.stderr)")
        // A cue's recording, or the click sound, is named with the place in the preset that names it.
        let place = position == "cue sound" ? "\(preset):4:13: "
            : position.hasPrefix("click") ? "\(preset):3:8: sound: " : ""
        #expect(run.stderr == "stridecue: \(place)\(fifo): not a regular file (a FIFO, device or socket)\n", "\(position)")
        #expect(!files(in: dir).contains { $0.hasPrefix("o.") || $0.hasPrefix(".o.") })

        if position == "STRIDECUE_PRESETS entry" || position == "user preset" {
            // The listing reads every preset: it returns, and names the FIFO as invalid.
            let list = try runWithDeadline(["presets"], environment: environment)
            #expect(list.status == 0, "\(list.stderr)")
            #expect(list.stdout.contains("invalid: see 'stridecue preset check \(position == "user preset" ? "mine" : "piped")'"), "\(list.stdout)")
        }
    }

    // MARK: Concurrent edits

    /// 50 rounds of two `preset set` at once on one preset, each setting its own key: both
    /// say they saved, and both edits are in the file.
    @Test func fiftyConcurrentEditPairsLoseNothing() throws {
        let home = try ConfigHome()
        try home.add("drill", "# my drill\nname: Drill\ncadence: 180   # fast\nset: {steps: 40}\nrest: 60 s\n")
        for round in 0..<50 {
            let cadence = 150 + round
            let rest = 10 + round
            let first = try launch(["preset", "set", "drill", "cadence=\(cadence)"], environment: home.environment)
            let second = try launch(["preset", "set", "drill", "rest=\(rest)s"], environment: home.environment)
            let (a, b) = (first.wait(), second.wait())
            #expect(a.status == 0 && b.status == 0, "round \(round): \(a.stderr) \(b.stderr)")
            let text = try #require(contents(home.presets + "/drill.yaml"))
            let plan = try decodePreset(Array(text), file: "drill.yaml").plan
            #expect(plan.cadence == Double(cadence) && plan.rest == Double(rest), "round \(round) lost an edit: \(String(decoding: text, as: UTF8.self))")
            if plan.cadence != Double(cadence) || plan.rest != Double(rest) { break }
        }
        let text = String(decoding: try #require(contents(home.presets + "/drill.yaml")), as: UTF8.self)
        #expect(text == "# my drill\nname: Drill\ncadence: 199   # fast\nset: {steps: 40}\nrest: 59 s\n")  // in the file's style
        // The lock is on the folder: nothing is left beside the preset.
        #expect(files(in: home.presets) == ["drill.yaml"])
    }

    // MARK: Terminal escapes

    /// A preset whose name, about, caution and cue recording's file name carry ESC, BEL and a
    /// newline, and preset files with such names: no raw ESC or BEL byte reaches the terminal,
    /// the cue sheet or the SVG; each shows escaped.
    @Test func anEscapeLadenPresetReachesNoOutputRaw() throws {
        let home = try ConfigHome()
        let folder = try TemporaryFolder(), dir = folder.path
        let recording = "co\u{1B}[2Jach\n.wav"
        var tone = (0..<4_800).map { Float(0.3 * sin(Double($0) / 8)) }
        tone += [Float](repeating: 0, count: 100)
        try FileManager.default.createDirectory(atPath: home.presets, withIntermediateDirectories: true)
        try writeFloatWAV(tone, to: home.presets + "/" + recording, rate: 48_000)
        try home.add("evil", """
            name: "\\e]0;PWNED\\a\\e[2J"
            about: "about \\e[31mred\\x9b2J"
            caution: "\\e]0;caution\\a"
            cadence: 180
            set: {steps: 8}
            cues:
              - {sound: "co\\e[2Jach\\n.wav", at: step 3}

            """)
        // Preset files whose names are not preset names are listed as skipped, by path.
        try "cadence: 180\n".write(toFile: home.presets + "/bad\u{1B}]0;x\u{07}\nname.yaml", atomically: false, encoding: .utf8)
        let svg = dir + "/plan.svg"
        let sheet = dir + "/cues.csv"
        let runs = [
            try runWithDeadline(["presets"], environment: home.environment),
            try runWithDeadline(["preset", "show", "evil", "--svg", svg], environment: home.environment),
            try runWithDeadline(["preset", "check", "evil"], environment: home.environment),
            try runWithDeadline(["render", "evil", "-o", dir + "/out.wav", "--cue-sheet", sheet], environment: home.environment),
            try runWithDeadline(["render", "evil", "-o", dir + "/out.wav", "--cue-sheet", "-"], environment: home.environment),
        ]
        for (index, run) in runs.enumerated() {
            #expect(run.status == 0, "run \(index): \(run.stderr)")
            for (stream, text) in [("stdout", run.stdout), ("stderr", run.stderr)] {
                #expect(!text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{9B}" },
                        "run \(index) \(stream): \(text.debugDescription)")
            }
        }
        #expect(runs[0].stderr.contains("skipping \(home.presets)/bad\\u{1b}]0;x\\u{7}\\u{a}name.yaml: preset names are"),
                "\(runs[0].stderr.debugDescription)")
        #expect(runs[1].stdout.contains("\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J"), "\(runs[1].stdout.debugDescription)")
        #expect(runs[4].stdout.contains("co\\u{1b}[2Jach\\u{a}.wav"), "\(runs[4].stdout.debugDescription)")
        for path in [svg, sheet] {
            let bytes = try #require(contents(path))
            #expect(!bytes.contains(0x1B) && !bytes.contains(0x07), "\(path)")
        }
        // The SVG stays well-formed XML with the escaped name in it.
        let texts = try xmlTexts(try #require(contents(svg)))
        #expect(texts.contains { $0.contains("\\u{1b}]0;PWNED") }, "\(texts)")

        // An error that quotes the preset's text escapes it too.
        try home.add("worse", "cadence: 180\n\"\\e[2J\\a\": 1\n")
        let refused = try runWithDeadline(["preset", "check", "worse"], environment: home.environment)
        #expect(refused.status == 65)
        #expect(refused.stderr.hasSuffix("2:1: unknown key '\\u{1b}[2J\\u{7}'; allowed keys: name, about, caution, cadence, ramp, count-in, sets, set, rest, accent, subdivide, sound, cues, feedback\n"),
                "\(refused.stderr.debugDescription)")
    }

    // MARK: Killed mid-write

    /// A render killed by SIGKILL while it writes leaves no file once the next run has written
    /// into the same folder: with `O_TMPFILE` none ever appears; with the named fallback
    /// (forced, as on a file system without `O_TMPFILE`) the next run removes the dead writer's.
    @Test(arguments: [false, true])
    func aRenderKilledMidWriteLeavesNothingAfterTheNextRun(namedFallback: Bool) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let environment = namedFallback ? ["STRIDECUE_FAIL_FILE_CALL": "O_TMPFILE"] : [:]
        let long = try launch(["render", "--spm", "180", "--duration", "20m", "-o", dir + "/long.wav"], environment: environment)
        // Wait (without a clock) until the writer is well into its file, then kill it.
        let writing = waitUntilWriting(pid: long.pid, into: dir, pastBytes: 4 << 20)
        kill(long.pid, SIGKILL)
        let killed = long.wait()
        #expect(writing, "the render never got to writing: \(killed.stderr)")
        #expect(killed.status == SIGKILL, "status \(killed.status)")
        let left = files(in: dir)
        if namedFallback {
            #expect(left.count == 1 && left[0].hasPrefix(".long.wav.stridecue-\(long.pid)-"), "\(left)")
        } else {
            #expect(left == [], "\(left)")
        }

        let next = try runWithDeadline(["render", "--spm", "180", "--duration", "5s", "-o", dir + "/short.wav"], environment: environment)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(files(in: dir) == ["short.wav"])
    }

    // MARK: Modes

    /// An output the user made private stays private when it is replaced: a WAV, an MP3, a
    /// cue sheet and an SVG; and a FIFO where the output goes is refused (73) and left as it is.
    @Test func aPrivateOutputStaysPrivateWhenReplaced() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = dir + "/drill.yaml"
        try "cadence: 180\nset: {steps: 16}\ncues:\n  - {say: go, at: step 3}\n".write(toFile: preset, atomically: false, encoding: .utf8)
        func mode(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
        let outputs: [(path: String, arguments: [String])] = [
            (dir + "/out.wav", ["render", preset, "-o", dir + "/out.wav"]),
            (dir + "/out.mp3", ["render", preset, "-o", dir + "/out.mp3"]),
            (dir + "/cues.csv", ["render", preset, "-o", dir + "/x.wav", "--cue-sheet", dir + "/cues.csv"]),
            (dir + "/plan.svg", ["preset", "show", preset, "--svg", dir + "/plan.svg"]),
        ]
        for (path, arguments) in outputs {
            let first = try runWithDeadline(arguments)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(chmod(path, 0o600) == 0)
            let before = contents(path)
            try "cadence: 172.5\nset: {steps: 16}\ncues:\n  - {say: go, at: step 4}\n".write(toFile: preset, atomically: false, encoding: .utf8)
            let again = try runWithDeadline(arguments)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(contents(path) != before, "\(path) was not replaced")
            #expect(mode(path) == 0o600, "\(path): \(String(mode(path), radix: 8))")
            try "cadence: 180\nset: {steps: 16}\ncues:\n  - {say: go, at: step 3}\n".write(toFile: preset, atomically: false, encoding: .utf8)
        }

        let fifo = dir + "/pipe.wav"
        #expect(mkfifo(fifo, 0o644) == 0)
        let refused = try runWithDeadline(["render", preset, "-o", fifo])
        #expect(refused.status == 73, "\(refused.stderr)")
        #expect(refused.stderr.filter { $0 == "\n" }.count == 1, "\(refused.stderr)")
        var st = stat()
        #expect(lstat(fifo, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO)
    }
}

// MARK: Helpers

/// A mono or interleaved IEEE-float WAV (format 3), written byte by byte so NaN and the
/// infinities land in the file exactly as given.
func writeFloatWAV(_ samples: [Float], to path: String, rate: Int, channels: Int = 1) throws {
    var data = Data()
    func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { data.append(contentsOf: $0) } }
    func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { data.append(contentsOf: $0) } }
    let bytes = samples.count * 4
    data.append(contentsOf: Array("RIFF".utf8)); u32(36 + bytes); data.append(contentsOf: Array("WAVE".utf8))
    data.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(3); u16(channels); u32(rate); u32(rate * 4 * channels)
    u16(4 * channels); u16(32)
    data.append(contentsOf: Array("data".utf8)); u32(bytes)
    for sample in samples { withUnsafeBytes(of: sample.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    try data.write(to: URL(fileURLWithPath: path))
}

/// Runs the binary under coreutils' `timeout`, so a command that hangs (on a FIFO, say) ends
/// the test with a failure instead of blocking it: SIGTERM after 60 s, SIGKILL 5 s later
/// (status 124 or 137). A guard against a hang, not a measure of speed.
func runWithDeadline(_ arguments: [String], environment: [String: String] = [:]) throws -> RunResult {
    let run = try launch(["--kill-after=5", "60", stridecueBinary] + arguments, environment: environment,
                         executable: "/usr/bin/timeout").wait()
    #expect(run.status != 124 && run.status != 137, "stridecue \(arguments) hung: \(run.stderr)")
    return run
}

/// Polls `/proc/PID/fdinfo` until the process holds a file in `folder` open for writing at an
/// offset past `pastBytes`; false when the process ends first.
func waitUntilWriting(pid: Int32, into folder: String, pastBytes: Int) -> Bool {
    let resolvedFolder = (try? FileManager.default.destinationOfSymbolicLink(atPath: folder)) ?? folder
    // A process that has ended but not been waited for still answers kill(pid, 0): read its state.
    func running() -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[close...].hasPrefix(") Z") && !stat[close...].hasPrefix(") X")
    }
    while running() {
        for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                  target.hasPrefix(folder + "/") || target.hasPrefix(resolvedFolder + "/"),
                  let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8),
                  let line = info.split(separator: "\n").first(where: { $0.hasPrefix("pos:") }),
                  let position = Int(line.dropFirst(4).trimmingCharacters(in: .whitespaces)) else { continue }
            if position > pastBytes { return true }
        }
        usleep(2_000)
    }
    return false
}
