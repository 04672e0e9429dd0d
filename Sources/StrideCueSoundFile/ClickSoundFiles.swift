import StrideCueCore

/// Click sounds by name: the built-ins synthesized in code, or `NAME.wav` (with an optional
/// `NAME-accent.wav`) in a folder of recorded clicks, converted to the output rate.
public enum ClickSoundFiles {
    /// The sound called `name` at `sampleRate`, or nil when there is no such sound.
    /// - Throws: `SoundFileError` when the file exists but cannot be read.
    public static func load(_ name: String, folder: String?, sampleRate: Int) throws(SoundFileError) -> ClickSound? {
        if let sound = ClickSound.builtIn(name, sampleRate: sampleRate) { return sound }
        guard let folder, isPlainName(name) else { return nil }
        let path = "\(folder)/\(name).wav"
        let recording: [Float]
        // Only a file that is not there is "no such sound"; a FIFO or a device named like one
        // is refused by the read (exit 66), not listed as a sound and then called unknown.
        do {
            recording = try monoAtRate(path, sampleRate)
        } catch let error where error.kind == .missing && error.call == "open" {
            return nil
        }
        var accent: [Float]? = nil
        do {
            accent = try monoAtRate("\(folder)/\(name)-accent.wav", sampleRate)
        } catch let error where error.kind == .missing && error.call == "open" {
            accent = nil
        }
        return ClickSound(name: name, sampleRate: sampleRate, recording: recording, accentRecording: accent)
    }

    /// The click sound recorded in `file` (any format libsndfile reads), with the accent in
    /// `NAME-accent.EXT` beside it when there is one; nil when `file` does not exist.
    /// - Throws: `SoundFileError` when the file exists but cannot be read.
    public static func load(file: String, name: String, sampleRate: Int) throws(SoundFileError) -> ClickSound? {
        let recording: [Float]
        // As in `load(_:folder:sampleRate:)`: only a file that is not there is absent; a FIFO
        // or a device at either place is refused by the read's fstat check (exit 66).
        do {
            recording = try monoAtRate(file, sampleRate)
        } catch let error where error.kind == .missing && error.call == "open" {
            return nil
        }
        var accent: [Float]? = nil
        do {
            accent = try monoAtRate(accentFile(for: file), sampleRate)
        } catch let error where error.kind == .missing && error.call == "open" {
            accent = nil
        }
        return ClickSound(name: name, sampleRate: sampleRate, recording: recording, accentRecording: accent)
    }

    /// `clicks/stick-accent.wav` for `clicks/stick.wav`.
    public static func accentFile(for file: String) -> String {
        let base = file.lastIndex(of: "/").map { file.index(after: $0) } ?? file.startIndex
        if let dot = file[base...].lastIndex(of: "."), dot != base {
            return file[..<dot] + "-accent" + file[dot...]
        }
        return file + "-accent"
    }

    /// Names usable as `sound:`: the built-ins, then the recorded clicks found in `folder`.
    public static func available(folder: String?) -> [String] {
        var names = ClickSound.builtInNames
        if let folder {
            names += listFiles(in: folder, suffix: ".wav").filter { !$0.hasSuffix("-accent") }.sorted()
        }
        return names
    }

    private static func monoAtRate(_ path: String, _ rate: Int) throws(SoundFileError) -> [Float] {
        let sound = try readSound(at: path, maxSeconds: 10)
        return try resample(sound.mono(), from: sound.sampleRate, to: rate)
    }

    /// Letters, digits and hyphens: a name can never reach outside the folder.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { c in
            (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 45 || c == 95
        }
    }
}
