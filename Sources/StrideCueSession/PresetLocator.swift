import Glibc
import StrideCueCore
import StrideCueFiles
import StrideCueSoundFile

/// Where a preset comes from, as `stridecue presets` shows it.
public enum PresetSource: String {
    /// Shipped in the data folder's `Presets/`.
    case builtIn = "built-in"
    /// In the user's presets folder; shadows a built-in of the same name.
    case user
    /// In a folder named by `STRIDECUE_PRESETS`, or given as a path.
    case path
}

/// One preset file found by name.
public struct PresetFile: Equatable {
    public var name: String
    public var source: PresetSource
    public var path: String
    /// Sources of presets of the same name that this one hides, in order.
    public var shadows: [PresetSource] = []
}

/// Finds presets by name: the user's own first, then `STRIDECUE_PRESETS` folders, then the
/// shipped library; or takes a path as given.
///
/// User presets live in `$XDG_CONFIG_HOME/stridecue/presets/` (default
/// `~/.config/stridecue/presets/`). A name is lowercase words joined by hyphens, so it can
/// never leave its folder; `new`, `set` and `rm` take only names.
public struct PresetLocator {
    public let data: DataFolder?
    /// The user's presets folder; nil when there is no home folder to put it in.
    public let userFolder: String?
    /// Folders from `STRIDECUE_PRESETS` (colon-separated, like `PATH`).
    public let extraFolders: [String]

    /// Presets larger than this are refused by the decoder; reading stops just past it.
    public static let sizeLimit = 1 << 20

    public init(data: DataFolder?) {
        self.data = data
        userFolder = PresetLocator.userPresetsFolder()
        extraFolders = environment("STRIDECUE_PRESETS").map { value in
            value.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        } ?? []
    }

    /// `$XDG_CONFIG_HOME/stridecue/presets`, or `~/.config/stridecue/presets`. The XDG
    /// specification says a relative `XDG_CONFIG_HOME` is to be ignored.
    public static func userPresetsFolder() -> String? {
        if let config = environment("XDG_CONFIG_HOME"), config.hasPrefix("/") {
            return config + "/stridecue/presets"
        }
        var home = environment("HOME")
        if home == nil || home!.isEmpty, let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir {
            home = String(cString: dir)
        }
        guard let home, !home.isEmpty else { return nil }
        return (home == "/" ? "" : home) + "/.config/stridecue/presets"
    }

    /// Folders to search, the first hiding the rest.
    public var folders: [(folder: String, source: PresetSource)] {
        var list: [(String, PresetSource)] = []
        if let userFolder { list.append((userFolder, .user)) }
        list += extraFolders.map { ($0, .path) }
        if let builtIn = data?.presets { list.append((builtIn, .builtIn)) }
        return list
    }

    // MARK: Names

    /// Whether `name` is lowercase words (letters and digits) joined by single hyphens.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 64, bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else {
            return false
        }
        var previous: UInt8 = 0
        for b in bytes {
            let ok = (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                || (b == UInt8(ascii: "-") && previous != UInt8(ascii: "-"))
            guard ok else { return false }
            previous = b
        }
        return true
    }

    /// Refuses anything but a plain name (exit 64), with a message that says what would work.
    /// - Parameter command: The command refusing it, for the message (`preset set`).
    public static func checkName(_ name: String, for command: String) throws {
        if isValidName(name) { return }
        if name.contains("/") || name.hasPrefix(".") {
            throw Failure("\(command) takes a preset name, not a path: '\(quoted(name))' would leave the presets folder; "
                          + "use a name like hill-sprints", exitCode: ExitStatus.usage)
        }
        for suffix in [".yaml", ".yml"] where name.hasSuffix(suffix) && isValidName(String(name.dropLast(suffix.count))) {
            throw Failure("\(command) takes a preset name without '\(suffix)': \(name.dropLast(suffix.count))", exitCode: ExitStatus.usage)
        }
        throw Failure("'\(quoted(name))' is not a preset name: use lowercase words joined by hyphens, like hill-sprints",
                      exitCode: ExitStatus.usage)
    }

    /// Whether a reference is a path to a file rather than a name.
    public static func isPath(_ reference: String) -> Bool {
        reference.contains("/") || reference.hasSuffix(".yaml") || reference.hasSuffix(".yml")
    }

    // MARK: Finding

    /// Every preset by name, the winning file for each, sorted by name; and the files skipped
    /// because their names are not preset names.
    public func all() -> (presets: [PresetFile], skipped: [String]) {
        var byName: [String: PresetFile] = [:]
        var skipped: [String] = []
        for (folder, source) in folders {
            for name in listFiles(in: folder, suffix: ".yaml").sorted() {
                guard PresetLocator.isValidName(name) else {
                    skipped.append("\(folder)/\(name).yaml")
                    continue
                }
                if byName[name] != nil {
                    byName[name]!.shadows.append(source)
                } else {
                    byName[name] = PresetFile(name: name, source: source, path: "\(folder)/\(name).yaml")
                }
            }
        }
        return (byName.values.sorted { $0.name < $1.name }, skipped)
    }

    /// The preset a name means, or nil.
    public func find(_ name: String) -> PresetFile? {
        var found: PresetFile?
        for (folder, source) in folders {
            let path = "\(folder)/\(name).yaml"
            // Anything at the name counts: a FIFO or a folder called NAME.yaml is then refused by
            // the read that follows ("not a regular file", exit 66), not passed over as absent.
            guard fileExists(path) else { continue }
            if found == nil {
                found = PresetFile(name: name, source: source, path: path)
            } else {
                found!.shadows.append(source)
            }
        }
        return found
    }

    /// The preset a name or path refers to. A path is taken as given; a name must follow the
    /// naming rule and exist in one of the folders.
    public func resolve(_ reference: String) throws -> PresetFile {
        if PresetLocator.isPath(reference) {
            guard fileExists(reference) else {
                throw Failure("\(escaped(reference)): no such preset file", exitCode: ExitStatus.noInput)
            }
            let base = reference.split(separator: "/").last.map(String.init) ?? reference
            let name = base.hasSuffix(".yaml") ? String(base.dropLast(5)) : base.hasSuffix(".yml") ? String(base.dropLast(4)) : base
            return PresetFile(name: name, source: .path, path: reference)
        }
        try PresetLocator.checkName(reference, for: "a preset")
        if let found = find(reference) { return found }
        let builtIn = builtInNames()
        let others = all().presets.filter { $0.source != .builtIn }.map(\.name)
        var hint = builtIn.isEmpty ? "" : "; built-in presets: " + builtIn.joined(separator: ", ")
        if !others.isEmpty { hint += "; yours: " + others.joined(separator: ", ") }
        throw Failure("no preset named '\(reference)'\(hint)", exitCode: ExitStatus.noInput)
    }

    /// The path of a preset file for `render` and `play`: a name or a path.
    public func path(for reference: String) throws -> String {
        try resolve(reference).path
    }

    /// Where the user preset `name` lives (whether or not it exists yet).
    public func userPath(for name: String, command: String) throws -> String {
        try PresetLocator.checkName(name, for: command)
        guard let userFolder else {
            throw Failure("there is no home folder for user presets; set XDG_CONFIG_HOME or HOME", exitCode: ExitStatus.cannotCreate)
        }
        return "\(userFolder)/\(name).yaml"
    }

    public func builtInNames() -> [String] {
        guard let folder = data?.presets else { return [] }
        return listFiles(in: folder, suffix: ".yaml").filter(PresetLocator.isValidName).sorted()
    }
}
