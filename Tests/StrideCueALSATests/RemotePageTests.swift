import Foundation
import Glibc
import Testing
import StrideCueTestSupport

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
            let folder = try TemporaryFolder()
            let screenshot = folder.file("remote.png")
            let run = try RemoteRun(["play", "bum-kicks", "--duration", "60s", "--device", "paced", "--no-keys", "--remote", "0"],
                                    environment)
            let (status, printed) = try Self.browse("remote_page.py", [run.url, screenshot])
            #expect(status == 0, "\(printed)")
            for check in ["ok loaded", "ok buttons −5 −1 +1 +5", "ok status updates", "ok +1", "ok plan picture",
                          "ok no sideways scroll", "ok no console errors", "ok screenshot"] {
                #expect(printed.contains(check), "\(check) missing from:\n\(printed)")
            }
            let png = try #require(readBytes(screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            kill(run.process.processIdentifier, SIGTERM)
            #expect(run.finish().status == 143)
        }

        @Test("with --link the page says how many other devices click in step (none yet, alone on this network); without it, nothing",
              .enabled(if: LinkMachine.ready, LinkMachine.reason))
        func squadLine() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            // Screenshots stay for a person to look at: STRIDECUE_SCREENSHOTS=folder keeps them there.
            let shots = ProcessInfo.processInfo.environment["STRIDECUE_SCREENSHOTS"] ?? folder.path
            let linked = try RemoteRun(["play", "--spm", "180", "--duration", "60s", "--device", "paced", "--no-keys",
                                        "--remote", "0", "--link"], environment)
            let alone = try Self.browse("remote_sensor.py", [linked.url, shots + "/squad-alone.png", "Link: no other device yet", "squad"])
            #expect(alone.status == 0 && alone.printed.contains("ok squad Link: no other device yet")
                    && alone.printed.contains("ok beside the target"), "\(alone.printed)")
            kill(linked.process.processIdentifier, SIGTERM)
            #expect(linked.finish().status == 143)

            let plain = try RemoteRun(["play", "--spm", "180", "--duration", "60s", "--device", "paced", "--no-keys", "--remote", "0"],
                                      environment)
            let none = try Self.browse("remote_sensor.py", [plain.url, shots + "/squad-none.png", "", "squad"])
            #expect(none.status == 0 && none.printed.contains("ok no squad line"), "\(none.printed)")
            kill(plain.process.processIdentifier, SIGTERM)
            #expect(plain.finish().status == 143)
        }

        /// Runs `script` of Tests/Browser with `arguments`: its exit status and printed lines.
        static func browse(_ script: String, _ arguments: [String]) throws -> (status: Int32, printed: String) {
            try #require(FileManager.default.isExecutableFile(atPath: python),
                         "no \(python): run 'make test-deps' (Selenium in a venv, Chromium from Debian)")
            let (status, output) = try runReadingOutput(python, [playPackageRoot + "/Tests/Browser/" + script] + arguments)
            return (status, output)
        }

        /// A drill with every state in half a minute: caution, count-in, two short sets, a rest.
        static let quickPreset = """
            name: Quick
            caution: Warm up first.
            cadence: 180
            count-in: 4
            sets: 2
            set: {steps: 16}
            rest: 20 s
            sound: beep

            """

        @Test("caution, count-in, playing, rest and paused are shown as such; the marker follows next and pause; the picture redraws; errors sit beside their control")
        func pageTellsTheTruth() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let presets = folder.file("config/stridecue/presets")
            try FileManager.default.createDirectory(atPath: presets, withIntermediateDirectories: true)
            try Self.quickPreset.write(toFile: presets + "/quick.yaml", atomically: true, encoding: .utf8)
            // Screenshots stay for a person to look at: STRIDECUE_SCREENSHOTS=folder keeps them there.
            let shots = ProcessInfo.processInfo.environment["STRIDECUE_SCREENSHOTS"] ?? folder.file("shots")
            try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
            let run = try RemoteRun.coach(environment, home: folder.file("config"))
            let (status, printed) = try Self.browse("remote_truth.py", ["states", run.url, shots])
            #expect(status == 0, "\(printed)")
            for check in ["ok caution", "ok caution marker", "ok plan picture text", "ok count-in", "ok playing", "ok rest", "ok next skipped the rest",
                          "ok paused", "ok −5 redrew", "ok saved", "ok refused edit beside", "ok refused say kept",
                          "ok no sideways scroll", "ok no console errors"] {
                #expect(printed.contains(check), "\(check) missing from:\n\(printed)")
            }
            for name in ["caution", "count-in", "playing", "rest", "paused", "refused-edit", "refused-say"] {
                let png = try #require(readBytes(shots + "/\(name).png"), "no \(name).png")
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            }
            #expect(run.interrupt().status == 130)
        }

        @Test("a page from another origin posts, forms, WebSockets and wrong tokens at the remote: nothing changes, the coach still steers")
        func otherOriginsCannotAct() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let run = try RemoteRun.playing(seconds: 90, environment, extraEnvironment: ["XDG_CONFIG_HOME": folder.path])
            let (status, printed) = try Self.browse("remote_truth.py", ["cross", run.url])
            #expect(status == 0, "\(printed)")
            for check in ["ok the other origin's page ran", "ok nothing changed: cadence 180", "ok the coach's page still steers"] {
                #expect(printed.contains(check), "\(check) missing from:\n\(printed)")
            }
            #expect(!FileManager.default.fileExists(atPath: folder.file("stridecue/presets/bum-kicks.yaml")), "no preset written")
            kill(run.process.processIdentifier, SIGTERM)
            #expect(run.finish().status == 143)
        }
    }
}
