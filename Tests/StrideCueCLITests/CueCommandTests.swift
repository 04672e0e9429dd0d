import Foundation
import StrideCueTestSupport
import Testing
import StrideCueCore
import StrideCueSoundFile
import StrideCuePresets

/// Writes `source` as `name` in `dir` and returns its path.
private func writePreset(_ source: String, in dir: String, name: String = "drill.yaml") throws -> String {
    let path = "\(dir)/\(name)"
    try source.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// The rows of a cue sheet, split into fields (no field in these tests holds a comma).
private func rows(_ sheet: String) -> [[String]] {
    sheet.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
}

/// The first frame at or after `from` whose magnitude exceeds `threshold`.
private func firstAbove(_ x: [Float], _ threshold: Float, from: Int = 0) -> Int? {
    (from..<x.count).first { abs(x[$0]) > threshold }
}

/// A short drill: two spoken count-in words, then cues of every style on a set of 16 steps.
/// At 180 spm step k (from 1) starts at (k + 1) / 3 s.
private let drill = """
    name: Cue drill
    cadence: 180
    count-in: {steps: 2, say: true}
    set: {steps: 16}
    cues:
      - say: pull through
        every: 8
      - say: pop forwards
        at: step 5
        style: tone
      - {say: go, at: step 13, style: both, steps: 2}
    """

@Suite("stridecue render with cues, end to end", .serialized)
struct CueCommandTests {
    /// flite's voices cost every start that loads them (their pointers are relocated), so
    /// they are opened only to speak: the loader's own log (LD_DEBUG=files) names every
    /// library a run loads, including those opened with dlopen.
    @Test func fliteIsLoadedOnlyToSpeak() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let plain = try stridecue(["render", "--duration", "2s", "-o", dir + "/plain.wav"], environment: ["LD_DEBUG": "files"])
        #expect(plain.status == 0)
        #expect(plain.stderr.contains("libsndfile"), "the loader's log is there")
        #expect(!plain.stderr.contains("libflite"), "a click track loaded flite")
        #expect(!plain.stderr.contains("libavformat") && !plain.stderr.contains("libavcodec"), "a click track loaded FFmpeg")
        let spoken = try stridecue(["say", "pull through", "-o", dir + "/say.wav"], environment: ["LD_DEBUG": "files"])
        #expect(spoken.status == 0)
        #expect(spoken.stderr.contains("libflite.so.1"))
        #expect(spoken.stderr.contains("libflite_cmu_us_slt.so.1"))
        #expect(!spoken.stderr.contains("libflite_cmu_us_awb"), "only the voice used is loaded")
    }

    @Test func aCueTooLongForItsStepsExits65WithTheStepsItNeeds() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = try writePreset("""
            cadence: 180
            set: {steps: 16}
            cues:
              - say: relax the shoulders
                every: 8
            """, in: dir)
        let run = try stridecue(["render", preset, "-o", dir + "/x.wav", "--cue-sheet", dir + "/x.csv"])
        #expect(run.status == 65)
        #expect(run.stderr == "stridecue: \(preset):4:10: 'relax the shoulders' needs 3 steps at 180 spm; give it 'steps: 3' or a shorter text\n")
        #expect(files(in: dir) == ["drill.yaml"])
        // Given the steps it asked for, it renders.
        let fixed = try writePreset("cadence: 180\nset: {steps: 16}\ncues:\n  - {say: relax the shoulders, every: 8, steps: 3}\n", in: dir)
        let ok = try stridecue(["render", fixed, "-o", dir + "/x.wav", "--rate", "8000", "--channels", "1"])
        #expect(ok.status == 0, "\(ok.stderr)")
        // A faster --spm re-checks the fit at the new cadence.
        let faster = try stridecue(["render", fixed, "--spm", "300", "-o", dir + "/y.wav"])
        #expect(faster.status == 65)
        #expect(faster.stderr.hasPrefix("stridecue: \(fixed):4:11: 'relax the shoulders' needs "), "\(faster.stderr)")
    }

    @Test func theCueSheetHasARowPerCueAtItsStep() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = try writePreset(drill, in: dir)
        let run = try stridecue(["render", preset, "-o", dir + "/x.wav", "--rate", "8000", "--channels", "1",
                                 "--cue-sheet", dir + "/cues.csv"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(files(in: dir) == ["cues.csv", "drill.yaml", "x.wav"])   // no temporary left
        let sheet = try String(contentsOfFile: dir + "/cues.csv", encoding: .utf8)
        #expect(sheet.hasPrefix("start,end,step,text,style\n"))
        let table = rows(sheet)
        #expect(table.map { $0[0] } == ["0.000", "0.333", "0.667", "2.000", "3.333", "4.667"])
        #expect(table.map { $0[2] } == ["-2", "-1", "1", "5", "9", "13"])
        #expect(table.map { $0[3] } == ["one", "go", "pull through", "pop forwards", "pull through", "go"])
        #expect(table.map { $0[4] } == ["voice", "voice", "voice", "tone", "voice", "both"])
        for row in table {
            let start = Double(row[0])!, end = Double(row[1])!
            #expect(row[0].split(separator: ".")[1].count == 3 && row[1].split(separator: ".")[1].count == 3)
            #expect(end > start + 0.1, "\(row)")
            // Each cue within its steps: the count-in words one step, the others two; the
            // `both` cue is its tone on step 13, then its words on step 14.
            let limit = row[4] == "both" ? 2.0 / 3 : (row[2].hasPrefix("-") ? 1.0 / 3 : 2.0 / 3)
            #expect(end - start <= limit + 0.001, "\(row)")
        }
        #expect(Double(table[5][1])! > 5.0)   // the words of `both` start on step 14, at 5 s
        // The same sheet on standard output.
        let out = try stridecue(["render", preset, "-o", dir + "/y.wav", "--rate", "8000", "--channels", "1", "--cue-sheet", "-"])
        #expect(out.status == 0)
        #expect(out.stdout == sheet)
    }

    @Test func stemsAreAlignedWithTheMixAndSumToIt() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = try writePreset(drill, in: dir)
        var layers: [String: [Float]] = [:]
        for stem in ["mix", "voice", "clicks"] {
            let out = "\(dir)/\(stem).wav"
            let run = try stridecue(["render", preset, "-o", out, "--channels", "1"] + (stem == "mix" ? [] : ["--stem", stem]))
            #expect(run.status == 0, "\(run.stderr)")
            layers[stem] = try readBack(out).samples
            try FileManager.default.removeItem(atPath: out)
        }
        let mix = layers["mix"]!, voice = layers["voice"]!, clicks = layers["clicks"]!
        #expect(mix.count == 18 * 16_000 && voice.count == mix.count && clicks.count == mix.count)
        // Each file is rounded to 16 bits on its own: within one step of rounding each.
        let lsb: Float = 1 / 32_768
        var worst: Float = 0
        for i in mix.indices { worst = max(worst, abs(mix[i] - voice[i] - clicks[i])) }
        #expect(worst <= 1.5 * lsb)
        #expect(voice.map(abs).max()! > 0.5 && clicks.map(abs).max()! > 0.5)
        // The clicks stem has every click of the plan where the timeline puts it.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: preset)))
        var timeline = Timeline(plan: try decodePreset(bytes, file: preset).plan, sampleRate: 48_000)
        var expected: [Int] = []
        while let e = timeline.peek() { expected.append(Int(e.frame)); timeline.advance() }
        #expect(clickOnsets(clicks, gap: 100) == expected)
    }

    @Test func aStressedCueLandsItsStressOnTheStep() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = try writePreset("cadence: 180\nset: {steps: 8}\ncues:\n  - {say: pull through, at: step 4, align: stress}\n", in: dir)
        let run = try stridecue(["render", preset, "-o", dir + "/v.wav", "--channels", "1", "--bits", "32f",
                                 "--stem", "voice", "--cue-sheet", "-"])
        #expect(run.status == 0, "\(run.stderr)")
        // The cue as the preset fits it: two steps at 180 spm.
        let say = try stridecue(["say", "pull through", "--spm", "180", "--steps", "2", "-o", dir + "/say.wav"])
        // "…; stress on 'through' at 211 ms"
        let stressMs = Double(say.stdout.components(separatedBy: " at ").last!.split(separator: " ")[0])!
        let start = Double(rows(run.stdout)[0][0])!
        #expect(abs(start - (1.0 - stressMs / 1_000)) <= 0.0015, "cue at \(start) s, stress \(stressMs) ms before step 4 at 1 s")
        let voice = try readBack(dir + "/v.wav").samples
        let onset = firstAbove(voice, 0)!
        #expect(abs(onset - Int((start * 48_000).rounded())) <= 25)
        #expect(onset < 48_000)
    }

    @Test func theSpokenCountInSaysItsWordsOnItsClicks() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = try writePreset("cadence: 150\ncount-in: {steps: 4, say: true}\nset: {steps: 4}\n", in: dir)
        let run = try stridecue(["render", preset, "-o", dir + "/v.wav", "--channels", "1", "--bits", "32f",
                                 "--stem", "voice", "--cue-sheet", "-"])
        #expect(run.status == 0, "\(run.stderr)")
        let table = rows(run.stdout)
        #expect(table.map { $0[3] } == ["three", "two", "one", "go"])
        #expect(table.map { $0[0] } == ["0.000", "0.400", "0.800", "1.200"])
        #expect(table.map { $0[2] } == ["-4", "-3", "-2", "-1"])
        // Each word starts on its count-in click: its first sample is the fade's 0, then sound.
        let voice = try readBack(dir + "/v.wav").samples
        var from = 0
        for click in [0, 19_200, 38_400, 57_600] {
            let onset = firstAbove(voice, 0, from: from)!
            #expect(onset >= click && onset <= click + 2, "word at \(onset), click at \(click)")
            from = click + 19_000
        }
    }

    @Test func aRecordingIsTrimmedResampledAndNormalized() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        // 22.05 kHz: 0.3 s of silence, 0.25 s of a 440 Hz tone at a third of full scale, 0.2 s of silence.
        let rate = 22_050
        var samples = [Float](repeating: 0, count: Int(0.3 * Double(rate)))
        samples += (0..<Int(0.25 * Double(rate))).map { Float(0.33 * sin(2 * Double.pi * 440 * Double($0) / Double(rate))) }
        samples += [Float](repeating: 0, count: Int(0.2 * Double(rate)))
        var writer = try SoundFileWriter(path: dir + "/coach.wav", format: RenderFormat(sampleRate: rate, channels: 1), encoding: .pcm16)
        try samples.withUnsafeBufferPointer { buffer throws(SoundFileError) in try writer.write(buffer) }
        try writer.commit()

        let preset = try writePreset("cadence: 120\nset: {steps: 8}\ncues:\n  - {sound: coach.wav, at: step 3}\n", in: dir)
        let run = try stridecue(["render", preset, "-o", dir + "/v.wav", "--channels", "1", "--bits", "32f",
                                 "--stem", "voice", "--cue-sheet", "-"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(rows(run.stdout).map { [$0[0], $0[2], $0[3], $0[4]] } == [["1.000", "3", "coach.wav", "recording"]])
        let voice = try readBack(dir + "/v.wav").samples
        // Step 3 at 1 s: 2 ms (96 frames) kept before the tone, then the tone, faded in.
        #expect(voice[0..<48_000].allSatisfy { $0 == 0 })
        #expect(firstAbove(voice, 0) ?? 0 >= 48_000)
        let first = firstAbove(voice, 0.01)!
        #expect(first >= 48_000 + 94 && first <= 48_000 + 100, "first sound at \(first)")
        #expect(voice[48_000..<48_090].allSatisfy { abs($0) < 0.002 })
        // 0.25 s of tone at 48 kHz: 12 000 frames; the silence after it is trimmed too.
        let last = voice.lastIndex { abs($0) > 0.01 }!
        #expect(abs(last - first - 12_000) < 40, "tone of \(last - first) frames")
        #expect(voice.lastIndex { $0 != 0 }! < first + 12_000 + 1_100)
        #expect(abs(voice.map(abs).max()! - CueBalance.voicePeak) < 0.005)
        // The pitch is kept: 440 Hz, two zero crossings a period.
        let body = Array(voice[(first + 1_000)..<(first + 11_000)])
        let crossings = (1..<body.count).filter { (body[$0 - 1] < 0) != (body[$0] < 0) }.count
        let hz = Double(crossings) / 2 / (10_000 / 48_000.0)
        #expect(abs(hz - 440) < 5, "\(hz) Hz")

        // Longer than its step at a faster cadence: said so, at the cue.
        let short = try writePreset("cadence: 300\nset: {steps: 8}\ncues:\n  - {sound: coach.wav, at: step 3, steps: 1}\n", in: dir, name: "short.yaml")
        let tooLong = try stridecue(["render", short, "-o", dir + "/x.wav"])
        #expect(tooLong.status == 65)
        #expect(tooLong.stderr == "stridecue: \(short):4:13: 'coach.wav' lasts 0.27 s, longer than its 1 step at 300 spm; give it 'steps: 2' or trim the recording\n")
    }

    @Test func aMissingRecordingExits66AndAnUnreadableOne65() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let missing = try writePreset("cadence: 180\nset: {steps: 8}\ncues:\n  - {sound: nothing.wav, at: step 3}\n", in: dir)
        let run = try stridecue(["render", missing, "-o", dir + "/x.wav"])
        #expect(run.status == 66)
        #expect(run.stderr == "stridecue: \(missing):4:13: \(dir)/nothing.wav: No such file or directory\n")
        try "not a sound".write(toFile: dir + "/bad.wav", atomically: true, encoding: .utf8)
        let bad = try writePreset("cadence: 180\nset: {steps: 8}\ncues:\n  - {sound: bad.wav, at: step 3}\n", in: dir, name: "bad.yaml")
        let unreadable = try stridecue(["render", bad, "-o", dir + "/x.wav"])
        #expect(unreadable.status == 65)
        #expect(unreadable.stderr.hasPrefix("stridecue: \(bad):4:13: \(dir)/bad.wav: not a sound file"), "\(unreadable.stderr)")
        #expect(!files(in: dir).contains("x.wav"))
    }

    @Test func cuesThatTalkOverEachOtherAreRefused() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = try writePreset("cadence: 180\nset: {steps: 8}\ncues:\n  - {say: pull through, at: step 2}\n  - {say: pop forwards, at: step 2}\n", in: dir)
        let run = try stridecue(["render", preset, "-o", dir + "/x.wav"])
        #expect(run.status == 65)
        #expect(run.stderr.hasPrefix("stridecue: \(preset):5:11: 'pop forwards' on step 2 of set 1 starts "), "\(run.stderr)")
        #expect(run.stderr.hasSuffix(" s before 'pull through' on step 2 of set 1 has finished; move one of them or give it fewer steps\n"))
    }

    @Test func identicalCuesAreSynthesizedOnce() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        func counts(_ source: String) throws -> (syntheses: Int, hits: Int) {
            let preset = try writePreset(source, in: dir)
            let run = try stridecue(["render", preset, "-o", dir + "/x.wav", "--rate", "8000", "--channels", "1"],
                                    environment: ["STRIDECUE_TIMING": "1"])
            #expect(run.status == 0, "\(run.stderr)")
            // "stridecue: timing: cues 52 ms (2 syntheses, 3 cache hits), ..."
            let words = run.stderr.split(separator: " ")
            let s = words.firstIndex(of: "syntheses,")!, h = words.firstIndex(of: "cache")!
            return (Int(words[s - 1].dropFirst())!, Int(words[h - 1])!)
        }
        let one = try counts("cadence: 180\nset: {steps: 32}\ncues:\n  - {say: pull through, every: 8}\n")
        #expect(one.hits == 0)
        let four = try counts("""
            cadence: 180
            set: {steps: 32}
            cues:
              - {say: pull through, every: 8}
              - {say: pull through, every: 8, offset: 3}
              - {say: pull through, at: step 7, style: tone}
              - {say: pull through, at: step 29, style: both, steps: 4}
            """)
        #expect(four.syntheses == one.syntheses)
        #expect(four.hits >= 4)
    }

    @Test func everyShippedPresetMixesWithoutClipping() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let presets = try FileManager.default.contentsOfDirectory(atPath: packageRoot + "/Presets").filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(presets.contains("bum-kicks.yaml"))
        for name in presets {
            // The first minute holds each preset's caution, count-in and first cues; 8 kHz float keeps it small.
            let out = "\(dir)/mix.wav"
            let run = try stridecue(["render", String(name.dropLast(5)), "-o", out, "--duration", "60", "--rate", "8000",
                                     "--channels", "1", "--bits", "32f", "--cue-sheet", "-"])
            #expect(run.status == 0, "\(name): \(run.stderr)")
            guard run.status == 0 else { continue }
            let peak = try readBack(out).samples.map(abs).max()!
            #expect(peak <= 1.0, "\(name) peaks at \(peak)")
            #expect(rows(run.stdout).count >= 1, "\(name) says nothing in its first minute")
            try FileManager.default.removeItem(atPath: out)
        }
    }

    @Test func bumKicksSpeaksItsCuesWhereTheDrillPutsThem() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let out = dir + "/bum-kicks.wav"
        let run = try stridecue(["render", "bum-kicks", "-o", out, "--rate", "8000", "--channels", "1", "--cue-sheet", "-"])
        #expect(run.status == 0, "\(run.stderr)")
        let table = rows(run.stdout)
        #expect(table.first?[3] == "Not with a hamstring injury. Begin slowly and build up gently.")
        #expect(table.first?[0] == "0.000" && table.first?[2] == "")
        let perSet = ["three", "two", "one", "go"] + (0..<5).flatMap { _ in ["pull through", "pop forwards"] }
        #expect(table.dropFirst().map { $0[3] } == perSet + perSet)
        let steps = table.dropFirst().filter { !$0[2].hasPrefix("-") }.map { Int($0[2])! }
        let oneSet = [2, 5, 10, 13, 18, 21, 26, 29, 34, 37]
        #expect(steps == oneSet + oneSet)
        // The count-in starts after the caution's six seconds; the file is as long as the plan.
        #expect(table[1][0] == "6.000")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: packageRoot + "/Presets/bum-kicks.yaml")))
        let plan = try decodePreset(bytes, file: "bum-kicks.yaml").plan
        #expect(try readBack(out).frameCount == Int((Timeline.planDuration(of: plan) * 8_000).rounded()))
        // Under the speech the clicks go on: the clicks stem has every click of the plan where
        // the timeline puts it, count-in clicks under "three, two, one, go" included.
        let clicksOut = dir + "/clicks.wav"
        let clicks = try stridecue(["render", "bum-kicks", "-o", clicksOut, "--rate", "16000", "--channels", "1", "--stem", "clicks"])
        #expect(clicks.status == 0, "\(clicks.stderr)")
        var timeline = Timeline(plan: plan, sampleRate: 16_000)
        var expected: [Int] = []
        while let e = timeline.peek() { expected.append(Int(e.frame)); timeline.advance() }
        #expect(clickOnsets(try readBack(clicksOut).samples, gap: 100) == expected)
    }

}
