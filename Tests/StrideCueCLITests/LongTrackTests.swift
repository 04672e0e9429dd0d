import Foundation
import Testing
import StrideCueTestSupport

// A track of any length: a WAV whose data would pass what a RIFF header can count is written
// as RF64, whose header tells its length; a length a format cannot hold is refused before
// anything is written. The 4 GiB limit is lowered for the test (STRIDECUE_WAV_LIMIT_BYTES, a
// debug build's knob) so that no test writes 4 GiB.

@Suite("long tracks", .serialized)
struct LongTrackTests {
    @Test(arguments: [("16", 1), ("32f", 2)])
    func aWAVPastTheLimitIsRF64WithItsTrueLength(bits: String, channels: Int) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let flags = ["--duration", "10s", "--rate", "8000", "--channels", String(channels), "--bits", bits]
        // 10 s at 8 kHz: 80 000 frames, 160 000 bytes and more of data; the limit is 100 000.
        let long = try stridecue(["render"] + flags + ["-o", dir + "/long.wav"],
                                 environment: ["STRIDECUE_WAV_LIMIT_BYTES": "100000"])
        #expect(long.status == 0, "\(long.stderr)")
        #expect(long.stderr == "stridecue: note: \(dir)/long.wav passes 4 GiB, so it is written as RF64, "
                + "the WAV whose header can say how long it is\n")
        let plain = try stridecue(["render"] + flags + ["-o", dir + "/plain.wav"])
        #expect(plain.status == 0 && plain.stderr.isEmpty, "\(plain.stderr)")

        let head = { (path: String) in String(decoding: FileManager.default.contents(atPath: path)!.prefix(4), as: UTF8.self) }
        #expect(head(dir + "/long.wav") == "RF64")
        #expect(head(dir + "/plain.wav") == "RIFF")
        // libsndfile reads the length from the header: all of it, the same samples.
        let rf64 = try readBack(dir + "/long.wav"), riff = try readBack(dir + "/plain.wav")
        #expect(rf64.frameCount == 80_000)
        #expect(rf64.channels == channels)
        #expect(rf64.samples == riff.samples)
    }

    /// FFmpeg, another reader, finds the RF64's true length too.
    @Test(.enabled(if: ffmpegAvailable, "needs ffprobe (make test-deps)"))
    func ffprobeReadsTheRF64sLength() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let long = try stridecue(["render", "--duration", "10s", "--rate", "8000", "--bits", "16", "-o", dir + "/long.wav"],
                                 environment: ["STRIDECUE_WAV_LIMIT_BYTES": "100000"])
        #expect(long.status == 0, "\(long.stderr)")
        #expect(String(decoding: FileManager.default.contents(atPath: dir + "/long.wav")!.prefix(4), as: UTF8.self) == "RF64")
        #expect(abs(try probe(dir + "/long.wav").duration - 10) < 0.001)
    }

    /// A phone WAV (tagged, normalized) past the limit too.
    @Test func aTaggedWAVPastTheLimitKeepsItsTags() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let run = try stridecue(["render", "--duration", "10s", "--rate", "8000", "--loudness", "-16", "-o", dir + "/t.wav"],
                                environment: ["STRIDECUE_WAV_LIMIT_BYTES": "100000"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try readBack(dir + "/t.wav").frameCount == 80_000)
        #expect(String(decoding: FileManager.default.contents(atPath: dir + "/t.wav")!.prefix(4), as: UTF8.self) == "RF64")
    }

    /// The tags of a phone WAV past the limit, as FFmpeg (another reader) reads them.
    @Test(.enabled(if: ffmpegAvailable, "needs ffprobe (make test-deps)"))
    func ffprobeReadsTheTaggedRF64sTags() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let run = try stridecue(["render", "--duration", "10s", "--rate", "8000", "--loudness", "-16", "-o", dir + "/t.wav"],
                                environment: ["STRIDECUE_WAV_LIMIT_BYTES": "100000"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try probe(dir + "/t.wav").tags["title"] == "Click track — 180 spm")
    }

    /// 99 sets of 24 hours: more than FLAC can count or an MP3 can say; refused at once.
    @Test(arguments: [
        ("l.flac", "FLAC holds at most 99 h 25 min at 192000 Hz, and this track lasts 2376 h 0 min"),
        ("l.mp3", "an MP3 can say how long it is up to 29 h 49 min, and this track lasts 2376 h 0 min"),
    ])
    func aLengthTheFormatCannotHoldIsRefusedFirst(file: String, problem: String) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = dir + "/long.yaml"
        try "name: Long\ncadence: 180\nsets: 99\nset: {duration: 86400 s}\n".write(toFile: preset, atomically: true, encoding: .utf8)
        let rate = file.hasSuffix(".flac") ? "192000" : "48000"
        let run = try stridecue(["render", preset, "--rate", rate, "-o", dir + "/" + file])
        #expect(run.status == 65)
        #expect(run.stderr == "stridecue: -o \(dir)/\(file): \(problem); write .wav, .ogg or .opus, or shorten it with --duration\n")
        #expect(files(in: dir) == ["long.yaml"])
    }
}
