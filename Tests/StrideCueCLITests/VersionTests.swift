import Foundation
import Testing

/// `--version` on the built binaries: one line, exit 0, the version CHANGELOG.md names last.
@Suite("stridecue --version")
struct VersionTests {
    /// The version of CHANGELOG.md's first `## ` heading (`## 0.3.0-dev — unreleased`).
    static func changelogVersion() throws -> String {
        let text = try String(contentsOfFile: packageRoot + "/CHANGELOG.md", encoding: .utf8)
        let heading = try #require(text.split(separator: "\n").first { $0.hasPrefix("## ") })
        return String(heading.dropFirst(3).prefix { $0 != " " })
    }

    @Test("stridecue --version prints the changelog's newest version and exits 0")
    func version() throws {
        let expected = try Self.changelogVersion()
        let result = try stridecue(["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == expected + "\n")
        #expect(result.stderr.isEmpty)
    }

    @Test("stridecue-remote --version says the same")
    func remoteVersion() throws {
        let remote = URL(fileURLWithPath: stridecueBinary).deletingLastPathComponent()
            .appendingPathComponent("stridecue-remote").path
        let expected = try Self.changelogVersion()
        let result = try runProgram(remote, ["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == expected + "\n")
    }
}
