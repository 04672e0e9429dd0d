import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import StrideCueCore
import StrideCuePresets
import StrideCueTestSupport

/// This folder: the fixture, the golden files and the malformed corpus live beside the tests.
let cliTestsFolder = packageRoot + "/Tests/StrideCueCLITests"

/// A fresh `XDG_CONFIG_HOME` for one test, and the environment that points the binary at it
/// (and at no `STRIDECUE_PRESETS` the developer may have set).
func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

/// The fixed bum-kicks preset (with cues) the golden test reads.
let bumKicksFixture = try! String(contentsOfFile: cliTestsFolder + "/Fixtures/bum-kicks.yaml", encoding: .utf8)

/// The drills a running coach would look for in the library, and whether each warns.
let libraryDrills: [(name: String, hasCaution: Bool)] = [
    ("a-skips", true), ("b-skips", true), ("high-knees", true), ("straight-leg-bounds", true), ("strides", true),
    ("cadence-builder", false), ("easy-run", false), ("tempo-run", true), ("cool-down", false),
]

@Suite("stridecue presets and preset, end to end", .serialized)
struct PresetCommandTests {
    // MARK: The library

    @Test func theLibraryHasTheDrillsACoachWouldLookFor() throws {
        let home = try ConfigHome()
        let run = try stridecue(["presets", "--json"], environment: home.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let list = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as! String, $0) })
        for (name, hasCaution) in libraryDrills {
            let entry = try #require(byName[name], "\(name) is missing")
            #expect(entry["source"] as? String == "built-in")
            #expect(entry["error"] == nil, "\(name): \(entry["error"] ?? "")")
            #expect(((entry["cues"] as? NSNumber)?.intValue ?? 0) >= 2, "\(name) has cues")
            let path = entry["file"] as! String
            let preset = try decodePreset([UInt8](contents(path)!), file: path)
            #expect(!preset.plan.about.isEmpty, "\(name) says what it is for")
            #expect(preset.plan.caution.isEmpty != hasCaution, "\(name) caution")
            #expect(abs((entry["duration"] as! NSNumber).doubleValue - Timeline.planDuration(of: preset.plan)) < 0.001)
            #expect((entry["sets"] as? NSNumber)?.intValue == preset.plan.sets)
        }
        // The shapes the issue names.
        let number = { (name: String, key: String) in (byName[name]?[key] as? NSNumber)?.doubleValue }
        #expect(number("strides", "sets") == 4)
        #expect(number("easy-run", "cadence") == 170 && byName["easy-run"]?["rampFrom"] is NSNull)
        #expect(number("tempo-run", "cadence") == 180)
        #expect(number("cadence-builder", "rampFrom") == 160 && number("cadence-builder", "cadence") == 180)
        #expect(number("cool-down", "rampFrom")! > number("cool-down", "cadence")!)
        // Strides: 100 m each, and the cadence builder's ramp takes ten minutes.
        let strides = try decodePreset([UInt8](contents(packageRoot + "/Presets/strides.yaml")!), file: "strides.yaml").plan
        guard case .distance(let metres, _) = strides.setLength else { Issue.record("strides are not a distance"); return }
        #expect(metres == 100)
        let builder = try decodePreset([UInt8](contents(packageRoot + "/Presets/cadence-builder.yaml")!), file: "b.yaml").plan
        let ramp = try #require(builder.ramp)
        let rampTime = PlanLayout(plan: builder).timeInSet(ofStep: ramp.steps + 1)
        #expect(abs(rampTime - 600) < 1, "the build takes \(rampTime) s")
    }

    @Test func everyShippedPresetPassesCheck() throws {
        let home = try ConfigHome()
        let run = try stridecue(["preset", "check"], environment: home.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty)
        let checked = run.stdout.split(separator: "\n").filter { $0.hasPrefix("ok  ") }
        let shipped = try FileManager.default.contentsOfDirectory(atPath: packageRoot + "/Presets").filter { $0.hasSuffix(".yaml") }
        #expect(checked.count == shipped.count, "\(run.stdout)")
        #expect(shipped.count >= 10)
    }

    @Test func presetSetChoosesTheFeedbackAndRefusesAnUnknownOne() throws {
        let home = try ConfigHome()
        try home.add("steady", "cadence: 180\nset: {steps: 10}\n")
        let set = try stridecue(["preset", "set", "steady", "feedback=fade"], environment: home.environment)
        #expect(set.status == 0, "\(set.stderr)")
        #expect(contents(home.presets + "/steady.yaml").map { String(decoding: $0, as: UTF8.self) }
                == "cadence: 180\nset: {steps: 10}\nfeedback: fade\n")
        let refused = try stridecue(["preset", "set", "steady", "feedback=louder"], environment: home.environment)
        #expect(refused.status == 65)
        #expect(refused.stderr == "stridecue: feedback=louder: feedback must be guide, fade or nudge, got 'louder'. Nothing was changed.\n")
    }

    @Test func presetSetEditsTheFeedbacksSettingsKeepingItsModeAndComments() throws {
        let home = try ConfigHome()
        try home.add("steady", "cadence: 180  # race pace\nfeedback: fade  # fades once held\n")
        let path = home.presets + "/steady.yaml"
        let hold = try stridecue(["preset", "set", "steady", "feedback.hold=12 s", "feedback.band=3 spm"], environment: home.environment)
        #expect(hold.status == 0, "\(hold.stderr)")
        #expect(contents(path).map { String(decoding: $0, as: UTF8.self) }
                == "cadence: 180  # race pace\nfeedback: {mode: fade, band: 3 spm, hold: 12 s}  # fades once held\n")
        let mode = try stridecue(["preset", "set", "steady", "feedback=nudge", "feedback.say-under=pick it up"], environment: home.environment)
        #expect(mode.status == 0, "\(mode.stderr)")
        #expect(contents(path).map { String(decoding: $0, as: UTF8.self) }
                == "cadence: 180  # race pace\nfeedback: {mode: nudge, band: 3 spm, hold: 12 s, say-under: pick it up}  # fades once held\n")
        let refused = try stridecue(["preset", "set", "steady", "feedback.step=25 %"], environment: home.environment)
        #expect(refused.status == 65)
        #expect(refused.stderr == "stridecue: feedback.step=25 %: feedback.step must be from 0.5 to 10 %, got '25 %'. Nothing was changed.\n")
    }

    @Test func aCueTooLongForItsStepsFailsTheCheck() throws {
        let home = try ConfigHome()
        try home.add("chatty", "cadence: 200\ncues:\n  - say: relax your shoulders and breathe out slowly now\n    every: 8\n")
        let run = try stridecue(["preset", "check", "chatty"], environment: home.environment)
        #expect(run.status == 65)
        #expect(run.stderr.hasPrefix("stridecue: \(home.presets)/chatty.yaml:3:10: 'relax your shoulders and breathe out slowly now' needs "))
        #expect(run.stderr.contains(" steps at 200 spm; give it 'steps: ") && run.stderr.hasSuffix("' or a shorter text\n"), "\(run.stderr)")
    }

    // MARK: Listing and shadowing

    @Test func userPresetsShadowBuiltInsAndAFolderAddsMore() throws {
        let home = try ConfigHome()
        let sharedFolder = try TemporaryFolder(), shared = sharedFolder.path
        try home.add("strides", "name: My strides\ncadence: 192\nsets: 2\nset: {steps: 8}\n")
        try home.add("broken", "cadence: fast\n")
        try "cadence: 175\nsets: 8\nset: {duration: 20 s}\nrest: 1 min\n".write(toFile: shared + "/hill-sprints.yaml", atomically: false, encoding: .utf8)
        try "cadence: 150\n".write(toFile: shared + "/strides.yaml", atomically: false, encoding: .utf8)
        try "cadence: 150\n".write(toFile: shared + "/Not A Name.yaml", atomically: false, encoding: .utf8)
        var environment = home.environment
        environment["STRIDECUE_PRESETS"] = shared

        let text = try stridecue(["presets"], environment: environment)
        #expect(text.status == 0)
        let rows = text.stdout.split(separator: "\n").map(String.init)
        let row = { (name: String) in rows.first { $0.hasPrefix("  \(name) ") } ?? "" }
        #expect(row("strides").contains("user, hides built-in") && row("strides").contains("192 spm"))
        #expect(row("hill-sprints").contains("path") && row("hill-sprints").contains("175 spm"))
        #expect(row("a-skips").contains("built-in"))
        #expect(row("broken").contains("invalid: see 'stridecue preset check broken'"))
        #expect(text.stdout.contains("Your presets: \(home.presets)\n"))
        #expect(text.stdout.contains("From STRIDECUE_PRESETS: \(shared)\n"))
        #expect(text.stderr == "stridecue: skipping \(shared)/Not A Name.yaml: preset names are lowercase words joined by hyphens\n")

        let json = try stridecue(["presets", "--json"], environment: environment)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let strides = try #require(list.first { $0["name"] as? String == "strides" })
        #expect(strides["source"] as? String == "user")
        #expect(strides["shadows"] as? [String] == ["path", "built-in"])
        #expect((strides["sets"] as? NSNumber)?.intValue == 2 && (strides["cues"] as? NSNumber)?.intValue == 0)
        #expect(strides["title"] as? String == "My strides")
        let broken = try #require(list.first { $0["name"] as? String == "broken" })
        #expect(broken["error"] as? String == "\(home.presets)/broken.yaml:1:10: cadence must be a number of steps per minute, got 'fast'")
        #expect(list.map { $0["name"] as! String } == list.map { $0["name"] as! String }.sorted())

        // A name finds the user's preset first, in every command that takes one.
        let show = try stridecue(["preset", "show", "strides"], environment: environment)
        #expect(show.stdout.hasPrefix("My strides\nyour preset (hides the built-in): \(home.presets)/strides.yaml\n"))
        let render = try stridecue(["render", "strides", "--channels", "1", "-o", home.path + "/strides.wav"], environment: environment)
        #expect(render.status == 0, "\(render.stderr)")
        // Your strides, 8 steps at 192 spm twice: render played them, not the built-in's.
        #expect(try readBack(home.path + "/strides.wav").frameCount == Int((2 * 8 * 60 / 192.0 * 48_000).rounded()))
        let hills = try stridecue(["preset", "show", "hill-sprints"], environment: environment)
        #expect(hills.stdout.contains("\npreset file: \(shared)/hill-sprints.yaml\n") || hills.stdout.contains("STRIDECUE_PRESETS"))
    }

    // MARK: show

    @Test func showMatchesTheGoldenFile() throws {
        let home = try ConfigHome()
        try home.add("bum-kicks", bumKicksFixture)
        let run = try stridecue(["preset", "show", "bum-kicks"], environment: home.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let shown = run.stdout.replacingOccurrences(of: home.path, with: "$XDG_CONFIG_HOME")
        let golden = cliTestsFolder + "/Snapshots/preset-show-bum-kicks.txt"
        if ProcessInfo.processInfo.environment["STRIDECUE_RECORD"] == "1" {
            try shown.write(toFile: golden, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOfFile: golden, encoding: .utf8)
        #expect(shown == expected)
        // The caution comes before anything else the drill says.
        let caution = try #require(shown.range(of: "CAUTION: Not with a hamstring injury."))
        #expect(caution.lowerBound < shown.range(of: "Bring the swing leg")!.lowerBound)
    }

    @Test func svgIsWellFormedAndNamesEverySetAndCue() throws {
        let home = try ConfigHome()
        try home.add("bum-kicks", bumKicksFixture)
        let out = home.path + "/plan.svg"
        let run = try stridecue(["preset", "show", "bum-kicks", "--svg", out], environment: home.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("Bum kicks\n"))   // the text still prints
        let texts = try xmlTexts(try #require(contents(out)))
        for set in ["Set 1", "Set 2"] { #expect(texts.contains { $0.hasPrefix(set) }, "\(set)") }
        for cue in ["pull through", "pop forwards", "pump the arms"] {
            #expect(texts.contains { $0.contains(cue) }, "\(cue)")
        }
        #expect(texts.contains { $0.hasPrefix("Caution: Not with a hamstring injury.") })

        let piped = try stridecue(["preset", "show", "bum-kicks", "--svg", "-"], environment: home.environment)
        #expect(piped.status == 0 && piped.stdout.hasPrefix("<?xml "))
        _ = try xmlTexts(Data(piped.stdout.utf8))

        let png = try stridecue(["preset", "show", "bum-kicks", "--svg", home.path + "/plan.png"], environment: home.environment)
        #expect(png.status == 64)
        #expect(png.stderr == "stridecue: --svg \(home.path)/plan.png: use a .svg name, or - for standard output\n")
    }

    @Test(arguments: libraryDrills.map(\.name))
    func everyShippedPresetDrawsAWellFormedPicture(name: String) throws {
        let home = try ConfigHome()
        let run = try stridecue(["preset", "show", name, "--svg", "-"], environment: home.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let texts = try xmlTexts(Data(run.stdout.utf8))
        let path = packageRoot + "/Presets/\(name).yaml"
        let preset = try decodePreset([UInt8](contents(path)!), file: path)
        for set in 1...preset.plan.sets { #expect(texts.contains { $0.hasPrefix("Set \(set):") }, "set \(set)") }
        for cue in planCues(in: preset.root) { #expect(texts.contains(cue.text), "\(cue.text)") }
    }

    // MARK: set

    @Test func setKeepsEverythingElseByteForByte() throws {
        let home = try ConfigHome()
        try home.add("kicks", bumKicksFixture)
        let run = try stridecue(["preset", "set", "kicks", "cadence=185", "ramp.from=160", "sets=3", "rest=90s"],
                                environment: home.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let expected = bumKicksFixture
            .replacingOccurrences(of: "\ncadence: 190 ", with: "\ncadence: 185 ")
            .replacingOccurrences(of: "\nramp: {from: 150, steps: 16}\n", with: "\nramp: {from: 160, steps: 16}\n")
            .replacingOccurrences(of: "\nsets: 2\n", with: "\nsets: 3\n")
            .replacingOccurrences(of: "\nrest: 60 s ", with: "\nrest: 90 s ")
        #expect(expected != bumKicksFixture)
        #expect(contents(home.presets + "/kicks.yaml") == Data(expected.utf8))
        #expect(run.stdout == """
            Changed kicks:
              cadence    190 → 185
              ramp.from  150 → 160
              sets       2 → 3
              rest       60 s → 90 s
            Saved \(home.presets)/kicks.yaml

            """)
        #expect(files(in: home.presets) == ["kicks.yaml"])   // no temporary left behind

        // A key the file lacks goes where the documentation lists it; a cue's text in place.
        // (A longer `steps` for the halfway cue would talk over step 23's: the preflight refuses it.)
        let added = try stridecue(["preset", "set", "kicks", "count-in=6", "cues.2.say=pop up", "cues.3.level=-3 dB"],
                                  environment: home.environment)
        #expect(added.status == 0, "\(added.stderr)")
        let after = String(decoding: contents(home.presets + "/kicks.yaml")!, as: UTF8.self)
        #expect(after == expected
            .replacingOccurrences(of: "\ncount-in: 4 ", with: "\ncount-in: 6 ")
            .replacingOccurrences(of: "say: pop forwards\n", with: "say: pop up\n")
            .replacingOccurrences(of: "    at: halfway\n", with: "    at: halfway\n    level: \"-3 dB\"\n"))
    }

    @Test func setOnABuiltInMakesYourCopyAndLeavesTheBuiltInAlone() throws {
        let home = try ConfigHome()
        let builtIn = packageRoot + "/Presets/strides.yaml"
        let before = try #require(contents(builtIn))
        let run = try stridecue(["preset", "set", "strides", "sets=6"], environment: home.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(contents(builtIn) == before)
        let copy = String(decoding: try #require(contents(home.presets + "/strides.yaml")), as: UTF8.self)
        #expect(copy == String(decoding: before, as: UTF8.self).replacingOccurrences(of: "\nsets: 4\n", with: "\nsets: 6\n"))
        #expect(run.stdout.hasSuffix("Saved your copy \(home.presets)/strides.yaml\n"
            + "  (made from the built-in preset; 'stridecue preset rm strides' goes back to it)\n"))
        let list = try stridecue(["presets"], environment: home.environment)
        #expect(list.stdout.contains("  strides              user, hides built-in"))
    }

    @Test(arguments: [
        (["cadence=0"], Int32(65), "cadence=0: cadence must be between 30 and 300 steps per minute, got 0. Nothing was changed."),
        (["sets=3", "rest=forever"], 65, "rest=forever: rest must be a duration like 60 s, 10 min or 1:30, got 'forever'. Nothing was changed."),
        (["cadance=180"], 65, "cadance=180: unknown key 'cadance'; did you mean 'cadence'? Nothing was changed."),
        (["ramp.from=nan"], 65, "ramp.from=nan: ramp.from must be a finite number of steps per minute, got 'nan'. Nothing was changed."),
        (["set.distance=40 m", "set.step-length=0"], 65,
         "set.step-length=0: set.step-length must be between 0.1 and 5 metres, got '0 m'. Nothing was changed."),
        (["cadence"], 64, "'cadence' is not KEY=VALUE: a key such as cadence or ramp.from, '=', and the value"),
        (["=180"], 64, "'=180' is not KEY=VALUE: a key such as cadence or ramp.from, '=', and the value"),
        (["ramp=150"], 64, "ramp=150: ramp is a mapping; set one of its keys, like ramp.from. Nothing was changed."),
        (["cues.9.say=go"], 64, "cues.9.say=go: cues has 3 items, counted from 1; there is no item 9. Nothing was changed."),
        (["cues.1.say=relax your shoulders and breathe out slowly"], 65, nil),
    ] as [([String], Int32, String?)])
    func aBadValueChangesNothingAndSaysWhy(assignments: [String], status: Int32, message: String?) throws {
        let home = try ConfigHome()
        // Once on the user's own preset, once on a built-in that has no user copy yet.
        try home.add("kicks", bumKicksFixture)
        for name in ["kicks", "strides"] {
            let run = try stridecue(["preset", "set", name] + assignments, environment: home.environment)
            #expect(run.status == status, "\(name): \(run.stderr)")
            #expect(run.stderr.hasPrefix("stridecue: ") && run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            #expect(contents(home.presets + "/kicks.yaml") == Data(bumKicksFixture.utf8))
            #expect(files(in: home.presets) == ["kicks.yaml"])
            guard name == "kicks" else { continue }
            if let message {
                #expect(run.stderr == "stridecue: \(message)\n")
            } else {
                #expect(run.stderr.hasPrefix("stridecue: \(assignments[0]): 'relax your shoulders and breathe out slowly' needs "))
                #expect(run.stderr.contains(" steps at 190 spm; give it 'steps: "))
                #expect(run.stderr.hasSuffix("' or a shorter text. Nothing was changed.\n"), "\(run.stderr)")
            }
        }
    }

    // MARK: Atomic writes

    @Test(arguments: [
        ("ulimit -f 0; trap '' XFSZ", [String: String](), Int32(74), "File too large"),
        ("true", ["STRIDECUE_FAIL_FILE_CALL": "write"], 74, "Input/output error"),
        ("true", ["STRIDECUE_FAIL_FILE_CALL": "fsync"], 74, "Input/output error"),
        ("true", ["STRIDECUE_FAIL_FILE_CALL": "rename"], 73, "Input/output error"),
    ])
    func aFailedWriteLeavesTheOldFile(shell: String, failure: [String: String], status: Int32, reason: String) throws {
        let home = try ConfigHome()
        try home.add("kicks", bumKicksFixture)
        let run = try stridecue(["preset", "set", "kicks", "cadence=185"], environment: home.environment.merging(failure) { $1 },
                                shellPrefix: shell)
        #expect(run.status == status, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("stridecue: cannot ") && run.stderr.contains(reason), "\(run.stderr)")
        #expect(run.stderr.hasSuffix("; nothing was changed\n"))
        #expect(contents(home.presets + "/kicks.yaml") == Data(bumKicksFixture.utf8))
        #expect(files(in: home.presets) == ["kicks.yaml"])
    }

    /// The presets folder read-only: a read-only tmpfs as root (root writes into any folder
    /// whatever its mode), the folder's mode otherwise.
    @Test func aReadOnlyFolderLeavesTheOldFile() throws {
        let home = try ConfigHome()
        try home.add("kicks", bumKicksFixture)
        var unmount: (() -> Void)? = nil
        if getuid() == 0 {
            let saved = try TemporaryFolder()
            try FileManager.default.copyItem(atPath: home.presets + "/kicks.yaml", toPath: saved.file("kicks.yaml"))
            let mounted = try #require(mountTmpfs(home.presets, size: "1m"), "cannot mount a tmpfs on \(home.presets)")
            unmount = mounted
            try FileManager.default.copyItem(atPath: saved.file("kicks.yaml"), toPath: home.presets + "/kicks.yaml")
            #expect(try runTool("mount", ["-o", "remount,ro", home.presets]).status == 0)
        } else {
            chmod(home.presets, 0o555)
        }
        defer {
            unmount?()
            chmod(home.presets, 0o755)
        }
        let run = try stridecue(["preset", "set", "kicks", "cadence=185"], environment: home.environment)
        #expect(run.status == 73, "\(run.stderr)")
        #expect(contents(home.presets + "/kicks.yaml") == Data(bumKicksFixture.utf8))
    }

    // MARK: new, rm and names

    @Test func newCopiesOrStartsFromATemplate() throws {
        let home = try ConfigHome()
        let copy = try stridecue(["preset", "new", "my-kicks", "--from", "bum-kicks"], environment: home.environment)
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(contents(home.presets + "/my-kicks.yaml") == contents(packageRoot + "/Presets/bum-kicks.yaml"))
        #expect(copy.stdout.hasPrefix("Created your preset my-kicks from built-in preset: \(packageRoot)/Presets/bum-kicks.yaml\n"))

        let again = try stridecue(["preset", "new", "my-kicks"], environment: home.environment)
        #expect(again.status == 73)
        #expect(again.stderr.hasPrefix("stridecue: you already have a preset named 'my-kicks': "))

        let template = try stridecue(["preset", "new", "hill-sprints"], environment: home.environment)
        #expect(template.status == 0, "\(template.stderr)")
        let check = try stridecue(["preset", "check", "hill-sprints", "my-kicks"], environment: home.environment)
        #expect(check.status == 0, "\(check.stderr)")
        let show = try stridecue(["preset", "show", "hill-sprints"], environment: home.environment)
        #expect(show.stdout.hasPrefix("Hill sprints\n"))

        // Without --from, a built-in's own name starts as a copy of it.
        let shadow = try stridecue(["preset", "new", "strides"], environment: home.environment)
        #expect(shadow.status == 0, "\(shadow.stderr)")
        #expect(contents(home.presets + "/strides.yaml") == contents(packageRoot + "/Presets/strides.yaml"))

        let brokenFolder = try TemporaryFolder(), broken = brokenFolder.path
        try "cadence: 0\n".write(toFile: broken + "/bad.yaml", atomically: false, encoding: .utf8)
        let bad = try stridecue(["preset", "new", "from-bad", "--from", broken + "/bad.yaml"], environment: home.environment)
        #expect(bad.status == 65)
        #expect(!FileManager.default.fileExists(atPath: home.presets + "/from-bad.yaml"))
    }

    @Test func rmRemovesOnlyYourOwnAndTheBuiltInComesBack() throws {
        let home = try ConfigHome()
        try home.add("strides", "cadence: 150\n")
        let run = try stridecue(["preset", "rm", "strides"], environment: home.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "Removed your preset strides (\(home.presets)/strides.yaml)\n"
            + "'strides' is now the built-in preset again: \(packageRoot)/Presets/strides.yaml\n")
        #expect(files(in: home.presets).isEmpty)

        let builtIn = try stridecue(["preset", "rm", "strides"], environment: home.environment)
        #expect(builtIn.status == 64)
        #expect(builtIn.stderr == "stridecue: 'strides' is a built-in preset; only your own presets can be removed\n")
        #expect(FileManager.default.fileExists(atPath: packageRoot + "/Presets/strides.yaml"))

        let none = try stridecue(["preset", "rm", "no-such-drill"], environment: home.environment)
        #expect(none.status == 66)
        #expect(none.stderr == "stridecue: you have no preset named 'no-such-drill'\n")
    }

    @Test(arguments: ["new", "set", "rm"])
    func namesThatLeaveThePresetsFolderAreRefused(command: String) throws {
        let home = try ConfigHome()
        let outside = home.path + "/outside.yaml"
        for name in ["../x", "../../outside", outside, "/etc/passwd", "sub/dir", "..", ".hidden", "Bad Name", "UPPER", "x.yaml", "a--b", "x-"] {
            let arguments = ["preset", command, name] + (command == "set" ? ["cadence=180"] : [])
            let run = try stridecue(arguments, environment: home.environment)
            #expect(run.status == 64, "\(command) \(name): \(run.stderr)")
            #expect(run.stderr.hasPrefix("stridecue: "), "\(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: home.presets))
        #expect(!FileManager.default.fileExists(atPath: outside))
        #expect(FileManager.default.fileExists(atPath: "/etc/passwd"))
        let path = try stridecue(["preset", command, "../x"] + (command == "set" ? ["cadence=180"] : []), environment: home.environment)
        #expect(path.stderr == "stridecue: preset \(command) takes a preset name, not a path: '../x' would leave the presets folder; use a name like hill-sprints\n")
    }

    @Test func checkReportsEveryProblemAndTheWorstStatus() throws {
        let home = try ConfigHome()
        try home.add("good", "cadence: 180\n")
        try home.add("bad", "cadence: 180\nsets: 0\n")
        let run = try stridecue(["preset", "check", "good", "bad", home.path + "/missing.yaml", "strides"], environment: home.environment)
        #expect(run.status == 66)
        #expect(run.stdout.split(separator: "\n").map { $0.prefix(4) } == ["ok  ", "ok  "])
        #expect(run.stderr == "stridecue: \(home.presets)/bad.yaml:2:7: sets must be a whole number from 1 to 99, got 0\n"
            + "stridecue: \(home.path)/missing.yaml: no such preset file\n")
    }
}

/// Every piece of text in an XML document (text nodes, `<title>`s included), or an error if it
/// is not well-formed.
func xmlTexts(_ data: Data) throws -> [String] {
    final class Collector: NSObject, XMLParserDelegate {
        var texts: [String] = []
        var current = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            current = ""
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            let text = current.trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { texts.append(text) }
            current = ""
        }
    }
    let parser = XMLParser(data: data)
    let collector = Collector()
    parser.delegate = collector
    guard parser.parse() else {
        throw XMLProblem(description: "not well-formed XML at line \(parser.lineNumber): \(String(describing: parser.parserError))")
    }
    return collector.texts
}

struct XMLProblem: Error, CustomStringConvertible {
    var description: String
}
