import ArgumentParser
import StrideCueCore
import StrideCueLive
import StrideCueSensor
import StrideCueTerminal

/// `stridecue sensors`: the running sensors `play --sensor` can read, and what they report now.
struct Sensors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensors",
        abstract: "List running sensors (Bluetooth LE footpods) you can pass to play --sensor.",
        discussion: """
            Scans for --scan seconds for sensors with the Running Speed and Cadence service, then reads each for a \
            moment: name, address, connected or not, cadence now. Exit codes: 0 listed (even none), 69 no BlueZ or adapter.
            """)

    @Option(parsing: .unconditional, help: ArgumentHelp("Seconds to scan, 1 to 60.", valueName: "s"))
    var scan = DecimalValue(5)

    func validate() throws { try scan.validate("--scan", 1...60, unit: "s") }

    func run() throws {
        try reportingFailures {
            for line in SensorScan.lines(try SensorScan.scan(seconds: scan.value), seconds: scan.value) { print(line) }
        }
    }
}

extension ClickFeedback: FlagValue { static var expectation: String { "guide, fade or nudge" } }

/// `play --sensor`: the runner's own cadence, read for the whole session.
struct SensorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Show the runner's cadence from this running sensor: a name or address 'stridecue sensors' lists, or auto.",
                               valueName: "name|address|auto"))
    var sensor: String?

    @Option(help: ArgumentHelp("Write a row per step (time, target and measured cadence, speed) and a summary to FILE, .csv or .json.", valueName: "file"))
    var log: String?

    @Option(help: ArgumentHelp("How the click answers --sensor: guide, fade or nudge (default: the preset's feedback).", valueName: "mode"))
    var feedback: ClickFeedback?

    func validate() throws {
        if let log, SessionLog.Format(path: log) == nil { throw Failure.flag("--log", "must end in .csv or .json; got '\(quoted(log))'") }
        if feedback != nil && sensor == nil { throw Failure.flag("--feedback", "answers the runner's cadence: it needs --sensor") }
    }

    /// Found and connected before the sound device opens, or one line and exit 69.
    func start() throws -> SensorLink? {
        try sensor.map { try SensorLink.start($0, scanSeconds: SensorLink.defaultScanSeconds) { if interruptions.signal != 0 { throw Stopped(signal: interruptions.signal) } } }
    }
}
