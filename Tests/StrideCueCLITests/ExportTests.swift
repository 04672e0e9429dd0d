import Foundation
import Testing
import StrideCueCore
import StrideCueLoudness
import StrideCueSoundFile
import StrideCuePresets
import StrideCueTestSupport

// `stridecue export`, end to end: every format, tags, loudness (checked by libebur128 and by
// ffmpeg's ebur128 filter), music, skipping files already up to date, and failures that leave
// no partial files.

/// A short drill (4-click count-in, 12 s at 180 spm): 13⅓ s of track, quick even in a debug build.
func writeDrill(in dir: String, file: String = "drill.yaml", name: String = "Bum kicks", cadence: String = "180",
                seconds: Int = 12) throws -> String {
    let path = "\(dir)/\(file)"
    try "name: \(name)\ncadence: \(cadence)\ncount-in: 4\nset: {duration: \(seconds) s}\naccent: 2\n"
        .write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func planSeconds(_ preset: String) throws -> Double {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: preset)))
    return Timeline.planDuration(of: try decodePreset(bytes, file: preset).plan)
}

/// Runs a program found on PATH (ffmpeg, ffprobe, mount).
@discardableResult
func runTool(_ name: String, _ arguments: [String]) throws -> RunResult {
    try runProgram("/usr/bin/env", [name] + arguments)
}

let ffmpegAvailable: Bool = (try? runTool("ffprobe", ["-version"]).status) == 0

/// Duration and tags as ffprobe reports them (format and stream tags together, keys lowercased:
/// Ogg keeps its tags on the stream).
func probe(_ path: String) throws -> (duration: Double, tags: [String: String]) {
    let run = try runTool("ffprobe", ["-v", "error", "-show_entries", "format=duration:format_tags:stream_tags",
                                      "-of", "default=noprint_wrappers=1", path])
    var duration = 0.0
    var tags: [String: String] = [:]
    for line in run.stdout.split(separator: "\n") {
        guard let eq = line.firstIndex(of: "=") else { continue }
        let key = line[..<eq].lowercased(), value = String(line[line.index(after: eq)...])
        if key == "duration" { duration = Double(value) ?? 0 }
        if key.hasPrefix("tag:") { tags[String(key.dropFirst(4))] = value }
    }
    return (duration, tags)
}

/// Integrated loudness and true peak by ffmpeg's ebur128 filter. ffmpeg counts a mono channel
/// once; StrideCue normalizes mono as dual mono (it plays on both earbuds), 3.01 dB louder.
func ffmpegLoudness(_ path: String, mono: Bool = false) throws -> (integrated: Double, truePeak: Double) {
    let run = try runTool("ffmpeg", ["-nostdin", "-hide_banner", "-nostats", "-i", path, "-af", "ebur128=peak=true",
                                     "-f", "null", "-"])
    let summary = run.stderr.components(separatedBy: "Summary:").last ?? ""
    func value(_ label: String) -> Double? {
        guard let line = summary.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) })
        else { return nil }
        return line.split(separator: " ").compactMap { Double($0) }.first
    }
    return ((value("I:") ?? .nan) + (mono ? 3.01 : 0), value("Peak:") ?? .nan)
}

/// Integrated loudness and true peak of the decoded file through StrideCue's libebur128 path.
func ourLoudness(_ path: String) throws -> (integrated: Double, truePeak: Double, frames: Int, channels: Int) {
    let sound = try readBack(path)
    var meter = try LoudnessMeter(channels: sound.channels, sampleRate: sound.sampleRate, dualMono: true, truePeak: true)
    try sound.samples.withUnsafeBufferPointer { try meter.add($0) }
    return (try meter.integratedLoudness(), try meter.truePeak(), sound.frameCount, sound.channels)
}

func today() -> String {
    let f = DateFormatter()
    f.dateFormat = "yyyy-MM-dd"
    return f.string(from: Date())
}

/// Size and modification time of every file in a folder, hidden ones included.
func snapshot(_ dir: String) -> [String: String] {
    var result: [String: String] = [:]
    for name in files(in: dir) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: "\(dir)/\(name)")
        let data = FileManager.default.contents(atPath: "\(dir)/\(name)") ?? Data()
        result[name] = "\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) \(data.base64EncodedString())"
    }
    return result
}

/// Mounts a tmpfs of `size` on `dir` (root only), with extra options; nil when it cannot.
func mountTmpfs(_ dir: String, size: String, options: String = "") -> (() -> Void)? {
    guard getuid() == 0, (try? runTool("mount", ["-t", "tmpfs", "-o", "size=\(size)\(options)", "tmpfs", dir]).status) == 0 else {
        return nil
    }
    return { _ = try? runTool("umount", [dir]) }
}

@Suite("stridecue export, end to end", .serialized, .enabled(if: ffmpegAvailable, "ffmpeg and ffprobe are needed (make test-deps)"))
struct ExportTests {
    @Test(arguments: ["mp3", "opus", "ogg", "flac", "wav"])
    func everyFormatDecodesCleanlyAtTheTargetLoudnessWithItsTags(format: String) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let drill = try writeDrill(in: dir)
        let out = dir + "/phone"
        let run = try stridecue(["export", drill, "--to", out, "--format", format])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty)   // not a terminal: no progress bar
        let name = "drill-180spm.\(format)"
        #expect(files(in: out) == [".stridecue-export", "Drills.m3u8", name])
        #expect(run.stdout.hasPrefix("\(name): written, -16.0 LUFS"), "\(run.stdout)")
        let file = "\(out)/\(name)"

        // Decodes without a single warning.
        let decode = try runTool("ffmpeg", ["-nostdin", "-v", "warning", "-i", file, "-f", "null", "-"])
        #expect(decode.status == 0)
        #expect(decode.stderr.isEmpty, "ffmpeg: \(decode.stderr)")

        // As long as the plan, to the frame when decoded (MP3 and Opus drop their padding).
        let seconds = try planSeconds(drill)
        let (duration, tags) = try probe(file)
        #expect(abs(duration - seconds) < 0.05, "ffprobe: \(duration) s, plan \(seconds) s")
        let measured = try ourLoudness(file)
        #expect(measured.channels == 2)
        #expect(abs(measured.frames - Int((seconds * 48_000).rounded())) <= (format == "mp3" ? 1_152 : 0),
                "\(measured.frames) frames decoded")

        // Labelled for a phone.
        #expect(tags["title"] == "Bum kicks — 180 spm", "\(tags)")
        #expect(tags["artist"] == "StrideCue")
        #expect(tags["album"] == "Drills")
        #expect(tags["comment"] == "1 set of 12 s, 180 spm, count-in 4, accent every 2, woodblock")
        #expect(tags["date"] == today())

        // −16 LUFS and under −1 dBTP, by libebur128 and by ffmpeg.
        #expect(abs(measured.integrated + 16) <= 0.5, "libebur128: \(measured.integrated) LUFS")
        #expect(measured.truePeak <= -1, "libebur128: \(measured.truePeak) dBTP")
        let ffmpeg = try ffmpegLoudness(file)
        #expect(abs(ffmpeg.integrated + 16) <= 0.5, "ffmpeg: \(ffmpeg.integrated) LUFS")
        #expect(ffmpeg.truePeak <= -1, "ffmpeg: \(ffmpeg.truePeak) dBTP")

        let playlist = try String(contentsOfFile: "\(out)/Drills.m3u8", encoding: .utf8)
        #expect(playlist == "#EXTM3U\n#EXTINF:13,Bum kicks — 180 spm\n\(name)\n")
    }

    @Test func anotherTargetAMonoFileAndAQuality() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let drill = try writeDrill(in: dir)
        let run = try stridecue(["export", drill, "--to", dir + "/a", "--loudness", "-20", "--channels", "1",
                                 "--quality", "4", "--rate", "44100"])
        #expect(run.status == 0, "\(run.stderr)")
        let file = dir + "/a/drill-180spm.mp3"
        let measured = try ourLoudness(file)
        #expect(measured.channels == 1)
        #expect(abs(measured.integrated + 20) <= 0.5, "libebur128: \(measured.integrated) LUFS")
        #expect(measured.truePeak <= -1)
        let ffmpeg = try ffmpegLoudness(file, mono: true)
        #expect(abs(ffmpeg.integrated + 20) <= 0.5, "ffmpeg (+3 dB for dual mono): \(ffmpeg.integrated) LUFS")
        #expect(ffmpeg.truePeak <= -1)
        // A mono WAV for a phone carries its speaker (front centre), so nothing has to guess.
        let wav = try stridecue(["export", drill, "--to", dir + "/w", "--format", "wav", "--channels", "1"])
        #expect(wav.status == 0, "\(wav.stderr)")
        let decode = try runTool("ffmpeg", ["-nostdin", "-v", "warning", "-i", dir + "/w/drill-180spm.wav", "-f", "null", "-"])
        #expect(decode.stderr.isEmpty, "ffmpeg: \(decode.stderr)")
        #expect(try probe(dir + "/w/drill-180spm.wav").tags["title"] == "Bum kicks — 180 spm")
    }

    @Test func musicPlaysUnderTheClicksAtItsLevel() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let drill = try writeDrill(in: dir)
        // 5 s of a chord at 44.1 kHz, stereo: looped and resampled under 13⅓ s of clicks.
        let music = dir + "/music.flac"
        var samples = [Float](repeating: 0, count: 5 * 44_100 * 2)
        for i in 0..<(5 * 44_100) {
            let t = Double(i) / 44_100
            let v = Float(0.3 * sin(2 * .pi * 220 * t) + 0.2 * sin(2 * .pi * 330 * t) + 0.1 * sin(2 * .pi * 440 * t))
            samples[2 * i] = v
            samples[2 * i + 1] = v * 0.8
        }
        var writer = try SoundFileWriter(path: music, format: RenderFormat(sampleRate: 44_100, channels: 2), type: .flac)
        try samples.withUnsafeBufferPointer { try writer.write($0) }
        try writer.commit()

        // Normalized, with the music, to the target and under the ceiling.
        let out = dir + "/music"
        let run = try stridecue(["export", drill, "--to", out, "--format", "flac", "--music", music])
        #expect(run.status == 0, "\(run.stderr)")
        let file = out + "/drill-180spm-music.flac"
        let measured = try ourLoudness(file)
        #expect(abs(measured.integrated + 16) <= 0.5, "\(measured.integrated) LUFS")
        #expect(measured.truePeak <= -1)
        let ffmpeg = try ffmpegLoudness(file)
        #expect(abs(ffmpeg.integrated + 16) <= 0.5, "ffmpeg: \(ffmpeg.integrated) LUFS")
        #expect(ffmpeg.truePeak <= -1)
        #expect(try gapLevel(file) > -40, "the music plays between the clicks")

        // Without normalization the clicks keep their level, so the music's level shows as is:
        // -6 and -20 dB relative to the clicks are 14 dB apart between two clicks.
        var levels: [Double] = []
        for level in ["-6", "-20"] {
            let raw = dir + "/raw\(level)"
            let run = try stridecue(["export", drill, "--to", raw, "--format", "flac", "--music", music,
                                     "--music-level", level, "--no-normalize"])
            #expect(run.status == 0, "\(run.stderr)")
            levels.append(try gapLevel(raw + "/drill-180spm-music.flac"))
        }
        #expect(abs(levels[0] - levels[1] - 14) < 0.2, "\(levels)")
    }

    /// The level in dBFS between two clicks (0.1 s to 0.3 s after the tenth step's), where only
    /// the music sounds.
    func gapLevel(_ file: String) throws -> Double {
        let sound = try readBack(file)
        let start = Int((4 * 60 / 180.0 + 3 + 0.1) * 48_000) * sound.channels
        let gap = sound.samples[start..<(start + 9_600 * sound.channels)]
        return 20 * log10((gap.reduce(0.0) { $0 + Double($1 * $1) } / Double(gap.count)).squareRoot())
    }

    @Test func aSecondExportSkipsWhatIsUpToDateAndRedoesWhatChanged() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let first = try writeDrill(in: dir, file: "first.yaml")
        let second = try writeDrill(in: dir, file: "second.yaml", name: "Strides", cadence: "172.5")
        let out = dir + "/out"
        let run = try stridecue(["export", first, second, "--to", out])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(files(in: out) == [".stridecue-export", "Drills.m3u8", "first-180spm.mp3", "second-172.5spm.mp3"])
        let before = snapshot(out)

        let again = try stridecue(["export", first, second, "--to", out])
        #expect(again.status == 0)
        #expect(again.stdout == "first-180spm.mp3: up to date\nsecond-172.5spm.mp3: up to date\n")
        #expect(snapshot(out) == before, "nothing was touched")

        // A changed preset is exported again; the other is left alone.
        try "name: Strides\ncadence: 172.5\nset: {duration: 10 s}\n".write(toFile: second, atomically: true, encoding: .utf8)
        let changed = try stridecue(["export", first, second, "--to", out])
        #expect(changed.stdout.hasPrefix("first-180spm.mp3: up to date\nsecond-172.5spm.mp3: written"), "\(changed.stdout)")
        let after = snapshot(out)
        #expect(after["first-180spm.mp3"] == before["first-180spm.mp3"])
        #expect(after["second-172.5spm.mp3"] != before["second-172.5spm.mp3"])

        // So is everything when an option changes.
        let quality = try stridecue(["export", first, second, "--to", out, "--quality", "5"])
        #expect(!quality.stdout.contains("up to date"), "\(quality.stdout)")
    }

    @Test func aFailedPresetIsReportedAndTheOthersStillExport() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let good = try writeDrill(in: dir, file: "good.yaml")
        let bad = dir + "/bad.yaml"
        try "name: Bad\ncadence: 0\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let out = dir + "/out"
        let run = try stridecue(["export", good, bad, "--to", out, "--format", "ogg"])
        #expect(run.status == 65)
        #expect(run.stderr == "stridecue: \(bad):2:10: cadence must be between 30 and 300 steps per minute, got 0\n")
        #expect(files(in: out) == [".stridecue-export", "Drills.m3u8", "good-180spm.ogg"])
        let playlist = try String(contentsOfFile: out + "/Drills.m3u8", encoding: .utf8)
        #expect(playlist.contains("good-180spm.ogg") && !playlist.contains("bad"))
    }

    @Test func anUnwritableFolderExits73AndLeavesNothing() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let drill = try writeDrill(in: dir)
        let out = dir + "/locked"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        // Root writes anywhere: lock the folder with a read-only mount instead of permissions.
        let unmount = mountTmpfs(out, size: "1m", options: ",ro")
        defer { unmount?() }
        if unmount == nil { chmod(out, 0o555) }
        defer { chmod(out, 0o755) }
        let run = try stridecue(["export", drill, "--to", out])
        #expect(run.status == 73, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("stridecue: \(out)/drill-180spm.mp3: "), "\(run.stderr)")
        #expect(files(in: out).isEmpty)
    }

    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"), arguments: [("wav", "1m"), ("mp3", "32k")])
    func aFullDiskExits74AndLeavesNoPartialFile(format: String, size: String) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let first = try writeDrill(in: dir, file: "first.yaml")
        let second = try writeDrill(in: dir, file: "second.yaml")
        let out = dir + "/small"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        let unmount = try #require(mountTmpfs(out, size: size), "cannot mount a tmpfs on \(out)")
        defer { unmount() }
        // Each file is larger than the whole disk.
        let run = try stridecue(["export", first, second, "--to", out, "--format", format])
        #expect(run.status == 74, "\(run.stderr)")
        #expect(run.stderr == "stridecue: \(out)/first-180spm.\(format): No space left on device\n"
                             + "stridecue: \(out)/second-180spm.\(format): No space left on device\n")
        #expect(files(in: out).isEmpty, "left behind: \(files(in: out))")
    }

    /// Every flag case is parsed in process (StrideCueCommandTests); this checks the binary
    /// end to end: one line, exit 64, no folder made.
    @Test(arguments: [
        (["--format", "opus", "--rate", "44100"],
         "stridecue: --format opus: Opus supports 8000, 12000, 16000, 24000 or 48000 Hz, not 44100"),
    ])
    func badFlagsExit64WithOneLine(flags: [String], message: String) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let drill = try writeDrill(in: dir)
        let run = try stridecue(["export", drill, "--to", dir + "/out"] + flags)
        #expect(run.status == 64)
        #expect(run.stderr == message + "\n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
    }

    @Test func aProgressBarForEachFileOnATerminal() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let first = try writeDrill(in: dir, file: "first.yaml")
        let second = try writeDrill(in: dir, file: "second.yaml")
        // `script` gives the binary a pseudo-terminal; a zero delay stands in for a long export.
        let command = "'\(stridecueBinary)' export '\(first)' '\(second)' --to '\(dir)/out'"
        let (status, text) = try runOnTerminal(command)
        #expect(status == 0)
        for name in ["first-180spm.mp3", "second-180spm.mp3"] {
            #expect(text.contains("\(name)\r\n"), "the file's name above its bar: \(text.debugDescription)")
            #expect(text.contains("\(name): written"))
        }
        #expect(text.components(separatedBy: "] 100%  0:13 / 0:13").count == 3, "\(text.debugDescription)")
    }

    @Test func presetsOrAllButNotBothAndAMissingMusicFile() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let none = try stridecue(["export", "--to", dir + "/out"])
        #expect(none.status == 64)
        #expect(none.stderr == "stridecue: PRESET is missing: name presets or use --all\n")
        let both = try stridecue(["export", "bum-kicks", "--all", "--to", dir + "/out"])
        #expect(both.status == 64)
        let music = try stridecue(["export", "bum-kicks", "--to", dir + "/out", "--music", dir + "/none.mp3"])
        #expect(music.status == 66)
        #expect(music.stderr == "stridecue: \(dir)/none.mp3: no such music file\n")
    }
}

/// True once `render` takes the phone flags (`@OptionGroup var phone: PhoneOptions`).
let renderTakesPhoneFlags: Bool = (try? stridecue(["render", "--help"]).stdout.contains("--loudness")) ?? false

@Suite("stridecue render to a phone format", .serialized,
       .enabled(if: ffmpegAvailable && renderTakesPhoneFlags, "needs ffmpeg, and render with --loudness and --music"))
struct RenderPhoneTests {
    @Test func theExtensionPicksTheFormatAndTheFileIsNormalizedAndTagged() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let drill = try writeDrill(in: dir)
        let out = dir + "/drill.opus"
        let run = try stridecue(["render", drill, "-o", out, "--quality", "5"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(files(in: dir) == ["drill.opus", "drill.yaml"])
        let decode = try runTool("ffmpeg", ["-nostdin", "-v", "warning", "-i", out, "-f", "null", "-"])
        #expect(decode.stderr.isEmpty, "ffmpeg: \(decode.stderr)")
        #expect(try probe(out).tags["title"] == "Bum kicks — 180 spm")
        let measured = try ourLoudness(out)
        #expect(abs(measured.integrated + 16) <= 0.5 && measured.truePeak <= -1, "\(measured)")
        let ffmpeg = try ffmpegLoudness(out)
        #expect(abs(ffmpeg.integrated + 16) <= 0.5 && ffmpeg.truePeak <= -1, "\(ffmpeg)")
    }

    @Test func aRateTheCodecRefusesIsABadFlag() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let run = try stridecue(["render", "--duration", "2s", "--rate", "44100", "-o", dir + "/x.opus"])
        #expect(run.status == 64)
        #expect(run.stderr == "stridecue: -o \(dir)/x.opus: Opus supports 8000, 12000, 16000, 24000 or 48000 Hz, not 44100\n")
        #expect(files(in: dir).isEmpty)
    }

    @Test func musicDucksUnderTheSpokenCaution() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        // A steady tone as music, heard alone in the music stem (the stems of a track, clicks,
        // voice and music, add up to its mix, so the music is in its own stem only).
        let music = dir + "/tone.flac"
        var samples = [Float](repeating: 0, count: 20 * 48_000)
        for i in samples.indices { samples[i] = 0.3 * Float(sin(2 * .pi * 500 * Double(i) / 48_000)) }
        var writer = try SoundFileWriter(path: music, format: RenderFormat(sampleRate: 48_000, channels: 1), type: .flac)
        try samples.withUnsafeBufferPointer { try writer.write($0) }
        try writer.commit()
        let out = dir + "/stem.wav"
        let sheet = try stridecue(["render", "bum-kicks", "--cue-sheet", "-", "--duration", "8s", "-o", dir + "/sheet.wav"])
        let caution = try #require(sheet.stdout.split(separator: "\n").first { $0.hasSuffix(",voice") && $0.hasPrefix("0.000,") },
                                   "bum-kicks has no spoken caution at the start: \(sheet.stdout)")
        let end = try #require(Double(caution.split(separator: ",")[1]), "\(caution)")
        let run = try stridecue(["render", "bum-kicks", "--stem", "music", "--duration", "8s", "-o", out,
                                 "--music", music, "--duck", "10", "--no-normalize", "--channels", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        let sound = try readBack(out)
        func level(_ from: Double, _ to: Double) -> Double {
            let slice = sound.samples[Int(from * 48_000)..<Int(to * 48_000)]
            return 20 * log10((slice.reduce(0.0) { $0 + Double($1 * $1) } / Double(slice.count)).squareRoot())
        }
        let during = level(0.5, end - 0.1)
        let after = level(end + Ducker.defaultRelease + 0.1, 5.9)
        #expect(abs(after - during - 10) < 0.3, "ducked by \(after - during) dB")
    }
}
