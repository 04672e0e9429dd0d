import Glibc
import StrideCueCore
import StrideCueSession
import StrideCueTerminal
import StrideCuePresets
import StrideCueLive

/// Starts the coach's remote's server: set by `stridecue-remote` before it runs the commands.
public struct CoachRemoteHost: Sendable {
    /// Listens on `host`:`port` (port 0: any free one). `library` names the drills the page
    /// offers; `save` edits a preset as `preset set` does and returns the lines it reports.
    public typealias Start = @Sendable (
        _ host: String, _ port: Int,
        _ library: @escaping @Sendable () -> [String],
        _ save: @escaping @Sendable (_ preset: String, _ changes: [PresetAssignment]) throws -> String
    ) throws -> any CoachRemoteSession

    let startServer: Start

    public init(start: @escaping Start) {
        startServer = start
    }

    /// Set once, by `stridecue-remote`'s main before it parses the command line.
    public nonisolated(unsafe) static var installed: CoachRemoteHost?

    /// Starts the remote on `address` and prints its URL (and, on a terminal, a QR code).
    func start(_ address: RemoteAddress) throws -> any CoachRemoteSession {
        let coach = try startServer(
            address.host, address.port,
            { PresetLocator(data: DataFolder.locate()).all().presets.map(\.name) },
            { name, changes in try savePresetValues(name: name, changes: changes, cancellation: interruptions).joined(separator: "\n") })
        print("Coach remote: \(coach.url)")
        if isatty(1) == 1 {
            for line in try coach.qrCodeLines() { print(line) }
        }
        fflush(nil)
        return coach
    }
}

/// The executable that serves the coach's remote, installed next to `stridecue`.
public let remoteExecutableName = "stridecue-remote"

/// Runs this command line in `stridecue-remote`, found next to this executable, in this
/// process (exec: the same pid, signals and descriptors). When it is missing or cannot run,
/// says so in one line and exits 69 (unavailable).
func execRemoteFrontEnd() -> Never {
    var buffer = [CChar](repeating: 0, count: 4_096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let me = n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    let folder = me.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    let path = (folder.isEmpty && !me.hasPrefix("/") ? "." : folder) + "/" + remoteExecutableName
    var argv: [UnsafeMutablePointer<CChar>?] = [strdup(path)]
    for argument in CommandLine.arguments.dropFirst() { argv.append(strdup(argument)) }
    argv.append(nil)
    execv(path, argv)
    let reason = String(cString: strerror(errno))
    printError("stridecue: the coach's remote needs '\(quoted(path, limit: 200))' next to stridecue (\(reason)); "
        + "'make install' installs both")
    exit(ExitStatus.unavailable)
}
