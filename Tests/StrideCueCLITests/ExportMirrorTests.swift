import Foundation
import Testing
import StrideCueFiles

// An export folder as a mirror of the chosen presets, end to end: stable names, one playlist
// listing every track once, changed presets replaced, presets that are gone removed — never a
// file StrideCue did not write — and `--dry-run`. The presets are the user's own, edited with
// `preset new` and `preset set` between exports; the shipped library is left out by a data
// folder with no presets, so `--all` means the user's presets alone.

/// The files a playlist lists, in order.
private func playlist(_ folder: String) throws -> [String] {
    try String(contentsOfFile: folder + "/Drills.m3u8", encoding: .utf8)
        .split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
}

/// The tracks in a folder: everything but the playlist and the hidden manifest.
private func tracks(_ folder: String) -> [String] {
    files(in: folder).filter { !$0.hasPrefix(".") && $0 != "Drills.m3u8" }
}

@Suite("export keeps a folder a mirror of the presets", .serialized)
struct ExportMirrorTests {
    @Test func exportAllFollowsPresetNewSetAndRemove() throws {
        let library = try UserLibrary(), out = library.out
        try library.add("bum-kicks", cadence: 190, seconds: 3, accent: 2)
        try library.add("strides", seconds: 3, accent: 2)
        try library.succeed(["export", "--all", "--to", out, "--format", "wav"])
        #expect(try playlist(out) == ["bum-kicks-190spm.wav", "strides-180spm.wav"])
        #expect(tracks(out) == ["bum-kicks-190spm.wav", "strides-180spm.wav"])
        let strides = contents(out + "/strides-180spm.wav")

        // A new preset sorting first renames nothing; the tracks after it are written again,
        // because their track numbers (playlist order) moved. Exported again: all up to date.
        try library.succeed(["preset", "new", "aaa-warmup", "--from", "strides"])
        let added = try library.succeed(["export", "--all", "--to", out, "--format", "wav"])
        #expect(added.stdout.contains("aaa-warmup-180spm.wav: written"), "\(added.stdout)")
        #expect(added.stdout.contains("bum-kicks-190spm.wav: written"))
        #expect(added.stdout.contains("strides-180spm.wav: written"))
        #expect(contents(out + "/strides-180spm.wav") != strides)
        #expect(try playlist(out) == ["aaa-warmup-180spm.wav", "bum-kicks-190spm.wav", "strides-180spm.wav"])
        #expect(tracks(out) == ["aaa-warmup-180spm.wav", "bum-kicks-190spm.wav", "strides-180spm.wav"])
        let same = try library.succeed(["export", "--all", "--to", out, "--format", "wav"])
        #expect(!same.stdout.contains("written"), "\(same.stdout)")

        // A changed cadence: the new file replaces the old one, which is gone.
        try library.succeed(["preset", "set", "bum-kicks", "cadence=185"])
        let changed = try library.succeed(["export", "--all", "--to", out, "--format", "wav"])
        #expect(changed.stdout.contains("bum-kicks-190spm.wav: removed, replaced by bum-kicks-185spm.wav"), "\(changed.stdout)")
        #expect(tracks(out) == ["aaa-warmup-180spm.wav", "bum-kicks-185spm.wav", "strides-180spm.wav"])
        #expect(try playlist(out) == ["aaa-warmup-180spm.wav", "bum-kicks-185spm.wav", "strides-180spm.wav"])
        #expect(try readBack(out + "/bum-kicks-185spm.wav").frameCount == 3 * 48_000)

        // A removed preset: its track goes; a file StrideCue never wrote stays, unlisted.
        try Data("mine".utf8).write(to: URL(fileURLWithPath: out + "/my-song.wav"))
        try library.succeed(["preset", "rm", "aaa-warmup"])
        let removed = try library.succeed(["export", "--all", "--to", out, "--format", "wav"])
        #expect(removed.stdout.contains("aaa-warmup-180spm.wav: removed, no longer exported"), "\(removed.stdout)")
        #expect(tracks(out) == ["bum-kicks-185spm.wav", "my-song.wav", "strides-180spm.wav"])
        #expect(try playlist(out) == ["bum-kicks-185spm.wav", "strides-180spm.wav"])
        #expect(contents(out + "/my-song.wav") == Data("mine".utf8))
    }

    @Test func exportingOnePresetKeepsTheRestOfThePlaylist() throws {
        let library = try UserLibrary(), out = library.out
        for name in ["a-skips", "bum-kicks", "strides"] { try library.add(name, seconds: 3, accent: 2) }
        try library.succeed(["export", "--all", "--to", out, "--format", "wav"])
        let before = try String(contentsOfFile: out + "/Drills.m3u8", encoding: .utf8)

        try library.succeed(["preset", "set", "bum-kicks", "cadence=175"])
        let one = try library.succeed(["export", "bum-kicks", "--to", out, "--format", "wav"])
        #expect(one.stdout.hasPrefix("bum-kicks-175spm.wav: written"), "\(one.stdout)")
        #expect(one.stdout.hasSuffix("\nbum-kicks-180spm.wav: removed, replaced by bum-kicks-175spm.wav\n"), "\(one.stdout)")
        // Every track once, in the same order, the changed one in its place.
        #expect(try playlist(out) == ["a-skips-180spm.wav", "bum-kicks-175spm.wav", "strides-180spm.wav"])
        #expect(tracks(out) == ["a-skips-180spm.wav", "bum-kicks-175spm.wav", "strides-180spm.wav"])
        let after = try String(contentsOfFile: out + "/Drills.m3u8", encoding: .utf8)
        #expect(after == before.replacingOccurrences(of: "bum-kicks — 180 spm\nbum-kicks-180spm.wav",
                                                     with: "bum-kicks — 175 spm\nbum-kicks-175spm.wav"))
        // Exported again by name: nothing to do.
        let again = try library.succeed(["export", "bum-kicks", "--to", out, "--format", "wav"])
        #expect(again.stdout == "bum-kicks-175spm.wav: up to date\n")
    }

    @Test func aDryRunListsTheChangesAndMakesNone() throws {
        let library = try UserLibrary(), out = library.out
        try library.add("bum-kicks", seconds: 3, accent: 2)
        try library.add("strides", seconds: 3, accent: 2)
        let fresh = try library.succeed(["export", "--all", "--to", out, "--format", "wav", "--dry-run"])
        #expect(fresh.stdout == "write bum-kicks-180spm.wav (new)\nwrite strides-180spm.wav (new)\nwrite Drills.m3u8\n")
        #expect(!FileManager.default.fileExists(atPath: out), "a dry run makes no folder")

        try library.succeed(["export", "--all", "--to", out, "--format", "wav"])
        let before = snapshot(out)
        try library.succeed(["preset", "set", "bum-kicks", "cadence=185"])
        try library.succeed(["preset", "rm", "strides"])
        let dry = try library.succeed(["export", "--all", "--to", out, "--format", "wav", "--dry-run"])
        #expect(dry.stdout == """
            write bum-kicks-185spm.wav (changed)
            remove bum-kicks-180spm.wav (replaced by bum-kicks-185spm.wav)
            remove strides-180spm.wav (no longer exported)
            write Drills.m3u8

            """, "\(dry.stdout)")
        #expect(snapshot(out) == before, "a dry run changes nothing")

        let none = try library.succeed(["export", "--all", "--to", out, "--format", "wav"])
        #expect(none.status == 0)
        #expect(try library.succeed(["export", "--all", "--to", out, "--format", "wav", "--dry-run"]).stdout == "\(out): nothing to change\n")
    }

    /// A folder an older StrideCue filled (numbered names, the old manifest): its files are
    /// StrideCue's own, replaced by the new names and removed.
    @Test func aFolderWithNumberedNamesMovesToStableNames() throws {
        let library = try UserLibrary(), out = library.out
        try library.add("bum-kicks", seconds: 3, accent: 2)
        try library.add("strides", seconds: 3, accent: 2)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var manifest = ""
        for old in ["01-bum-kicks-180spm.wav", "02-strides-180spm.wav"] {
            try Data("old".utf8).write(to: URL(fileURLWithPath: out + "/" + old))
            manifest += "0123456789abcdef \(fileStamp(out + "/" + old)) \(old)\n"
        }
        try manifest.write(toFile: out + "/.stridecue-export", atomically: true, encoding: .utf8)
        let run = try library.succeed(["export", "--all", "--to", out, "--format", "wav"])
        #expect(run.stdout.contains("01-bum-kicks-180spm.wav: removed, replaced by bum-kicks-180spm.wav"), "\(run.stdout)")
        #expect(tracks(out) == ["bum-kicks-180spm.wav", "strides-180spm.wav"])
        #expect(try playlist(out) == ["bum-kicks-180spm.wav", "strides-180spm.wav"])
    }

    @Test func aWAVPastTheLimitIsExportedAsRF64WithANote() throws {
        let library = try UserLibrary(), out = library.out
        try library.add("strides", seconds: 3, accent: 2)
        let run = try stridecue(["export", "--all", "--to", out, "--format", "wav"],
                                environment: library.environment.merging(["STRIDECUE_WAV_LIMIT_BYTES": "100000"]) { $1 })
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr == "stridecue: note: strides-180spm.wav passes 4 GiB, so it is written as RF64, "
                + "the WAV whose header can say how long it is\n")
        #expect(String(decoding: contents(out + "/strides-180spm.wav")!.prefix(4), as: UTF8.self) == "RF64")
        #expect(try readBack(out + "/strides-180spm.wav").frameCount == 3 * 48_000)
    }

    /// A file StrideCue wrote but someone changed since is not StrideCue's to remove.
    @Test func aTrackChangedByHandIsLeftAlone() throws {
        let library = try UserLibrary(), out = library.out
        try library.add("strides", seconds: 3, accent: 2)
        try library.succeed(["export", "--all", "--to", out, "--format", "wav"])
        try Data("edited by hand".utf8).write(to: URL(fileURLWithPath: out + "/strides-180spm.wav"))
        try library.succeed(["preset", "set", "strides", "cadence=170"])
        let run = try library.succeed(["export", "--all", "--to", out, "--format", "wav"])
        #expect(run.stderr.contains("strides-180spm.wav: changed since StrideCue wrote it; left alone"), "\(run.stderr)")
        #expect(contents(out + "/strides-180spm.wav") == Data("edited by hand".utf8))
        #expect(try playlist(out) == ["strides-170spm.wav"])
    }
}
