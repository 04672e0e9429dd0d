import StrideCueCore

/// A problem with a preset, pinned to the place in the file where it was found.
///
/// Printed as `file:line:column: message`, the form editors and terminals link to.
public struct PresetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path as the user gave it, used verbatim.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in Unicode scalars.
    public var column: Int
    /// One line of text, without the position.
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Limits that keep a hostile or mistaken preset from costing much time or memory.
public enum PresetLimits {
    /// Largest preset file accepted, in bytes (1 MiB).
    public static let maxBytes = 1 << 20
    /// Deepest nesting of mappings and lists accepted.
    public static let maxDepth = 32
}

extension PresetError: UserFacingError {
    public var exitStatus: Int32 { ExitStatus.dataError }
}
