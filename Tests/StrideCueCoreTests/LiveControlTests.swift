import Foundation
import Synchronization
import StrideCueTestSupport
import Testing
@testable import StrideCueCore
@testable import StrideCueLive

/// Shared between a test and the thread it starts.
final class Flags: Sendable {
    let done = Atomic<Bool>(false)
    let received = Atomic<Int>(0)
    let disorder = Atomic<Int>(0)
}

@Suite("Live control: the command queue")
struct LiveCommandQueueTests {
    @Test func firstInFirstOutUpToCapacity() {
        let queue = LiveCommandQueue(capacity: 4)
        #expect(queue.capacity == 4)
        #expect(queue.pop() == nil)
        #expect(queue.push(.changeCadence(by: 1)))
        #expect(queue.push(.togglePause))
        #expect(queue.push(.skip))
        #expect(queue.push(.stop))
        #expect(!queue.push(.changeCadence(by: 5)), "a full queue refuses, and keeps what it has")
        #expect(queue.pop() == .changeCadence(by: 1))
        #expect(queue.push(.changeCadence(by: -5)))
        #expect(queue.pop() == .togglePause)
        #expect(queue.pop() == .skip)
        #expect(queue.pop() == .stop)
        #expect(queue.pop() == .changeCadence(by: -5))
        #expect(queue.pop() == nil)
    }

    @Test func capacityIsRoundedUpToAPowerOfTwo() {
        #expect(LiveCommandQueue(capacity: 1).capacity == 1)
        #expect(LiveCommandQueue(capacity: 5).capacity == 8)
        #expect(LiveCommandQueue(capacity: 64).capacity == 64)
    }

    @Test func wrapsAroundManyTimes() {
        let queue = LiveCommandQueue(capacity: 8)
        var next = 0
        var expected = 0
        for round in 0..<1_000 {
            for _ in 0..<(round % 8 + 1) {
                #expect(queue.push(.changeCadence(by: Double(next))))
                next += 1
            }
            while let command = queue.pop() {
                #expect(command == .changeCadence(by: Double(expected)))
                expected += 1
            }
        }
        #expect(expected == next)
    }

    /// One producer thread and one consumer thread, as in `play`: every command arrives once,
    /// in order, while both hammer the queue (a tiny capacity keeps it full and empty in turn).
    @Test func oneProducerOneConsumerOnTwoThreads() async {
        let queue = LiveCommandQueue(capacity: 4)
        let count = 200_000
        let flags = Flags()
        Thread.detachNewThread {
            var expected = 0
            while expected < count {
                if let command = queue.pop() {
                    if command != .changeCadence(by: Double(expected)) { flags.disorder.add(1, ordering: .relaxed) }
                    expected += 1
                }
            }
            flags.received.store(expected, ordering: .relaxed)
            flags.done.store(true, ordering: .releasing)
        }
        var sent = 0
        while sent < count {
            if queue.push(.changeCadence(by: Double(sent))) { sent += 1 }
        }
        while !flags.done.load(ordering: .acquiring) { usleep(1_000) }
        #expect(flags.received.load(ordering: .relaxed) == count)
        #expect(flags.disorder.load(ordering: .relaxed) == 0)
        #expect(queue.pop() == nil)
    }
}

@Suite("Live control: the status board")
struct LiveStatusBoardTests {
    @Test func readsWhatWasPublished() {
        let board = LiveStatusBoard()
        let status = LiveStatus(frame: 48_000, outputFrames: 50_000, cadence: 180, targetCadence: 185, set: 1, sets: 3,
                                step: 41, restFramesLeft: 1_234, phase: .pausing, underruns: 2)
        board.publish(status)
        #expect(board.read() == status)
        var resting = status
        resting.restFramesLeft = nil
        board.publish(resting)
        #expect(board.read() == resting)
    }

    /// A reader never sees half of one snapshot and half of another.
    @Test func snapshotsAreConsistentUnderConcurrentPublishing() async {
        let board = LiveStatusBoard()
        let flags = Flags()
        Thread.detachNewThread {
            for i in 1...300_000 {
                let n = Int64(i)
                board.publish(LiveStatus(frame: n, outputFrames: n * 2, cadence: Double(i), targetCadence: Double(i),
                                         set: i, sets: i, step: i, restFramesLeft: n, phase: .playing, underruns: i))
            }
            flags.done.store(true, ordering: .releasing)
        }
        var torn = 0
        var reads = 0
        while !flags.done.load(ordering: .acquiring) {
            let s = board.read()
            let n = s.frame
            if s.outputFrames != n * 2 || s.cadence != Double(n) || s.step != Int(n) || s.underruns != Int(n)
                || s.restFramesLeft != (n == 0 ? nil : n) {
                torn += 1
            }
            reads += 1
        }
        #expect(torn == 0, "\(torn) torn snapshots in \(reads) reads")
    }
}

@Suite("Live control: playback")
struct LivePlaybackTests {
    static let rate = 48_000
    static let plan = SessionPlan(cadence: 172.5, ramp: TempoRamp(from: 140, steps: 8), countIn: 3, sets: 3,
                                  setLength: .steps(16), rest: 1.5, accentEvery: 2, subdivide: 2, sound: "cowbell")

    static func makeLive(_ plan: SessionPlan = plan, cap: Double? = nil) -> LivePlayback {
        let renderer = Renderer(plan: plan, sound: ClickSound.builtIn(plan.sound, sampleRate: rate)!,
                                format: RenderFormat(sampleRate: rate, channels: 1), maxDuration: cap)
        return LivePlayback(renderer: renderer, plan: plan)
    }

    /// Renders through the player in blocks of `block` frames; `before(frame)` runs before each block.
    static func play(_ live: LivePlayback, block: Int = 240, limit: Int = 10_000_000,
                     before: (Int) -> Void = { _ in }) -> [Float] {
        var out: [Float] = []
        var buffer = [Float](repeating: .nan, count: block)
        while out.count < limit {
            before(out.count)
            let n = buffer.withUnsafeMutableBufferPointer { live.render(into: $0) }
            if n == 0 { break }
            out += buffer[0..<n]
            live.publish(underruns: 0)
        }
        return out
    }

    @Test func withoutCommandsTheFramesAreTheRenderersOwn() {
        let reference = renderAll(Self.plan, sound: "cowbell", block: 4_096)
        for block in [1, 240, 1_000, 9_999] {
            let out = Self.play(Self.makeLive(), block: block)
            #expect(out == reference, "block of \(block) frames")
        }
    }

    /// The player's copy of the timeline keeps pace with the renderer's own through cadence
    /// changes, skipped rests and odd block sizes.
    @Test(arguments: [UInt64(1), 2, 3, 4])
    func followedTimelineAgreesWithTheRenderer(seed: UInt64) {
        let live = Self.makeLive()
        // Seeded, so a failure can be replayed; "next set" now ends sets, so runs vary in length.
        var generator = SeededGenerator(state: seed)
        var buffer = [Float](repeating: 0, count: 5_000)
        var blocks = 0
        var mismatches = 0
        while true {
            switch Int.random(in: 0..<40, using: &generator) {
            case 0: live.commands.push(.changeCadence(by: 1))
            case 1: live.commands.push(.changeCadence(by: -5))
            case 2: live.commands.push(.skip)
            default: break
            }
            let size = Int.random(in: 1...buffer.count, using: &generator)
            let n = buffer.withUnsafeMutableBufferPointer { live.render(into: UnsafeMutableBufferPointer(rebasing: $0[0..<size])) }
            if n == 0 { break }
            blocks += 1
            let followed = live.followedPosition()
            let actual = live.renderer.position()
            if followed.set != actual.set || followed.step != actual.step || followed.cadence != actual.cadence {
                mismatches += 1
            }
            // nextStepFrame is at or after the current frame.
            if let next = live.nextStepFrame() { #expect(next >= live.renderer.framesRendered) }
        }
        #expect(blocks > 20)
        #expect(mismatches == 0)
    }

    /// Space pauses just before the next step's click; the session resumes where it stopped.
    @Test func pauseHoldsOnAStepBoundaryAndResumesWhereItStopped() throws {
        let plan = SessionPlan(cadence: 180, setLength: .steps(20), subdivide: 2)
        let reference = renderAll(plan, block: 4_096)
        let live = Self.makeLive(plan)
        let pauseFrames = 24_000
        var asked = false
        var pausedAt: Int64 = -1
        var silent = 0
        var out: [Float] = []
        var buffer = [Float](repeating: .nan, count: 240)
        while true {
            if !asked && out.count >= 100_000 {  // 2.08 s: between step 6 (96 000) and 7 (112 000)
                live.commands.push(.togglePause)
                asked = true
            }
            let n = buffer.withUnsafeMutableBufferPointer { live.render(into: $0) }
            if n == 0 { break }
            if live.phase == .paused && pausedAt < 0 {
                out += buffer[0..<n]
                pausedAt = live.renderer.framesRendered
                continue
            }
            if live.phase == .paused {
                silent += n
                #expect(buffer[0..<n].allSatisfy { $0 == 0 })
                #expect(live.renderer.framesRendered == pausedAt, "the frame counter holds while paused")
                if silent >= pauseFrames { live.commands.push(.togglePause) }
                continue
            }
            out += buffer[0..<n]
        }
        // Paused exactly at step 7's frame: the half-step subdivision (104 000) is not a boundary.
        #expect(pausedAt == 112_000)
        #expect(silent >= pauseFrames)
        // With the silence taken out, what was played is the track, frame for frame.
        #expect(out == reference)
    }

    @Test func pauseInARestIsImmediate() {
        let plan = SessionPlan(cadence: 180, sets: 2, setLength: .steps(3), rest: 5)
        let live = Self.makeLive(plan)
        var buffer = [Float](repeating: 0, count: 240)
        // Set 1 ends at 1 s; play into the rest.
        while live.renderer.framesRendered < 72_000 {
            _ = buffer.withUnsafeMutableBufferPointer { live.render(into: $0) }
        }
        live.commands.push(.togglePause)
        // Not on a step: at once, after the pause's short fade to silence.
        let fade = Int64((LivePlayback.pauseFadeSeconds * 48_000).rounded())
        for _ in 0..<4 { _ = buffer.withUnsafeMutableBufferPointer { live.render(into: $0) } }
        #expect(live.phase == .paused)
        #expect(live.renderer.framesRendered == 72_000 + fade)
    }

    /// A cadence change takes effect from the first step not yet rendered, and the new grid is
    /// exact from there.
    @Test func cadenceChangeStartsAnExactGridAtTheFirstStepNotRendered() {
        let plan = SessionPlan(cadence: 180, setLength: .steps(30))
        let live = Self.makeLive(plan)
        var changed = false
        let out = Self.play(live) { frame in
            if !changed && frame >= 50_000 {  // during step 3 (48 000 … 64 000)
                live.commands.push(.changeCadence(by: 1))
                live.commands.push(.changeCadence(by: 5))  // before the next step: both count
                changed = true
            }
        }
        // Step 4 (64 000) was not rendered yet when the keys came: it moves to step 3 plus one
        // interval at 186 spm, and the grid is exact from step 3 on.
        var expected: [Int] = (0...3).map { $0 * 16_000 }
        let anchor = 3.0 * 60 / 180
        for m in 1...26 { expected.append(Int((anchor + Double(m) * 60 / 186) * 48_000 + 0.5)) }
        let found = clickOnsets(out)
        #expect(found == expected)
        #expect(live.status.read().cadence == 186)
    }

    @Test func skipEndsARestAtOnce() {
        let plan = SessionPlan(cadence: 180, countIn: 2, sets: 2, setLength: .steps(3), rest: 30)
        let live = Self.makeLive(plan)
        var skipped: Int64 = -1
        let out = Self.play(live) { frame in
            // Set 1: 2 count-in clicks then 3 steps, 5 × 16 000 frames; the rest starts at 80 000.
            if skipped < 0 && frame >= 96_000 {
                live.commands.push(.skip)
                skipped = Int64(frame)
            }
        }
        #expect(skipped == 96_000)
        // Nothing is skipped in a set.
        let starts = clickOnsets(out)
        #expect(starts == [0, 16_000, 32_000, 48_000, 64_000, 96_000, 112_000, 128_000, 144_000, 160_000])
        #expect(out.count == 176_000)
    }

    /// A faster cadence ends a set of steps sooner: playback ends with the plan, not after
    /// the renderer's original length padded with silence.
    @Test func fasterCadenceEndsWithThePlan() {
        let plan = SessionPlan(cadence: 180, setLength: .steps(12))  // 4 s at 180 spm
        let live = Self.makeLive(plan)
        var changed = false
        let out = Self.play(live) { frame in
            if !changed && frame >= 24_000 {
                live.commands.push(.changeCadence(by: 60))  // 240 spm from step 2
                changed = true
            }
        }
        // Step 2 (32 000) was not rendered when the key came: it moves to one 240 spm interval
        // after step 1, and steps 3…11 follow 12 000 frames apart. The set ends one interval
        // after step 11.
        #expect(clickOnsets(out) == [0, 16_000] + (1...10).map { 16_000 + $0 * 12_000 })
        #expect(out.count == 16_000 + 11 * 12_000)
    }

    /// A slower cadence makes a set of steps last longer than the plan first said: the renderer
    /// runs on (openEnd) and playback ends where the slowed plan ends, every step heard.
    @Test func slowerCadenceLengthensThePlan() {
        let plan = SessionPlan(cadence: 180, setLength: .steps(12))  // 4 s at 180 spm
        let live = Self.makeLive(plan)
        var changed = false
        let out = Self.play(live) { frame in
            if !changed && frame >= 24_000 {
                live.commands.push(.changeCadence(by: -60))  // 120 spm from step 2
                changed = true
            }
        }
        // Steps 0 and 1 at 180 spm (16 000 frames apart), then eleven gaps at 120 spm (24 000).
        #expect(out.count == 16_000 + 11 * 24_000)
        #expect(clickOnsets(out) == [0] + (0...10).map { 16_000 + $0 * 24_000 })
    }

    /// What is left of the session, asked after every block (how play knows when a session
    /// on a hung device should be over): always exactly what is then still rendered, through a
    /// slower cadence, a faster one and a skipped rest; `atMost` caps it; a pause has no end.
    @Test(arguments: [-60.0, 60.0, 0.0])
    func sessionFramesLeftIsWhatIsStillRendered(change: Double) {
        let plan = SessionPlan(cadence: 180, sets: 2, setLength: .steps(6), rest: 1)
        let live = Self.makeLive(plan)
        var asked: [(frame: Int, left: Int64?, capped: Int64?)] = []
        var out: [Float] = []
        var buffer = [Float](repeating: 0, count: 1_000)
        while true {
            if out.count == 24_000 { live.commands.push(change == 0 ? .skip : .changeCadence(by: change)) }
            let n = buffer.withUnsafeMutableBufferPointer { live.render(into: $0) }
            if n == 0 { break }
            out += buffer[0..<n]
            asked.append((out.count, live.sessionFramesLeft(atMost: .max), live.sessionFramesLeft(atMost: 5_000)))
        }
        #expect(asked.count > 100)
        let planned = Int64(live.renderer.totalFrames)
        for (frame, left, capped) in asked {
            // Before the key, the plan as made; from the block it was applied in, as it came out.
            let truth = frame <= 24_000 ? planned - Int64(frame) : Int64(out.count - frame)
            #expect(left == truth, "at frame \(frame)")
            #expect(capped == min(5_000, truth), "at frame \(frame)")
        }
        let paused = Self.makeLive(plan)
        paused.commands.push(.togglePause)
        _ = buffer.withUnsafeMutableBufferPointer { paused.render(into: $0) }
        #expect(paused.sessionFramesLeft(atMost: .max) == nil)
    }

    /// "Next set" in a set ends it now: the rest starts, then the next set on its usual grid.
    @Test func skipInASetEndsItAndStartsTheRest() {
        let plan = SessionPlan(cadence: 180, sets: 2, setLength: .steps(6), rest: 2)
        let live = Self.makeLive(plan)
        let out = Self.play(live) { frame in
            if frame == 24_000 { live.commands.push(.skip) }
        }
        // Steps at 0 and 16 000; the set ends at 24 000 (0.5 s), 2 s of rest, then six steps.
        #expect(clickOnsets(out) == [0, 16_000] + (0..<6).map { 120_000 + $0 * 16_000 })
        #expect(out.count == 120_000 + 6 * 16_000)
    }

    /// In the last set, "next set" ends the session there.
    @Test func skipInTheLastSetEndsThePlan() {
        let plan = SessionPlan(cadence: 180, setLength: .steps(6))
        let live = Self.makeLive(plan)
        let out = Self.play(live) { frame in
            if frame == 24_000 { live.commands.push(.skip) }
        }
        #expect(clickOnsets(out) == [0, 16_000])
        #expect(out.count == 24_000)
    }

    /// A stop fades out over 20 ms and ends there.
    @Test func stopFadesOutWithinTwentyMilliseconds() {
        let plan = SessionPlan(cadence: 180, setLength: .steps(30))
        let live = Self.makeLive(plan)
        var stoppedAt = -1
        let out = Self.play(live, block: 240) { frame in
            if stoppedAt < 0 && frame >= 48_000 {
                live.commands.push(.stop)
                stoppedAt = frame
            }
        }
        #expect(stoppedAt == 48_000)
        #expect(out.count == 48_000 + 960)
        #expect(out.last == 0)
        #expect(live.phase == .finished)
    }

    @Test func stopWhilePausedEndsAtOnce() {
        let plan = SessionPlan(cadence: 180, sets: 2, setLength: .steps(3), rest: 5)
        let live = Self.makeLive(plan)
        var buffer = [Float](repeating: 0, count: 240)
        while live.renderer.framesRendered < 72_000 {
            _ = buffer.withUnsafeMutableBufferPointer { live.render(into: $0) }
        }
        live.commands.push(.togglePause)
        for _ in 0..<4 { _ = buffer.withUnsafeMutableBufferPointer { live.render(into: $0) } }
        #expect(live.phase == .paused)
        live.commands.push(.stop)
        #expect(buffer.withUnsafeMutableBufferPointer { live.render(into: $0) } == 0)
        #expect(live.phase == .finished)
    }

    /// The status counts what has been heard: count-in clicks, then steps from 1.
    @Test func statusCountsClicksHeard() {
        let plan = SessionPlan(cadence: 180, countIn: 2, setLength: .steps(4), subdivide: 2)
        let live = Self.makeLive(plan)
        var buffer = [Float](repeating: 0, count: 1)
        func status(after frames: Int) -> LiveStatus {
            while live.renderer.framesRendered < Int64(frames) {
                _ = buffer.withUnsafeMutableBufferPointer { live.render(into: $0) }
            }
            live.publish(underruns: 0)
            return live.status.read()
        }
        // Count-in clicks at 0 and 16 000; steps at 32 000, 48 000…; subdivisions half-way.
        #expect(status(after: 1).countIn == 1)
        #expect(status(after: 16_001).countIn == 2)
        #expect(status(after: 16_001).countInLength == 2)
        #expect(status(after: 32_001).countIn == 0)
        #expect(status(after: 32_001).step == 1)
        #expect(status(after: 40_001).step == 1)
        #expect(status(after: 48_001).step == 2)
        #expect(status(after: 80_001).step == 4)
    }

    /// Through a sound server or a headset, the device's delay is a step or more: the status
    /// shows the step heard, and a rest once the set's last click has been heard.
    @Test func statusFollowsWhatIsHeard() {
        let plan = SessionPlan(cadence: 180, sets: 2, setLength: .steps(3), rest: 5)
        let live = Self.makeLive(plan)
        var buffer = [Float](repeating: 0, count: 240)
        func render(until frames: Int64) {
            while live.renderer.framesRendered < frames {
                _ = buffer.withUnsafeMutableBufferPointer { live.render(into: $0) }
            }
        }
        func heard(at frame: Int64) -> LiveStatus {
            live.publish(underruns: 0, device: .playing, reconnectSecondsLeft: 0, bufferFrames: 0, bufferGrowths: 0,
                         heardOutputFrame: frame)
            return live.status.read()
        }
        // Steps at 0, 16 000 and 32 000; the rest from 48 000 to 48 000 + 240 000.
        render(until: 40_000)
        #expect(heard(at: Int64.max).step == 3)
        #expect(heard(at: 31_999).step == 2, "the third step is written, not heard")
        #expect(heard(at: 15_000).step == 1)
        #expect(heard(at: 15_000).frame == 15_000)
        render(until: 60_000)
        #expect(heard(at: Int64.max).restFramesLeft == Int64(240_000 - 12_000))
        let before = heard(at: 31_000)
        #expect(before.restFramesLeft == nil && before.set == 0 && before.step == 2, "\(before)")
        let resting = heard(at: 50_000)
        #expect(resting.restFramesLeft == Int64(240_000 - 2_000), "\(resting)")
        #expect(resting.set == 1 && resting.step == 0)
    }

    @Test func statusFollowsTheSession() {
        let plan = SessionPlan(cadence: 180, sets: 2, setLength: .steps(3), rest: 5)
        let live = Self.makeLive(plan)
        var buffer = [Float](repeating: 0, count: 240)
        while live.renderer.framesRendered < 96_000 {  // 2 s: resting, 4 s to go
            _ = buffer.withUnsafeMutableBufferPointer { live.render(into: $0) }
        }
        live.publish(underruns: 3)
        let status = live.status.read()
        #expect(status.frame == 96_000)
        #expect(status.outputFrames == 96_000)
        #expect(status.set == 1 && status.sets == 2)
        #expect(status.restFramesLeft == Int64(6 * 48_000 - 96_000), "\(status)")
        #expect(status.underruns == 3)
        #expect(status.phase == .playing)
    }
}
