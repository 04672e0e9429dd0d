import Foundation
import Testing
import StrideCueTestSupport

/// `preset check`, `preset set` and `render` run one preflight: what one refuses, the others
/// refuse, with the same exit status and the same message (`set` names the change that
/// caused it, and its position is in the edited text, so it is compared without the position).
@Suite("One preflight for check, set and render", .serialized)
struct PreflightAgreementTests {
    /// A valid user preset; each case changes one value so that the plan can no longer be made.
    static let base = """
        name: Agreement
        cadence: 180
        count-in: {steps: 4, say: true}
        set: {steps: 16}
        sound: woodblock
        cues:
          - say: pull through
            at: step 3
          - sound: tick.wav
            at: step 9
        """

    /// (the change as `preset set` takes it (two separated by a space), the same change written into the file, exit status,
    /// a piece of the message every command must print).
    static let cases: [(String, String, String, Int32, String)] = [
        ("overlapping cues", "cues.1.at=step 8", "    at: step 8\n  - sound: tick.wav", 65, "starts"),
        ("spoken count-in at 300 spm", "cadence=300", "cadence: 300", 65, "count-in word"),
        ("missing cue sound", "cues.2.sound=gone.wav", "  - sound: gone.wav", 66, "gone.wav"),
        ("cue sound that is not audio", "cues.2.sound=notes.txt", "  - sound: notes.txt", 65, "notes.txt"),
        ("unknown click sound", "sound=trumpet", "sound: trumpet", 65, "unknown click sound 'trumpet'"),
        ("both-style cue longer than its steps", "cues.1.style=both cues.1.steps=1", "    style: both\n    steps: 1\n    at: step 3", 65, "pull through"),
        ("cue cut off at the end", "cues.1.at=step 16", "    at: step 16\n  - sound: tick.wav", 65, "after the session ends"),
    ]

    /// The base with one change written in by hand, as a coach would.
    static func edited(_ change: String) -> String {
        switch change {
        case let c where c.hasPrefix("    at: step 8"):
            return base.replacingOccurrences(of: "    at: step 3\n  - sound: tick.wav\n    at: step 9", with: "    at: step 8\n  - sound: tick.wav\n    at: step 9")
        case let c where c.hasPrefix("    at: step 16"):
            return base.replacingOccurrences(of: "    at: step 3\n  - sound: tick.wav", with: c)
        case let c where c.hasPrefix("    style: both"):
            return base.replacingOccurrences(of: "    at: step 3", with: c)
        case "cadence: 300": return base.replacingOccurrences(of: "cadence: 180", with: c(change))
        case "sound: trumpet": return base.replacingOccurrences(of: "sound: woodblock", with: change)
        default: return base.replacingOccurrences(of: "  - sound: tick.wav", with: change)
        }
    }
    private static func c(_ s: String) -> String { s }

    @Test(arguments: cases.map(\.0))
    func checkSetAndRenderAgree(name: String) throws {
        let (_, assignment, written, status, piece) = Self.cases.first { $0.0 == name }!
        let home = try ConfigHome()
        let folder = home.presets
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A real recording beside the preset, and a text file that is not one.
        let say = try stridecue(["say", "tick", "-o", folder + "/tick.wav"])
        #expect(say.status == 0, "\(say.stderr)")
        try "not audio\n".write(toFile: folder + "/notes.txt", atomically: true, encoding: .utf8)
        try Self.base.write(toFile: folder + "/agreement.yaml", atomically: true, encoding: .utf8)
        #expect(try stridecue(["preset", "check", "agreement"], environment: home.environment).status == 0, "the base is valid")

        // set refuses the change and writes nothing.
        let before = try String(contentsOfFile: folder + "/agreement.yaml", encoding: .utf8)
        let set = try stridecue(["preset", "set", "agreement"] + assignment.split(separator: " cues.").enumerated().map { $0.offset == 0 ? String($0.element) : "cues." + $0.element }, environment: home.environment)
        #expect(set.status == status, "set: \(set.stderr)")
        #expect(set.stderr.contains(piece), "set: \(set.stderr)")
        #expect(set.stderr.hasSuffix("Nothing was changed.\n"), "set: \(set.stderr)")
        #expect(try String(contentsOfFile: folder + "/agreement.yaml", encoding: .utf8) == before)

        // check and render refuse the same change written by hand, with the same line.
        let path = folder + "/bad.yaml"
        try Self.edited(written).write(toFile: path, atomically: true, encoding: .utf8)
        let check = try stridecue(["preset", "check", path], environment: home.environment)
        let render = try stridecue(["render", path, "-o", home.path + "/out.wav"], environment: home.environment)
        #expect(check.status == status, "check: \(check.stderr)")
        #expect(render.status == status, "render: \(render.stderr)")
        #expect(check.stderr == render.stderr)
        #expect(check.stderr.contains(piece), "check: \(check.stderr)")
        #expect(check.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: home.path + "/out.wav"))
        // The message after the position is the one set printed.
        let message = check.stderr.split(separator: ":", maxSplits: 4).last.map { String($0.dropFirst()).trimmingCharacters(in: .newlines) } ?? ""
        #expect(set.stderr.contains(String(message.prefix(40))), "set: \(set.stderr) check: \(check.stderr)")
    }

    /// Every malformed preset: check and render print the same line and exit 65.
    @Test(arguments: PresetCommandMalformedTests.corpus)
    func malformedPresetsAgree(path: String) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let check = try stridecue(["preset", "check", path])
        let render = try stridecue(["render", path, "-o", dir + "/out.wav"])
        #expect(check.status == 65 && render.status == 65)
        #expect(check.stderr == render.stderr, "\(path)")
        #expect(files(in: dir).isEmpty)
    }
}
