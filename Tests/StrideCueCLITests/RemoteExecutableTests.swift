import Foundation
import Testing

/// The coach's remote lives in a second executable, `stridecue-remote`, next to `stridecue`:
/// `play --remote` and `coach` run in it, everything else never loads it.
@Suite("The coach's remote: its own executable")
struct RemoteExecutableTests {
    static let remoteBinary = URL(fileURLWithPath: stridecueBinary).deletingLastPathComponent()
        .appendingPathComponent("stridecue-remote").path

    /// Runs a copy of `stridecue` alone in a fresh folder.
    func runAlone(_ arguments: [String]) throws -> RunResult {
        let folder = temporaryFolder()
        let copy = folder + "/stridecue"
        try FileManager.default.copyItem(atPath: stridecueBinary, toPath: copy)
        return try launch(arguments, executable: copy).wait()
    }

    @Test("without stridecue-remote next to it, play --remote and coach say so in one line and exit 69",
          arguments: [["play", "--spm", "180", "--duration", "2s", "--no-keys", "--remote", "0"],
                      ["coach", "--remote", "127.0.0.1:0", "--no-keys"]])
    func missingRemoteExecutable(arguments: [String]) throws {
        let result = try runAlone(arguments)
        #expect(result.status == 69)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("stridecue: the coach's remote needs '"))
        #expect(result.stderr.contains("/stridecue-remote' next to stridecue"))
        #expect(result.stdout.isEmpty)
    }

    @Test("a bad --remote is refused by stridecue itself, before looking for stridecue-remote")
    func badFlagFirst() throws {
        let result = try runAlone(["play", "--spm", "180", "--remote", "70000"])
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("stridecue: --remote must be [ADDRESS:]PORT"), "\(result.stderr)")
    }

    @Test("stridecue does not carry the server; stridecue-remote does")
    func serverOnlyInTheRemoteExecutable() throws {
        let marker = Data("HummingbirdWebSocket".utf8)
        func holds(_ path: String) throws -> Bool {
            try Data(contentsOf: URL(fileURLWithPath: path)).range(of: marker) != nil
        }
        #expect(try !holds(stridecueBinary))
        #expect(try holds(Self.remoteBinary))
    }
}
