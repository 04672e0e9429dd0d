import Glibc

/// Base names (without `.wav`) of the WAV files in a folder; empty when it cannot be read.
func listWAVNames(in folder: String) -> [String] {
    guard let dir = opendir(folder) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        if name.hasSuffix(".wav"), !name.hasPrefix(".") {
            names.append(String(name.dropLast(4)))
        }
    }
    return names
}
