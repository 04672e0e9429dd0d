import ArgumentParser
import StrideCueCore
import StrideCueFiles
import StrideCueMixdown
import StrideCueSession
import StrideCueSoundFile
import StrideCueSpeech
import StrideCueTerminal
import StrideCuePresets
/// `stridecue preset …`: one preset at a time — read it, draw it, copy it, change it, check it.
struct PresetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preset",
        abstract: "Show, create, change, check or remove a preset.",
        discussion: """
            NAME is a preset name (lowercase words joined by hyphens). 'new', 'set' and 'rm' work \
            on your own presets in $XDG_CONFIG_HOME/stridecue/presets (by default \
            ~/.config/stridecue/presets); 'set' on a built-in preset first makes your own copy.
            Examples:
              stridecue preset show strides --svg strides.svg
              stridecue preset new my-kicks --from bum-kicks
              stridecue preset set my-kicks cadence=185 ramp.from=160 sets=3 rest=90s
              stridecue preset check my-kicks ~/shared/hills.yaml
            Exit codes: 0 done, 64 bad argument, 65 bad preset or value, 66 no such preset, \
            73 cannot create the file, 74 I/O error.
            """,
        subcommands: [ShowPreset.self, NewPreset.self, SetPresetValues.self, CueCommand.self, CheckPresets.self, RemovePreset.self]
    )
}

// MARK: - show

struct ShowPreset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the plan of a preset; --svg draws it.",
        discussion: """
            Prints the caution first, then what the drill is for, a row per set and rest with its \
            start, length, steps and tempo, each cue with the steps it falls on, and the totals. \
            --svg FILE also draws the plan: tempo over time, sets and rests as bands, and a lane \
            per cue marking where it is spoken (--svg - prints the SVG instead of the text).
            """
    )

    @Argument(help: "A preset name or a path to a .yaml file.")
    var preset: String

    @Option(help: ArgumentHelp("Also draw the plan as an SVG picture; - for standard output.", valueName: "file.svg"))
    var svg: String?

    func run() throws {
        try reportingFailures {
            if let svg, svg != "-", !svg.lowercased().hasSuffix(".svg") {
                throw Failure.flag("--svg", "\(escaped(svg)): use a .svg name, or - for standard output")
            }
            let data = DataFolder.locate()
            let locator = PresetLocator(data: data)
            let file = try locator.resolve(preset)
            let loaded = try locator.load(file.path)
            let decoded = loaded.preset
            // A plan that would not render is not shown as if it would; cue fitting is left to
            // 'preset check', so the plan can be seen while its cues are being worked on.
            _ = try loadSound(decoded.plan.sound, flagged: false, preset: loaded, data: data, rate: checkFormat.sampleRate)
            let layout = PlanLayout(plan: decoded.plan, cues: planCues(in: decoded.root))
            let origin = originLine(file)
            if svg == "-" {
                print(planPicture(layout, subtitle: origin), terminator: "")
                return
            }
            if let svg {
                try replaceFile(svg, with: Array(planPicture(layout, subtitle: origin).utf8))
            }
            print(planSummary(layout, origin: origin), terminator: "")
        }
    }
}

/// Where a preset comes from, in words: `your preset (hides the built-in): PATH`.
func originLine(_ file: PresetFile) -> String {
    switch file.source {
    case .builtIn:
        return "built-in preset: \(file.path)"
    case .user:
        let hides = file.shadows.contains(.builtIn) ? " (hides the built-in)"
            : file.shadows.contains(.path) ? " (hides one from STRIDECUE_PRESETS)" : ""
        return "your preset\(hides): \(file.path)"
    case .path:
        return "preset file: \(file.path)"
    }
}

// MARK: - new

struct NewPreset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create your own preset, from another preset or from a short template.",
        discussion: """
            With --from, NAME starts as a byte-for-byte copy of that preset (a name or a path). \
            Without it, NAME copies the built-in preset of the same name if there is one, else \
            starts from a template with every common key.
            """
    )

    @Argument(help: "The new preset's name: lowercase words joined by hyphens.")
    var name: String

    @Option(help: ArgumentHelp("The preset to copy: a name or a path.", valueName: "preset"))
    var from: String?

    func run() throws {
        try reportingFailures {
            let data = DataFolder.locate()
            let locator = PresetLocator(data: data)
            let target = try locator.userPath(for: name, command: "preset new")
            try makeFolders(locator.userFolder!)
            let lock = try EditLock(for: target, cancellation: interruptions)
            defer { _ = lock }
            if fileExists(target) {
                throw Failure("you already have a preset named '\(name)': \(target); change it with 'stridecue preset set \(name) KEY=VALUE' "
                              + "or remove it with 'stridecue preset rm \(name)'", exitCode: ExitStatus.cannotCreate)
            }
            var source: PresetFile?
            if let from {
                source = try locator.resolve(from)
            } else if let found = locator.find(name) {
                source = found
            }
            let bytes: [UInt8]
            if let source {
                bytes = try readFile(source.path, limit: PresetLocator.sizeLimit)
                // A broken preset is no start: say what is wrong with it instead.
                _ = try decodePreset(bytes, file: source.path)
            } else {
                bytes = Array(presetTemplate(name: name).utf8)
            }
            try makeFolders(locator.userFolder!)
            try replaceFile(target, with: bytes)
            let made = source.map { "from \(originLine($0))" } ?? "from the template"
            print("Created your preset \(name) \(made)")
            print("  \(target)")
            print("Change it with: stridecue preset set \(name) cadence=180 sets=3 rest=60s")
        }
    }
}

// MARK: - set

struct SetPresetValues: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Change values of your preset, keeping its comments and layout.",
        discussion: """
            KEY is a key of the preset, with dots for nested keys and numbers for cues, counted \
            from 1 (cadence, ramp.from, set.steps, rest, cues.2.say; one past the last cue adds \
            one). A value keeps the file's style (rest=90s over 60 s writes 90 s). A missing key is added where the \
            documentation lists it. Every value is checked before anything is written, and the \
            file is replaced in one step, so a bad value or a failed write leaves it as it was. \
            On a built-in preset, 'set' makes your own copy first.
            Examples:
              stridecue preset set bum-kicks cadence=185 ramp.from=160 sets=3 rest=90s
              stridecue preset set strides set.distance="80 m" cues.1.say="quick feet"
            """
    )

    @Argument(help: "Your preset's name (or a built-in's, to make your own copy).")
    var name: String

    @Argument(help: ArgumentHelp("The changes, such as cadence=185 or ramp.from=160.", valueName: "key=value"))
    var assignments: [String] = []

    func run() throws {
        try reportingFailures {
            // A bad name is reported before missing changes, as always.
            _ = try PresetLocator(data: DataFolder.locate()).userPath(for: name, command: "preset set")
            guard !assignments.isEmpty else {
                throw Failure("preset set needs at least one KEY=VALUE, such as cadence=185", exitCode: ExitStatus.usage)
            }
            let changes = try parseAssignments(assignments)
            for line in try savePresetValues(name: name, changes: changes, cancellation: interruptions) { print(line) }
        }
    }
}

/// `KEY=VALUE`s as typed; a malformed one is a usage error naming it.
func parseAssignments(_ texts: [String]) throws -> [PresetAssignment] {
    try texts.map { text in
        guard let assignment = PresetAssignment(parsing: text) else {
            let key = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
            let why = text.contains("=") ? PresetKeyPath.problem(with: key) : nil
            throw Failure("'\(quoted(text))' is not KEY=VALUE: " + (why ?? "a key such as cadence or ramp.from, '=', and the value"),
                          exitCode: ExitStatus.usage)
        }
        return assignment
    }
}

// MARK: - check

struct CheckPresets: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check presets: every value, every cue's fit, the click sound.",
        discussion: """
            Checks each preset (a name or a path) as render would read it, including that every \
            spoken cue fits its steps at the preset's fastest tempo. Without arguments, checks every \
            preset 'stridecue presets' lists. Prints 'ok' per good preset; each problem is one \
            line, file:line:column: message, on standard error.
            Exit codes: 0 all good, 65 a preset is invalid, 66 one is missing.
            """
    )

    @Argument(help: ArgumentHelp("Presets to check: names or paths to .yaml files.", valueName: "preset"))
    var presets: [String] = []

    func run() throws {
        try reportingFailures {
            let data = DataFolder.locate()
            let locator = PresetLocator(data: data)
            let references = presets.isEmpty ? locator.all().presets.map(\.path) : presets
            var worst: Int32 = 0
            for reference in references {
                do {
                    let file = try locator.resolve(reference)
                    let loaded = try locator.load(file.path)
                    let preset = loaded.preset
                    // The one preflight render and play run, at their default format.
                    _ = try preflight(ResolvedSession(plan: preset.plan, preset: loaded), data: data, format: checkFormat)
                    let plan = preset.plan
                    let cues = cueCount(preset.root)
                    print("ok  \(escaped(file.path))  (\(plan.sets) set\(plan.sets == 1 ? "" : "s"), "
                          + "\(PlanText.clock(Timeline.planDuration(of: plan))), \(cues) cue\(cues == 1 ? "" : "s"))")
                } catch {
                    let (message, code) = explain(error)
                    printError("stridecue: \(message)")
                    worst = max(worst, code)
                }
            }
            if worst != 0 { throw ExitCode(worst) }
        }
    }
}

// MARK: - rm

struct RemovePreset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove one of your presets (built-in presets stay).",
        discussion: "If your preset hid a built-in one of the same name, the built-in one is used again."
    )

    @Argument(help: "Your preset's name.")
    var name: String

    func run() throws {
        try reportingFailures {
            let locator = PresetLocator(data: DataFolder.locate())
            let target = try locator.userPath(for: name, command: "preset rm")
            let lock = isDirectory(locator.userFolder!) ? try EditLock(for: target, cancellation: interruptions) : nil
            defer { _ = lock }
            guard isRegularFile(target) else {
                if let other = locator.find(name) {
                    let kind = other.source == .builtIn ? "a built-in preset" : "not yours (it is in \(other.path))"
                    throw Failure("'\(name)' is \(kind); only your own presets can be removed", exitCode: ExitStatus.usage)
                }
                throw Failure("you have no preset named '\(name)'", exitCode: ExitStatus.noInput)
            }
            try removeFile(target)
            print("Removed your preset \(name) (\(target))")
            if let now = locator.find(name) {
                print("'\(name)' is now the \(now.source == .builtIn ? "built-in" : "STRIDECUE_PRESETS") preset again: \(now.path)")
            }
        }
    }
}

// MARK: - Files
