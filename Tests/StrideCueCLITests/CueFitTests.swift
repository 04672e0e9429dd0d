import Foundation
import Testing
import StrideCueTestSupport

// Cues that fit: a `both` cue's tone and words share its steps, a cue that cannot fit is an
// error at its line, and every track ends on a fade to zero whatever still sounds at its end.

@Suite("cues fit their steps; tracks end on a fade", .serialized)
struct CueFitTests {
    private func drill(_ cue: String, in dir: String) throws -> String {
        let path = dir + "/drill.yaml"
        try "cadence: 180\nset: {steps: 16}\ncues:\n  - \(cue)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// At 180 spm "pull through" takes two steps at the most as words and two as a tone.
    @Test(arguments: [1, 2, 3])
    func aBothCueTooShortForToneAndWordsIsAnErrorAtItsLine(steps: Int) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = try drill("{say: pull through, at: step 2, style: both, steps: \(steps)}", in: dir)
        let run = try stridecue(["render", preset, "-o", dir + "/x.wav"])
        #expect(run.status == 65)
        let message = steps == 1
            ? "'pull through' with style: both needs at least 2 steps, one for the tone and the rest for the words; give it 'steps: 2' or more"
            : "'pull through' with style: both needs 4 steps at 180 spm, 2 for the tone and 2 for the words; give it 'steps: 4' or a shorter text"
        #expect(run.stderr == "stridecue: \(preset):4:11: \(message)\n")
        #expect(files(in: dir) == ["drill.yaml"])
    }

    @Test(arguments: [4, 6])
    func aBothCueSoundsWithinItsSteps(steps: Int) throws {
        let folder = try TemporaryFolder(), dir = folder.path
        let preset = try drill("{say: pull through, at: step 2, style: both, steps: \(steps)}", in: dir)
        let run = try stridecue(["render", preset, "-o", dir + "/x.wav", "--rate", "8000", "--channels", "1", "--cue-sheet", "-"])
        #expect(run.status == 0, "\(run.stderr)")
        let row = run.stdout.split(separator: "\n")[1].split(separator: ",")
        let start = Double(row[0])!, end = Double(row[1])!
        #expect(start == 0.333)   // step 2 at 180 spm
        #expect(end - start <= Double(steps) / 3 + 0.001, "\(row)")
        // The words come after the tone, on a step: half the steps in.
        let voice = try readBack(dir + "/x.wav").samples
        let wordsStep = 2 + steps / 2
        let wordsFrame = Int((Double(wordsStep - 1) / 3 * 8_000).rounded())
        #expect(voice[wordsFrame ..< wordsFrame + 400].contains { abs($0) > 0.05 })
    }

    /// The plan ends in the middle of a long click: the last 5 ms fade to exactly zero.
    @Test func aTrackEndsOnAFadeToZeroWhateverSoundsThere() throws {
        let folder = try TemporaryFolder(), dir = folder.path
        // A one-second click, longer than a step at 180 spm: it is still sounding at the end.
        try writeWAV(dir + "/long-click.wav", (0..<48_000).map { i in (i / 12) % 2 == 0 ? 0.8 : -0.8 })
        for steps in [8, 9] {
            try "cadence: 180\nset: {steps: \(steps)}\nsound: long-click.wav\n"
                .write(toFile: dir + "/drill\(steps).yaml", atomically: true, encoding: .utf8)
            let run = try stridecue(["render", dir + "/drill\(steps).yaml", "-o", dir + "/x\(steps).wav", "--bits", "32f", "--channels", "1"])
            #expect(run.status == 0, "\(run.stderr)")
        }
        let x = try readBack(dir + "/x8.wav").samples
        // Eight steps of nine: the same track up to the ninth step, where the first ends.
        let unfaded = Array(try readBack(dir + "/x9.wav").samples.prefix(x.count))
        #expect(x.count == 8 * 16_000)
        #expect(x.last == 0)
        // The clicks (three overlap) are loud at the end: without the fade it would end on a jump...
        #expect(unfaded.suffix(20).contains { abs($0) > 0.3 })
        #expect(Array(x.dropLast(240)) == Array(unfaded.dropLast(240)))
        // ...which falls along a line to zero over the last 240 frames (5 ms).
        for k in 0..<240 {
            let i = x.count - 1 - k
            #expect(abs(x[i] - unfaded[i] * Float(k) / 240) < 1e-6, "frame -\(k + 1): \(x[i]), unfaded \(unfaded[i])")
        }
    }
}
