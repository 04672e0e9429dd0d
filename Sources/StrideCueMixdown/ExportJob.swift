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
    public static let version = "stridecue-export 4"  // 4: track numbers in playlist order; music versions of their own

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

    /// The tags the file gets: its title, and with music an album of its own.
    public let tags: TrackTags

    /// What sets a track with music apart from the click-only track of the same preset, in
    /// its key and its file name, so that both versions live in one folder.
    public static let musicSuffix = "-music"

    /// The track a preset reference is, with music or without.
    public static func key(for reference: String, music: Bool) -> String {
        key(for: reference) + (music ? musicSuffix : "")
    }

    /// - Parameter trackNumber: the track's place in the folder's playlist, from 1.
    public init(reference: String, type: SoundFileType, format: RenderFormat,
         settings: PhoneSettings, store: PresetLocator, trackNumber: Int = 0) throws {
        let loaded = try store.load(reference)
        let path = loaded.path
        let plan = loaded.preset.plan
        let music = settings.music != nil
        key = Self.key(for: path, music: music)
        fileName = "\(Self.key(for: path))-\(StrideCueCore.format(plan.cadence))spm\(music ? Self.musicSuffix : "").\(type.rawValue)"
        tags = trackTags(for: plan, music: music, trackNumber: trackNumber > 0 ? String(trackNumber) : "")
        self.plan = plan
        seconds = Timeline.planDuration(of: plan)

        let bytes = (try? readFile(path, limit: PresetLocator.sizeLimit)) ?? []
        var parts: [[UInt8]] = [Array(Self.version.utf8), bytes, Array(fileName.utf8), Array(tags.trackNumber.utf8)]
        parts.append(Array("\(format.sampleRate) \(format.channels) \(settings.quality.map(String.init) ?? "-")".utf8))
        parts.append(Array("\(settings.loudness.map { "\($0)" } ?? "raw") \(settings.peakCeiling)".utf8))
        if let music = settings.music {
            parts.append(Array("\(music.path) \(fileStamp(music.path, followingLinks: true)) \(music.level) \(music.duck)".utf8))
        }
        for file in clickSoundFiles(plan.sound, preset: loaded, data: store.data) {
            parts.append(Array("\(file) \(fileStamp(file, followingLinks: true))".utf8))
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
/// were then (a file is up to date while both still match, and StrideCue replaces or removes
/// only a file that still matches: never one it did not write, nor one changed since), its
/// length and title.
///
/// The manifest is also the folder's journal. Each entry has a state: `+` in place, `?` about
/// to be put in place (recorded, with the new file's stamp, before the file takes its name), `-`
/// about to be removed (recorded before the playlist stops listing it and the file goes). An
/// export killed at any moment leaves entries that say what may be half done, and the next
/// export settles each by its stamp before it does anything else (`recover`).
public struct ExportManifest {
    /// Hidden in the folder: what each file was made from, to skip it next time.
    public static let fileName = ".stridecue-export"
    static let header = "# stridecue export manifest 3"
    static let headerV2 = "# stridecue export manifest 2"

    public enum State: String {
        case inPlace = "+", adding = "?", removing = "-"
    }

    public struct Entry: Equatable {
        public var state: State = .inPlace
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
    /// Whether the folder had a manifest (a playlist there is then StrideCue's).
    public let existed: Bool
    private let folder: String

    /// Reads the folder's manifest; none is an empty one.
    /// - Throws: `FileError` when there is one that cannot be read: a folder is never taken
    ///   for empty because a read failed.
    public init(folder: String) throws(FileError) {
        self.folder = folder
        path = "\(folder)/\(Self.fileName)"
        let bytes: [UInt8]
        do throws(FileError) {
            bytes = try readFile(path, limit: 4 << 20)
        } catch where error.errno == ENOENT {
            existed = false
            return
        }
        existed = true
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        let first = lines.first.map(String.init)
        if first == Self.header || first == Self.headerV2 {
            let v3 = first == Self.header
            for line in lines.dropFirst() {
                // [state,] fingerprint, size, time, seconds, key, file, title (which may hold spaces).
                var f = line.split(separator: " ", maxSplits: v3 ? 7 : 6, omittingEmptySubsequences: false).map(String.init)
                let state = v3 ? f.first.flatMap { State(rawValue: $0) } : .inPlace
                if v3 { f = Array(f.dropFirst()) }
                guard let state, f.count == 7, let seconds = Int(f[3]) else { continue }
                entries.append(Entry(state: state, key: f[4], file: f[5], fingerprint: f[0], stamp: f[1] + " " + f[2],
                                     seconds: seconds, title: f[6]))
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

    /// Settles what an interrupted export left half done, by each file's stamp: a file put in
    /// place is kept (`?` → `+`), one that never got there is forgotten, one that was to go and
    /// is still there is kept for now (the export removes it again if it should), and files
    /// that are gone (a kill, or deleted by hand) are no longer tracks.
    /// - Returns: whether anything changed.
    @discardableResult
    public mutating func recover() -> Bool {
        let before = entries
        var settled: [Entry] = []
        let placed = Set(entries.filter { $0.state == .adding && isUnchanged($0) }.map(\.file))
        for var entry in entries {
            guard isUnchanged(entry) || (entry.state == .inPlace && fileExists("\(folder)/\(entry.file)")) else { continue }
            if entry.state == .removing && placed.contains(entry.file) { continue }
            entry.state = .inPlace
            settled.append(entry)
        }
        entries = settled
        return entries != before
    }

    /// Whether `file` (a link's own stamp, never its target's) is one this manifest lists as
    /// StrideCue's, unchanged since: the only kind StrideCue replaces or removes.
    public func owns(_ file: String) -> Bool {
        entries.contains { $0.file == file && isUnchanged($0) }
    }

    public func isUpToDate(_ file: String, fingerprint: String) -> Bool {
        guard let entry = entries.first(where: { $0.file == file && $0.state == .inPlace }), entry.fingerprint == fingerprint else {
            return false
        }
        return entry.stamp == fileStamp("\(folder)/\(file)")
    }

    /// Whether `entry`'s file is still the one StrideCue wrote (same size and time).
    public func isUnchanged(_ entry: Entry) -> Bool {
        entry.stamp == fileStamp("\(folder)/\(entry.file)")
    }

    /// Records a file for `key`: it takes the place of an entry for the same file (which, when
    /// `state` is `.adding`, is kept as `-` until the new one is in place), or goes after the
    /// track's other files, or at the end.
    public mutating func record(key: String, file: String, fingerprint: String, seconds: Int, title: String,
                                stamp: String? = nil, state: State = .inPlace) {
        // One line each: a title is the preset's name, which a line break would split.
        let title = String(title.map { $0.isNewline ? " " : $0 })
        let entry = Entry(state: state, key: key, file: file, fingerprint: fingerprint,
                          stamp: stamp ?? fileStamp("\(folder)/\(file)"), seconds: seconds, title: title)
        if let i = entries.lastIndex(where: { $0.file == file }) {
            if state == .adding {
                for j in entries.indices where entries[j].file == file { entries[j].state = .removing }
                entries.insert(entry, at: i + 1)
            } else {
                entries.removeAll { $0.file == file }
                entries.insert(entry, at: min(i, entries.count))
            }
        } else if let i = entries.lastIndex(where: { $0.key == key }) {
            entries.insert(entry, at: i + 1)
        } else {
            entries.append(entry)
        }
    }

    /// Marks a file to be removed (see the journal above).
    public mutating func markRemoving(_ file: String) {
        for i in entries.indices where entries[i].file == file { entries[i].state = .removing }
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

    /// The file the playlist lists for each track, in order: the track's last file in place.
    public var listed: [Entry] {
        var keys: [String] = []
        var chosen: [String: Entry] = [:]
        for e in entries where e.state == .inPlace || (e.state == .adding && isUnchanged(e)) {
            if chosen[e.key] == nil { keys.append(e.key) }
            chosen[e.key] = e
        }
        return keys.map { chosen[$0]! }
    }

    public func text() -> String {
        var text = Self.header + "\n"
        for e in entries { text += "\(e.state.rawValue) \(e.fingerprint) \(e.stamp) \(e.seconds) \(e.key) \(e.file) \(e.title)\n" }
        return text
    }

    /// Writes the manifest, unless it already says the same: an export with nothing to do
    /// touches nothing.
    public func save() throws(FileError) {
        // Nothing written into a folder that had no manifest: leave no trace.
        if entries.isEmpty && !fileExists(path) { return }
        let bytes = Array(text().utf8)
        if let old = try? readFile(path, limit: 4 << 20), old == bytes { return }
        try replaceFile(path, with: bytes)
    }
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

    /// How long a second export into the same folder waits for the first before it is refused.
    /// Debug builds take `STRIDECUE_EXPORT_PATIENCE` (seconds), so that a test of two exports
    /// that wait for each other does not depend on how loaded the machine is.
    public static var patience: Double {
        #if DEBUG
        if let text = getenv("STRIDECUE_EXPORT_PATIENCE").map({ String(cString: $0) }), let seconds = Double(text), seconds > 0 {
            return seconds
        }
        #endif
        return 2
    }

    /// Exports each preset in turn, telling `event` what happens; a preset that fails is
    /// reported (its old track, if any, stays) and the others still export.
    ///
    /// The folder is locked for the whole export: a second export into it waits `patience`
    /// seconds, then is refused (exit 75). A file or link with a track's name that StrideCue
    /// did not write (or that changed since) is never replaced: that preset fails, naming it.
    /// Every step is journaled in the manifest first (see `ExportManifest`), so an export
    /// killed at any moment or stopped by a full disk leaves the playlist listing only files
    /// that are there, and every file StrideCue put there listed in the manifest.
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
        if dryRun && !isDirectory(folder) {
            // Nothing there yet to protect, and a dry run makes nothing.
            return runLocked(references, mirror: mirror, dryRun: dryRun, event: event, progress: progress, cancellation: cancellation)
        }
        do {
            let lock = try EditLock(folder: folder, naming: folder, patience: Self.patience, cancellation: cancellation,
                                    busy: "another export into this folder is running; try again when it has finished")
            defer { _ = lock }
            return runLocked(references, mirror: mirror, dryRun: dryRun, event: event, progress: progress, cancellation: cancellation)
        } catch {
            event(.failed(error))
            return [explain(error).status]
        }
    }

    private func runLocked(_ references: [String], mirror: Bool, dryRun: Bool, event: (ExportEvent) -> Void,
                           progress: @escaping (_ done: Int64, _ total: Int64) -> Void, cancellation: Cancellation) -> [Int32] {
        var manifest: ExportManifest
        do {
            manifest = try ExportManifest(folder: folder)
            try checkOwnFiles(manifest)
            if !dryRun {
                // What an interrupted export left: hidden temporary files, half-done journal entries.
                AtomicFile.removeAbandoned(in: folder)
                if manifest.recover() { try manifest.save() }
            } else {
                manifest.recover()
            }
        } catch {
            event(.failed(error))
            return [explain(error).status]
        }
        // This version's tracks in the playlist's order after this export, for track numbers
        // (each version is an album of its own, numbered from 1): with `mirror`, these presets
        // in this order; else the folder's tracks as they are, then the new ones.
        let ownKeys = references.map(keyOf)
        let otherVersions = manifest.listed.map(\.key).filter { !isThisVersion($0) }
        var playlistOrder = mirror ? ownKeys : manifest.listed.map(\.key).filter(isThisVersion)
        if !mirror { playlistOrder += ownKeys.filter { !playlistOrder.contains($0) } }
        // The playlist: the click-only tracks, then those with music.
        let fullOrder = settings.music == nil ? ownKeys + otherVersions : otherVersions + ownKeys
        var failures: [Int32] = []
        // The file each track should be now; tracks whose preset failed keep what they have.
        var current: [String: String] = [:]
        var failedKeys: Set<String> = []
        var keys: [String] = []
        for reference in references {
            if cancellation.isCancelled { break }
            let key = keyOf(reference)
            keys.append(key)
            do {
                let job = try ExportJob(reference: reference, type: type, format: format, settings: settings, store: store,
                                        trackNumber: (playlistOrder.firstIndex(of: key) ?? playlistOrder.count) + 1)
                if current[job.key] != nil {
                    throw Failure("\(reference): another preset of the same name, \(job.key), is already in this export",
                                  exitCode: ExitStatus.usage)
                }
                let title = job.tags.title
                let seconds = Int(job.seconds.rounded())
                if manifest.isUpToDate(job.fileName, fingerprint: job.fingerprint) {
                    current[job.key] = job.fileName
                    if !dryRun { event(.upToDate(file: job.fileName)) }
                    continue
                }
                let path = "\(folder)/\(job.fileName)"
                if fileStamp(path) != "- -" && !manifest.owns(job.fileName) {
                    throw Failure("\(path): a file StrideCue did not write (or changed since) has this track's name; it is left "
                                  + "alone. Rename or move it, or export into another folder", exitCode: ExitStatus.cannotCreate)
                }
                if dryRun {
                    let known = manifest.entries.contains { $0.key == job.key }
                    event(.wouldChange("write \(job.fileName) (\(known ? "changed" : "new"))"))
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
                // The journal first: the new file is in the manifest (`?`, with its stamp)
                // before it takes its name; a full disk here leaves the old file in place.
                var journalError: FileError?
                let report: TrackReport
                do {
                    report = try writeTrack(makeRenderer: { prepared.makeRenderer() }, to: path,
                                            settings: settings, tags: job.tags,
                                            cues: prepared.spoken, progress: progress, cancellation: cancellation,
                                            beforeRename: { stamp throws(FileError) in
                        var next = manifest
                        next.record(key: job.key, file: job.fileName, fingerprint: job.fingerprint, seconds: seconds,
                                    title: title, stamp: stamp, state: .adding)
                        do throws(FileError) { try next.save() } catch { journalError = error; throw error }
                        manifest = next
                    })
                } catch {
                    // A file recorded but never put in place is not a track.
                    manifest.recover()
                    throw journalError ?? error
                }
                current[job.key] = job.fileName
                // In place: the playlist lists it, then the manifest says so and marks the
                // track's older file to go; then that file goes.
                let older = manifest.entries.filter { $0.key == job.key && $0.file != job.fileName && $0.state != .removing }
                var settled = manifest
                settled.record(key: job.key, file: job.fileName, fingerprint: job.fingerprint, seconds: seconds, title: title)
                for entry in older { settled.markRemoving(entry.file) }
                do {
                    try writePlaylist(settled)
                    try settled.save()
                    manifest = settled
                } catch {
                    event(.written(file: job.fileName, report: report))
                    throw Failure("\(job.fileName) is written, but \(describe(error)); the next export finishes listing it",
                                  exitCode: explain(error).status)
                }
                event(.written(file: job.fileName, report: report))
                try remove(older.map { ($0, job.fileName) }, from: &manifest, event: event)
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

        // What goes: a track's older files its new one has not replaced yet (a failure
        // above), and with `mirror` the tracks of presets no longer exported (a preset that
        // failed keeps its track).
        let exported = Set(keys)
        var removals: [(entry: ExportManifest.Entry, replacedBy: String?)] = []
        for entry in manifest.entries {
            if let file = current[entry.key] {
                if entry.file != file { removals.append((entry, file)) }
            } else if mirror, !exported.contains(entry.key), !failedKeys.contains(entry.key), isThisVersion(entry.key) {
                removals.append((entry, nil))
            }
        }
        if dryRun {
            for (entry, _) in removals { manifest.forget(entry.file) }
            if mirror { manifest.order(fullOrder) }
            for (entry, by) in removals {
                event(.wouldChange("remove \(entry.file) (\(by == nil ? "no longer exported" : "replaced by \(by!)"))"))
            }
            if playlistText(manifest) != currentPlaylist() { event(.wouldChange("write \(ExportJob.playlistName)")) }
            return failures
        }
        do {
            for (entry, _) in removals { manifest.markRemoving(entry.file) }
            if mirror { manifest.order(fullOrder) }
            try manifest.save()
            try writePlaylist(manifest)
            try remove(removals, from: &manifest, event: event)
        } catch {
            event(.failed(Failure("\(describe(error)); the tracks written are in place, and the next export finishes the rest",
                                  exitCode: explain(error).status)))
            failures.append(explain(error).status)
        }
        return failures
    }

    /// The track a reference is in this export (with music or without).
    private func keyOf(_ reference: String) -> String {
        ExportJob.key(for: (try? store.path(for: reference)) ?? reference, music: settings.music != nil)
    }

    /// Whether a track is of the version this export writes: `--all` with music mirrors the
    /// music tracks and leaves the click-only ones, and the other way round.
    private func isThisVersion(_ key: String) -> Bool {
        key.hasSuffix(ExportJob.musicSuffix) == (settings.music != nil)
    }

    /// Refuses a folder whose playlist or manifest name is taken by something StrideCue did
    /// not write (a playlist of the user's, a link): nothing is written there.
    private func checkOwnFiles(_ manifest: ExportManifest) throws {
        let manifestPath = manifest.path
        var st = stat()
        if lstat(manifestPath, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            throw Failure("\(manifestPath): not a file StrideCue wrote (a link or a folder); it is left alone. "
                          + "Remove it, or export into another folder", exitCode: ExitStatus.cannotCreate)
        }
        let playlist = "\(folder)/\(ExportJob.playlistName)"
        guard lstat(playlist, &st) == 0 else { return }
        var ours = (st.st_mode & S_IFMT) == S_IFREG && manifest.existed
        if ours {
            let text = String(decoding: try readFile(playlist, limit: 4 << 20), as: UTF8.self)
            let known = Set(manifest.entries.map(\.file))
            ours = text.hasPrefix("#EXTM3U\n") && text.split(separator: "\n").allSatisfy { $0.hasPrefix("#") || known.contains(String($0)) }
        }
        if !ours {
            throw Failure("\(playlist): a playlist (or link) StrideCue did not write has this name; it is left alone. "
                          + "Rename or move it so StrideCue can list its tracks, or export into another folder",
                          exitCode: ExitStatus.cannotCreate)
        }
    }

    /// Removes files the manifest marks `-` (or is told to), once nothing lists them, and
    /// forgets them: a file changed since StrideCue wrote it is left alone.
    private func remove(_ removals: [(entry: ExportManifest.Entry, replacedBy: String?)], from manifest: inout ExportManifest,
                        event: (ExportEvent) -> Void) throws {
        guard !removals.isEmpty else { return }
        for (entry, by) in removals {
            if manifest.isUnchanged(entry) {
                try removeFile("\(folder)/\(entry.file)")
                event(.removed(file: entry.file, replacedBy: by))
            } else {
                event(.leftAlone(file: entry.file))
            }
            manifest.forget(entry.file)
        }
        try manifest.save()
    }

    /// An error's reason without "nothing was changed", for messages that say what was.
    private func describe(_ error: any Error) -> String {
        if let error = error as? FileError {
            return "\(error.path) could not be written (\(error.reason ?? String(cString: strerror(error.errno))))"
        }
        return explain(error).message
    }

    private func currentPlaylist() -> [UInt8]? {
        try? readFile("\(folder)/\(ExportJob.playlistName)", limit: 4 << 20)
    }

    /// Every track of the folder once, in the manifest's order.
    private func playlistText(_ manifest: ExportManifest) -> [UInt8] {
        var text = "#EXTM3U\n"
        for e in manifest.listed {
            text += "#EXTINF:\(e.seconds),\(e.title)\n\(e.file)\n"
        }
        return Array(text.utf8)
    }

    /// The playlist, rewritten only when it changes; never made for a folder with no track.
    private func writePlaylist(_ manifest: ExportManifest) throws {
        let path = "\(folder)/\(ExportJob.playlistName)"
        let text = playlistText(manifest)
        if currentPlaylist() == text { return }
        if manifest.listed.isEmpty && currentPlaylist() == nil { return }
        try replaceFile(path, with: text)
    }
}
