import Glibc
import StrideCueCore
import StrideCueFiles
import StrideCueSession
import StrideCueSoundFile

/// One preset to export: its plan, the file it becomes and the fingerprint of everything that
/// shapes that file.
public struct ExportJob {
    /// The playlist every export writes (or leaves alone when nothing changed).
    public static let playlistName = "Drills.m3u8"
    /// Bump when the sound of an export changes (renderer, mixing, encoding), so files made by
    /// an older StrideCue are made again.
    public static let version = "stridecue-export 2"  // 2: cues are spoken

    public let plan: SessionPlan
    public let fileName: String
    public let fingerprint: String
    public let seconds: Double
    private let loaded: LoadedPreset
    private let format: RenderFormat
    private let data: DataFolder?

    public init(reference: String, number: Int, digits: Int, type: SoundFileType, format: RenderFormat,
         settings: PhoneSettings, store: PresetLocator) throws {
        let loaded = try store.load(reference)
        let path = loaded.path
        let plan = loaded.preset.plan
        var name = path.split(separator: "/").last.map(String.init) ?? path
        for suffix in [".yaml", ".yml"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)) }
        name = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
        var numberText = String(number)
        while numberText.count < digits { numberText = "0" + numberText }
        fileName = "\(numberText)-\(name)-\(StrideCueCore.format(plan.cadence))spm.\(type.rawValue)"
        self.plan = plan
        seconds = Timeline.planDuration(of: plan)

        let bytes = (try? readFile(path, limit: PresetLocator.sizeLimit)) ?? []
        var parts: [[UInt8]] = [Array(Self.version.utf8), bytes, Array(fileName.utf8)]
        parts.append(Array("\(format.sampleRate) \(format.channels) \(settings.quality.map(String.init) ?? "-")".utf8))
        parts.append(Array("\(settings.loudness.map { "\($0)" } ?? "raw") \(settings.peakCeiling)".utf8))
        if let music = settings.music {
            parts.append(Array("\(music.path) \(fileStamp(music.path)) \(music.level) \(music.duck)".utf8))
        }
        if let folder = store.data?.clickSounds, !ClickSound.builtInNames.contains(plan.sound) {
            parts.append(Array("\(fileStamp("\(folder)/\(plan.sound).wav")) \(fileStamp("\(folder)/\(plan.sound)-accent.wav"))".utf8))
        }
        fingerprint = fnv1a64(parts)
        self.loaded = loaded
        self.format = format
        self.data = store.data
    }

    /// The preflight (only for a file that must be written): the click sound, the cues
    /// synthesized and checked, ready to render.
    public func prepare() throws -> PreparedSession {
        try preflight(ResolvedSession(plan: plan, preset: loaded), data: data, format: format)
    }
}

/// The fingerprint of each file an export wrote, with the file's size and modification time
/// as they were then: a file is up to date when both still match.
public struct ExportManifest {
    /// Hidden in the folder: what each file was made from, to skip it next time.
    public static let fileName = ".stridecue-export"

    public let path: String
    private var entries: [String: (fingerprint: String, stamp: String)] = [:]
    private let folder: String

    public init(folder: String) {
        self.folder = folder
        path = "\(folder)/\(Self.fileName)"
        guard let bytes = try? readFile(path, limit: 1 << 20) else { return }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            // fingerprint, size, modification time, file name (which may hold spaces).
            let fields = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard fields.count == 4 else { continue }
            entries[fields[3]] = (fields[0], fields[1] + " " + fields[2])
        }
    }

    public func isUpToDate(_ file: String, fingerprint: String) -> Bool {
        guard let entry = entries[file], entry.fingerprint == fingerprint else { return false }
        return entry.stamp == fileStamp("\(folder)/\(file)")
    }

    public mutating func record(_ file: String, fingerprint: String) {
        entries[file] = (fingerprint, fileStamp("\(folder)/\(file)"))
    }

    public func save() throws {
        var text = ""
        for (file, entry) in entries.sorted(by: { $0.key < $1.key }) { text += "\(entry.fingerprint) \(entry.stamp) \(file)\n" }
        try replaceFile(path, with: Array(text.utf8))
    }
}

/// Size and modification time of a file, as text (`size seconds.nanoseconds`); `- -` when absent.
public func fileStamp(_ path: String) -> String {
    var st = stat()
    guard stat(path, &st) == 0 else { return "- -" }
    return "\(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
}

/// 64-bit FNV-1a over the parts, each followed by a 0 byte, as 16 hex digits. A change detector,
/// not a security measure.
public func fnv1a64(_ parts: [[UInt8]]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for part in parts {
        for byte in part + [0] {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

public func oneDecimal(_ x: Double) -> String {
    let tenths = Int((x * 10).rounded())
    let sign = tenths < 0 ? "-" : ""
    return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
}


/// What an export did with one preset, for a front end to show.
public enum ExportEvent {
    /// The file was already written from the same preset with the same options.
    case upToDate(file: String)
    /// Writing `file` begins.
    case writing(file: String)
    case written(file: String, report: TrackReport)
    /// The preset failed; the others go on.
    case failed(any Error)
}

/// Writes presets into a folder for a phone, with a playlist; skips files already up to date.
/// The command line and the coach's remote both drive this; neither renders on its own.
public struct Exporter {
    public let folder: String
    public let type: SoundFileType
    public let format: RenderFormat
    public let settings: PhoneSettings
    public let store: PresetLocator

    public init(folder: String, type: SoundFileType, format: RenderFormat, settings: PhoneSettings, store: PresetLocator) {
        self.folder = folder
        self.type = type
        self.format = format
        self.settings = settings
        self.store = store
    }

    /// Exports each preset in turn, telling `event` what happens; a preset that fails is
    /// reported and the others still export.
    /// - Returns: the exit status of each failure, in order (empty when all went well); the
    ///   interruption's status alone when `cancellation` stopped it.
    public func run(_ references: [String], event: (ExportEvent) -> Void,
             progress: @escaping (_ done: Int64, _ total: Int64) -> Void = { _, _ in },
             cancellation: Cancellation) -> [Int32] {
        var failures: [Int32] = []
        var manifest = ExportManifest(folder: folder)
        var playlist: [(file: String, seconds: Int, title: String)] = []
        let digits = references.count >= 100 ? 3 : 2
        for (i, reference) in references.enumerated() {
            if cancellation.isCancelled { break }
            do {
                let job = try ExportJob(reference: reference, number: i + 1, digits: digits, type: type,
                                        format: format, settings: settings, store: store)
                let path = "\(folder)/\(job.fileName)"
                if manifest.isUpToDate(job.fileName, fingerprint: job.fingerprint) {
                    event(.upToDate(file: job.fileName))
                } else {
                    event(.writing(file: job.fileName))
                    let prepared = try job.prepare()
                    let report = try writeTrack(makeRenderer: { prepared.makeRenderer() }, to: path, settings: settings,
                                                tags: trackTags(for: job.plan, trackNumber: "\(i + 1)"),
                                                cues: prepared.spoken, progress: progress, cancellation: cancellation)
                    event(.written(file: job.fileName, report: report))
                    manifest.record(job.fileName, fingerprint: job.fingerprint)
                    try manifest.save()
                }
                playlist.append((job.fileName, Int(job.seconds.rounded()), trackTags(for: job.plan).title))
            } catch {
                if cancellation.isCancelled { break }
                event(.failed(error))
                failures.append(explain(error).status)
            }
        }
        if cancellation.isCancelled {
            event(.failed(Failure("interrupted", exitCode: 128 + cancellation.signal)))
            return [128 + cancellation.signal]
        }
        do {
            // Nothing exported (a full disk, a locked folder): no playlist to list it.
            if !playlist.isEmpty { try writePlaylist(playlist) }
        } catch {
            event(.failed(error))
            failures.append(explain(error).status)
        }
        return failures
    }

    /// The playlist, in export order, rewritten only when it changes.
    private func writePlaylist(_ entries: [(file: String, seconds: Int, title: String)]) throws {
        var text = "#EXTM3U\n"
        for e in entries { text += "#EXTINF:\(e.seconds),\(e.title)\n\(e.file)\n" }
        let path = "\(folder)/\(ExportJob.playlistName)"
        if let old = try? readFile(path, limit: 1 << 20), old == Array(text.utf8) { return }
        try replaceFile(path, with: Array(text.utf8))
    }
}
