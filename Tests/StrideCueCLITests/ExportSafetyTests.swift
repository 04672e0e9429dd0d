import Foundation
import Testing
import StrideCueFiles
import StrideCueTestSupport

// An export folder against its own users and against faults, on the binary: two exports at
// once, files of the user's with a track's name, SIGKILL at every step and at random moments,
// a full disk at every step (injected) and for real (a small tmpfs, as root). After each, the
// folder must agree with itself — the playlist lists only files that are there and that the
// manifest knows, every file the manifest has in place is the one StrideCue wrote, no file
// appeared that nothing lists, the user's files are untouched — and the next export must leave
// it exactly as a clean export would.

/// Three presets exported, then changed the ways that make an export replace, rename, add and
/// remove tracks.
private func prepareChanges(_ phone: UserLibrary) throws {
    try phone.add("aa", cadence: 180)
    try phone.add("bb", cadence: 190)
    try phone.add("cc", cadence: 170)
    let first = try phone.run(["export", "--all", "--to", phone.out, "--format", "wav"])
    #expect(first.status == 0, "\(first.stderr)")
    try phone.add("aa", cadence: 185)                // a new name; the old file goes
    try phone.add("bb", cadence: 190, seconds: 3)    // the same name, new contents
    try FileManager.default.removeItem(atPath: phone.home.presets + "/cc.yaml")   // its track goes
    try phone.add("dd", cadence: 175)                // a new track
}

/// What the manifest says: state, stamp and file of each line.
private func manifestEntries(_ folder: String) -> [(state: String, stamp: String, file: String)] {
    guard let text = try? String(contentsOfFile: folder + "/.stridecue-export", encoding: .utf8) else { return [] }
    return text.split(separator: "\n").dropFirst().map { line in
        let f = line.split(separator: " ", maxSplits: 7).map(String.init)
        return (f[0], f[2] + " " + f[3], f[6])
    }
}

private func playlistFiles(_ folder: String) -> [String]? {
    guard let text = try? String(contentsOfFile: folder + "/Drills.m3u8", encoding: .utf8) else { return nil }
    return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
}

/// The folder agrees with itself (see above); `userFiles` must be there, byte for byte.
private func checkAgreement(_ folder: String, userFiles: [String: Data], _ context: String) {
    let entries = manifestEntries(folder)
    let known = Set(entries.map(\.file))
    for file in playlistFiles(folder) ?? [] {
        #expect(FileManager.default.fileExists(atPath: folder + "/" + file), "\(context): the playlist lists \(file), which is not there")
        #expect(known.contains(file), "\(context): the playlist lists \(file), which the manifest does not")
    }
    for entry in entries where entry.state == "+" {
        #expect(fileStamp(folder + "/" + entry.file) == entry.stamp, "\(context): \(entry.file) is listed in place but is not the file written")
    }
    for file in files(in: folder) where !file.hasPrefix(".") && file != "Drills.m3u8" && userFiles[file] == nil {
        #expect(known.contains(file), "\(context): \(file) is in the folder but in no list")
    }
    for (file, bytes) in userFiles {
        #expect(contents(folder + "/" + file) == bytes, "\(context): the user's \(file) was changed")
    }
}

/// After a clean export: every list says the same, nothing hidden is left over.
private func checkClean(_ folder: String, tracks expected: [String], userFiles: [String: Data], _ context: String) {
    checkAgreement(folder, userFiles: userFiles, context)
    let entries = manifestEntries(folder)
    #expect(entries.allSatisfy { $0.state == "+" }, "\(context): \(entries)")
    #expect(entries.map(\.file) == expected, "\(context)")
    #expect(playlistFiles(folder) == expected, "\(context)")
    let onDisk = files(in: folder).filter { !$0.hasPrefix(".") && $0 != "Drills.m3u8" && userFiles[$0] == nil }
    #expect(onDisk == expected.sorted(), "\(context)")
    #expect(files(in: folder).filter { $0.hasPrefix(".") } == [".stridecue-export"], "\(context)")
}

private let afterChanges = ["aa-185spm.wav", "bb-190spm.wav", "dd-175spm.wav"]

/// Not serialized: each test has folders of its own, and the busy-folder test waits for the
/// first export's lock rather than for a time.
@Suite("an export folder against its users and its faults")
struct ExportSafetyTests {
    @Test func aFileOrLinkOfTheUsersWithATracksNameIsNeverReplaced() throws {
        let phone = try UserLibrary()
        try phone.add("aa")
        try phone.add("bb", cadence: 190)
        try FileManager.default.createDirectory(atPath: phone.out, withIntermediateDirectories: true)
        let mine = Data("my own recording".utf8)
        try mine.write(to: URL(fileURLWithPath: phone.out + "/aa-180spm.wav"))
        try mine.write(to: URL(fileURLWithPath: phone.data + "/elsewhere.wav"))
        try FileManager.default.createSymbolicLink(atPath: phone.out + "/bb-190spm.wav", withDestinationPath: phone.data + "/elsewhere.wav")
        let run = try phone.run(["export", "--all", "--to", phone.out, "--format", "wav"])
        #expect(run.status == 73)
        #expect(run.stderr == """
            stridecue: \(phone.out)/aa-180spm.wav: a file StrideCue did not write (or changed since) has this track's name; it is left alone. Rename or move it, or export into another folder
            stridecue: \(phone.out)/bb-190spm.wav: a file StrideCue did not write (or changed since) has this track's name; it is left alone. Rename or move it, or export into another folder

            """)
        #expect(contents(phone.out + "/aa-180spm.wav") == mine)
        #expect(contents(phone.data + "/elsewhere.wav") == mine)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: phone.out + "/bb-190spm.wav")) == phone.data + "/elsewhere.wav")
        #expect(!run.stdout.contains("written"))
    }

    @Test func aPlaylistOfTheUsersIsNeverReplaced() throws {
        let phone = try UserLibrary()
        try phone.add("aa")
        try FileManager.default.createDirectory(atPath: phone.out, withIntermediateDirectories: true)
        let mine = Data("#EXTM3U\nmy-song.mp3\n".utf8)
        try mine.write(to: URL(fileURLWithPath: phone.out + "/Drills.m3u8"))
        let run = try phone.run(["export", "--all", "--to", phone.out, "--format", "wav"])
        #expect(run.status == 73)
        #expect(run.stderr == "stridecue: \(phone.out)/Drills.m3u8: a playlist (or link) StrideCue did not write has this name; it is left alone. "
                + "Rename or move it so StrideCue can list its tracks, or export into another folder\n")
        #expect(files(in: phone.out) == ["Drills.m3u8"])
        #expect(contents(phone.out + "/Drills.m3u8") == mine)
    }

    @Test func aSecondExportIntoABusyFolderIsRefusedWithOneLine() throws {
        let phone = try UserLibrary()
        try phone.add("aa")
        try phone.add("bb", cadence: 190)
        // The first export stops (SIGSTOP) at its third checked file call, reading its preset,
        // with the folder locked: it stays busy however fast or loaded the machine is.
        let stopped = phone.environment.merging(["STRIDECUE_FAULT": "stop@3"]) { $1 }
        let first = try launch(["export", "aa", "--to", phone.out, "--format", "flac"], environment: stopped)
        // The second starts once the first holds the folder's lock (the kernel's list of locks says so).
        #expect(waitForLock(on: phone.out, heldBy: first.pid), "the first export never locked \(phone.out)")
        let second = try phone.run(["export", "bb", "--to", phone.out, "--format", "flac"])
        kill(first.pid, SIGCONT)
        let firstResult = first.wait()
        #expect(firstResult.status == 0, "\(firstResult.stderr)")
        #expect(second.status == 75)
        #expect(second.stderr == "stridecue: cannot change \(phone.out): another export into this folder is running; "
                + "try again when it has finished; nothing was changed\n")
        checkClean(phone.out, tracks: ["aa-180spm.flac"], userFiles: [:], "after the refused export")
    }

    @Test func twoExportsRacingBothLandInThePlaylist() throws {
        let phone = try UserLibrary()
        try phone.add("aa")
        try phone.add("bb", cadence: 190)
        try FileManager.default.createDirectory(atPath: phone.out, withIntermediateDirectories: true)
        for round in 0..<5 {
            // The second waits for the first, however long a loaded machine makes it take (the
            // 2 s a user's export waits is the busy-folder test's), and both land.
            let patient = phone.environment.merging(["STRIDECUE_EXPORT_PATIENCE": "120"]) { $1 }
            let a = try launch(["export", "aa", "--to", phone.out, "--format", "wav"], environment: patient)
            let b = try launch(["export", "bb", "--to", phone.out, "--format", "wav"], environment: patient)
            let (ra, rb) = (a.wait(), b.wait())
            #expect(ra.status == 0 && rb.status == 0, "round \(round): \(ra.stderr) \(rb.stderr)")
            checkAgreement(phone.out, userFiles: [:], "round \(round)")
            #expect(Set(playlistFiles(phone.out) ?? []) == ["aa-180spm.wav", "bb-190spm.wav"], "round \(round)")
            try phone.add("aa", cadence: 180, seconds: 2 + (round + 1) % 2)
            try phone.add("bb", cadence: 190, seconds: 2 + (round + 1) % 2)
        }
    }

    /// Every checked file call of an export, in turn, is the moment it is killed (SIGKILL).
    @Test func aKillAtEveryStepLeavesTheFolderAgreeing() throws {
        let phone = try UserLibrary()
        try prepareChanges(phone)
        let saved = phone.data + "/saved"
        try copyKeepingTimes(phone.out, saved)
        let log = try phone.run(["export", "--all", "--to", phone.out, "--format", "wav"], extra: ["STRIDECUE_FAULT": "log"])
        let steps = log.stderr.split(separator: "\n").filter { $0.hasPrefix("fault step") }.count
        #expect(steps >= 15, "\(log.stderr)")
        for step in 1...steps {
            try FileManager.default.removeItem(atPath: phone.out)
            try copyKeepingTimes(saved, phone.out)
            let killed = try phone.run(["export", "--all", "--to", phone.out, "--format", "wav"], extra: ["STRIDECUE_FAULT": "kill@\(step)"])
            #expect(killed.status == 9 || killed.status == 137 || killed.status != 0, "step \(step)")
            checkAgreement(phone.out, userFiles: [:], "killed at step \(step)")
            let next = try phone.run(["export", "--all", "--to", phone.out, "--format", "wav"])
            #expect(next.status == 0, "after step \(step): \(next.stderr)")
            checkClean(phone.out, tracks: afterChanges, userFiles: [:], "the export after a kill at step \(step)")
        }
    }

    /// A full disk at every checked file call in turn: the export fails with a non-zero status,
    /// what it says it wrote is there, and the folder agrees.
    @Test func aFullDiskAtEveryStepLeavesTheFolderAgreeing() throws {
        let phone = try UserLibrary()
        try prepareChanges(phone)
        let saved = phone.data + "/saved"
        try copyKeepingTimes(phone.out, saved)
        let log = try phone.run(["export", "--all", "--to", phone.out, "--format", "wav"], extra: ["STRIDECUE_FAULT": "log"])
        // The calls a full disk fails: the ones that write, name or remove.
        let writing = log.stderr.split(separator: "\n").filter { $0.hasPrefix("fault step") }.compactMap { line -> Int? in
            let f = line.split(separator: " ")
            return ["write", "fsync", "linkat", "rename", "unlink", "mkstemp"].contains(String(f[3])) ? Int(f[2].dropLast()) : nil
        }
        #expect(writing.count >= 20, "\(log.stderr)")
        for step in writing {
            try FileManager.default.removeItem(atPath: phone.out)
            try copyKeepingTimes(saved, phone.out)
            let full = try phone.run(["export", "--all", "--to", phone.out, "--format", "wav"], extra: ["STRIDECUE_FAULT": "enospc@\(step)"])
            #expect(full.status == 74 || full.status == 73, "step \(step): \(full.status) \(full.stderr)")
            #expect(full.stderr.contains("No space left on device"), "step \(step): \(full.stderr)")
            for line in full.stdout.split(separator: "\n") where line.hasSuffix(": written") || line.contains(": written,") {
                let file = String(line.prefix { $0 != ":" })
                #expect(FileManager.default.fileExists(atPath: phone.out + "/" + file), "step \(step): says \(file) was written")
                #expect(manifestEntries(phone.out).contains { $0.file == file }, "step \(step): \(file) written but not listed")
            }
            checkAgreement(phone.out, userFiles: [:], "disk full at step \(step)")
            let next = try phone.run(["export", "--all", "--to", phone.out, "--format", "wav"])
            #expect(next.status == 0, "after step \(step): \(next.stderr)")
            checkClean(phone.out, tracks: afterChanges, userFiles: [:], "the export after a full disk at step \(step)")
        }
    }

    /// SIGKILL at random moments of an export that renders for real (mp3, loudness passes).
    @Test func killsAtRandomMomentsLeaveTheFolderAgreeing() throws {
        let phone = try UserLibrary()
        // 8 s tracks: most of an export is rendering and encoding, where a kill lands most
        // often; the file steps at its end each get a kill of their own in the test above.
        try phone.add("aa", seconds: 8)
        try phone.add("bb", cadence: 190, seconds: 8)
        try FileManager.default.createDirectory(atPath: phone.out, withIntermediateDirectories: true)
        let mine = Data("the user's own".utf8)
        try mine.write(to: URL(fileURLWithPath: phone.out + "/my-song.mp3"))
        let started = Date()
        let clean = try phone.run(["export", "--all", "--to", phone.out])
        #expect(clean.status == 0, "\(clean.stderr)")
        let length = Date().timeIntervalSince(started)
        var generator = SystemRandomNumberGenerator()
        for round in 0..<32 {
            // Each round changes both presets, so the export replaces both tracks.
            try phone.add("aa", cadence: 180 + round % 2, seconds: 8)
            try phone.add("bb", cadence: 190, seconds: 8 + round % 2)
            let running = try launch(["export", "--all", "--to", phone.out], environment: phone.environment)
            usleep(UInt32(Double.random(in: 0...length, using: &generator) * 1_000_000))
            kill(running.pid, SIGKILL)
            _ = running.wait()
            checkAgreement(phone.out, userFiles: ["my-song.mp3": mine], "round \(round)")
        }
        let next = try phone.run(["export", "--all", "--to", phone.out])
        #expect(next.status == 0, "\(next.stderr)")
        checkClean(phone.out, tracks: ["aa-181spm.mp3", "bb-190spm.mp3"], userFiles: ["my-song.mp3": mine], "after the kills")
    }

    /// A real full disk (a 2 MiB tmpfs, as root): the track does not fit; nothing is half there.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func aRealFullDiskLeavesTheFolderAsItWas() throws {
        let phone = try UserLibrary()
        let mount = phone.data + "/small"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        #expect(try runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mount]).status == 0)
        defer { _ = try? runProgram("/bin/umount", [mount]) }
        try phone.add("aa")
        try phone.add("big", cadence: 190, seconds: 60)
        let first = try phone.run(["export", "aa", "--to", mount, "--format", "wav"])
        #expect(first.status == 0, "\(first.stderr)")
        let full = try phone.run(["export", "aa", "big", "--to", mount, "--format", "wav"])
        #expect(full.status == 74, "\(full.stderr)")
        #expect(full.stderr.contains("big-190spm.wav") && full.stderr.contains("No space left on device"), "\(full.stderr)")
        #expect(!full.stdout.contains("big-190spm.wav: written"))
        checkClean(mount, tracks: ["aa-180spm.wav"], userFiles: [:], "after the full disk")
    }
}

/// A copy of a folder whose files keep their modification times (the manifest's stamps).
private func copyKeepingTimes(_ from: String, _ to: String) throws {
    #expect(try runProgram("/bin/cp", ["-a", from, to]).status == 0)
}

@Suite("music and click-only versions side by side, numbered in playlist order", .serialized)
struct ExportVersionsTests {
    @Test(.enabled(if: ffmpegAvailable, "needs ffmpeg and ffprobe"))
    func musicAndClickOnlyTracksLiveSideBySideWithTrackNumbers() throws {
        let phone = try UserLibrary()
        try phone.add("aa")
        try phone.add("bb", cadence: 190)
        let music = phone.data + "/run.flac"
        let made = try runTool("ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                                          "sine=frequency=440:sample_rate=44100:duration=4", "-ac", "2", music])
        #expect(made.status == 0, "\(made.stderr)")
        let clicks = try phone.run(["export", "--all", "--to", phone.out, "--format", "flac"])
        #expect(clicks.status == 0, "\(clicks.stderr)")
        let withMusic = try phone.run(["export", "--all", "--to", phone.out, "--format", "flac", "--music", music])
        #expect(withMusic.status == 0, "\(withMusic.stderr)")
        // The click-only export again: up to date, and it leaves the music versions alone.
        let again = try phone.run(["export", "--all", "--to", phone.out, "--format", "flac"])
        #expect(again.stdout == "aa-180spm.flac: up to date\nbb-190spm.flac: up to date\n", "\(again.stdout)")
        let all = ["aa-180spm.flac", "bb-190spm.flac", "aa-180spm-music.flac", "bb-190spm-music.flac"]
        checkClean(phone.out, tracks: all, userFiles: [:], "both versions")
        for (index, file) in all.enumerated() {
            let tags = try probe(phone.out + "/" + file).tags
            // Each version is an album of its own, numbered from 1 in playlist order.
            #expect(tags["track"] == String(index % 2 + 1), "\(file): \(tags)")
            let isMusic = file.contains("-music")
            #expect(tags["album"] == (isMusic ? "Drills with music" : "Drills"), "\(file): \(tags)")
            #expect(tags["title"]?.hasSuffix(isMusic ? "spm with music" : "spm") == true, "\(file): \(tags)")
        }
    }
}

@Suite("M4A/AAC tracks through FFmpeg's libraries", .serialized)
struct ExportM4ATests {
    /// What an iPhone plays as its own: AAC in M4A, with the tags ffprobe reads and the same
    /// loudness target as every other format, its true peak under the ceiling.
    @Test(.enabled(if: ffmpegAvailable, "needs ffmpeg and ffprobe"))
    func anM4ATrackHasItsTagsAndItsLoudnessOnTarget() throws {
        let phone = try UserLibrary()
        try phone.home.add("knees", "name: Knees\ncadence: 180\nsets: 2\nset: {duration: 20 s}\nrest: 5 s\n"
                           + "cues:\n  - say: knees up\n    every: 16\n    offset: 3\n")
        let run = try phone.run(["export", "knees", "--to", phone.out, "--format", "m4a"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("knees-180spm.m4a: written, -16.0 LUFS"), "\(run.stdout)")
        let file = phone.out + "/knees-180spm.m4a"
        let codec = try runTool("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name,channels,sample_rate",
                                            "-of", "default=noprint_wrappers=1", file])
        #expect(codec.stdout == "codec_name=aac\nsample_rate=48000\nchannels=2\n", "\(codec.stdout)")
        let (duration, tags) = try probe(file)
        #expect(abs(duration - 45) < 0.05, "\(duration)")
        #expect(tags["title"] == "Knees — 180 spm")
        #expect(tags["artist"] == "StrideCue")
        #expect(tags["album"] == "Drills")
        #expect(tags["track"] == "1")
        #expect(tags["date"] == today())
        #expect(tags["comment"]?.hasPrefix("2 sets of 20 s") == true, "\(tags)")
        let loudness = try ffmpegLoudness(file)
        #expect(abs(loudness.integrated + 16) <= 0.5, "\(loudness.integrated) LUFS")
        #expect(loudness.truePeak <= -1, "\(loudness.truePeak) dBTP")
        checkClean(phone.out, tracks: ["knees-180spm.m4a"], userFiles: [:], "after an m4a export")
        // Exported again: up to date, nothing written.
        let again = try phone.run(["export", "knees", "--to", phone.out, "--format", "m4a"])
        #expect(again.stdout == "knees-180spm.m4a: up to date\n")
    }

    /// A full disk while the M4A is written leaves no file and says so.
    @Test(.enabled(if: getuid() == 0 && ffmpegAvailable, "mounting a tmpfs needs root"))
    func aFullDiskWhileWritingAnM4ALeavesNothing() throws {
        let phone = try UserLibrary()
        let mount = phone.data + "/small"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        #expect(try runProgram("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mount]).status == 0)
        defer { _ = try? runProgram("/bin/umount", [mount]) }
        try phone.add("big", cadence: 190, seconds: 120)
        let full = try phone.run(["export", "big", "--to", mount, "--format", "m4a"])
        #expect(full.status == 74, "\(full.stderr)")
        #expect(full.stderr.contains("big-190spm.m4a") && full.stderr.contains("No space left on device"), "\(full.stderr)")
        #expect(files(in: mount).isEmpty, "\(files(in: mount))")
    }
}

@Suite("a track written back to disk as it grows")
struct WriteBehindTests {
    /// The disk's error while a long track is written back (an injected ENOSPC on the first
    /// sync_file_range) fails the render with one line and exit 74, and leaves no file.
    @Test func anErrorWritingBackFailsTheRenderAndLeavesNothing() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let arguments = ["render", "--spm", "180", "--duration", "200s", "--channels", "1", "-o", dir + "/long.wav", "--quiet"]
        let log = try stridecue(arguments, environment: ["STRIDECUE_FAULT": "log"])
        #expect(log.status == 0, "\(log.stderr)")
        let steps = log.stderr.split(separator: "\n").filter { $0.contains(": sync_file_range ") }
        // 200 s of 48 kHz mono 16-bit is 19.2 MB: two 8 MiB chunks handed to the disk, the first waited for.
        #expect(steps.count == 3, "\(log.stderr)")
        let first = try #require(steps.first.flatMap { Int($0.split(separator: " ")[2].dropLast()) })
        let intact = try readBack(dir + "/long.wav")
        #expect(intact.frameCount == 200 * 48_000)
        try FileManager.default.removeItem(atPath: dir + "/long.wav")

        let failed = try stridecue(arguments, environment: ["STRIDECUE_FAULT": "enospc@\(first)"])
        #expect(failed.status == 74, "\(failed.stderr)")
        #expect(failed.stderr.hasPrefix("stridecue: ") && failed.stderr.contains("No space left on device"), "\(failed.stderr)")
        #expect(failed.stderr.split(separator: "\n").count == 1, "\(failed.stderr)")
        #expect(files(in: dir).isEmpty, "\(files(in: dir))")
    }
}

/// Waits (up to 20 s) until process `pid` holds a `flock` on `folder`, as /proc/locks lists it:
/// "1: FLOCK  ADVISORY  WRITE PID MAJOR:MINOR:INODE 0 EOF".
private func waitForLock(on folder: String, heldBy pid: Int32) -> Bool {
    for _ in 0..<2_000 {
        var status = stat()
        if stat(folder, &status) == 0, case let inode = status.st_ino,
           let locks = try? String(contentsOfFile: "/proc/locks", encoding: .utf8),
           locks.split(separator: "\n").contains(where: { line in
               let fields = line.split(separator: " ")
               return fields.count > 5 && fields[1] == "FLOCK" && fields[4] == "\(pid)" && fields[5].hasSuffix(":\(inode)")
           }) {
            return true
        }
        usleep(10_000)
    }
    return false
}
