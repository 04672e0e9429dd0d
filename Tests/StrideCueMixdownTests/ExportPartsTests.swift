import Foundation
import Testing
import StrideCueCore
import StrideCueFiles
import StrideCueMixdown
import StrideCueSession
import StrideCueTerminal

/// The engine's parts that once lived in the command line, tested in process.
@Suite("Engine parts, in process")
struct EngineUnitTests {
    // MARK: The loudness gain search

    /// Without the limiter, loudness follows gain dB for dB: one step lands on the target.
    @Test func aLinearMixNeedsOneStep() {
        var search = GainSearch(target: -16)
        search.record(gain: 4, loudness: -18, limited: false)
        #expect(search.needsMore)
        #expect(search.nextGain() == 6)
        search.record(gain: 6, loudness: -16, limited: false)
        #expect(!search.needsMore)
        #expect(search.best.gain == 6)
    }

    /// A limited mix gains less than a dB per dB: the secant takes the measured slope.
    @Test func aLimitedMixFollowsTheMeasuredSlope() {
        var search = GainSearch(target: -16)
        search.record(gain: 7, loudness: -18, limited: true)
        // One limited point: half a dB of loudness per dB of gain is assumed.
        #expect(search.nextGain() == 11)
        search.record(gain: 11, loudness: -17, limited: true)
        // Slope (−17 − −18) / (11 − 7) = 0.25: 1 LU more needs 4 dB more.
        #expect(abs(search.nextGain() - 15) < 1e-9)
        search.record(gain: 15, loudness: -16.03, limited: true)
        #expect(!search.needsMore, "within 0.05 LU")
        #expect(search.best.gain == 15)
    }

    /// Never more than `maximumLimiting` dB past what the limiter-free mix needs.
    @Test func theSearchStopsAtTheLimitingCap() {
        var search = GainSearch(target: -10)
        search.record(gain: 0, loudness: -30, limited: true)
        search.record(gain: 1, loudness: -29.9, limited: true)  // slope 0.1, clamped to 0.2
        #expect(search.nextGain() == 20 + maximumLimiting)
    }

    // MARK: Keys

    @Test func keysBecomeCommands() {
        let keys = Array("+-][ nq".utf8)
        #expect(Keys.parse(keys[...]) == [
            .command(.changeCadence(by: 1)), .command(.changeCadence(by: -1)),
            .command(.changeCadence(by: 5)), .command(.changeCadence(by: -5)),
            .command(.togglePause), .command(.skip), .quit,
        ])
    }

    /// Arrow keys (ESC [ A) and function keys (ESC O P) are skipped; a lone Esc quits; Ctrl-C
    /// read as a byte interrupts.
    @Test func escapeSequencesAreSkipped() {
        let bytes: [UInt8] = [0x1B, 0x5B, 0x41, UInt8(ascii: "+"), 0x1B, 0x4F, 0x50, 0x1B, 0x5B, 0x31, 0x35, 0x7E, 0x03, 0x1B]
        #expect(Keys.parse(bytes[...]) == [.command(.changeCadence(by: 1)), .interrupt, .quit])
    }

    // MARK: The cue sheet

    @Test func theCueSheetListsEachCueAsHeard() {
        var plan = SessionPlan(cadence: 180, setLength: .steps(8))
        plan.cues = [CueSpec(.say("pull, through"), timing: .every(4), steps: 1)]
        let rate = 1_000
        let voices = CueVoices(sampleRate: rate, cues: [[CueSound(samples: [Float](repeating: 0.5, count: 250))]])
        let sheet = makeCueSheet(plan: plan, voices: voices, totalFrames: Renderer.totalFrames(of: plan, sampleRate: rate, maxDuration: nil))
        // Steps 1 and 5 at 180 spm: 0 s and 4/3 s; each cue 0.25 s; a comma in the text is quoted.
        #expect(sheet == "start,end,step,text,style\n0.000,0.250,1,\"pull, through\",voice\n1.333,1.583,5,\"pull, through\",voice\n")
    }

    @Test func aCueSheetWithoutCuesIsItsHeaderAlone() {
        let plan = SessionPlan(cadence: 180, setLength: .steps(8))
        #expect(makeCueSheet(plan: plan, voices: nil, totalFrames: 100) == "start,end,step,text,style\n")
    }

    // MARK: The export manifest

    /// A file is up to date while its fingerprint and its size and time match; touching or
    /// replacing it, or another fingerprint, makes it out of date.
    @Test func theManifestKnowsWhatIsUpToDate() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try replaceFile(dir + "/a-180spm.mp3", with: Array("first".utf8))
        var manifest = try ExportManifest(folder: dir)
        #expect(!manifest.isUpToDate("a-180spm.mp3", fingerprint: "f1"))
        manifest.record(key: "a", file: "a-180spm.mp3", fingerprint: "f1", seconds: 12, title: "A — 180 spm")
        try manifest.save()

        let reread = try ExportManifest(folder: dir)
        #expect(reread.isUpToDate("a-180spm.mp3", fingerprint: "f1"))
        #expect(!reread.isUpToDate("a-180spm.mp3", fingerprint: "f2"))
        #expect(!reread.isUpToDate("b-180spm.mp3", fingerprint: "f1"))
        try replaceFile(dir + "/a-180spm.mp3", with: Array("second, longer".utf8))
        #expect(try !ExportManifest(folder: dir).isUpToDate("a-180spm.mp3", fingerprint: "f1"))
        let text = try String(contentsOfFile: dir + "/" + ExportManifest.fileName, encoding: .utf8)
        #expect(text.hasPrefix("# stridecue export manifest 3\n+ f1 5 ") && text.hasSuffix(" 12 a a-180spm.mp3 A — 180 spm\n"), "\(text)")
    }

    @Test func fingerprintsSeparateTheirParts() {
        #expect(fnv1a64([Array("ab".utf8), Array("c".utf8)]) != fnv1a64([Array("a".utf8), Array("bc".utf8)]))
        #expect(fnv1a64([]) == "cbf29ce484222325")
        #expect(fnv1a64([Array("a".utf8)]).count == 16)
    }

    // MARK: The one atomic writer

    /// A replaced file keeps its permissions; a FIFO at the destination is refused (73).
    @Test func replacingKeepsTheModeAndRefusesAFifo() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/kept.txt"
        try replaceFile(path, with: Array("one".utf8))
        chmod(path, 0o600)
        try replaceFile(path, with: Array("two".utf8))
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two")
        #expect(files(in: dir) == ["kept.txt"], "no temporary file left")

        let fifo = dir + "/pipe.wav"
        #expect(mkfifo(fifo, 0o644) == 0)
        #expect(throws: FileError.self) { try replaceFile(fifo, with: [1]) }
        do { try replaceFile(fifo, with: [1]) } catch { #expect(error.exitStatus == 73) }
    }

    /// Reading a FIFO returns at once with an error instead of waiting for a writer.
    @Test func readingAFifoIsRefusedAtOnce() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/preset.yaml"
        #expect(mkfifo(fifo, 0o644) == 0)
        do {
            _ = try readFile(fifo, limit: 1 << 20)
            Issue.record("a FIFO was read")
        } catch {
            #expect(error.exitStatus == 66)
            #expect("\(error)" == "\(fifo): not a regular file (a FIFO, device or socket)")
        }
    }
}
