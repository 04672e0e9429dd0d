import ArgumentParser
import StrideCueCore
import StrideCueSession
import StrideCueTerminal
import StrideCuePresets

/// `stridecue preset cue …`: a preset's cues, counted from 1 as everywhere else.
struct CueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cue",
        abstract: "Add, change, move or remove a cue of your preset.",
        discussion: """
            Cues are counted from 1, as 'preset show', the coach's page and its API count them. \
            Each change is checked as render checks it (every cue must fit its steps) and keeps \
            the file's comments; a built-in preset is copied to your presets first.
            Examples:
              stridecue preset cue add high-knees say="knees up" every=8 offset=3
              stridecue preset cue add high-knees say="tall" every=16 --at 1
              stridecue preset cue set high-knees 2 say="drive the knee"
              stridecue preset cue mv high-knees 3 --to 1
              stridecue preset cue rm high-knees 2
            """,
        subcommands: [Add.self, Change.self, Move.self, Remove.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a cue (by default as the last).")
        @Argument(help: "Your preset's name (or a built-in's, to make your own copy).") var name: String
        @Argument(help: ArgumentHelp("The cue's keys: say or sound, every or at, offset, steps, style and the rest", valueName: "key=value"))
        var keys: [String] = []
        @Option(help: ArgumentHelp("The new cue's number, from 1.", valueName: "n")) var at: Int?

        func run() throws {
            try reportingFailures {
                guard !keys.isEmpty else {
                    throw Failure("preset cue add needs the cue's KEY=VALUEs, such as say=\"knees up\" every=8", exitCode: ExitStatus.usage)
                }
                try saveCues(name, "added", edit: .add(try parseAssignments(keys), at: at), typed: keys.joined(separator: " "))
            }
        }
    }

    struct Change: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change keys of cue N.")
        @Argument(help: "Your preset's name.") var name: String
        @Argument(help: "The cue's number, from 1.") var number: Int
        @Argument(help: ArgumentHelp("The keys to change, such as say=\"knees up\".", valueName: "key=value"))
        var keys: [String] = []

        func run() throws {
            try reportingFailures {
                guard number >= 1 else { throw Failure.flag("N", "cues are counted from 1") }
                guard !keys.isEmpty else {
                    throw Failure("preset cue set needs at least one KEY=VALUE, such as say=\"knees up\"", exitCode: ExitStatus.usage)
                }
                let changes = try parseAssignments(keys).map {
                    PresetAssignment(path: PresetKeyPath([.key("cues"), .item(number)] + $0.path.components), value: $0.value)
                }
                for line in try savePresetValues(name: name, changes: changes, cancellation: interruptions) { print(line) }
            }
        }
    }

    struct Move: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mv", abstract: "Move cue N to another place.")
        @Argument(help: "Your preset's name.") var name: String
        @Argument(help: "The cue's number, from 1.") var number: Int
        @Option(help: ArgumentHelp("Its new number, from 1.", valueName: "n")) var to: Int

        func run() throws {
            try reportingFailures { try saveCues(name, "moved", edit: .move(number, to: to), typed: "cue \(number) --to \(to)") }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove cue N.")
        @Argument(help: "Your preset's name.") var name: String
        @Argument(help: "The cue's number, from 1.") var number: Int

        func run() throws {
            try reportingFailures { try saveCues(name, "removed", edit: .remove(number), typed: "cue \(number)") }
        }
    }
}

/// Saves a change to the cues list and prints the cues as they are now numbered.
private func saveCues(_ name: String, _ done: String, edit: ListEdit, typed: String) throws {
    let list = PresetKeyPath([.key("cues")])
    let saved = try savePreset(name: name, changes: [typed], cancellation: interruptions) { bytes, file throws(PresetEditFailure) in
        try editPresetList(bytes, file: file, list: list, edit)
    }
    print("Cues of \(name), \(done) \(typed):")
    for line in numberedCues(saved.result.preset) { print(line) }
    for line in saved.savedLines { print(line) }
}
