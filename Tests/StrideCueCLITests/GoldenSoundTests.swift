import Foundation
import Testing
import StrideCueCore
import StrideCueSoundFile
import StrideCueTestSupport

/// The built-in click sounds, rendered by the binary, must match the reference WAVs shipped in
/// `Sounds/reference/` sample for sample. `make golden` (STRIDECUE_RECORD=1) re-records them.
@Suite("Golden click sounds")
struct GoldenSoundTests {
    @Test(arguments: ClickSound.builtInNames)
    func builtInSoundMatchesItsReference(sound: String) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let out = "\(dir)/\(sound).wav"
        let run = try stridecue(["render", "--sound", sound, "--spm", "120", "--duration", "2s", "--accent-every", "2",
                                 "--subdivide", "2", "--rate", "48000", "--channels", "1", "--bits", "16", "-o", out])
        #expect(run.status == 0, "\(run.stderr)")
        let reference = "\(packageRoot)/Sounds/reference/\(sound).wav"
        if ProcessInfo.processInfo.environment["STRIDECUE_RECORD"] == "1" {
            _ = try? FileManager.default.removeItem(atPath: reference)
            try FileManager.default.copyItem(atPath: out, toPath: reference)
            return
        }
        let expected = try readBack(reference)
        let actual = try readBack(out)
        #expect(actual.frameCount == 96_000)
        let differing = zip(actual.samples, expected.samples).filter { $0 != $1 }.count
        #expect(actual.samples.count == expected.samples.count)
        #expect(differing == 0, "\(differing) samples differ from \(reference)")
        // The file's bytes too: header and data.
        #expect(FileManager.default.contents(atPath: out) == FileManager.default.contents(atPath: reference),
                "the bytes of \(out) differ from \(reference)")
    }
}
