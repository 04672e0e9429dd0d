import Foundation
import Glibc
import Testing

// Running the built `stridecue play` the way a runner does: as a process, with its exit
// code and output, and when keys matter, on a pseudo-terminal the test types into.

/// What a run of the binary did.
struct PlayRun {
    var status: Int32
    /// False when a signal ended the process instead of an exit.
    var exited: Bool
    var stdout: String
    var stderr: String
    /// Wall time from launch to exit.
    var seconds: Double

    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
}

/// The `stridecue` binary SwiftPM built next to the test bundle.
func stridecueBinary(_ environment: ALSATestEnvironment) throws -> String {
    let binary = environment.productsFolder + "/stridecue"
    try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is not built")
    return binary
}

/// The package root (Tests/StrideCueALSATests/PlayHarness.swift → the root), for STRIDECUE_DATA.
let playPackageRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// Runs `stridecue` with stdin from /dev/null and stdout, stderr to pipes.
/// - Parameter during: runs while the process does (e.g. to signal it), given its pid.
func runStridecue(_ arguments: [String], _ environment: ALSATestEnvironment, extraEnvironment: [String: String] = [:],
                  during: ((pid_t) -> Void)? = nil) throws -> PlayRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try stridecueBinary(environment))
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment  // ALSA_CONFIG_PATH, STRIDECUE_FAKE_LIB
    env["STRIDECUE_DATA"] = playPackageRoot
    for (key, value) in extraEnvironment { env[key] = value }
    process.environment = env
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    let started = monotonicNow()
    try process.run()
    during?(process.processIdentifier)
    let printed = output.fileHandleForReading.readDataToEndOfFile()
    let complained = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return PlayRun(status: process.terminationStatus, exited: process.terminationReason == .exit,
                   stdout: String(decoding: printed, as: UTF8.self), stderr: String(decoding: complained, as: UTF8.self),
                   seconds: monotonicNow() - started)
}

/// `stridecue` on a pseudo-terminal: standard input and standard error are its slave side,
/// so the program sees a terminal (keys, status line); the test types into the master side
/// and reads what was drawn. No tmux, `script` or Python needed: CI has the kernel's ptys.
final class TerminalSession {
    let master: Int32
    let slave: Int32
    let process = Process()
    private let output = Pipe()
    /// Everything drawn on the terminal so far.
    private(set) var screen = ""
    let started: Double

    /// - Parameters:
    ///   - columns: the terminal's width, when the test sets one.
    ///   - extraEnvironment: set for the program on top of the test's own (a sound server's HOME…).
    init(_ arguments: [String], _ environment: ALSATestEnvironment, columns: Int? = nil,
         extraEnvironment: [String: String] = [:]) throws {
        master = PTY.openMaster(O_RDWR | O_NOCTTY)
        guard master >= 0, PTY.grant(master) == 0, PTY.unlock(master) == 0, let name = PTY.slaveName(master) else {
            throw ALSATestEnvironment.SetupFailure(description: "no pseudo-terminal: errno \(errno)")
        }
        if let columns {
            var size = winsize(ws_row: 24, ws_col: UInt16(columns), ws_xpixel: 0, ws_ypixel: 0)
            _ = ioctl(master, UInt(TIOCSWINSZ), &size)
        }
        slave = open(name, O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw ALSATestEnvironment.SetupFailure(description: "cannot open \(String(cString: name))") }
        // Non-blocking reads of what the program draws.
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        process.executableURL = URL(fileURLWithPath: try stridecueBinary(environment))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["STRIDECUE_DATA"] = playPackageRoot
        env["TERM"] = "xterm"
        for (key, value) in extraEnvironment { env[key] = value }
        process.environment = env
        let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        process.standardInput = terminal
        process.standardError = terminal
        process.standardOutput = output
        started = monotonicNow()
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        close(master)
        close(slave)
    }

    /// The terminal's local modes now (ICANON, ECHO…), as the program left or set them.
    var localModes: tcflag_t {
        var settings = termios()
        tcgetattr(slave, &settings)
        return settings.c_lflag
    }

    var isCooked: Bool { localModes & tcflag_t(ICANON | ECHO) == tcflag_t(ICANON | ECHO) }

    func type(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(master, &bytes, bytes.count)
    }

    /// Reads what the program has drawn since the last call.
    func drain() {
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while true {
            let n = read(master, &chunk, chunk.count)
            if n <= 0 { break }
            screen += String(decoding: chunk[0..<n], as: UTF8.self)
        }
    }

    /// Waits, drawing, until `condition` holds on the screen; false on timeout or exit.
    func wait(seconds timeout: Double, until condition: (String) -> Bool) -> Bool {
        let deadline = monotonicNow() + timeout
        while monotonicNow() < deadline {
            drain()
            if condition(screen) { return true }
            if !process.isRunning { drain(); return condition(screen) }
            usleep(10_000)
        }
        return false
    }

    /// Waits for the program to exit (killing it after `timeout`), reading the terminal meanwhile.
    func finish(timeout: Double = 15) -> (status: Int32, exited: Bool, stdout: String) {
        let deadline = monotonicNow() + timeout
        while process.isRunning && monotonicNow() < deadline {
            drain()
            usleep(10_000)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        drain()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        return (process.terminationStatus, process.terminationReason == .exit, String(decoding: printed, as: UTF8.self))
    }

    /// The last status line drawn (lines are redrawn after a carriage return).
    var lastStatus: String {
        let lines = screen.split(whereSeparator: { $0 == "\r" || $0 == "\n" })
        return lines.last(where: { $0.contains("spm") }).map { String($0).replacingOccurrences(of: "\u{1B}[K", with: "") } ?? ""
    }
}

/// glibc's pseudo-terminal calls. Its Swift module leaves them out (they sit behind
/// _XOPEN_SOURCE in <stdlib.h>), so they are looked up in the C library itself.
private enum PTY {
    typealias OpenMaster = @convention(c) (Int32) -> Int32
    typealias OnMaster = @convention(c) (Int32) -> Int32
    typealias Name = @convention(c) (Int32) -> UnsafeMutablePointer<CChar>?

    static func symbol<T>(_ name: String, as type: T.Type) -> T {
        guard let address = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {  // RTLD_DEFAULT
            fatalError("glibc has no \(name)")
        }
        return unsafeBitCast(address, to: type)
    }

    static let openMaster = symbol("posix_openpt", as: OpenMaster.self)
    static let grant = symbol("grantpt", as: OnMaster.self)
    static let unlock = symbol("unlockpt", as: OnMaster.self)
    static let slaveName = symbol("ptsname", as: Name.self)
}

func monotonicNow() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// The sample bytes of a WAV file's data chunk.
func wavData(_ path: String) throws -> [UInt8] {
    let bytes = try #require(readBytes(path), "cannot read \(path)")
    var offset = 12
    while offset + 8 <= bytes.count {
        let id = String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self)
        let size = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16 | Int(bytes[offset + 7]) << 24
        if id == "data" { return Array(bytes[(offset + 8)..<min(bytes.count, offset + 8 + size)]) }
        offset += 8 + size + (size & 1)
    }
    Issue.record("\(path) has no data chunk")
    return []
}

/// The left channel of interleaved 16-bit little-endian stereo bytes.
func leftChannel(_ bytes: [UInt8]) -> [Int16] {
    stride(from: 0, to: bytes.count - 3, by: 4).map { Int16(bitPattern: UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8) }
}

/// A short preset that exercises the timeline: ramp, count-in, sets, rest, accents, subdivisions.
let busyPreset = """
    name: Play test
    cadence: 172.5
    ramp: {from: 150, steps: 4}
    count-in: 2
    sets: 2
    set: {steps: 6}
    rest: 0.8 s
    accent: 2
    subdivide: 2
    sound: cowbell

    """
