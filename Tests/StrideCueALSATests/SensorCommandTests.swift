import Foundation
import Glibc
import StrideCueTestSupport
import Testing

extension ALSATests {
    /// `stridecue sensors` and `play --sensor` against bluezoo and the scripted footpod
    /// (SensorHarness.swift): what the runner reads on the terminal, and the exit codes.
    @Suite("Running sensors through BlueZ")
    struct SensorCommandTests {
        @Test("sensors lists the footpod: its name, address, not connected, the cadence and speed it reports")
        func sensorsListsTheFootpod() throws {
            let environment = try ALSATestEnvironment.ready()
            let world = try BluetoothWorld()
            try world.footpod("measure 176 3.2 110 12345")
            let run = try runStridecue(["sensors", "--scan", "1.5"], environment, extraEnvironment: world.environment)
            #expect(run.exited && run.status == 0, "stderr: \(run.stderr)")
            let lines = run.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "Running sensors (Bluetooth LE Running Speed and Cadence) for --sensor:", "\(run.stdout)")
            #expect(lines.dropFirst().elementsEqual(["  Stride Pod  00:00:00:22:22:22  not connected  176 spm, 3.2 m/s"]),
                    "\(run.stdout)")
            #expect(run.stderr.isEmpty, "stderr: \(run.stderr)")
            #expect(world.footpodSaid("notifying") == 1, "read through StartNotify")
        }

        @Test("sensors says a standing runner stands, and lists no sensor when none advertises")
        func sensorsStandingAndNone() throws {
            let environment = try ALSATestEnvironment.ready()
            let world = try BluetoothWorld()
            try world.footpod("measure 0 0")
            let standing = try runStridecue(["sensors", "--scan", "1.5"], environment, extraEnvironment: world.environment)
            #expect(standing.status == 0)
            #expect(standing.stdout.contains("  Stride Pod  00:00:00:22:22:22  not connected  standing (0 spm), 0 m/s"), "\(standing.stdout)")

            let empty = try BluetoothWorld(footpod: false)
            let none = try runStridecue(["sensors", "--scan", "1"], environment, extraEnvironment: empty.environment)
            #expect(none.status == 0)
            #expect(none.stdout.hasPrefix("No running sensor found in 1 s."), "\(none.stdout)")
        }

        @Test("no system bus, no BlueZ, no adapter: one line each, exit 69, for sensors and play --sensor")
        func missingPiecesAreOneLine() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let noBus = ["DBUS_SYSTEM_BUS_ADDRESS": "unix:path=\(folder.file("no-such-bus"))"]
            let busOnly = try BluetoothWorld(bluez: false)
            let noAdapter = try BluetoothWorld(adapters: [], footpod: false)
            let cases: [([String: String], String)] = [
                (noBus, "stridecue: no system bus (sd_bus_open_system: No such file or directory): "
                    + "Bluetooth sensors are read through BlueZ on D-Bus"),
                (busOnly.environment, "stridecue: BlueZ is not running (nobody owns org.bluez on the system bus); "
                    + "start it: systemctl start bluetooth"),
                (noAdapter.environment, "stridecue: no Bluetooth adapter: BlueZ lists none; plug one in (a USB dongle) "
                    + "or check that it is not blocked (rfkill list)"),
            ]
            for (env, line) in cases {
                for arguments in [["sensors", "--scan", "1"], ["play", "--spm", "180", "--device", "paced", "--sensor", "auto"]] {
                    let run = try runStridecue(arguments, environment, extraEnvironment: env)
                    #expect(run.exited && run.status == 69, "\(arguments): \(run.stderr)")
                    #expect(run.stderrLines == [line], "\(arguments)")
                    #expect(run.stdout.isEmpty)
                }
            }
        }

        @Test("play --sensor with a name no sensor has: one line naming what was found, exit 69, nothing played")
        func sensorNotFound() throws {
            let environment = try ALSATestEnvironment.ready()
            let world = try BluetoothWorld()
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            let run = try runStridecue(["play", "--spm", "180", "--device", "paced:FILE='\(played)'", "--sensor", "Polar Stride"],
                                       environment, extraEnvironment: world.environment)
            #expect(run.exited && run.status == 69)
            #expect(run.stderrLines == ["stridecue: no running sensor 'Polar Stride' found in 5 s (found: Stride Pod); "
                + "wake it with a few steps; 'stridecue sensors' lists them"], "\(run.stderr)")
            #expect(readBytes(played) == nil, "the sound card was never opened")
        }

        @Test("Ctrl-C while play --sensor looks for the sensor ends at once, quietly, exit 130")
        func interruptWhileScanning() throws {
            let environment = try ALSATestEnvironment.ready()
            let world = try BluetoothWorld()
            let run = try runStridecue(["play", "--spm", "180", "--device", "paced", "--sensor", "Polar Stride"], environment,
                                       extraEnvironment: world.environment) { pid in
                usleep(1_000_000)
                kill(pid, SIGINT)
            }
            #expect(run.exited && run.status == 130)
            #expect(run.seconds < 4, "took \(run.seconds) s; the scan alone lasts 5 s")
            #expect(run.stderr.isEmpty, "\(run.stderr)")
        }

        @Test("play --sensor shows the measured cadence beside the target, the time in the band, and counts a malformed notification")
        func playShowsTheMeasuredCadence() throws {
            let environment = try ALSATestEnvironment.ready()
            let world = try BluetoothWorld()
            try world.footpod("measure 172 3.1")
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            let session = try TerminalSession(
                ["play", "--spm", "180", "--duration", "30s", "--device", "paced:FILE='\(played)'", "--sensor", "00:00:00:22:22:22"],
                environment, extraEnvironment: world.environment)
            #expect(session.wait(seconds: 10) { $0.contains("180 spm  you 172 spm, 8 under  ") }, "\(session.lastStatus)")
            try world.footpod("measure 179 3.3")
            #expect(session.wait(seconds: 5) { $0.contains("180 spm  you 179 spm, in band 0:02") }, "\(session.lastStatus)")
            // Flags announce a stride length the bytes do not carry.
            try world.footpod("raw 01330300")
            #expect(session.wait(seconds: 5) { $0.contains("you 179 spm, in band 0:0") && $0.contains(", 1 malformed ignored") },
                    "\(session.lastStatus)")
            session.type("q")
            let (status, exited, _) = session.finish()
            #expect(exited && status == 0)
            #expect(session.lastStatus.contains("you 179 spm, in band"), "\(session.lastStatus)")
            #expect(world.footpodSaid("notifying") == 1)
            let onsets = clickOnsets(leftChannel(try #require(readBytes(played))))
            #expect(onsets.count >= 6, "the session played on: \(onsets.count) clicks")
        }
    

        @Test("the remote's /api/status carries the sensor's state, the measured cadence, the speed, the time in the band, the band and whether --feedback fade faded the clicks")
        func remoteStatusCarriesTheSensor() throws {
            let environment = try ALSATestEnvironment.ready()
            let world = try BluetoothWorld()
            try world.footpod("measure 180 3.5")
            // --feedback fade: the status says when the clicks have faded (8 s in the band).
            let run = try RemoteRun(["play", "--spm", "180", "--duration", "60s", "--device", "paced", "--no-keys", "--remote", "0",
                                     "--sensor", "Stride Pod", "--feedback", "fade"], environment, extraEnvironment: world.environment)
            let held = try run.wait(seconds: 10) { ($0["inBand"] as? Double ?? 0) >= 2 }
            #expect(held["sensor"] as? String == "reading")
            #expect(held["measuredCadence"] as? Int == 180)
            #expect(held["speed"] as? Double == 3.5)
            #expect(held["malformed"] as? Int == 0)
            #expect(held["band"] as? Double == 2)
            #expect(held["clicksFaded"] as? Bool == false)
            let faded = try run.wait(seconds: 15) { $0["clicksFaded"] as? Bool == true }
            #expect(faded["clicksFaded"] as? Bool == true, "\(faded)")
            // Held 8 s by the player's count; the remote counts from its own samples, a moment apart.
            #expect((faded["inBand"] as? Double ?? 0) >= 7, "\(faded)")
            try world.footpod("measure 0 0")
            let standing = try run.wait(seconds: 5) { $0["sensor"] as? String == "standing" }
            #expect(standing["measuredCadence"] is NSNull)
            #expect(standing["inBand"] as? Double == 0)
            // Without a measurement the clicks sound again (fade falls back to guide).
            let sounding = try run.wait(seconds: 5) { $0["clicksFaded"] as? Bool == false }
            #expect(sounding["clicksFaded"] as? Bool == false, "\(sounding)")
            kill(run.process.processIdentifier, SIGTERM)
            #expect(run.finish().status == 143)

            let plain = try RemoteRun(["play", "--spm", "180", "--duration", "60s", "--device", "paced", "--no-keys", "--remote", "0"],
                                      environment)
            let none = try plain.wait(seconds: 5) { ($0["step"] as? Int ?? 0) > 0 }
            #expect(none["sensor"] is NSNull && none["measuredCadence"] is NSNull && none["inBand"] is NSNull)
            #expect(none["band"] is NSNull && none["clicksFaded"] is NSNull)
            kill(plain.process.processIdentifier, SIGTERM)
            #expect(plain.finish().status == 143)
        }

        @Test("the coach's page shows the runner's cadence beside the target, the time in the band and a silent or lost sensor; nothing without one")
        func pageShowsTheRunner() throws {
            let environment = try ALSATestEnvironment.ready()
            let world = try BluetoothWorld()
            try world.footpod("measure 172 3.1")
            let folder = try TemporaryFolder()
            // Screenshots stay for a person to look at: STRIDECUE_SCREENSHOTS=folder keeps them there.
            let shots = ProcessInfo.processInfo.environment["STRIDECUE_SCREENSHOTS"] ?? folder.path
            let run = try RemoteRun(["play", "--spm", "180", "--duration", "90s", "--device", "paced", "--no-keys", "--remote", "0",
                                     "--sensor", "Stride Pod"], environment, extraEnvironment: world.environment)
            let under = try RemotePageTests.browse("remote_sensor.py", [run.url, shots + "/runner-under.png", "runner 172 spm · 8 under"])
            #expect(under.status == 0 && under.printed.contains("ok runner runner 172 spm · 8 under (off)")
                    && under.printed.contains("ok beside the target"), "\(under.printed)")
            try world.footpod("measure 180 3.5")
            _ = try run.wait(seconds: 10) { ($0["inBand"] as? Double ?? 0) >= 3 }
            let held = try RemotePageTests.browse("remote_sensor.py", [run.url, shots + "/runner-in-band.png",
                                                                       #"runner 180 spm · in band 0:(0[3-9]|[1-5]\d)"#])
            #expect(held.status == 0 && held.printed.contains("(in)"), "\(held.printed)")
            // Silent for 3 s, then disconnected and connected again at 10 s (a drop's reconnection
            // is over within a second, sooner than a browser starts).
            try world.footpod("silent")
            let lost = try RemotePageTests.browse("remote_sensor.py", [run.url, shots + "/runner-lost.png",
                                                                       "sensor (silent|lost: reconnecting)"])
            #expect(lost.status == 0 && lost.printed.contains(" (lost)"), "\(lost.printed)")
            kill(run.process.processIdentifier, SIGTERM)
            #expect(run.finish().status == 143)

            let plain = try RemoteRun(["play", "--spm", "180", "--duration", "60s", "--device", "paced", "--no-keys", "--remote", "0"],
                                      environment)
            let none = try RemotePageTests.browse("remote_sensor.py", [plain.url, shots + "/runner-none.png", ""])
            #expect(none.status == 0 && none.printed.contains("ok no runner line"), "\(none.printed)")
            kill(plain.process.processIdentifier, SIGTERM)
            #expect(plain.finish().status == 143)
        }

        @Test("a sensor that stands, falls silent or drops never stops the session: the status says so, StrideCue reconnects")
        func aSensorGoingWrongNeverStopsTheSession() throws {
            let environment = try ALSATestEnvironment.ready()
            let world = try BluetoothWorld()
            try world.footpod("measure 180 3.4")
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            let session = try TerminalSession(
                ["play", "--spm", "180", "--duration", "90s", "--device", "paced:FILE='\(played)'", "--sensor", "auto",
                 "--log", folder.file("gaps.csv")],
                environment, extraEnvironment: world.environment)
            #expect(session.wait(seconds: 10) { $0.contains("180 spm  you 180 spm, in band") }, "\(session.lastStatus)")
            try world.footpod("measure 0 0")
            #expect(session.wait(seconds: 5) { $0.contains("180 spm  you: standing  ") }, "\(session.lastStatus)")
            try world.footpod("silent")
            #expect(session.wait(seconds: 8) { $0.contains("180 spm  SENSOR SILENT  ") }, "\(session.lastStatus)")
            // Silent for two steps heard, so that the log has a step to mark (a loaded machine
            // can draw the status late).
            let silentFrom = stepShown(session.lastStatus)
            #expect(session.wait(seconds: 5) { _ in
                session.lastStatus.contains("SENSOR SILENT") && stepShown(session.lastStatus) >= silentFrom + 2
            }, "\(session.lastStatus)")
            try world.footpod("measure 178 3.3")
            #expect(session.wait(seconds: 5) { _ in session.lastStatus.contains("you 178 spm, in band") },
                    "\(session.lastStatus)")
            // The link drops: BlueZ shows the device disconnected; StrideCue connects again.
            try world.footpod("drop")
            #expect(session.wait(seconds: 5) { $0.contains("SENSOR LOST: reconnecting") }, "\(session.lastStatus)")
            try BluetoothWorld.wait(for: "StartNotify again after the reconnection") { world.footpodSaid("notifying") == 2 }
            try world.footpod("measure 182 3.6")
            #expect(session.wait(seconds: 10) { _ in session.lastStatus.contains("you 182 spm, in band") }, "\(session.lastStatus)")
            #expect(session.process.isRunning, "the session went on throughout")
            session.type("q")
            let (status, exited, _) = session.finish()
            #expect(exited && status == 0)
            let onsets = clickOnsets(leftChannel(try #require(readBytes(played))))
            // The last click may be cut by `q`'s fade: the gaps up to it.
            let gaps = zip(onsets, onsets.dropFirst()).map { $1 - $0 }.dropLast()
            // Every click on the 180 spm grid, none missed. A dropout the player reports (the test
            // machine loaded past what the paced card's pace allows) lets the card play silence
            // where the frames were late: one gap longer per dropout, never a click lost.
            let dropouts = session.screen.components(separatedBy: " underrun").first.flatMap { $0.split(separator: " ").last.flatMap { Int($0) } } ?? 0
            let offGrid = gaps.filter { $0 != 16_000 }
            #expect(!gaps.isEmpty && offGrid.count <= dropouts && offGrid.allSatisfy { $0 > 16_000 && $0 < 32_000 },
                    "every click on the 180 spm grid, none missed (\(dropouts) dropouts): \(offGrid)")
            // The log marks the gaps: steps with no measurement, and why.
            let log = try String(contentsOfFile: folder.file("gaps.csv"), encoding: .utf8)
            let sensorColumn = log.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).last.map(String.init) ?? "" }
            for word in ["reading", "standing", "silent", "reconnecting"] {
                #expect(sensorColumn.contains(word), "no '\(word)' step in the log:\n\(log)")
            }
            #expect(log.split(separator: "\n").contains { $0.hasSuffix(",,,silent") }, "a silent step has no measured cadence nor speed")
        }

        @Test("play --log writes a row per step with the target and the measured cadence and speed sent, then a summary; CSV or JSON")
        func sessionLogRowsMatchWhatWasSent() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            for name in ["run.csv", "run.json"] {
                // A world each: bluezoo 1.0.2 cannot connect a device a second time after a Disconnect.
                let world = try BluetoothWorld()
                try world.footpod("measure 181 3.4")
                let run = try runStridecue(["play", "--spm", "180", "--duration", "4s", "--device", "paced", "--sensor", "auto",
                                            "--log", folder.file(name)], environment, extraEnvironment: world.environment)
                #expect(run.exited && run.status == 0, "\(run.stderr)")
                let text = try String(contentsOfFile: folder.file(name), encoding: .utf8)
                if name.hasSuffix(".csv") {
                    let lines = text.split(separator: "\n").map(String.init)
                    #expect(lines.first == "time_s,set,step,target_spm,measured_spm,speed_mps,sensor")
                    let rows = lines.dropFirst().filter { !$0.hasPrefix("#") }
                    #expect(rows.count == 12, "4 s at 180 spm: 12 steps\n\(text)")
                    // Step k is heard at (k − 1)/3 s; from the second second on the footpod's 181 spm is in.
                    for (k, row) in rows.enumerated() {
                        let fields = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                        #expect(fields[1...3] == ["1", "\(k + 1)", "180"], "\(row)")
                        if k >= 3 { #expect(fields[4...6] == ["181", "3.40", "reading"], "\(row)") }
                    }
                    #expect(lines.contains { $0.hasPrefix("# steps 12; in band ") && $0.hasSuffix("; malformed 0; reconnects 0") }, "\(text)")
                    #expect(lines.last == "# set 1: mean cadence 181.0 spm", "\(text)")
                } else {
                    let object = try #require(jsonObject(text), "not JSON: \(text)")
                    let steps = try #require(object["steps"] as? [[String: Any]])
                    #expect(steps.count == 12)
                    #expect(steps.last?["measured"] as? Int == 181 && steps.last?["speed"] as? Double == 3.4)
                    let summary = try #require(object["summary"] as? [String: Any])
                    #expect(summary["steps"] as? Int == 12 && summary["malformed"] as? Int == 0)
                    #expect((summary["secondsInBand"] as? Double ?? 0) > 2)
                }
            }
            let bad = try runStridecue(["play", "--spm", "180", "--device", "paced", "--log", folder.file("run.txt")], environment)
            #expect(bad.status == 64 && bad.stderrLines == ["stridecue: --log must end in .csv or .json; got '\(folder.file("run.txt"))'"],
                    "\(bad.stderr)")
            let alone = try runStridecue(["play", "--spm", "180", "--device", "paced", "--feedback", "fade"], environment)
            #expect(alone.status == 64 && alone.stderrLines == ["stridecue: --feedback answers the runner's cadence: it needs --sensor"],
                    "\(alone.stderr)")
            let unknown = try runStridecue(["play", "--spm", "180", "--device", "paced", "--sensor", "auto", "--feedback", "loud"], environment)
            #expect(unknown.status == 64 && unknown.stderrLines == ["stridecue: --feedback must be guide, fade or nudge; got 'loud'"],
                    "\(unknown.stderr)")
        }

        @Test("the log's summary has each set's mean of the cadences sent in it and the time in the preset's band, in CSV and JSON alike")
        func logSummaryPerSet() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let preset = folder.file("two-sets.yaml")
            #expect(FileManager.default.createFile(atPath: preset, contents: Data("""
                name: Two sets
                cadence: 180
                sets: 2
                set: {steps: 12}
                rest: 3 s
                feedback: {band: 5 spm}

                """.utf8)))
            for name in ["sets.csv", "sets.json"] {
                // A world each: bluezoo 1.0.2 cannot connect a device a second time after a Disconnect.
                let world = try BluetoothWorld()
                try world.footpod("measure 176 3.1")
                let session = try TerminalSession(["play", preset, "--device", "paced", "--sensor", "auto", "--log", folder.file(name)],
                                                  environment, extraEnvironment: world.environment)
                // The second set's runner is quicker: sent during the rest.
                #expect(session.wait(seconds: 15) { _ in session.lastStatus.contains("rest") }, "\(session.lastStatus)")
                try world.footpod("measure 184 3.5")
                let (status, exited, _) = session.finish(timeout: 20)
                #expect(exited && status == 0)
                let text = try String(contentsOfFile: folder.file(name), encoding: .utf8)
                if name.hasSuffix(".csv") {
                    let lines = text.split(separator: "\n").map(String.init)
                    #expect(lines.filter { !$0.hasPrefix("#") }.count == 1 + 24, "two sets of 12 steps\n\(text)")
                    #expect(lines.suffix(2) == ["# set 1: mean cadence 176.0 spm", "# set 2: mean cadence 184.0 spm"], "\(text)")
                    // ±5 spm holds both: 11 s of two sets and the rest between them, less the moments
                    // before the first notification arrives and the last sample's 100 ms.
                    let summary = try #require(lines.first { $0.hasPrefix("# steps 24; in band ") }, "\(text)")
                    let seconds = Double(summary.dropFirst("# steps 24; in band ".count).prefix { $0 != " " }) ?? 0
                    #expect(seconds >= 9 && seconds <= 11, "\(summary)")
                    #expect(summary.hasSuffix("malformed 0; reconnects 0"), "\(summary)")
                } else {
                    let object = try #require(jsonObject(text), "not JSON: \(text)")
                    let summary = try #require(object["summary"] as? [String: Any])
                    let sets = try #require(summary["sets"] as? [[String: Any]])
                    #expect(sets.map { $0["set"] as? Int } == [1, 2])
                    #expect(sets.map { $0["meanCadence"] as? Double } == [176, 184])
                    let steps = try #require(object["steps"] as? [[String: Any]])
                    // Each row has what was sent in its set (the first steps may come before the first notification).
                    #expect(steps.count == 24)
                    #expect(steps.prefix(12).allSatisfy { $0["measured"] is NSNull || $0["measured"] as? Int == 176 }, "\(steps)")
                    #expect(steps.prefix(12).filter { $0["measured"] as? Int == 176 }.count >= 9, "\(steps)")
                    #expect(steps.suffix(12).allSatisfy { $0["measured"] as? Int == 184 }, "\(steps)")
                    #expect((9...11).contains(summary["secondsInBand"] as? Double ?? 0), "\(summary)")
                    #expect(summary["nudgeMoved"] is NSNull)
                }
            }
        }

        @Test("feedback: fade silences the clicks, a quarter step by step, once the runner holds the band, and brings them back when they drift")
        func fadeInTheFramesPlayed() throws {
            let environment = try ALSATestEnvironment.ready()
            let world = try BluetoothWorld()
            try world.footpod("measure 180 3.4")
            let folder = try TemporaryFolder()
            let preset = folder.file("fade.yaml")
            #expect(FileManager.default.createFile(atPath: preset, contents: Data("""
                name: Fade test
                cadence: 180
                set: {steps: 180}
                feedback: fade

                """.utf8)))
            let played = folder.file("played.raw")
            let session = try TerminalSession(["play", preset, "--device", "paced:FILE='\(played)'", "--sensor", "auto"],
                                              environment, extraEnvironment: world.environment)
            #expect(session.wait(seconds: 15) { _ in session.lastStatus.contains("you 180 spm, in band 0:0") && session.lastStatus.contains(", clicks faded") },
                    "\(session.lastStatus)")
            let faded = session.lastStatus
            let stepFaded = Int(faded.split(separator: " ").drop { $0 != "step" }.dropFirst().first ?? "") ?? 0
            #expect(session.wait(seconds: 5) { _ in session.lastStatus.contains("step \(stepFaded + 8) ") }, "\(session.lastStatus)")
            try world.footpod("measure 170 3.0")
            #expect(session.wait(seconds: 5) { _ in session.lastStatus.contains("you 170 spm, 10 under") && !session.lastStatus.contains("faded") },
                    "\(session.lastStatus)")
            let drifted = session.lastStatus
            let stepNow = Int(drifted.split(separator: " ").drop { $0 != "step" }.dropFirst().first ?? "") ?? 0
            #expect(session.wait(seconds: 5) { _ in session.lastStatus.contains("step \(stepNow + 6) ") }, "\(session.lastStatus)")
            session.type("q")
            let (status, exited, _) = session.finish()
            #expect(exited && status == 0)

            // The peak of each step's click, on the 180 spm grid (16 000 frames at 48 kHz).
            let left = leftChannel(try #require(readBytes(played)))
            let first = try #require(clickOnsets(left).first)
            let peaks = stride(from: first, to: left.count - 16_000, by: 16_000).map { at in
                left[at..<(at + 16_000)].map { abs(Int($0)) }.max() ?? 0
            }
            let full = try #require(peaks.first)
            #expect(full > 1_000)
            let levels = peaks.map { (Double($0) / Double(full) * 4).rounded() / 4 }
            let fadeOut: [Double] = [1, 0.75, 0.5, 0.25, 0]
            let fadeIn: [Double] = [0, 0.25, 0.5, 0.75, 1]
            let out = try #require((0...(levels.count - 5)).first { Array(levels[$0..<($0 + 5)]) == fadeOut }, "no fade out: \(levels)")
            #expect(out >= 24, "held 8 s (24 steps) before fading: \(levels)")
            let back = try #require((out...(levels.count - 5)).first { Array(levels[$0..<($0 + 5)]) == fadeIn }, "no fade in: \(levels)")
            #expect(levels[(out + 4)...back].allSatisfy { $0 == 0 }, "silent between: \(levels)")
            #expect(levels[..<out].allSatisfy { $0 == 1 } && levels[(back + 4)...].allSatisfy { $0 == 1 }, "\(levels)")
        }

        @Test("feedback: nudge starts the click at the runner's cadence and moves it 2 % at a time, each once caught up, stopping at the target")
        func nudgeInTheFramesPlayed() throws {
            let environment = try ALSATestEnvironment.ready()
            let world = try BluetoothWorld()
            try world.footpod("measure 170 3.0")
            let folder = try TemporaryFolder()
            let preset = folder.file("nudge.yaml")
            #expect(FileManager.default.createFile(atPath: preset, contents: Data("""
                name: Nudge test
                cadence: 180
                set: {steps: 300}
                feedback: {mode: guide, step: 2 %}

                """.utf8)))
            let played = folder.file("played.raw")
            // --feedback nudge chooses the mode over the preset's; the preset's step stays.
            let session = try TerminalSession(["play", preset, "--device", "paced:FILE='\(played)'", "--sensor", "auto",
                                               "--feedback", "nudge", "--log", folder.file("nudge.json")],
                                              environment, extraEnvironment: world.environment)
            // The runner is heard at 170 first: the click starts there, then moves once they hold it.
            #expect(session.wait(seconds: 10) { _ in session.lastStatus.hasPrefix("170 spm  you 170 spm, in band") }, "\(session.lastStatus)")
            #expect(session.wait(seconds: 8) { _ in session.lastStatus.hasPrefix("173 spm  you 170 spm, 3 under") }, "\(session.lastStatus)")
            try world.footpod("measure 173 3.1")
            #expect(session.wait(seconds: 8) { _ in session.lastStatus.hasPrefix("176 spm  you 173 spm, 3 under") }, "\(session.lastStatus)")
            try world.footpod("measure 176 3.2")
            #expect(session.wait(seconds: 8) { _ in session.lastStatus.hasPrefix("180 spm  you 176 spm, 4 under") }, "\(session.lastStatus)")
            try world.footpod("measure 180 3.4")
            #expect(session.wait(seconds: 8) { _ in session.lastStatus.hasPrefix("180 spm  you 180 spm, in band 0:03") }, "\(session.lastStatus)")
            session.type("q")
            let (status, exited, _) = session.finish()
            #expect(exited && status == 0)

            // The tempo of every step heard, from the frames: 2 880 000 frames a minute at 48 kHz.
            // Not the last 25 ms: q's 20 ms stop fade is written there, and in some runs it holds
            // a faint sound (about 19 dB under a click) 114 ms after the last click, which reads
            // as an onset. That is the stop's, found here and not yet mended (see the closing
            // note of 2026-12-08); the nudges are what this test checks.
            let left = leftChannel(try #require(readBytes(played)))
            let onsets = clickOnsets(left).filter { $0 < left.count - 1_200 }
            let tempos = zip(onsets, onsets.dropFirst()).map { (2_880_000 / Double($1 - $0)).rounded() }
            var heard: [Double] = []
            for tempo in tempos where heard.last != tempo { heard.append(tempo) }
            // A nudge acts from the first step not yet handed to ALSA: the click is at 170 from
            // the first step the sensor's reading found unrendered (the plan's 180 is heard only
            // when that reading came after a step had been handed over).
            #expect(Array(heard.drop { $0 == 180 }) == [170, 173, 176, 180], "\(tempos)")
            // The log's summary: 170 → 173 → 176 → 180 is 10 spm of nudging.
            let log = try String(contentsOfFile: folder.file("nudge.json"), encoding: .utf8)
            let summary = try #require(jsonObject(log)?["summary"] as? [String: Any], "\(log)")
            #expect(summary["nudgeMoved"] as? Int == 10, "\(summary)")
            #expect(summary["spokenNudges"] is NSNull, "no spoken nudge asked for: \(summary)")
        }

        @Test("a runner who stays off target hears the preset's words on a step, quicker then slow it down, not more often than asked")
        func spokenNudgeInTheFramesPlayed() throws {
            let environment = try ALSATestEnvironment.ready()
            let world = try BluetoothWorld()
            try world.footpod("measure 170 3.0")
            let folder = try TemporaryFolder()
            let preset = folder.file("spoken.yaml")
            #expect(FileManager.default.createFile(atPath: preset, contents: Data("""
                name: Spoken nudge test
                cadence: 180
                set: {steps: 300}
                feedback: {mode: guide, say-after: 3 s, say-every: 8 s, say-over: slow it down}

                """.utf8)))
            let played = folder.file("played.raw")
            let session = try TerminalSession(["play", preset, "--device", "paced:FILE='\(played)'", "--sensor", "auto",
                                               "--log", folder.file("spoken.csv")],
                                              environment, extraEnvironment: world.environment)
            #expect(session.wait(seconds: 15) { $0.contains("said \"quicker\"  180 spm  you 170 spm, 10 under") }, "\(session.lastStatus)")
            try world.footpod("measure 190 3.6")
            #expect(session.wait(seconds: 15) { $0.contains("said \"slow it down\"  180 spm  you 190 spm, 10 over") }, "\(session.lastStatus)")
            // The words start on the next step: a few more steps handed to the card before quitting.
            let saidAt = stepShown(session.lastStatus)
            #expect(session.wait(seconds: 5) { _ in stepShown(session.lastStatus) >= saidAt + 4 }, "\(session.lastStatus)")
            session.type("q")
            let (status, exited, _) = session.finish()
            #expect(exited && status == 0)

            // Steps whose click is followed by words where the plain track is silent.
            let left = leftChannel(try #require(readBytes(played)))
            let first = try #require(clickOnsets(left).first)
            let steps = stride(from: first, to: left.count - 16_000, by: 16_000).map { $0 }
            let spoken = steps.indices.filter { k in left[(steps[k] + 4_000)..<(steps[k] + 12_000)].contains { abs(Int($0)) > 1_000 } }
            let starts = spoken.filter { !spoken.contains($0 - 1) }
            #expect(starts.count == 2, "two nudges said: steps \(spoken)")
            let plainClick = Array(left[steps[0]..<(steps[0] + 16_000)])
            for k in starts {
                // Words and a ducked click both start from a zero sample at the step's own frame.
                let window = Array(left[steps[k]..<(steps[k] + 16_000)])
                let differs = try #require(window.indices.first { window[$0] != plainClick[$0] })
                #expect(differs < 48, "the words start on step \(k + 1)'s frame, not \(differs) frames later")
                #expect(left[(steps[k - 1] + 4_000)..<steps[k]].allSatisfy { $0 == 0 }, "nothing said before step \(k + 1)")
            }
            // Under for 3 s before the first; at least 8 s (24 steps) between the two.
            if starts.count == 2 {
                #expect(starts[0] >= 9, "\(starts)")
                #expect(starts[1] - starts[0] >= 24, "\(starts)")
            }
            let log = try String(contentsOfFile: folder.file("spoken.csv"), encoding: .utf8)
            #expect(log.split(separator: "\n").contains("# spoken nudges 2"), "\(log)")
        }
    }
}

/// The step number a status line shows (`… step 14 …`), or 0.
private func stepShown(_ status: String) -> Int {
    guard let range = status.range(of: "step ") else { return 0 }
    return Int(status[range.upperBound...].prefix { $0.isNumber }) ?? 0
}
