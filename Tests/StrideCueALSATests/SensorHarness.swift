import Foundation
import Glibc
import StrideCueTestSupport
import Testing

/// A Bluetooth world without Bluetooth: a private dbus-daemon shaped like the system bus
/// (Tests/Sensor/system-bus.conf), bluezoo (a mock of BlueZ's D-Bus API, PyPI, installed by
/// `make test-deps` into .build/sensor-venv) on it with two adapters, and on the second one the
/// scripted footpod (Tests/Sensor/footpod.py). StrideCue finds the bus through
/// `DBUS_SYSTEM_BUS_ADDRESS`, as it would find the real one, and reads the footpod through
/// adapter hci0 exactly as it would read a Stryd. Everything started is stopped when the world
/// is released.
final class BluetoothWorld {
    static let venv = ProcessInfo.processInfo.environment["STRIDECUE_SENSOR_VENV"] ?? playPackageRoot + "/.build/sensor-venv"
    static let central = "00:00:00:11:11:11"
    static let footpodAddress = "00:00:00:22:22:22"
    static let footpodName = "Stride Pod"

    let folder: TemporaryFolder
    /// For `stridecue`'s environment.
    let address: String
    private let daemon = Process()
    private var bluezoo: Process? = nil
    private var footpod: Process? = nil
    private let footpodInput = Pipe()
    private var footpodOutput: String { (try? String(contentsOfFile: folder.file("footpod.out"), encoding: .utf8)) ?? "" }

    /// The bus alone, then bluezoo with `adapters` (none: a machine without Bluetooth), then
    /// the footpod when `footpod` (it needs two adapters).
    init(bluez: Bool = true, adapters: [String] = [BluetoothWorld.central, BluetoothWorld.footpodAddress], footpod: Bool = true) throws {
        folder = try TemporaryFolder()
        let socket = folder.file("bus")
        address = "unix:path=\(socket)"
        daemon.executableURL = URL(fileURLWithPath: "/usr/bin/dbus-daemon")
        daemon.arguments = ["--config-file=\(playPackageRoot)/Tests/Sensor/system-bus.conf", "--address=\(address)", "--nofork"]
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        try Self.wait(for: "the bus's socket \(socket)") { access(socket, F_OK) == 0 }
        guard bluez else { return }
        let python = Self.venv + "/bin/python"
        try #require(FileManager.default.isExecutableFile(atPath: python), "no \(python): run 'make test-deps' (bluezoo in a venv)")
        let zoo = Process()
        zoo.executableURL = URL(fileURLWithPath: Self.venv + "/bin/bluezoo")
        // A scan every second: bluezoo reports what it finds once per interval (10 s by default).
        zoo.arguments = ["--auto-enable", "--scan-interval", "1"] + adapters.flatMap { ["-a", $0] }
        zoo.environment = environment
        let log = folder.file("bluezoo.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        zoo.standardOutput = FileHandle.nullDevice
        zoo.standardError = FileHandle(forWritingAtPath: log)
        try zoo.run()
        bluezoo = zoo
        // Ready when bluezoo answers on the bus with its adapters powered (asked through
        // python-sdbus, which bluezoo brings; no busctl needed).
        try Self.wait(for: "bluezoo's \(adapters.count) adapters (its log: \(log))") {
            let probe = Process()
            probe.executableURL = URL(fileURLWithPath: python)
            probe.arguments = ["-c", Self.adapterProbe]
            probe.environment = environment
            let output = Pipe()
            probe.standardOutput = output
            probe.standardError = FileHandle.nullDevice
            guard (try? probe.run()) != nil else { return false }
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            probe.waitUntilExit()
            return printed == "\(adapters.count)\n"
        }
        guard footpod, adapters.count >= 2 else { return }
        let pod = Process()
        pod.executableURL = URL(fileURLWithPath: python)
        pod.arguments = [playPackageRoot + "/Tests/Sensor/footpod.py", "/org/bluez/hci1", Self.footpodName,
                         "/org/bluez/hci0/dev_" + Self.footpodAddress.replacingOccurrences(of: ":", with: "_")]
        pod.environment = environment
        _ = FileManager.default.createFile(atPath: folder.file("footpod.out"), contents: nil)
        pod.standardInput = footpodInput
        pod.standardOutput = FileHandle(forWritingAtPath: folder.file("footpod.out"))
        pod.standardError = FileHandle(forWritingAtPath: folder.file("footpod.out"))
        try pod.run()
        self.footpod = pod
        try waitForFootpod("ready")
    }

    deinit {
        // SIGKILL: the test runner's threads block SIGTERM, and its children inherit the mask.
        for process in [footpod, bluezoo, daemon] as [Process?] {
            guard let process, process.isRunning else { continue }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// The test's environment with the private bus as the system bus.
    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["DBUS_SYSTEM_BUS_ADDRESS"] = address
        return env
    }

    /// Tells the footpod what to do (see footpod.py) and waits until it says it did.
    func footpod(_ command: String, answer: String? = nil) throws {
        footpodInput.fileHandleForWriting.write(Data((command + "\n").utf8))
        try waitForFootpod(answer ?? String(command.split(separator: " ").first ?? ""))
    }

    /// Waits until the footpod has printed a line starting with `prefix`.
    func waitForFootpod(_ prefix: String) throws {
        try Self.wait(for: "the footpod to say '\(prefix)' (it said: \(footpodOutput))") {
            footpodOutput.split(separator: "\n").contains { $0.hasPrefix(prefix) }
        }
    }

    /// How many times the footpod has printed a line starting with `prefix`.
    func footpodSaid(_ prefix: String) -> Int {
        footpodOutput.split(separator: "\n").filter { $0.hasPrefix(prefix) }.count
    }

    /// Prints how many powered adapters org.bluez publishes; fails while nobody owns org.bluez.
    static let adapterProbe = """
        import sdbus
        bus = sdbus.sd_bus_open_system()
        objects = sdbus.DbusObjectManagerInterface("org.bluez", "/", bus).get_managed_objects()
        print(sum(1 for i in objects.values() if i.get("org.bluez.Adapter1", {}).get("Powered", ("b", False))[1]))
        """

    /// Waits on a state (never a fixed sleep), for at most 15 s.
    static func wait(for what: String, _ condition: () -> Bool) throws {
        let deadline = monotonicNow() + 15
        while !condition() {
            if monotonicNow() > deadline { throw ALSATestEnvironment.SetupFailure(description: "gave up waiting for \(what)") }
            usleep(20_000)
        }
    }
}
