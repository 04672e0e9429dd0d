import Foundation
import StrideCueFiles
import StrideCueTestSupport
import Testing

/// The one atomic writer and the reads that never block.
@Suite("Atomic writes and safe reads")
struct AtomicFilesTests {
    /// A replaced file keeps its permissions; a FIFO at the destination is refused (73).
    @Test func replacingKeepsTheModeAndRefusesAFifo() throws {
        let folder = try TemporaryFolder(), dir = folder.path
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
        let folder = try TemporaryFolder(), dir = folder.path
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

    private func files(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }
}
