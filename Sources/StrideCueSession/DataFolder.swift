import Glibc
import StrideCueCore
import StrideCueFiles

/// Where the shipped `Presets/` and `Sounds/` live.
///
/// Looked for, in order: `$STRIDECUE_DATA`; next to the executable; under the install prefix
/// (`<prefix>/share/stridecue` for `<prefix>/bin/stridecue`); the source tree this binary was
/// built from. Bundling them as SwiftPM resources is fragile on Linux, so they are found at run time.
public struct DataFolder {
    public let path: String

    public var presets: String { path + "/Presets" }
    public var clickSounds: String { path + "/Sounds/clicks" }

    /// The user's own click sounds: `$XDG_DATA_HOME/stridecue/clicks`, or
    /// `~/.local/share/stridecue/clicks`. A relative `XDG_DATA_HOME` is ignored, as the XDG
    /// specification says.
    public static var userClickSounds: String? {
        if let data = environment("XDG_DATA_HOME"), data.hasPrefix("/") { return data + "/stridecue/clicks" }
        guard let home = environment("HOME"), !home.isEmpty else { return nil }
        return (home == "/" ? "" : home) + "/.local/share/stridecue/clicks"
    }

    public static func locate() -> DataFolder? {
        var candidates: [String] = []
        if let env = getenv("STRIDECUE_DATA") { candidates.append(String(cString: env)) }
        if let exe = executableFolder() {
            candidates.append(exe)
            candidates.append(exe + "/../share/stridecue")
        }
        // Sources/StrideCueSession/DataFolder.swift → the package root.
        let source = "\(#filePath)"
        var parts = source.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 3 {
            parts.removeLast(3)
            candidates.append(parts.joined(separator: "/"))
        }
        return candidates.first(where: { isDirectory($0 + "/Presets") || isDirectory($0 + "/Sounds") })
            .map(DataFolder.init(path:))
    }

    private static func executableFolder() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let path = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}

