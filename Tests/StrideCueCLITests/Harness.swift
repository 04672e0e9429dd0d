import Foundation
import StrideCueTestSupport
import Testing
import StrideCueSoundFile

/// What a run of the built `stridecue` binary did.
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The package root, found from this file's path.
let packageRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// The `stridecue` binary `swift build` put next to the test bundle, or `$STRIDECUE_BIN`.
let stridecueBinary: String = {
    if let path = ProcessInfo.processInfo.environment["STRIDECUE_BIN"] { return path }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
    var folder = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // On Linux the tests run from <build>/debug/<Package>PackageTests.xctest.
    while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("stridecue").path), folder.path != "/" {
        folder.deleteLastPathComponent()
    }
    return folder.appendingPathComponent("stridecue").path
}()

/// A program started with no input and both outputs piped, not yet waited for.
struct RunningCommand {
    let process: Process
    let out: Pipe
    let err: Pipe
    var pid: Int32 { process.processIdentifier }

    /// Waits for the end. Both pipes are drained at once: read one after the other, a child
    /// that fills the second (the loader's log under LD_DEBUG, say) while the first is read
    /// would wait forever.
    func wait() -> RunResult {
        let errData = PipeReader(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return RunResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData.wait(), as: UTF8.self))
    }
}

/// Starts the program at `path` with `arguments` (and `environment`, or this process's).
func start(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> RunningCommand {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return RunningCommand(process: process, out: out, err: err)
}

/// Runs the program at `path` with `arguments` and no input to its end.
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> RunResult {
    try start(path, arguments, environment: environment).wait()
}

/// This process's environment with the data folder set to the source tree, then `extra`.
func binaryEnvironment(_ extra: [String: String]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["STRIDECUE_DATA"] = packageRoot
    for (k, v) in extra { environment[k] = v }
    return environment
}

/// Starts the binary with `arguments`, as `stridecue(_:)` runs it, without waiting.
func launch(_ arguments: [String], environment: [String: String] = [:], executable: String = stridecueBinary) throws -> RunningCommand {
    try start(executable, arguments, environment: binaryEnvironment(environment))
}

/// Runs the binary with `arguments`; `shellPrefix` runs first in a shell that then execs the
/// binary (e.g. to set a resource limit).
@discardableResult
func stridecue(_ arguments: [String], environment: [String: String] = [:], shellPrefix: String? = nil) throws -> RunResult {
    let running: RunningCommand
    if let prefix = shellPrefix {
        let quoted = ([stridecueBinary] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        running = try launch(["-c", "\(prefix); exec \(quoted.joined(separator: " "))"], environment: environment, executable: "/bin/sh")
    } else {
        running = try launch(arguments, environment: environment)
    }
    return running.wait()
}

/// Reads a pipe to its end on a thread of its own.
final class PipeReader: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    /// Everything the pipe held, once it has closed.
    func wait() -> Data {
        done.wait()
        return data
    }
}

/// A user's config home (XDG_CONFIG_HOME) with no presets yet, and no STRIDECUE_PRESETS.
struct ConfigHome {
    private let folder: TemporaryFolder
    var path: String { folder.path }
    var presets: String { path + "/stridecue/presets" }
    var environment: [String: String] { ["XDG_CONFIG_HOME": path, "STRIDECUE_PRESETS": ""] }

    init() throws { folder = try TemporaryFolder() }

    /// Writes a user preset.
    func add(_ name: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: presets, withIntermediateDirectories: true)
        try text.write(toFile: "\(presets)/\(name).yaml", atomically: false, encoding: .utf8)
    }
}

/// A runner's own presets alone: a config home, and a data folder with the shipped sounds and
/// no presets, so that `--all` means the presets added here. Exports go to `out`.
struct UserLibrary {
    let home: ConfigHome
    private let folder: TemporaryFolder
    var data: String { folder.path }
    var out: String { data + "/phone" }

    init() throws {
        home = try ConfigHome()
        folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: data + "/Presets", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: data + "/Sounds", withDestinationPath: packageRoot + "/Sounds")
    }

    var environment: [String: String] { home.environment.merging(["STRIDECUE_DATA": data]) { $1 } }

    func run(_ arguments: [String], extra: [String: String] = [:]) throws -> RunResult {
        try stridecue(arguments, environment: environment.merging(extra) { $1 })
    }

    /// Runs the binary here, expecting it to succeed.
    @discardableResult
    func succeed(_ arguments: [String]) throws -> RunResult {
        let result = try run(arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return result
    }

    /// A short user preset: `seconds` at `cadence`, with an accent every `accent` steps if given.
    func add(_ name: String, cadence: Int = 180, seconds: Int = 2, accent: Int? = nil) throws {
        try home.add(name, "name: \(name)\ncadence: \(cadence)\nset: {duration: \(seconds) s}\n" + (accent.map { "accent: \($0)\n" } ?? ""))
    }
}

func files(in folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
}

func readBack(_ path: String) throws -> DecodedSound {
    try readSound(at: path, maxSeconds: 7_200)
}

/// Runs a shell command line under `script`, which gives it a pseudo-terminal, with the
/// progress bar's delay at zero; returns the exit status and everything the terminal showed.
func runOnTerminal(_ command: String) throws -> (status: Int32, text: String) {
    let (status, text) = try runReadingOutput("/usr/bin/script", ["-qec", command, "/dev/null"],
                                              environment: binaryEnvironment(["STRIDECUE_PROGRESS_DELAY": "0"]))
    return (status, text)
}
