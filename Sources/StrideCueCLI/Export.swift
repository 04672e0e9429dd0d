import ArgumentParser
import StrideCueCore
import StrideCueFiles
import StrideCueLoudness
import StrideCueMixdown
import StrideCueSession
import StrideCueSoundFile
import StrideCueTerminal
import StrideCuePresets
/// `stridecue export`: presets as files for a phone, numbered, tagged, normalized, with a
/// playlist; files already up to date are left alone.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write presets as files for a phone, with a playlist.",
        discussion: """
            Each preset becomes name-SPMspm.EXT in the folder (e.g. bum-kicks-190spm.mp3): \
            normalized to -16 LUFS unless --loudness says otherwise, tagged with a title, artist, album, \
            comment and date, and listed in \(ExportJob.playlistName), which holds every track of the folder \
            once, in order. A file already written from the same preset with the same options is skipped; \
            a changed preset's old file is removed once its new one is in place. With --all the folder \
            mirrors your presets: tracks StrideCue wrote for presets that are gone are removed (never a \
            file StrideCue did not write); naming presets adds or updates those and keeps the rest. \
            --dry-run lists what would change. A preset that fails is reported and the others still \
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

    @Option(help: "mp3, m4a (AAC, for an iPhone), opus, ogg, flac or wav.")
    var format: SoundFileType = .mp3

    @OptionGroup var track: TrackFormatOptions

    @OptionGroup var phone: PhoneOptions

    @Flag(help: "No progress bars and no line per file.")
    var quiet = false

    @Flag(name: .customLong("dry-run"), help: "List what would be written and removed; change nothing.")
    var dryRun = false

    /// The phone settings these flags ask for; every problem is a usage error (64).
    private var settings: PhoneSettings {
        get throws {
            try phone.settings(for: format, format: track.format, encoding: .pcm16, alwaysForPhone: true,
                               named: ("--format", format.rawValue))
        }
    }

    func validate() throws {
        if all == !presets.isEmpty {
            throw Failure.flag(all ? "--all" : "PRESET", all ? "cannot be used with preset names" : "is missing: name presets or use --all")
        }
        _ = try settings
    }

    func run() throws {
        try reportingFailures {
            catchInterrupts()
            let type = format
            let renderFormat = track.format
            let settings = try self.settings
            if let music = settings.music, !fileExists(music.path) {
                throw Failure("\(music.path): no such music file", exitCode: ExitStatus.noInput)
            }
            let store = PresetLocator(data: DataFolder.locate())
            let references = all ? store.all().presets.map(\.path) : presets
            if references.isEmpty {
                throw Failure("no presets found; see stridecue presets", exitCode: ExitStatus.noInput)
            }
            if !dryRun { try makeFolders(to) }
            let exporter = Exporter(folder: to, type: type, format: renderFormat, settings: settings, store: store)
            var progress: ProgressBar? = nil
            defer { progress?.finish() }
            var changes = 0
            let failures = exporter.run(references, mirror: all, dryRun: dryRun, event: { event in
                switch event {
                case .upToDate(let file):
                    if !quiet { print("\(file): up to date") }
                case .writing(let file):
                    if !quiet && standardErrorIsTerminal { writeStandardError("\(file)\n") }
                    progress?.finish()
                    progress = nil
                case .written(let file, let report):
                    progress?.finish()
                    progress = nil
                    if !quiet { print("\(file): \(describe(report, settings: settings))") }
                case .removed(let file, let replacement):
                    if !quiet { print("\(file): removed" + (replacement.map { ", replaced by \($0)" } ?? ", no longer exported")) }
                case .leftAlone(let file):
                    printError("stridecue: \(to)/\(file): changed since StrideCue wrote it; left alone and no longer listed")
                case .note(let line):
                    printError("stridecue: note: \(line)")
                case .wouldChange(let line):
                    changes += 1
                    print(line)
                case .failed(let error):
                    printError("stridecue: \(explain(error).message)")
                }
            }, progress: { done, total in
                if progress == nil { progress = ProgressBar(total: total, rate: renderFormat.sampleRate, enabled: !quiet) }
                progress!.update(done)
            }, cancellation: interruptions)
            if let first = failures.first { throw ExitCode(first) }
            if dryRun && changes == 0 && !quiet { print("\(to): nothing to change") }
        }
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

}


extension SoundFileType: FlagValue {
    static let expectation = "mp3, m4a, opus, ogg, flac or wav"
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}
