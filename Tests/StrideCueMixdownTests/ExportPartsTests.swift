import Foundation
import Testing
import StrideCueCore
import StrideCueFiles
import StrideCueMixdown
import StrideCueTestSupport

/// The parts of an export, in process: the loudness gain search and the manifest.
@Suite("Export parts, in process")
struct ExportPartsTests {
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

    // MARK: The export manifest

    /// A file is up to date while its fingerprint and its size and time match; touching or
    /// replacing it, or another fingerprint, makes it out of date.
    @Test func theManifestKnowsWhatIsUpToDate() throws {
        let folder = try TemporaryFolder(), dir = folder.path
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
}
