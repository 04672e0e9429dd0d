import StrideCueCore
import StrideCueSoundFile

/// Finds a preset by name in the shipped library, or takes a path as given.
struct PresetLocator {
    let data: DataFolder?

    /// Presets larger than this are refused by the decoder; reading stops just past it.
    static let sizeLimit = 1 << 20

    func path(for reference: String) throws -> String {
        if reference.contains("/") || reference.hasSuffix(".yaml") || reference.hasSuffix(".yml") {
            guard fileExists(reference) else {
                throw Failure("\(reference): no such preset file", exitCode: ExitStatus.noInput)
            }
            return reference
        }
        if let folder = data?.presets {
            let path = "\(folder)/\(reference).yaml"
            if fileExists(path) { return path }
        }
        let known = builtInNames()
        let hint = known.isEmpty ? "" : "; built-in presets: " + known.joined(separator: ", ")
        throw Failure("no preset named '\(reference)'\(hint)", exitCode: ExitStatus.noInput)
    }

    func builtInNames() -> [String] {
        guard let folder = data?.presets else { return [] }
        return listFiles(in: folder, suffix: ".yaml").sorted()
    }
}
