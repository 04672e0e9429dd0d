import Foundation
import Glibc
import StrideCueTestSupport
import Testing

/// The coach's remote lives in a second executable, `stridecue-remote`, next to `stridecue`:
/// `play --remote` and `coach` run in it, everything else never loads it.
@Suite("The coach's remote: its own executable")
struct RemoteExecutableTests {
    static let remoteBinary = URL(fileURLWithPath: stridecueBinary).deletingLastPathComponent()
        .appendingPathComponent("stridecue-remote").path

    /// Runs a copy of `stridecue` alone in a fresh folder.
    func runAlone(_ arguments: [String]) throws -> RunResult {
        let folder = try TemporaryFolder()
        let copy = folder.file("stridecue")
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

    /// The URL `coach --remote 0.0.0.0:0` prints, run in a network namespace of its own whose
    /// interfaces `setup` (shell, as root) makes.
    func printedURL(inNamespaceAfter setup: String) throws -> String {
        let quoted = "'" + stridecueBinary.replacingOccurrences(of: "'", with: "'\\''") + "'"
        let running = try start("/usr/bin/unshare", ["-n", "/bin/sh", "-c",
                                                     "ip link set lo up && \(setup) exec \(quoted) coach --remote 0.0.0.0:0 --no-keys --device null"],
                                environment: binaryEnvironment([:]))
        defer {
            kill(running.pid, SIGKILL)
            _ = running.wait()
        }
        var line: [UInt8] = []
        while true {
            let byte = running.out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte.first == UInt8(ascii: "\n") { break }
            line.append(byte.first!)
        }
        return String(decoding: line, as: UTF8.self)
    }

    /// On the track's network (`--remote 0.0.0.0:PORT`), the URL names the address a phone can
    /// reach: the machine's own on that network, never loopback.
    @Test("on 0.0.0.0 the URL names the machine's address on the network, not loopback",
          .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"),
                   "making a network namespace and a veth pair needs root and unshare"))
    func theURLNamesTheNetworksAddress() throws {
        let url = try printedURL(inNamespaceAfter: "ip link add v0 type veth peer name v1 && ip addr add 10.77.0.2/24 dev v0 "
                                     + "&& ip link set v0 up && ip link set v1 up &&")
        #expect(url.hasPrefix("Coach remote: http://10.77.0.2:"), "\(url)")
    }

    /// With no network but loopback there is no address a phone could reach: the URL keeps
    /// the address asked for, 0.0.0.0, rather than pretend with 127.0.0.1.
    @Test("with loopback alone the URL keeps 0.0.0.0",
          .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"),
                   "making a network namespace needs root and unshare"))
    func loopbackAloneKeepsTheAddressAskedFor() throws {
        let url = try printedURL(inNamespaceAfter: "")
        #expect(url.hasPrefix("Coach remote: http://0.0.0.0:"), "\(url)")
    }
}
