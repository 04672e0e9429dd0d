import Foundation
import Glibc
import Testing

extension ALSATests {
    /// The coach's page in a real headless Chromium (Debian's chromium and chromium-driver,
    /// Selenium from PyPI in .build/browser-venv: `make test-deps` installs all three) at a
    /// phone's 390×844, against `play --remote` on the paced card.
    @Suite("The coach's page")
    struct RemotePageTests {
        static let python = ProcessInfo.processInfo.environment["STRIDECUE_BROWSER_PYTHON"]
            ?? playPackageRoot + "/.build/browser-venv/bin/python"

        @Test("loads from the token URL, +1 moves the cadence, the status updates, nothing scrolls sideways")
        func pageAtPhoneSize() throws {
            let environment = try ALSATestEnvironment.ready()
            try #require(FileManager.default.isExecutableFile(atPath: Self.python),
                         "no \(Self.python): run 'make test-deps' (Selenium in a venv, Chromium from Debian)")
            let folder = try TemporaryFolder()
            let screenshot = folder.file("remote.png")
            let run = try RemoteRun(["play", "bum-kicks", "--duration", "60s", "--device", "paced", "--no-keys", "--remote", "0"],
                                    environment)
            let browser = Process()
            browser.executableURL = URL(fileURLWithPath: Self.python)
            browser.arguments = [playPackageRoot + "/Tests/Browser/remote_page.py", run.url, screenshot]
            let output = Pipe()
            browser.standardOutput = output
            browser.standardError = FileHandle.nullDevice
            try browser.run()
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            browser.waitUntilExit()
            #expect(browser.terminationStatus == 0, "\(printed)")
            for check in ["ok loaded", "ok buttons −5 −1 +1 +5", "ok status updates", "ok +1", "ok plan picture",
                          "ok no sideways scroll", "ok no console errors", "ok screenshot"] {
                #expect(printed.contains(check), "\(check) missing from:\n\(printed)")
            }
            let png = try #require(readBytes(screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            kill(run.process.processIdentifier, SIGTERM)
            #expect(run.finish().status == 143)
        }
    }
}
