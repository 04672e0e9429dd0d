import Foundation
import Testing

// `preset cue add|set|mv|rm` and `preset set cues.N.…` on the binary: cues counted from 1 as a
// coach counts them (the numbers `preset show` prints), each change checked as render checks it,
// comments kept, and a refused change leaving the file's bytes alone.

private let drill = """
    # My drill: cues kept in the order I call them.
    name: My drill
    cadence: 180
    set: {duration: 2 min}
    rest: 60 s                    # walk back
    cues:
      # the first thing I say
      - say: quick feet
        every: 16
        offset: 3
      - say: knees up
        every: 16
        offset: 11

    """

@Suite("preset cue, end to end", .serialized)
struct PresetCueCommandTests {
    private func run(_ home: ConfigHome, _ arguments: [String]) throws -> RunResult {
        try stridecue(arguments, environment: home.environment)
    }

    private func text(_ home: ConfigHome, _ name: String) -> String {
        (try? String(contentsOfFile: "\(home.presets)/\(name).yaml", encoding: .utf8)) ?? ""
    }

    @Test func addMoveChangeAndRemoveCountFromOneAndKeepComments() throws {
        let home = try ConfigHome()
        try home.add("mine", drill)

        let added = try run(home, ["preset", "cue", "add", "mine", "say=tall", "every=16", "offset=7", "--at", "2"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("1  \"quick feet\"\n  2  \"tall\"\n  3  \"knees up\""), "\(added.stdout)")
        #expect(text(home, "mine").contains("""
              - say: quick feet
                every: 16
                offset: 3
              - say: tall
                every: 16
                offset: 7
              - say: knees up
            """))
        #expect(text(home, "mine").contains("# the first thing I say\n"))
        #expect(text(home, "mine").contains("rest: 60 s                    # walk back\n"))

        // `preset show` numbers them the same way.
        let shown = try run(home, ["preset", "show", "mine"])
        #expect(shown.stdout.range(of: #"(?m)^\s*2\s+"tall""#, options: .regularExpression) != nil, "\(shown.stdout)")

        let moved = try run(home, ["preset", "cue", "mv", "mine", "3", "--to", "1"])
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(moved.stdout.contains("1  \"knees up\"\n  2  \"quick feet\"\n  3  \"tall\""), "\(moved.stdout)")

        let changed = try run(home, ["preset", "cue", "set", "mine", "1", "say=drive the knee"])
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(changed.stdout.contains("cues.1.say  knees up → drive the knee"), "\(changed.stdout)")

        let removed = try run(home, ["preset", "cue", "rm", "mine", "2"])
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(removed.stdout.contains("1  \"drive the knee\"\n  2  \"tall\"\n"), "\(removed.stdout)")
        #expect(!text(home, "mine").contains("quick feet"))
        #expect(text(home, "mine").hasPrefix("# My drill: cues kept in the order I call them.\n"))
    }

    @Test func theFirstCueOfAPresetWithoutCuesIsCueOne() throws {
        let home = try ConfigHome()
        try home.add("plain", "name: Plain\ncadence: 180\nset: {duration: 1 min}   # a minute\n")
        let set = try run(home, ["preset", "set", "plain", "cues.1.say=knees up", "cues.1.every=8"])
        #expect(set.status == 0, "\(set.stderr)")
        #expect(text(home, "plain") == "name: Plain\ncadence: 180\nset: {duration: 1 min}   # a minute\ncues:\n  - say: knees up\n    every: 8\n")
        // One past the last adds a cue; further is refused naming the numbers there are.
        let second = try run(home, ["preset", "set", "plain", "cues.2.say=tall", "cues.2.every=8", "cues.2.offset=5"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(text(home, "plain").hasSuffix("  - say: tall\n    every: 8\n    offset: 5\n"))
        let before = text(home, "plain")
        let far = try run(home, ["preset", "set", "plain", "cues.5.say=x"])
        #expect(far.status == 64)
        #expect(far.stderr == "stridecue: cues.5.say=x: cues has 2 items, counted from 1; there is no item 5. Nothing was changed.\n")
        #expect(text(home, "plain") == before)
    }

    @Test func cueZeroIsRefusedWithTheNumberingInWords() throws {
        let home = try ConfigHome()
        try home.add("mine", drill)
        let run = try run(home, ["preset", "set", "mine", "cues.0.say=knees up"])
        #expect(run.status == 64)
        #expect(run.stderr == "stridecue: 'cues.0.say=knees up' is not KEY=VALUE: list items are counted from 1, as a coach counts: cues.1 is the first\n")
        #expect(text(home, "mine") == drill)
    }

    @Test func aCueThatWouldNotRenderIsRefusedAndNothingIsWritten() throws {
        let home = try ConfigHome()
        try home.add("mine", drill)
        // Same step as cue 1: the two would be spoken over each other.
        let clash = try run(home, ["preset", "cue", "add", "mine", "say=tall and proud", "every=16", "offset=3"])
        #expect(clash.status == 65, "\(clash.stderr)")
        #expect(clash.stderr.hasPrefix("stridecue: say=tall and proud every=16 offset=3: "), "\(clash.stderr)")
        #expect(clash.stderr.hasSuffix("Nothing was changed.\n"))
        let unknown = try run(home, ["preset", "cue", "add", "mine", "shout=x"])
        #expect(unknown.status == 65, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("shout"))
        let far = try run(home, ["preset", "cue", "mv", "mine", "3", "--to", "1"])
        #expect(far.status == 64)
        #expect(far.stderr == "stridecue: cue 3 --to 1: cues has 2 items; there is no item 3. Nothing was changed.\n")
        let gone = try run(home, ["preset", "cue", "rm", "mine", "0"])
        #expect(gone.status == 64)
        #expect(text(home, "mine") == drill)
    }

    @Test func aValueKeepsTheFilesStyleAndUnchangedValuesAreNotReported() throws {
        let home = try ConfigHome()
        try home.add("mine", drill)
        let run1 = try run(home, ["preset", "set", "mine", "rest=90s", "cadence=180"])
        #expect(run1.status == 0, "\(run1.stderr)")
        #expect(run1.stdout == "Changed mine:\n  rest  60 s → 90 s\nSaved \(home.presets)/mine.yaml\n")
        #expect(text(home, "mine").contains("rest: 90 s                    # walk back\n"))
        // The same values again, written another way: nothing to change, the file untouched.
        let before = try FileManager.default.attributesOfItem(atPath: "\(home.presets)/mine.yaml")[.modificationDate] as? Date
        let run2 = try run(home, ["preset", "set", "mine", "rest=90 sec", "cadence=180.0", "set.duration=120s"])
        #expect(run2.status == 0, "\(run2.stderr)")
        #expect(run2.stdout == "Nothing to change: \(home.presets)/mine.yaml already says so\n")
        let after = try FileManager.default.attributesOfItem(atPath: "\(home.presets)/mine.yaml")[.modificationDate] as? Date
        #expect(before == after)
        // Another unit keeps the blank before it.
        let run3 = try run(home, ["preset", "set", "mine", "set.duration=3min"])
        #expect(run3.stdout.contains("set.duration  2 min → 3 min"), "\(run3.stdout)")
    }
}
