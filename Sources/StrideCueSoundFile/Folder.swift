import Glibc

/// Names, without `suffix`, of the visible files in a folder whose names end in `suffix`;
/// empty when the folder cannot be read. The corresponding C functions are `opendir` and `readdir`.
public func listFiles(in folder: String, suffix: String) -> [String] {
    guard let dir = opendir(folder) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        if name.hasSuffix(suffix), !name.hasPrefix(".") {
            names.append(String(name.dropLast(suffix.count)))
        }
    }
    return names
}
