import Foundation
import StrideCueTestSupport
import Testing
import StrideCueCore
import StrideCueMixdown
import StrideCueSession
import StrideCueLive

/// Live music after a tempo key, in process: the player driven block by block as the playback
/// thread drives it, with the music's stage and without, the same key at the same frame.
@Suite("Live music, in process")
struct LiveMusicTests {
    /// A session with a cue every 8 steps at 180 spm and no ramp (a tempo key moves every cue
    /// after it), 16 s long, music made ready for it, and a way to play it.
    struct Drill {
        private let scratch: TemporaryFolder
        var folder: String { scratch.path }
        let prepared: PreparedSession
        let music: LiveMusic

        init() throws {
            scratch = try TemporaryFolder()
            let folder = scratch.path
            let musicFile = folder + "/music.wav"
            try writeNoise(musicFile, seconds: 30)
            let presetFile = folder + "/drill.yaml"
            try """
                name: Live music test
                cadence: 180
                set: {steps: 60}
                cues:
                  - say: pull through
                    every: 8
                    offset: 2

                """.write(toFile: presetFile, atomically: false, encoding: .utf8)
            let data = DataFolder.locate()
            let resolved = try SessionRequest(preset: presetFile, duration: 16).resolve(in: PresetLocator(data: data))
            prepared = try preflight(resolved, data: data, format: RenderFormat(sampleRate: 48_000, channels: 2))
            music = try LiveMusic(prepared: prepared, music: MusicSettings(path: musicFile, level: -6, duck: 10),
                                  cancellation: Cancellation())
        }


        /// The player's output, driven in blocks as the playback thread drives it, with `command`
        /// pushed once the renderer has passed session frame `at`; and where the renderer says
        /// cues sound (asked after each block).
        /// (`command` is made for the player: a said sound belongs to the player's own store.)
        func play(withMusic: Bool, command: (LivePlayback) -> LiveCommand, at: Int64) -> (samples: [Float], cues: [Range<Int64>]) {
            let renderer = prepared.makeRenderer()
            let live = LivePlayback(renderer: renderer, plan: prepared.plan)
            if withMusic { live.playMusic(music) }
            var samples: [Float] = []
            var cues: [Range<Int64>] = []
            var block = [Float](repeating: 0, count: 256 * 2)
            var frames = 0
            var pushed = false
            while true {
                if !pushed && renderer.framesRendered >= at {
                    live.commands.push(command(live))
                    pushed = true
                }
                let n = block.withUnsafeMutableBufferPointer { live.render(into: $0) }
                if n == 0 { break }
                samples += block[0..<(n * 2)]
                frames += n
                if let until = renderer.cuesSoundingUntil() {
                    let from = Int64(frames)
                    if let last = cues.last, last.upperBound >= from { cues[cues.count - 1] = last.lowerBound..<max(until, last.upperBound) }
                    else { cues.append(from..<until) }
                }
            }
            return (samples, cues)
        }

        /// The music alone: the output with it, less the output without it.
        func musicPart(command: LiveCommand, at: Int64) throws -> (music: [Float], cues: [Range<Int64>]) {
            try musicPart(command: { _ in command }, at: at)
        }

        func musicPart(command: (LivePlayback) -> LiveCommand, at: Int64) throws -> (music: [Float], cues: [Range<Int64>]) {
            let plain = play(withMusic: false, command: command, at: at), mixed = play(withMusic: true, command: command, at: at)
            try #require(mixed.samples.count >= plain.samples.count)
            return ((0..<plain.samples.count).map { mixed.samples[$0] - plain.samples[$0] }, plain.cues)
        }
    }

    /// RMS of interleaved stereo `samples` over frames `range`.
    func rms(_ samples: [Float], _ range: Range<Int>) -> Double {
        var sum = 0.0
        for i in (2 * range.lowerBound)..<(2 * range.upperBound) { sum += Double(samples[i] * samples[i]) }
        return (sum / Double(2 * range.count)).squareRoot()
    }

    /// A tempo key moves the cues off the plan; the music must dip under them where they now
    /// fall, as the renderer schedules them, not where the plan had them.
    @Test func duckingFollowsTheCuesWhereATempoKeyMovedThem() throws {
        let drill = try Drill()
        // 195 spm from the next step on (step 13 at 4.33 s): mid-step, so that both runs, whose
        // blocks fall on different session frames (the limiter's delay), change at the same step.
        let key: Int64 = 196_800
        let (music, cues) = try drill.musicPart(command: .changeCadence(by: 15), at: key)
        // The music with no cue near: after the first cue's rise, before the second one's fall.
        let free = rms(music, Int(1.5 * 48_000)..<Int(2.6 * 48_000))
        #expect(free > 0.01, "the music plays: RMS \(free)")

        let planned = drill.prepared.spoken.map(\.lowerBound)
        let after = cues.filter { $0.lowerBound > key + 4_800 && $0.count > 4_800 && $0.upperBound < 15 * 48_000 }
        // The key really moved them: most start more than 0.15 s (the plan's fall) from any planned cue.
        let moved = after.filter { cue in !planned.contains { abs($0 - cue.lowerBound) < 7_200 } }
        try #require(moved.count >= 2, "cues after the key: \(after) against the plan's \(planned)")
        for cue in after {
            // From 10 ms in (the renderer's report is a block late at most) to the cue's end.
            let under = rms(music, Int(cue.lowerBound + 480)..<Int(cue.upperBound))
            #expect(20 * log10(under / free) < -9, "cue at \(Double(cue.lowerBound) / 48_000) s: \(20 * log10(under / free)) dB")
        }
    }

    /// What the coach says live (the remote's "say it now") is a cue the plan never had: the
    /// music dips under it too.
    @Test func theMusicDipsUnderWhatTheCoachSays() throws {
        let drill = try Drill()
        let tone = (0..<14_400).map { Float(0.5 * sin(2 * Double.pi * 330 * Double($0) / 48_000)) }
        // Quiet enough that the limiter never acts on it with the clicks (what it would take
        // off them would show in the difference as if it were music).
        // Said at 1.9 s: it starts on the next step (2.0 s), between the plan's first cue (its
        // rise done by 1.5 s) and its second (3 s). Kept in the player's own store.
        let (music, cues) = try drill.musicPart(command: { live in .say(live.spoken.add(tone, level: -12, for: "tone")!) }, at: 91_200)
        let free = rms(music, Int(1.5 * 48_000)..<Int(1.85 * 48_000))
        let saying = try #require(cues.first { $0.lowerBound > 91_200 && $0.lowerBound < Int64(2.5 * 48_000) },
                                  "nothing said between 1.9 s and 2.5 s: \(cues)")
        #expect(!drill.prepared.spoken.contains { $0.overlaps(saying) }, "the plan has no cue there")
        let under = rms(music, Int(saying.lowerBound + 480)..<Int(saying.upperBound))
        #expect(20 * log10(under / free) < -9, "\(20 * log10(under / free)) dB under what was said")
    }
}

/// Deterministic white noise as a 16-bit stereo WAV at 48 kHz.
private func writeNoise(_ path: String, seconds: Int) throws {
    let frames = seconds * 48_000
    var x: UInt32 = 2_463_534_242
    var data = [UInt8]()
    data.reserveCapacity(frames * 4)
    for _ in 0..<(frames * 2) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5
        let s = UInt16(bitPattern: Int16((Double(x) / Double(UInt32.max) * 2 - 1) * 0.3 * 32_767))
        data += [UInt8(truncatingIfNeeded: s), UInt8(truncatingIfNeeded: s >> 8)]
    }
    func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    var bytes = Array("RIFF".utf8) + le(36 + data.count, 4) + Array("WAVEfmt ".utf8)
    bytes += le(16, 4) + le(1, 2) + le(2, 2) + le(48_000, 4) + le(192_000, 4) + le(4, 2) + le(16, 2)
    bytes += Array("data".utf8) + le(data.count, 4) + data
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}
