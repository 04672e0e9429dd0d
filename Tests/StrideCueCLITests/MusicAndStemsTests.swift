import Foundation
import StrideCueLoudness
import StrideCueSoundFile
import StrideCueTestSupport
import Testing

// Stems that add up to the mix in every format, music from the files a phone holds (M4A/AAC
// through FFmpeg, MP3 and Ogg through libsndfile), audio that is not numbers or not audio at
// all, and a progress bar over every pass: on the real binary.
@Suite("stems and music from any file, end to end", .serialized)
struct MusicAndStemsTests {
    /// Music made by ffmpeg: `silence` seconds of silence, then a 440 Hz tone at −10 dBFS, at
    /// 44.1 kHz stereo (so StrideCue converts its rate), `seconds` long in all.
    func makeMusic(_ path: String, codec: [String], silence: Double = 0.5, seconds: Double = 4) throws {
        let tone = "sine=frequency=440:sample_rate=44100:duration=\(seconds - silence),volume=0.4472"
        let filter = "anullsrc=r=44100:cl=mono:d=\(silence)[s];\(tone)[t];[s][t]concat=n=2:v=0:a=1,aformat=channel_layouts=stereo"
        let run = try runTool("ffmpeg", ["-nostdin", "-v", "error", "-y", "-filter_complex", filter] + codec + [path])
        #expect(run.status == 0, "ffmpeg: \(run.stderr)")
    }

    static let phoneMusic: [(file: String, codec: [String], ffmpeg: Bool)] = [
        ("music.m4a", ["-c:a", "aac", "-b:a", "160k"], true),
        ("music.mp3", ["-c:a", "libmp3lame", "-q:a", "2"], false),
        ("music.ogg", ["-c:a", "libvorbis", "-q:a", "6"], false),
    ]

    /// Every stem of a track — clicks, voice and music — rendered on its own, summed with
    /// libsndfile, equals the mix: to within the rounding of three 16-bit files in WAV and
    /// FLAC (the FLAC normalized and limited: the stems get the mix's gain and its limiter's
    /// gain curve), and to within the codec's own error in MP3 and Ogg (each stem normalized
    /// on its own used to be up to 0.76 off).
    @Test(arguments: [("wav", true), ("flac", true), ("flac", false), ("mp3", true), ("ogg", true)])
    func stemsAddUpToTheMix(format: String, music: Bool) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        var extra: [String] = []
        var stems = ["clicks", "voice"]
        if music {
            try makeMusic(dir + "/music.flac", codec: [])
            extra = ["--music", dir + "/music.flac"]
            stems.append("music")
        }
        // bum-kicks speaks its caution and cues over the clicks: all three layers sound at once.
        let base = ["render", "bum-kicks", "--duration", "20s", "--channels", "2"] + extra
        let mix = try stridecue(base + ["-o", dir + "/mix.\(format)"])
        #expect(mix.status == 0, "\(mix.stderr)")
        let whole = try readBack(dir + "/mix.\(format)")
        var sum = [Double](repeating: 0, count: whole.samples.count)
        for stem in stems {
            let run = try stridecue(base + ["--stem", stem, "-o", dir + "/\(stem).\(format)"])
            #expect(run.status == 0, "\(stem): \(run.stderr)")
            let layer = try readBack(dir + "/\(stem).\(format)")
            #expect(layer.samples.count == whole.samples.count, "\(stem) is as long as the mix")
            #expect(layer.samples.contains { abs($0) > 0.05 }, "the \(stem) stem sounds")
            for i in 0..<min(sum.count, layer.samples.count) { sum[i] += Double(layer.samples[i]) }
        }
        var worst = 0.0, error = 0.0, energy = 0.0
        for i in sum.indices {
            let d = sum[i] - Double(whole.samples[i])
            worst = max(worst, abs(d))
            error += d * d
            energy += Double(whole.samples[i]) * Double(whole.samples[i])
        }
        if format == "wav" || format == "flac" {
            #expect(worst <= 1.5 / 32_768, "\(format): stems off the mix by \(worst * 32_768) LSB")
        } else {
            let relative = 10 * log10(error / energy)
            #expect(worst < 0.1, "\(format): stems off the mix by \(worst)")
            #expect(relative < -25, "\(format): stems off the mix by \(relative) dB")
        }
    }

    /// Music from the files a phone holds plays under the clicks: the clicks stay on their
    /// exact frames, the music is heard at `--music-level` relative to them, its tone where the
    /// file has it. M4A is read by FFmpeg (libsndfile refuses it), opened only
    /// for it; MP3 and Ogg by libsndfile, without FFmpeg.
    @Test(arguments: phoneMusic)
    func phoneMusicPlaysUnderTheClicks(file: String, codec: [String], ffmpeg: Bool) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let music = dir + "/" + file
        try makeMusic(music, codec: codec)
        // Not normalized, and at −20 dB: the limiter never acts, so the clicks keep their
        // samples and the music's level is exactly its `--music-level` under them.
        let base = ["render", "--spm", "180", "--duration", "6s", "--channels", "1", "--bits", "32f"]
        let under = ["--music", music, "--music-level", "-20", "--no-normalize"]
        let plain = try stridecue(base + ["-o", dir + "/plain.wav"])
        #expect(plain.status == 0, "\(plain.stderr)")
        // The loader's log goes to files, not to the pipe the harness reads.
        let mixed = try stridecue(base + under + ["-o", dir + "/mix.wav"],
                                  environment: ["LD_DEBUG": "files", "LD_DEBUG_OUTPUT": dir + "/ld"])
        #expect(mixed.status == 0, "\(mixed.stderr)")
        let log = try files(in: dir).filter { $0.hasPrefix("ld.") }
            .map { try String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }.joined()
        #expect(log.contains("libsndfile"), "the loader's log is there")
        #expect(log.contains("libavformat") == ffmpeg, "\(file): FFmpeg loaded: \(log.contains("libavformat"))")
        for stem in ["clicks", "music"] {
            let run = try stridecue(base + under + ["--stem", stem, "-o", dir + "/\(stem).wav"])
            #expect(run.status == 0, "\(stem): \(run.stderr)")
        }

        // The clicks: on the same frames as without music, none lost, none added.
        let clicks = try readBack(dir + "/clicks.wav").samples
        let reference = try readBack(dir + "/plain.wav").samples
        #expect(clicks.count == reference.count)
        let onsets = clickOnsets(reference)
        #expect(onsets.count == 18, "6 s at 180 spm: \(onsets.count) clicks")
        #expect(clickOnsets(clicks) == onsets)
        let moved = zip(clicks, reference).filter { $0 != $1 }.count
        #expect(moved == 0, "\(moved) samples of the clicks changed by the music under them")

        // The music: silent for its first half second, then the tone, at 48 kHz.
        let bed = try readBack(dir + "/music.wav").samples
        let rate = 48_000.0
        let peak = bed.map(abs).max() ?? 0
        #expect(peak > 0.001, "\(file): the music is there")
        let start = bed.firstIndex { abs($0) > 0.1 * peak } ?? bed.count
        #expect(abs(Double(start) / rate - 0.5) < 0.003, "\(file): the tone starts at \(Double(start) / rate) s")
        let steady = Array(bed[Int(1.0 * rate)..<Int(3.0 * rate)])
        let crossings = zip(steady, steady.dropFirst()).filter { $0 < 0 && $1 >= 0 }.count
        #expect(abs(crossings - 880) <= 2, "\(file): \(crossings / 2) Hz, not 440")

        // At its level: 20 dB under the clicks, as libebur128 hears the two stems.
        let clickLoudness = try ourLoudness(dir + "/clicks.wav").integrated
        let musicLoudness = try ourLoudness(dir + "/music.wav").integrated
        #expect(abs(clickLoudness - musicLoudness - 20) < 0.2, "\(file): music \(clickLoudness - musicLoudness) dB under the clicks")

        // And the file is what was heard: the mix is the clicks plus the music.
        let mix = try readBack(dir + "/mix.wav").samples
        #expect(mix.count == clicks.count)
        let worst = zip(mix, zip(clicks, bed)).map { abs($0 - ($1.0 + $1.1)) }.max() ?? 1
        #expect(worst < 1e-5, "mix − (clicks + music): \(worst)")
    }

    /// Music whose samples are not numbers is refused however it is decoded — a float WAV
    /// through libsndfile, the same samples in Matroska through FFmpeg: one line naming the
    /// file, exit 65, nothing where the output would go.
    @Test(arguments: ["wav", "mka"])
    func musicThatIsNotNumbersIsRefused(container: String) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        var samples = (0..<48_000).map { Float(0.3 * sin(2 * .pi * 440 * Double($0) / 48_000)) }
        samples[24_000] = .nan
        let wav = dir + "/nan.wav"
        try writeFloatWAV(samples, to: wav, rate: 48_000)
        var music = wav
        if container == "mka" {
            music = dir + "/nan.mka"
            let run = try runTool("ffmpeg", ["-nostdin", "-v", "error", "-i", wav, "-c:a", "copy", music])
            #expect(run.status == 0, "ffmpeg: \(run.stderr)")
            try FileManager.default.removeItem(atPath: wav)
        }
        let before = files(in: dir)
        let run = try stridecue(["render", "--spm", "180", "--duration", "4s", "--music", music, "-o", dir + "/out.mp3"])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("stridecue: \(music): "), "\(run.stderr)")
        #expect(run.stderr.hasSuffix("holds samples that are not numbers (NaN or infinity); StrideCue refuses such audio\n"),
                "\(run.stderr)")
        #expect(run.stderr.filter { $0 == "\n" }.count == 1)
        #expect(files(in: dir) == before)
    }

    /// A file neither libsndfile nor FFmpeg can read: one line naming it, exit 65, no output.
    @Test func musicNoLibraryCanReadIsRefused() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let music = dir + "/song.m4a"
        var junk = [UInt8](repeating: 0, count: 4_000)
        var x: UInt32 = 12_345
        for i in junk.indices { x = x &* 1_103_515_245 &+ 12_345; junk[i] = UInt8(truncatingIfNeeded: x >> 16) }
        try Data(junk).write(to: URL(fileURLWithPath: music))
        let run = try stridecue(["render", "--spm", "180", "--duration", "4s", "--music", music, "-o", dir + "/out.wav"])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr == "stridecue: \(music): not a sound file StrideCue can read "
            + "(avformat_open_input: Invalid data found when processing input)\n", "\(run.stderr)")
        #expect(files(in: dir) == ["song.m4a"])
    }

    /// With music the bar is drawn from the start — at 0 % while the music is decoded, before
    /// any pass over the track — and moves on through every pass to 100 %, never back. Every
    /// update is drawn (`STRIDECUE_PROGRESS_INTERVAL=0`): what is checked is the sequence of
    /// steps, not how long they take.
    @Test func theProgressBarCoversEveryPassWithMusic() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let music = dir + "/music.flac"
        try makeMusic(music, codec: [], seconds: 40)
        // 30 s at 48 kHz: 11 blocks a pass. With music and a loudness target there are three
        // passes over the track (analysis, measurement, the written one) after the decoding.
        let command = "STRIDECUE_PROGRESS_INTERVAL=0 '\(stridecueBinary)' render --spm 180 --duration 30s "
            + "--music '\(music)' -o '\(dir)/out.mp3'"
        let (status, text) = try runOnTerminal(command)
        #expect(status == 0, "\(text)")
        let percents = text.components(separatedBy: "\r[").dropFirst().compactMap { draw -> Int? in
            guard let close = draw.firstIndex(of: "]") else { return nil }
            return Int(draw[draw.index(after: close)...].drop { $0 == " " }.prefix { $0.isNumber })
        }
        #expect(percents.first == 0, "the bar's first drawing: \(percents.prefix(3))")
        #expect(percents.last == 100)
        #expect(zip(percents, percents.dropFirst()).allSatisfy { $0 <= $1 }, "never back: \(percents)")
        #expect(percents.count >= 3 * 11, "\(percents.count) drawings: \(percents)")
        #expect(text.contains("0:30 / 0:30"))
    }
}
