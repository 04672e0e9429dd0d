import Foundation
import Testing

extension ALSATests {
    /// `stridecue devices`, run as a user runs it: the built binary, its output and exit code.
    @Suite("The devices command")
    struct DevicesCommandTests {
        @Test("lists playback PCMs with the default marked, then the cards, and exits 0")
        func listsDevices() throws {
            let environment = try ALSATestEnvironment.ready()
            let binary = environment.productsFolder + "/stridecue"
            try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is not built")

            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["devices"]
            // The child inherits ALSA_CONFIG_PATH: the private PCMs are listed too.
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let complained = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()

            #expect(process.terminationStatus == 0)
            #expect(complained.isEmpty, "stderr: \(complained)")  // alsa-lib's chatter is silenced
            let lines = printed.split(separator: "\n").map(String.init)
            #expect(lines.first == "ALSA playback devices for --device (* is the default):")
            #expect(lines.filter { $0.hasPrefix("* ") }.count == 1)
            #expect(lines.contains { $0.hasPrefix("* default") })
            #expect(lines.contains { $0.hasPrefix("  null ") && $0.hasSuffix("Discard all samples (playback) or generate zero samples (capture)") })
            #expect(lines.contains { $0.hasPrefix("  paced ") })
            #expect(lines.contains { $0.hasPrefix("Sound cards:") })
            if !FileManager.default.fileExists(atPath: "/dev/snd") {
                // No cards (as in CI): said plainly, and `default` is shown as unusable.
                #expect(lines.contains { $0.hasPrefix("Sound cards: none.") })
                #expect(lines.contains { $0.hasPrefix("* default") && $0.contains("does not open now (ALSA: No such file or directory)") })
            }
        }
    }
}
