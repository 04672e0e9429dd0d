import Foundation
import Testing
import StrideCueTestSupport

/// Files that are not presets: each must be refused with exit 65 and one line that points at
/// the place (`file:line:column: message`) by every command that reads presets.
@Suite("Malformed presets, end to end", .serialized)
struct PresetCommandMalformedTests {
    static let corpus: [String] = {
        let folder = cliTestsFolder + "/Malformed"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map { "\(folder)/\($0)" }
    }()

    @Test func theCorpusCoversWhatTheIssueAsksFor() {
        let names = Set(PresetCommandMalformedTests.corpus.map { ($0 as NSString).lastPathComponent })
        #expect(names.count >= 30)
        for needed in ["empty.yaml", "binary-junk.yaml", "billion-laughs.yaml", "deep-flow-nesting.yaml", "deep-block-nesting.yaml",
                       "duplicate-key.yaml", "unknown-key.yaml", "cadence-nan.yaml", "cadence-infinity.yaml", "cadence-text.yaml",
                       "cadence-too-high.yaml", "sets-fraction.yaml"] {
            #expect(names.contains(needed), "\(needed)")
        }
    }

    @Test(arguments: corpus)
    func refusedWithItsPosition(path: String) throws {
        try expectRefused(path)
    }

    /// 10 MB of plausible YAML: refused at the size limit without reading it all.
    @Test func aTenMegabyteFileIsRefused() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let path = dir + "/huge.yaml"
        let line = "about: " + String(repeating: "x", count: 1_000) + "\n"
        var text = "cadence: 180\n"
        text.reserveCapacity(10_500_000)
        for i in 0..<10_000 { text += "k\(i)" + line }
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int >= 10_000_000)
        let message = try expectRefused(path)
        #expect(message == "preset is larger than 1 MiB")
    }

    /// Runs `preset check` and `preset show` on `path`; returns the message after the position.
    @discardableResult
    private func expectRefused(_ path: String) throws -> String {
        var message = ""
        for command in [["preset", "check", path], ["preset", "show", path]] {
            let run = try stridecue(command)
            #expect(run.status == 65, "\(command[1]) \(path): \(run.stderr)")
            #expect(run.stdout.isEmpty)
            // One line: "stridecue: PATH:LINE:COLUMN: message".
            let prefix = "stridecue: \(path):"
            #expect(run.stderr.hasPrefix(prefix) && run.stderr.hasSuffix("\n"), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            let rest = run.stderr.dropFirst(prefix.count).dropLast().split(separator: ":", maxSplits: 2)
            #expect(rest.count == 3 && Int(rest[0]).map { $0 >= 1 } == true && Int(rest[1]).map { $0 >= 1 } == true, "\(run.stderr)")
            if rest.count == 3 {
                message = String(rest[2].dropFirst())
                #expect(!message.isEmpty)
            }
        }
        return message
    }
}
