import ArgumentParser
import StrideCueCore
import StrideCueTerminal

/// Every command names itself (`commandName:`): otherwise ArgumentParser derives each name
/// from its type by demangling, at every start — a few milliseconds of a 50 ms render.
/// Run by two executables (`StrideCueMain`: `stridecue`; `StrideCueRemoteMain`: `stridecue-remote`).
public struct StrideCue: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "stridecue",
        abstract: "Cadence click tracks with spoken coaching cues for runners.",
        discussion: """
            Render a drill to a file for your phone, or play it live through ALSA.
            Examples:
              stridecue render bum-kicks -o bum-kicks.wav
              stridecue render --spm 172.5 --duration 20m -o easy.wav
            """,
        version: StrideCueVersion.current,
        subcommands: [Render.self, Export.self, Play.self, Coach.self, Devices.self, Sensors.self, Say.self, Voices.self, Presets.self, PresetCommand.self]
    )

    /// Parses, runs, and reports: a usage error is one line naming the flag (exit 64), never
    /// ArgumentParser's block of usage text; `--help` and `--version` print as usual.
    public static func main() {
        main(CommandLine.arguments.dropFirst().map { $0 })
    }

    static func main(_ arguments: [String]) {
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch let error as any UserFacingError {
            // A check of ours in validate(): its own line and status.
            printError("stridecue: \(error)")
            Self.exit(withError: ExitCode(error.exitStatus))
        } catch {
            let status = exitCode(for: error)
            if status == .success { exit(withError: error) }  // help, version, completions
            printError("stridecue: \(usageLine(for: error))")
            Self.exit(withError: ExitCode(status.rawValue == 1 ? ExitStatus.usage : status.rawValue))
        }
        do {
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    /// ArgumentParser's message for a parse error, as one line that says what the flag takes.
    static func usageLine(for error: Error) -> String {
        let message = self.message(for: error)
        let first = message.split(separator: "\n").first.map(String.init) ?? message
        // "The value 'x' is invalid for '--spm <spm>'" → "--spm must be …; got 'x'"
        let prefix = "The value '"
        if first.hasPrefix(prefix), let end = first.range(ofLiteral: "' is invalid for '") {
            let value = String(first[first.index(first.startIndex, offsetBy: prefix.count)..<end.lowerBound])
            let rest = first[end.upperBound...]
            let flag = String(rest.prefix { $0 != " " && $0 != "'" })
            if let expectation = FlagExpectations.byFlag[flag] {
                return "\(flag) must be \(expectation); got '\(quoted(value))'"
            }
        }
        return first.replacingPrefix("Error: ", with: "")
    }
}

extension String {
    /// The first occurrence of `literal`, by characters.
    func range(ofLiteral literal: String) -> Range<String.Index>? {
        guard !literal.isEmpty, literal.count <= count else { return nil }
        var start = startIndex
        while let end = index(start, offsetBy: literal.count, limitedBy: endIndex) {
            if self[start..<end] == literal { return start..<end }
            start = index(after: start)
        }
        return nil
    }

    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
