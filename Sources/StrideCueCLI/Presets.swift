import ArgumentParser
import StrideCueCore
import StrideCueFiles
import StrideCueMixdown
import StrideCueSession
import StrideCueTerminal
import StrideCuePresets
/// `stridecue presets`: every preset a name can reach, where it comes from, and its shape.
struct Presets: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presets",
        abstract: "List every preset: the built-in drills, your own, and those in STRIDECUE_PRESETS.",
        discussion: """
            Your presets live in $XDG_CONFIG_HOME/stridecue/presets (by default \
            ~/.config/stridecue/presets); one there hides a built-in preset of the same name. \
            STRIDECUE_PRESETS adds folders (separated by ':'), searched after yours. \
            A preset that does not decode is listed as invalid; 'stridecue preset check NAME' says why.
            Examples:
              stridecue presets
              stridecue presets --json
            """
    )

    @Flag(help: "Print a JSON array with one object per preset.")
    var json = false

    func run() throws {
        try reportingFailures {
            let locator = PresetLocator(data: DataFolder.locate())
            let (files, skipped) = locator.all()
            for path in skipped {
                printError("stridecue: skipping \(path): preset names are lowercase words joined by hyphens")
            }
            let rows = files.map(PresetRow.init)
            print(json ? Presets.json(rows) : Presets.text(rows, locator: locator), terminator: "")
        }
    }

    static func text(_ rows: [PresetRow], locator: PresetLocator) -> String {
        var table: [[String]] = [["Name", "From", "Cadence", "Sets", "Time", "Cues"]]
        for row in rows {
            var from = row.file.source.rawValue
            if row.file.source == .user && row.file.shadows.contains(.builtIn) { from += ", hides built-in" }
            guard row.error == nil else {
                table.append([row.file.name, from, "invalid: see 'stridecue preset check \(row.file.name)'"])
                continue
            }
            let cadence = row.rampFrom.map { "\(PlanText.cadence($0)) → \(PlanText.cadence(row.cadence)) spm" }
                ?? "\(PlanText.cadence(row.cadence)) spm"
            table.append([row.file.name, from, cadence, String(row.sets), PlanText.clock(row.duration), String(row.cues)])
        }
        var lines = PlanText.table(table, rightAligned: [3, 4, 5])
        if rows.isEmpty { lines.append("  (no presets found)") }
        lines.append("")
        if let folder = locator.userFolder {
            let count = rows.filter { $0.file.source == .user }.count
            lines.append(count == 0
                ? "Your presets: \(escaped(folder)) (none yet: 'stridecue preset new NAME --from bum-kicks' makes one)"
                : "Your presets: \(escaped(folder))")
        }
        if !locator.extraFolders.isEmpty {
            lines.append("From STRIDECUE_PRESETS: " + locator.extraFolders.map(escaped).joined(separator: ", "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ rows: [PresetRow]) -> String {
        var objects: [String] = []
        for row in rows {
            var fields: [(String, String)] = [
                ("name", jsonString(row.file.name)),
                ("source", jsonString(row.file.source.rawValue)),
                ("file", jsonString(row.file.path)),
                ("shadows", "[" + row.file.shadows.map { jsonString($0.rawValue) }.joined(separator: ", ") + "]"),
            ]
            if let error = row.error {
                fields.append(("error", jsonString(error)))
            } else {
                fields += [
                    ("title", jsonString(row.title)),
                    ("cadence", jsonNumber(row.cadence)),
                    ("rampFrom", row.rampFrom.map(jsonNumber) ?? "null"),
                    ("sets", String(row.sets)),
                    ("stepsPerSet", String(row.stepsPerSet)),
                    ("duration", jsonNumber((row.duration * 1000).rounded() / 1000)),
                    ("cues", String(row.cues)),
                ]
            }
            objects.append("  {" + fields.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ") + "}")
        }
        return objects.isEmpty ? "[]\n" : "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }
}

/// What the listing shows of one preset.
struct PresetRow {
    var file: PresetFile
    var title = ""
    var cadence = 0.0
    var rampFrom: Double?
    var sets = 0
    var stepsPerSet = 0
    /// Seconds, from `Timeline.planDuration`.
    var duration = 0.0
    var cues = 0
    /// Why the preset could not be read, as `file:line:column: message`.
    var error: String?

    init(_ file: PresetFile) {
        self.file = file
        do {
            let preset = try decodePreset(readFile(file.path, limit: PresetLocator.sizeLimit), file: file.path)
            let plan = preset.plan
            title = plan.name
            cadence = plan.cadence
            rampFrom = plan.ramp?.from
            sets = plan.sets
            stepsPerSet = PlanLayout(plan: plan).stepsPerSet
            duration = Timeline.planDuration(of: plan)
            cues = cueCount(preset.root)
        } catch let failure as Failure {
            error = failure.message
        } catch let other {
            error = "\(other)"
        }
    }
}

/// Entries of a preset's `cues` list, counted in the tree so the count is right whatever the
/// decoder makes of them.
func cueCount(_ root: YAMLNode) -> Int {
    guard case .sequence(let items, _)? = root.entry("cues")?.value else { return 0 }
    return items.count
}

/// A finite number as JSON writes it: 190, 172.5.
func jsonNumber(_ value: Double) -> String {
    value.isFinite ? format(value) : "null"
}
