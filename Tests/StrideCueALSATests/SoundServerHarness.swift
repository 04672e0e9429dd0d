import Foundation
import Glibc
import Testing

/// A real sound server for one test: PulseAudio or PipeWire with a sink called `run` that plays on
/// the system clock into nothing, in a private folder of its own (runtime folder, home with the
/// `.asoundrc` that sends ALSA's `default` to the server), started and ended by
/// scripts/sound-server.sh, as `make bench` starts them too. `make test-deps` installs both
/// servers and unpacks PipeWire's ALSA plugin, which Debian 12 will not install beside PulseAudio.
final class SoundServer {
    enum Kind: String, CustomTestStringConvertible, CaseIterable, Sendable {
        case pulse, pipewire
        var testDescription: String { self == .pulse ? "PulseAudio" : "PipeWire" }
    }

    let kind: Kind
    let folder: String
    /// What a program needs to reach this server: HOME, XDG_RUNTIME_DIR, …
    let environment: [String: String]
    private var recorders: [pid_t] = []
    private var recordings: [String] = []

    init(_ kind: Kind) throws {
        self.kind = kind
        var template = Array("/tmp/stridecue-server-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ALSATestEnvironment.SetupFailure(description: "mkdtemp failed: errno \(errno)")
        }
        folder = String(cString: made)
        let started = try Self.script(["start", kind.rawValue, folder])
        guard started.status == 0 else {
            _ = try? Self.script(["stop", folder])
            throw ALSATestEnvironment.SetupFailure(description: "\(kind.testDescription) did not start: \(started.output)")
        }
        var environment: [String: String] = [:]
        for line in started.output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            environment[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        self.environment = environment
    }

    deinit {
        for pid in recorders { kill(pid, SIGTERM) }
        _ = try? Self.script(["stop", folder])
        _ = try? Self.run("/bin/rm", ["-rf", folder])
    }

    /// Starts recording what the sink plays (raw S16_LE, 48 kHz, stereo) into a file in the
    /// server's folder, and returns its path.
    func recordSink() throws -> String {
        let file = folder + "/heard.raw"
        try record(to: file)
        return file
    }

    /// Starts recording what the sink plays (raw S16_LE, 48 kHz, stereo) into `file`.
    func record(to file: String) throws {
        let started = try Self.script(["record", folder, file])
        guard started.status == 0, let pid = pid_t(started.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ALSATestEnvironment.SetupFailure(description: "cannot record \(kind.testDescription): \(started.output)")
        }
        recorders.append(pid)
        recordings.append(file)
    }

    /// Ends the recordings once what was played has reached them: once each recording has grown
    /// by half a second of frames (the sink still plays: all that was played before the call
    /// has passed the server's buffers into it), or has stopped growing (the sink went idle when
    /// the player left, its last frames written), or after three seconds, more than either
    /// server holds. A recording cut short shows as clicks missing, never as a pass.
    func stopRecording() {
        for file in recordings {
            let start = fileSize(file)
            var last = start, still = 0
            _ = waitUntil(seconds: 3) {
                let size = fileSize(file)
                still = size == last ? still + 1 : 0
                last = size
                return size >= start + 24_000 * 4 || still >= 25
            }
        }
        for pid in recorders { kill(pid, SIGTERM) }
        for pid in recorders { _ = waitUntil { hasEnded(pid) } }
        recorders = []
        recordings = []
    }

    static let scriptPath = playPackageRoot + "/scripts/sound-server.sh"

    private static func script(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try run("/bin/bash", [scriptPath] + arguments)
    }

    /// Runs a program to its end, its output (both streams) gathered in a file. posix_spawn and
    /// waitpid, not Foundation's Process: the script leaves daemons running behind it, and
    /// Process.waitUntilExit was seen to miss the script's own exit then and wait forever.
    private static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        var template = Array("/tmp/stridecue-script-XXXXXX".utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw ALSATestEnvironment.SetupFailure(description: "mkstemp failed: errno \(errno)") }
        let outputPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { close(descriptor); unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, descriptor, 1)
        posix_spawn_file_actions_adddup2(&actions, descriptor, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        // Signals as a shell would give them: the test process blocks or ignores some, and the
        // daemons and recorders the script leaves behind would inherit that (a recorder that
        // ignored SIGTERM held every test up for 20 s).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw ALSATestEnvironment.SetupFailure(description: "cannot run \(executable): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = String(decoding: readBytes(outputPath) ?? [], as: UTF8.self)
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }
}

/// Both cores kept busy by ordinary processes for as long as it lives, as on a laptop that is
/// doing something else while the runner plays.
final class BusyCores {
    private var loops: [Process] = []

    init(_ count: Int = 2) throws {
        for _ in 0..<count {
            let loop = Process()
            loop.executableURL = URL(fileURLWithPath: "/bin/sh")
            loop.arguments = ["-c", "while :; do :; done"]
            try loop.run()
            loops.append(loop)
        }
    }

    /// Ends the loops (also at the end of its life).
    func stop() {
        for loop in loops where loop.isRunning {
            kill(loop.processIdentifier, SIGKILL)
            loop.waitUntilExit()
        }
        loops = []
    }

    deinit { stop() }
}

/// Whether a process has ended: gone, or a zombie not reaped yet. A recorder the script left
/// behind is no child of the test's, and `kill(pid, 0)` still finds it while it is a zombie.
func hasEnded(_ pid: pid_t) -> Bool {
    guard let stat = readBytes("/proc/\(pid)/stat") else { return true }
    // "pid (comm) S …": the state follows the last ')'.
    guard let close = stat.lastIndex(of: UInt8(ascii: ")")), close + 2 < stat.count else { return true }
    return stat[close + 2] == UInt8(ascii: "Z")
}
