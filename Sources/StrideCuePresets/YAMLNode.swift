import StrideCueCore

/// Where a node's text sits in the preset file.
///
/// Byte offsets let a later edit replace a value in place and keep the rest of the file,
/// comments included, byte for byte; line and column are for people.
public struct SourceSpan: Sendable, Equatable, Hashable {
    /// Offset of the node's first byte (a quote or `|`/`>` indicator included).
    public var start: Int
    /// Offset just past the node's last byte; equal to `start` for an absent value.
    public var end: Int
    /// 1-based line of `start`.
    public var line: Int
    /// 1-based column of `start`, counted in Unicode scalars from the start of its line.
    public var column: Int

    public init(start: Int, end: Int, line: Int, column: Int) {
        self.start = start
        self.end = end
        self.line = line
        self.column = column
    }
}

/// How a scalar was written; a later in-place edit needs it to write a value back the same way.
public enum ScalarStyle: Sendable, Equatable {
    /// Unquoted text; empty when a key has no value.
    case plain
    case singleQuoted
    case doubleQuoted
    /// A `|` block.
    case literal
    /// A `>` block.
    case folded
}

/// One `key: value` pair of a mapping.
public struct YAMLEntry: Sendable, Equatable {
    public var key: String
    public var keySpan: SourceSpan
    public var value: YAMLNode

    public init(key: String, keySpan: SourceSpan, value: YAMLNode) {
        self.key = key
        self.keySpan = keySpan
        self.value = value
    }
}

/// A node of a parsed preset: text, a mapping in file order, or a list.
public enum YAMLNode: Sendable, Equatable {
    /// Text with quotes, escapes and folding already resolved.
    case scalar(String, style: ScalarStyle, span: SourceSpan)
    /// Keys in the order they appear in the file; keys are unique.
    case mapping([YAMLEntry], span: SourceSpan)
    case sequence([YAMLNode], span: SourceSpan)

    /// Where the whole node sits: for collections, from the first key, `-` or bracket to the end of the last value.
    public var span: SourceSpan {
        switch self {
        case .scalar(_, _, let span), .mapping(_, let span), .sequence(_, let span): span
        }
    }

    /// The entry for `key`, if this is a mapping that has it.
    public func entry(_ key: String) -> YAMLEntry? {
        guard case .mapping(let entries, _) = self else { return nil }
        return entries.first { $0.key == key }
    }
}
