import Foundation
import Testing
import StrideCueCore
import StrideCueMixdown
import StrideCueSoundFile
import StrideCueTestSupport

/// The last line of issue 14's audio check: whatever the voices sum to, no encoder is handed a
/// sample that is not a number. The inputs are checked as they are read, so this mix is made
/// in process from a click sound the readers never saw.
@Suite("The mix is checked before the encoder")
struct MixGuardTests {
    /// A click whose recording holds NaN at its 100th sample, on every step.
    static func poisonedRenderer() -> Renderer {
        var recording = [Float](repeating: 0.25, count: 400)
        recording[100] = .nan
        let sound = ClickSound(name: "poisoned", sampleRate: 44_100, recording: recording, accentRecording: nil)
        return Renderer(plan: SessionPlan(cadence: 180, setLength: .steps(8)), sound: sound,
                        format: RenderFormat(sampleRate: 44_100, channels: 2))
    }

    @Test(arguments: [SoundFileType.wav, .flac, .mp3], [nil, PhoneSettings.defaultLoudness])
    func aMixThatIsNotNumbersIsRefusedAndNothingIsWritten(type: SoundFileType, loudness: Double?) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let path = dir + "/drill." + type.rawValue
        let settings = PhoneSettings(type: type, encoding: .pcm16, quality: nil, loudness: loudness, tagged: false, music: nil)
        do {
            _ = try writeTrack(makeRenderer: { Self.poisonedRenderer() }, to: path, settings: settings, tags: nil)
            Issue.record("a mix holding NaN was written to \(path)")
        } catch let failure as Failure {
            #expect(failure.exitStatus == 65)
            // The first step's click starts at frame 0, so its 100th sample is the first bad one.
            #expect(failure.description == "\(path): the mix came out with samples that are not numbers (NaN or "
                + "infinity) at 0:00; an input sound is out of range; nothing was written")
        }
        #expect((try FileManager.default.contentsOfDirectory(atPath: dir)).isEmpty)
    }
}
