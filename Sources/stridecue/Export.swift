import ArgumentParser
import Glibc
import StrideCueCore
import StrideCueLoudness
import StrideCueSoundFile

/// `stridecue export`: presets as files for a phone, numbered, tagged, normalized, with a
/// playlist; files already up to date are left alone.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write presets as files for a phone, with a playlist.",
        discussion: """
            Each preset becomes NN-name-SPMspm.EXT in the folder (e.g. 01-bum-kicks-190spm.mp3): \
            normalized to -16 LUFS unless --loudness says otherwise, tagged with a title, artist, album, \
            comment and date, and listed in \(Export.playlistName). A file already written from the same \
            preset with the same options is skipped. A preset that fails is reported and the others still \
            export; the exit code is then that of the first failure (65 bad preset, 66 missing input, \
            73 cannot create, 74 I/O error such as a full disk).
            Examples:
              stridecue export --all --to ~/Phone/Drills
              stridecue export bum-kicks --to out --format opus --music run.mp3
            """
    )

    @Argument(help: "Preset names (see `stridecue presets`), e.g. bum-kicks, or paths to .yaml files.")
    var presets: [String] = []

    @Flag(help: "Export every preset: your own and the shipped library's (see `stridecue presets`).")
    var all = false

    @Option(help: "The folder to write into; created when missing.")
    var to: String

    @Option(help: "mp3, opus, ogg, flac or wav.")
    var format: String = "mp3"

    @OptionGroup var track: TrackFormatOptions

    @OptionGroup var phone: PhoneOptions

    @Flag(help: "No progress bars and no line per file.")
    var quiet = false

    /// The playlist every export writes (or leaves alone when nothing changed).
    static let playlistName = "Drills.m3u8"
    /// Hidden in the folder: what each file was made from, to skip it next time.
    static let manifestName = ".stridecue-export"
    /// Bump when the sound of an export changes (renderer, mixing, encoding), so files made by
    /// an older StrideCue are made again.
    static let exportVersion = "stridecue-export 2"  // 2: cues are spoken

    func run() throws {
        try reportingFailures {
            catchInterrupts()
            if all == !presets.isEmpty {
                throw Failure.flag(all ? "--all" : "PRESET", all ? "cannot be used with preset names" : "is missing: name presets or use --all")
            }
            guard let type = SoundFileType(rawValue: format.lowercased()) else {
                throw Failure.flag("--format", "must be mp3, opus, ogg, flac or wav, got '\(format)'")
            }
            let renderFormat = try track.format()
            let settings = try phone.settings(for: type, format: renderFormat, encoding: .pcm16, alwaysForPhone: true,
                                              named: ("--format", type.rawValue))
            if let music = settings.music, !fileExists(music.path) {
                throw Failure("\(music.path): no such music file", exitCode: ExitStatus.noInput)
            }
            let data = DataFolder.locate()
            let references = all ? PresetLocator(data: data).all().presets.map(\.path) : presets
            if references.isEmpty {
                throw Failure("no presets found; see stridecue presets", exitCode: ExitStatus.noInput)
            }
            try makeFolders(to)
            let failures = exportAll(references, type: type, format: renderFormat, settings: settings, data: data)
            if let first = failures.first { throw ExitCode(first) }
        }
    }

    /// Exports every preset, reporting each failure as it happens; returns their exit codes.
    private func exportAll(_ references: [String], type: SoundFileType, format: RenderFormat,
                           settings: PhoneSettings, data: DataFolder?) -> [Int32] {
        var failures: [Int32] = []
        var manifest = ExportManifest(folder: to)
        var playlist: [(file: String, seconds: Int, title: String)] = []
        let digits = references.count >= 100 ? 3 : 2
        for (i, reference) in references.enumerated() {
            if receivedSignal.load(ordering: .relaxed) != 0 { break }
            do {
                let job = try ExportJob(reference: reference, number: i + 1, digits: digits, type: type,
                                        format: format, settings: settings, data: data)
                let path = "\(to)/\(job.fileName)"
                if manifest.isUpToDate(job.fileName, fingerprint: job.fingerprint) {
                    if !quiet { print("\(job.fileName): up to date") }
                } else {
                    if !quiet && isatty(2) == 1 { writeStandardError("\(job.fileName)\n") }
                    let prepared = try job.prepare()
                    let report = try writeTrack(makeRenderer: prepared.makeRenderer, to: path, settings: settings,
                                                tags: trackTags(for: job.plan, trackNumber: "\(i + 1)"),
                                                cues: prepared.spoken, quiet: quiet)
                    if !quiet { print("\(job.fileName): \(describe(report, settings: settings))") }
                    manifest.record(job.fileName, fingerprint: job.fingerprint)
                    try manifest.save()
                }
                playlist.append((job.fileName, Int(job.seconds.rounded()), trackTags(for: job.plan).title))
            } catch {
                let (message, code) = explain(error)
                printError("stridecue: \(message)")
                if receivedSignal.load(ordering: .relaxed) != 0 { return [code] }
                failures.append(code)
            }
        }
        if receivedSignal.load(ordering: .relaxed) != 0 {
            printError("stridecue: interrupted")
            return [128 + receivedSignal.load(ordering: .relaxed)]
        }
        do {
            // Nothing exported (a full disk, a locked folder): no playlist to list it.
            if !playlist.isEmpty { try writePlaylist(playlist) }
        } catch {
            let (message, code) = explain(error)
            printError("stridecue: \(message)")
            failures.append(code)
        }
        return failures
    }

    private func describe(_ report: TrackReport, settings: PhoneSettings) -> String {
        guard let loudness = report.loudness else { return "written" }
        var line = "written, \(oneDecimal(loudness)) LUFS"
        if report.limiting > 0.05 { line += ", peaks limited by \(oneDecimal(report.limiting)) dB" }
        if report.targetMissed, let target = settings.loudness {
            line += " (short of \(oneDecimal(target)): more would take over \(Int(maximumLimiting)) dB of limiting)"
        }
        return line
    }

    /// The playlist, in export order, rewritten only when it changes.
    private func writePlaylist(_ entries: [(file: String, seconds: Int, title: String)]) throws {
        var text = "#EXTM3U\n"
        for e in entries { text += "#EXTINF:\(e.seconds),\(e.title)\n\(e.file)\n" }
        let path = "\(to)/\(Self.playlistName)"
        if let old = try? readFile(path, limit: 1 << 20), old == Array(text.utf8) { return }
        try replaceFile(path, with: Array(text.utf8))
    }
}

/// One preset to export: its plan, the file it becomes and the fingerprint of everything that
/// shapes that file.
struct ExportJob {
    let plan: SessionPlan
    let fileName: String
    let fingerprint: String
    let seconds: Double
    private let loaded: LoadedPreset
    private let sound: ClickSound
    private let format: RenderFormat
    private let data: DataFolder?

    init(reference: String, number: Int, digits: Int, type: SoundFileType, format: RenderFormat,
         settings: PhoneSettings, data: DataFolder?) throws {
        let path = try PresetLocator(data: data).path(for: reference)
        let bytes = try readFile(path, limit: PresetLocator.sizeLimit)
        let preset = try decodePreset(bytes, file: path)
        let plan = preset.plan
        let sound = try loadSound(plan.sound, flagged: false, preset: LoadedPreset(path: path, preset: preset),
                                  data: data, rate: format.sampleRate)
        var name = path.split(separator: "/").last.map(String.init) ?? path
        for suffix in [".yaml", ".yml"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)) }
        name = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
        var numberText = String(number)
        while numberText.count < digits { numberText = "0" + numberText }
        fileName = "\(numberText)-\(name)-\(stridecue.format(plan.cadence))spm.\(type.rawValue)"
        self.plan = plan
        seconds = Timeline.planDuration(of: plan)

        var parts: [[UInt8]] = [Array(Export.exportVersion.utf8), bytes, Array(fileName.utf8)]
        parts.append(Array("\(format.sampleRate) \(format.channels) \(settings.quality.map(String.init) ?? "-")".utf8))
        parts.append(Array("\(settings.loudness.map { "\($0)" } ?? "raw") \(settings.peakCeiling)".utf8))
        if let music = settings.music {
            parts.append(Array("\(music.path) \(fileStamp(music.path)) \(music.level) \(music.duck)".utf8))
        }
        if let folder = data?.clickSounds, !ClickSound.builtInNames.contains(plan.sound) {
            parts.append(Array("\(fileStamp("\(folder)/\(plan.sound).wav")) \(fileStamp("\(folder)/\(plan.sound)-accent.wav"))".utf8))
        }
        fingerprint = fnv1a64(parts)
        loaded = LoadedPreset(path: path, preset: preset)
        self.sound = sound
        self.format = format
        self.data = data
    }

    /// The preset's cues synthesized (only for a file that must be written) and what the
    /// writer needs: a way to make the renderer, and where cues sound so the music ducks.
    func prepare() throws -> (makeRenderer: () throws -> Renderer, spoken: [Range<Int64>]) {
        let (session, sound, format) = (plan, self.sound, self.format)
        let cues = try prepareCues(plan: session, preset: loaded, data: data, rate: format.sampleRate)
        return ({ Renderer(plan: session, sound: sound, format: format, cues: cues) }, spokenRanges(plan: session, cues: cues))
    }
}

/// The fingerprint of each file an export wrote, with the file's size and modification time
/// as they were then: a file is up to date when both still match.
struct ExportManifest {
    let path: String
    private var entries: [String: (fingerprint: String, stamp: String)] = [:]
    private let folder: String

    init(folder: String) {
        self.folder = folder
        path = "\(folder)/\(Export.manifestName)"
        guard let bytes = try? readFile(path, limit: 1 << 20) else { return }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            // fingerprint, size, modification time, file name (which may hold spaces).
            let fields = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard fields.count == 4 else { continue }
            entries[fields[3]] = (fields[0], fields[1] + " " + fields[2])
        }
    }

    func isUpToDate(_ file: String, fingerprint: String) -> Bool {
        guard let entry = entries[file], entry.fingerprint == fingerprint else { return false }
        return entry.stamp == fileStamp("\(folder)/\(file)")
    }

    mutating func record(_ file: String, fingerprint: String) {
        entries[file] = (fingerprint, fileStamp("\(folder)/\(file)"))
    }

    func save() throws {
        var text = ""
        for (file, entry) in entries.sorted(by: { $0.key < $1.key }) { text += "\(entry.fingerprint) \(entry.stamp) \(file)\n" }
        try replaceFile(path, with: Array(text.utf8))
    }
}

/// Size and modification time of a file, as text (`size seconds.nanoseconds`); `- -` when absent.
func fileStamp(_ path: String) -> String {
    var st = stat()
    guard stat(path, &st) == 0 else { return "- -" }
    return "\(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
}

/// 64-bit FNV-1a over the parts, each followed by a 0 byte, as 16 hex digits. A change detector,
/// not a security measure.
func fnv1a64(_ parts: [[UInt8]]) -> String {
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

func oneDecimal(_ x: Double) -> String {
    let tenths = Int((x * 10).rounded())
    let sign = tenths < 0 ? "-" : ""
    return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
}

/// The message and exit code for any error a command reports.
func explain(_ error: Error) -> (message: String, code: Int32) {
    switch error {
    case let f as Failure: return (f.message, f.exitCode)
    case let p as PresetError: return ("\(p)", ExitStatus.dataError)
    case let s as SoundFileError: return ("\(s)", s.exitCode)
    case let l as LoudnessError: return ("\(l)", ExitStatus.ioError)
    default: return ("\(error)", 1)
    }
}
