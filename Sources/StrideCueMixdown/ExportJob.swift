import Glibc
import StrideCueCore
import StrideCueFiles
import StrideCueSession
import StrideCueSoundFile

/// One preset to export: its plan, the file it becomes and the fingerprint of everything that
/// shapes that file.
///
/// The file's name depends on the preset alone (`bum-kicks-190spm.mp3`), never on where the
/// preset sorts: adding a preset does not rename, and so re-render, the others. The playlist
/// carries the order.
public struct ExportJob {
    /// The playlist every export writes (or leaves alone when nothing changed).
    public static let playlistName = "Drills.m3u8"
    /// Bump when the sound of an export changes (renderer, mixing, encoding), so files made by
    /// an older StrideCue are made again.
    public static let version = "stridecue-export 3"  // 3: names without a number, no track number tag

    /// Which track of the folder this preset is: its file name without `.yaml`.
    public let key: String
    public let plan: SessionPlan
    public let fileName: String
    public let fingerprint: String
    public let seconds: Double
    private let loaded: LoadedPreset
    private let format: RenderFormat
    private let data: DataFolder?

    /// The track a preset reference (a name or a path) is in a folder, known before the preset
    /// is read: a preset that fails to load keeps its old track.
    public static func key(for reference: String) -> String {
        var name = reference.split(separator: "/").last.map(String.init) ?? reference
        for suffix in [".yaml", ".yml"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)) }
        return String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
    }

    public init(reference: String, type: SoundFileType, format: RenderFormat,
         settings: PhoneSettings, store: PresetLocator) throws {
        let loaded = try store.load(reference)
        let path = loaded.path
        let plan = loaded.preset.plan
        key = Self.key(for: path)
        fileName = "\(key)-\(StrideCueCore.format(plan.cadence))spm.\(type.rawValue)"
        self.plan = plan
        seconds = Timeline.planDuration(of: plan)

        let bytes = (try? readFile(path, limit: PresetLocator.sizeLimit)) ?? []
        var parts: [[UInt8]] = [Array(Self.version.utf8), bytes, Array(fileName.utf8)]
        parts.append(Array("\(format.sampleRate) \(format.channels) \(settings.quality.map(String.init) ?? "-")".utf8))
        parts.append(Array("\(settings.loudness.map { "\($0)" } ?? "raw") \(settings.peakCeiling)".utf8))
        if let music = settings.music {
            parts.append(Array("\(music.path) \(fileStamp(music.path)) \(music.level) \(music.duck)".utf8))
        }
        for file in clickSoundFiles(plan.sound, preset: loaded, data: store.data) {
            parts.append(Array("\(file) \(fileStamp(file))".utf8))
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

/// What StrideCue wrote into an export folder, in playlist order: for each file, the track
/// (preset) it is, the fingerprint it was made from, its size and modification time as they
/// were then (a file is up to date while both still match, and StrideCue removes only a file
/// that still matches: never one it did not write, nor one changed since), its length and title.
///
/// A track may have two files for a moment: the new one is recorded as soon as it is in place,
/// the old one stays listed until it is removed, so an interruption never loses track of it.
public struct ExportManifest {
    /// Hidden in the folder: what each file was made from, to skip it next time.
    public static let fileName = ".stridecue-export"
    static let header = "# stridecue export manifest 2"

    public struct Entry: Equatable {
        public var key: String
        public var file: String
        public var fingerprint: String
        /// `size seconds.nanoseconds`, see `fileStamp`.
        public var stamp: String
        public var seconds: Int
        public var title: String
    }

    public let path: String
    public private(set) var entries: [Entry] = []
    private let folder: String

    public init(folder: String) {
        self.folder = folder
        path = "\(folder)/\(Self.fileName)"
        guard let bytes = try? readFile(path, limit: 4 << 20) else { return }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        if lines.first.map(String.init) == Self.header {
            for line in lines.dropFirst() {
                // fingerprint, size, time, seconds, key, file, title (which may hold spaces).
                let f = line.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: false).map(String.init)
                guard f.count == 7, let seconds = Int(f[3]) else { continue }
                entries.append(Entry(key: f[4], file: f[5], fingerprint: f[0], stamp: f[1] + " " + f[2], seconds: seconds, title: f[6]))
            }
        } else {
            // An older StrideCue: `fingerprint size time NN-name-SPMspm.ext`. Those files are
            // its own, so they are replaced and removed like any other.
            for line in lines {
                let f = line.split(separator: " ", maxSplits: 3).map(String.init)
                guard f.count == 4 else { continue }
                entries.append(Entry(key: Self.oldKey(f[3]), file: f[3], fingerprint: f[0], stamp: f[1] + " " + f[2],
                                     seconds: 0, title: f[3]))
            }
        }
    }

    /// `bum-kicks` from an old `03-bum-kicks-190spm.mp3`.
    private static func oldKey(_ file: String) -> String {
        var name = Substring(file)
        if let dash = name.firstIndex(of: "-"), name[..<dash].allSatisfy(\.isNumber) { name = name[name.index(after: dash)...] }
        if let dash = name.lastIndex(of: "-") { name = name[..<dash] }
        return String(name)
    }

    public func isUpToDate(_ file: String, fingerprint: String) -> Bool {
        guard let entry = entries.first(where: { $0.file == file }), entry.fingerprint == fingerprint else { return false }
        return entry.stamp == fileStamp("\(folder)/\(file)")
    }

    /// Whether `entry`'s file is still the one StrideCue wrote (same size and time).
    public func isUnchanged(_ entry: Entry) -> Bool {
        entry.stamp == fileStamp("\(folder)/\(entry.file)")
    }

    /// Records a file just written for `key` (or found up to date): it takes the place of an
    /// entry for the same file, or goes after the track's other files, or at the end.
    public mutating func record(key: String, file: String, fingerprint: String, seconds: Int, title: String) {
        // One line each: a title is the preset's name, which a line break would split.
        let title = String(title.map { $0.isNewline ? " " : $0 })
        let entry = Entry(key: key, file: file, fingerprint: fingerprint, stamp: fileStamp("\(folder)/\(file)"),
                          seconds: seconds, title: title)
        if let i = entries.firstIndex(where: { $0.file == file }) {
            entries[i] = entry
        } else if let i = entries.lastIndex(where: { $0.key == key }) {
            entries.insert(entry, at: i + 1)
        } else {
            entries.append(entry)
        }
    }

    public mutating func forget(_ file: String) {
        entries.removeAll { $0.file == file }
    }

    /// Puts the entries in this order of tracks; tracks not named keep their place after them.
    public mutating func order(_ keys: [String]) {
        var rank: [String: Int] = [:]
        for (i, key) in keys.enumerated() where rank[key] == nil { rank[key] = i }
        let ranked = entries.enumerated().sorted { a, b in
            let ra = rank[a.element.key] ?? keys.count, rb = rank[b.element.key] ?? keys.count
            return ra != rb ? ra < rb : a.offset < b.offset
        }
        entries = ranked.map(\.element)
    }

    public func text() -> String {
        var text = Self.header + "\n"
        for e in entries { text += "\(e.fingerprint) \(e.stamp) \(e.seconds) \(e.key) \(e.file) \(e.title)\n" }
        return text
    }

    /// Writes the manifest, unless it already says the same: an export with nothing to do
    /// touches nothing.
    public func save() throws {
        // Nothing written into a folder that had no manifest: leave no trace.
        if entries.isEmpty && !fileExists(path) { return }
        let bytes = Array(text().utf8)
        if let old = try? readFile(path, limit: 4 << 20), old == bytes { return }
        try replaceFile(path, with: bytes)
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
    /// A file StrideCue wrote before was removed: its preset changed (`replacedBy` the new
    /// file) or is no longer exported (nil).
    case removed(file: String, replacedBy: String?)
    /// A file StrideCue once wrote was changed since, by someone else: it is left alone and
    /// no longer listed.
    case leftAlone(file: String)
    /// Something worth one line, such as a WAV written as RF64.
    case note(String)
    /// `--dry-run`: what would be done, in words (`write bum-kicks-190spm.mp3 (new)`).
    case wouldChange(String)
    /// The preset failed; the others go on.
    case failed(any Error)
}

/// Keeps a folder for a phone a mirror of the chosen presets, with a playlist: each preset's
/// track written when it is missing or out of date, files of changed presets replaced (the
/// old one removed only once the new one is in place), and — with `mirror` — the tracks of
/// presets no longer exported removed. Only files the folder's manifest says StrideCue wrote,
/// unchanged since, are ever removed. The command line and the coach's remote both drive this;
/// neither renders on its own.
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
    /// reported (its old track, if any, stays) and the others still export.
    /// - Parameters:
    ///   - references: the presets, in playlist order.
    ///   - mirror: these are all the presets the folder should hold (`--all`): tracks of other
    ///     presets are removed. Otherwise the presets named are added or updated and the rest
    ///     of the folder and its playlist stay as they are.
    ///   - dryRun: change nothing; tell `.wouldChange` what would be done.
    /// - Returns: the exit status of each failure, in order (empty when all went well); the
    ///   interruption's status alone when `cancellation` stopped it.
    public func run(_ references: [String], mirror: Bool = false, dryRun: Bool = false, event: (ExportEvent) -> Void,
             progress: @escaping (_ done: Int64, _ total: Int64) -> Void = { _, _ in },
             cancellation: Cancellation) -> [Int32] {
        var failures: [Int32] = []
        var manifest = ExportManifest(folder: folder)
        // Files of the manifest that are gone (deleted by hand) are no longer tracks.
        for entry in manifest.entries where !fileExists("\(folder)/\(entry.file)") { manifest.forget(entry.file) }
        // The file each track should be now; tracks whose preset failed keep what they have.
        var current: [String: String] = [:]
        var failedKeys: Set<String> = []
        var keys: [String] = []
        for reference in references {
            if cancellation.isCancelled { break }
            let key = ExportJob.key(for: (try? store.path(for: reference)) ?? reference)
            keys.append(key)
            do {
                let job = try ExportJob(reference: reference, type: type, format: format, settings: settings, store: store)
                if current[job.key] != nil {
                    throw Failure("\(reference): another preset of the same name, \(job.key), is already in this export",
                                  exitCode: ExitStatus.usage)
                }
                let title = trackTags(for: job.plan).title
                let seconds = Int(job.seconds.rounded())
                if manifest.isUpToDate(job.fileName, fingerprint: job.fingerprint) {
                    current[job.key] = job.fileName
                    manifest.record(key: job.key, file: job.fileName, fingerprint: job.fingerprint, seconds: seconds, title: title)
                    if !dryRun { event(.upToDate(file: job.fileName)) }
                    continue
                }
                if dryRun {
                    let known = manifest.entries.contains { $0.key == job.key }
                    let exists = fileExists("\(folder)/\(job.fileName)")
                    event(.wouldChange("write \(job.fileName) (\(known || exists ? "changed" : "new"))"))
                    current[job.key] = job.fileName
                    // Listed as if written, so the removals below are what a real run would do.
                    manifest.record(key: job.key, file: job.fileName, fingerprint: job.fingerprint, seconds: seconds, title: title)
                    continue
                }
                let frames = Renderer.totalFrames(of: job.plan, sampleRate: format.sampleRate, maxDuration: nil)
                if let problem = type.lengthProblem(frames: frames, format: format) {
                    throw Failure("\(reference): \(problem); export it as --format wav, ogg or opus", exitCode: ExitStatus.dataError)
                }
                if type.needsRF64(frames: frames, format: format, encoding: settings.encoding) {
                    event(.note("\(job.fileName) passes 4 GiB, so it is written as RF64, the WAV whose header can say how long it is"))
                }
                event(.writing(file: job.fileName))
                let prepared = try job.prepare()
                let report = try writeTrack(makeRenderer: { prepared.makeRenderer() }, to: "\(folder)/\(job.fileName)",
                                            settings: settings, tags: trackTags(for: job.plan),
                                            cues: prepared.spoken, progress: progress, cancellation: cancellation)
                event(.written(file: job.fileName, report: report))
                current[job.key] = job.fileName
                manifest.record(key: job.key, file: job.fileName, fingerprint: job.fingerprint, seconds: seconds, title: title)
                try manifest.save()
            } catch {
                if cancellation.isCancelled { break }
                failedKeys.insert(key)
                event(.failed(error))
                failures.append(explain(error).status)
            }
        }
        if cancellation.isCancelled {
            event(.failed(Failure("interrupted", exitCode: 128 + cancellation.signal)))
            return [128 + cancellation.signal]
        }

        // What goes: a track's older files once its new one is in place, and with `mirror`
        // the tracks of presets no longer exported (a preset that failed keeps its track).
        let exported = Set(keys)
        var removals: [(entry: ExportManifest.Entry, replacedBy: String?)] = []
        for entry in manifest.entries {
            if let file = current[entry.key] {
                if entry.file != file { removals.append((entry, file)) }
            } else if mirror, !exported.contains(entry.key), !failedKeys.contains(entry.key) {
                removals.append((entry, nil))
            }
        }
        for (entry, _) in removals { manifest.forget(entry.file) }
        if mirror { manifest.order(keys) }

        if dryRun {
            for (entry, by) in removals {
                event(.wouldChange("remove \(entry.file) (\(by == nil ? "no longer exported" : "replaced by \(by!)"))"))
            }
            if playlistText(manifest) != currentPlaylist() { event(.wouldChange("write \(ExportJob.playlistName)")) }
            return failures
        }
        do {
            // The playlist first: it never lists a file that is about to go.
            try writePlaylist(manifest)
            for (entry, by) in removals {
                if manifestStamp(entry) {
                    try removeFile("\(folder)/\(entry.file)")
                    event(.removed(file: entry.file, replacedBy: by))
                } else {
                    event(.leftAlone(file: entry.file))
                }
            }
            try manifest.save()
        } catch {
            event(.failed(error))
            failures.append(explain(error).status)
        }
        return failures
    }

    private func manifestStamp(_ entry: ExportManifest.Entry) -> Bool {
        entry.stamp == fileStamp("\(folder)/\(entry.file)")
    }

    private func currentPlaylist() -> [UInt8]? {
        try? readFile("\(folder)/\(ExportJob.playlistName)", limit: 4 << 20)
    }

    /// Every track of the folder once, in the manifest's order.
    private func playlistText(_ manifest: ExportManifest) -> [UInt8] {
        var text = "#EXTM3U\n"
        var listed: Set<String> = []
        for e in manifest.entries where listed.insert(e.key).inserted {
            text += "#EXTINF:\(e.seconds),\(e.title)\n\(e.file)\n"
        }
        return Array(text.utf8)
    }

    /// The playlist, rewritten only when it changes; removed when the folder holds no track.
    private func writePlaylist(_ manifest: ExportManifest) throws {
        let path = "\(folder)/\(ExportJob.playlistName)"
        let text = playlistText(manifest)
        if currentPlaylist() == text { return }
        if manifest.entries.isEmpty {
            // Nothing exported (a full disk, a locked folder): no playlist to list it.
            return
        }
        try replaceFile(path, with: text)
    }
}
