import Foundation
import Testing
import StrideCueCore
import StrideCueSoundFile
import StrideCueTestSupport

// Every output checked before anything is made, and click sounds of one's own from anywhere:
// a path beside the preset, a path given to --sound, a name in $XDG_DATA_HOME/stridecue/clicks.

/// Writes a mono 16-bit WAV of `samples` at 48 kHz.
func writeWAV(_ path: String, _ samples: [Float], rate: Int = 48_000) throws {
    var writer = try SoundFileWriter(path: path, format: RenderFormat(sampleRate: rate, channels: 1), encoding: .pcm16)
    try samples.withUnsafeBufferPointer { try writer.write($0) }
    try writer.commit()
}

/// A click unlike any built-in: a 5 ms burst of a 2 kHz square wave.
let squareClick: [Float] = (0..<240).map { i in (i / 12) % 2 == 0 ? 0.8 : -0.8 }

@Suite("outputs checked first; click sounds from anywhere", .serialized)
struct OutputsAndSoundsTests {
    // MARK: Preflight of every output

    /// A cue sheet that cannot be written stops the render before the track is made.
    @Test(arguments: ["/nonexistent/c.csv", "folder.csv", "fifo.csv"])
    func aCueSheetThatCannotBeWrittenWritesNothing(sheet: String) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        try FileManager.default.createDirectory(atPath: dir + "/folder.csv", withIntermediateDirectories: false)
        #expect(mkfifo(dir + "/fifo.csv", 0o600) == 0)
        let path = sheet.hasPrefix("/") ? sheet : dir + "/" + sheet
        let run = try stridecue(["render", "bum-kicks", "--duration", "4s", "-o", dir + "/x.wav", "--cue-sheet", path])
        #expect(run.status == 73, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("stridecue: \(path): "), "\(run.stderr)")
        #expect(run.stderr.filter { $0 == "\n" }.count == 1)
        #expect(files(in: dir) == ["fifo.csv", "folder.csv"], "nothing written")
    }

    /// The same for a stem: an output folder that is not there is found before any rendering,
    /// and the cue sheet is not written either.
    @Test func aStemThatCannotBeWrittenWritesNoCueSheet() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let run = try stridecue(["render", "bum-kicks", "--duration", "4s", "--stem", "voice", "-o", dir + "/no/v.wav",
                                 "--cue-sheet", dir + "/c.csv"])
        #expect(run.status == 73, "\(run.stderr)")
        #expect(run.stderr == "stridecue: \(dir)/no/v.wav: No such file or directory\n", "\(run.stderr)")
        #expect(files(in: dir).isEmpty)
    }

    // MARK: Click sounds of one's own

    @Test func ownClickByPathByFlagAndByXDGNameSoundTheSame() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let xdg = dir + "/xdg"
        try FileManager.default.createDirectory(atPath: xdg + "/stridecue/clicks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/drills/sounds", withIntermediateDirectories: true)
        try writeWAV(dir + "/drills/sounds/square.wav", squareClick)
        try writeWAV(xdg + "/stridecue/clicks/square.wav", squareClick)
        let env = ["XDG_DATA_HOME": xdg]
        let plan = "cadence: 180\nset: {steps: 8}\naccent: 0\n"
        try (plan + "sound: sounds/square.wav\n").write(toFile: dir + "/drills/by-path.yaml", atomically: true, encoding: .utf8)
        try (plan + "sound: square\n").write(toFile: dir + "/drills/by-name.yaml", atomically: true, encoding: .utf8)
        try plan.write(toFile: dir + "/drills/plain.yaml", atomically: true, encoding: .utf8)

        let runs = [
            try stridecue(["render", dir + "/drills/by-path.yaml", "-o", dir + "/path.wav"], environment: env),
            try stridecue(["render", dir + "/drills/by-name.yaml", "-o", dir + "/name.wav"], environment: env),
            try stridecue(["render", dir + "/drills/plain.yaml", "--sound", dir + "/drills/sounds/square.wav",
                           "-o", dir + "/flag.wav"], environment: env),
            try stridecue(["render", dir + "/drills/plain.yaml", "-o", dir + "/woodblock.wav"], environment: env),
        ]
        for run in runs { #expect(run.status == 0, "\(run.stderr)") }
        let path = try readBack(dir + "/path.wav").samples
        #expect(try readBack(dir + "/name.wav").samples == path)
        #expect(try readBack(dir + "/flag.wav").samples == path)
        #expect(try readBack(dir + "/woodblock.wav").samples != path)
        // The square wave is there, on the first step: it swings between two levels of
        // opposite sign for 12 samples at a time, which the woodblock never does.
        let left = stride(from: 0, to: 240 * 2, by: 2).map { path[$0] }
        #expect(left[50] > 0.3 && left[62] < -0.3 && abs(left[50] - left[54]) < 1e-3, "\(left.prefix(80))")

        // The user's folder also lists it among the choices.
        let bad = try stridecue(["render", "--sound", "gong", "-o", dir + "/x.wav"], environment: env)
        #expect(bad.status == 64)
        #expect(bad.stderr == "stridecue: --sound must be one of: woodblock, beep, cowbell, square, stick; got 'gong'\n")
    }

    @Test func aMissingOwnClickIsNamedWithItsLineOrFlag() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = dir + "/drill.yaml"
        try "cadence: 180\nset: {steps: 8}\nsound: ./nowhere.wav\n".write(toFile: preset, atomically: true, encoding: .utf8)
        let run = try stridecue(["render", preset, "-o", dir + "/x.wav"])
        #expect(run.status == 65)
        #expect(run.stderr == "stridecue: \(preset):3:8: no click sound file at \(dir)/./nowhere.wav\n", "\(run.stderr)")
        let flag = try stridecue(["render", "--sound", dir + "/nowhere.wav", "-o", dir + "/x.wav"])
        #expect(flag.status == 66)
        #expect(flag.stderr == "stridecue: --sound \(dir)/nowhere.wav: no such file\n", "\(flag.stderr)")
        #expect(files(in: dir) == ["drill.yaml"])
    }
}

/// A `sound:` path to a file that is not a sound file is reported at the preset's line, like
/// every other preset error, with the sound file's own reason after it.
@Suite("a preset's click sound file that no library reads")
struct PresetSoundFileTests {
    @Test func aClickFileThatIsNoSoundNamesThePresetLineAndTheFile() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = dir + "/drill.yaml"
        try "not audio at all\n".write(toFile: dir + "/click.wav", atomically: true, encoding: .utf8)
        try "cadence: 180\nset: {steps: 8}\nsound: ./click.wav\n".write(toFile: preset, atomically: true, encoding: .utf8)
        let run = try stridecue(["render", preset, "-o", dir + "/x.wav"])
        #expect(run.status == 65, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("stridecue: \(preset):3:8: sound: \(dir)/./click.wav: "), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(files(in: dir) == ["click.wav", "drill.yaml"])
    }
}
