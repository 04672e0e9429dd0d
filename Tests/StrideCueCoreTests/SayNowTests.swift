import StrideCueCore
import StrideCueTestSupport
import Testing
import StrideCueLive

/// The coach's "say it now": a sound handed to the live player starts on the next step on
/// which no cue sounds, over ducked clicks, and changes nothing before it.
@Suite("Live control: say now")
struct SayNowTests {
    static let plan = SessionPlan(cadence: 180, setLength: .steps(30))

    /// A flat sound `frames` long: where it sounds is plain to see in the output.
    static func flat(_ frames: Int, in store: SpokenSamples, key: String) -> SpokenSample {
        store.add([Float](repeating: 0.5, count: frames), for: key)!
    }

    @Test func aSaidSoundStartsOnTheNextStepAfterTheDuckLead() throws {
        let reference = renderAll(Self.plan)
        for block in [1, 240, 4_096] {
            let live = LivePlaybackTests.makeLive(Self.plan)
            let sample = Self.flat(4_000, in: live.spoken, key: "short")
            var said = false
            let out = LivePlaybackTests.play(live, block: block) { frame in
                if !said && frame >= 50_000 {  // during step 3 (48 000 … 64 000)
                    live.commands.push(.say(sample))
                    said = true
                }
            }
            let first = try #require(out.indices.first { out[$0] != reference[$0] }, "never heard")
            #expect(first == 64_000, "block of \(block): step 4 starts at 64 000")
            // The sound at its level, over the clicks (ducked), and gone after its 4 000 frames.
            #expect(abs(out[66_000] - CueBalance.voicePeak) < 0.01)
            #expect(Array(out[70_000..<80_000]) == Array(reference[70_000..<80_000]))
            #expect(out.count == reference.count)
        }
    }

    @Test func aSecondSoundWaitsForTheFirstAndStartsOnAStep() throws {
        let reference = renderAll(Self.plan)
        let live = LivePlaybackTests.makeLive(Self.plan)
        let store = live.spoken
        let long = Self.flat(20_000, in: store, key: "long")   // 64 000 … 84 000, over step 5
        let other = Self.flat(4_000, in: store, key: "other")
        var said = false
        let out = LivePlaybackTests.play(live) { frame in
            if !said && frame >= 50_000 {
                live.commands.push(.say(long))
                live.commands.push(.say(other))
                said = true
            }
        }
        try #require(reference[86_000..<95_000].allSatisfy { $0 == 0 }, "no click sounds there in the plain track")
        #expect(abs(out[83_000] - CueBalance.voicePeak) < 0.01, "the first still sounds")
        #expect(out[86_000..<95_000].allSatisfy { $0 == 0 }, "nothing between the first's end and the next step")
        // Step 5 (80 000) was busy; the first free step after 84 000 is step 7 (96 000).
        #expect(out[95_999] == reference[95_999])
        #expect(abs(out[98_500] - CueBalance.voicePeak) < 0.01, "after its step's click")
    }

    /// The memory of another store's sound may be freed while this player plays (the drill
    /// that made it ended): the player never reads it, so the track is as if nothing was said.
    @Test func aSoundFromAnotherPlayersStoreIsNeverSaid() throws {
        let reference = renderAll(Self.plan)
        let live = LivePlaybackTests.makeLive(Self.plan)
        let other = LivePlaybackTests.makeLive(Self.plan)
        let foreign = Self.flat(4_000, in: other.spoken, key: "foreign")
        let loose = SpokenSamples()
        let stray = Self.flat(4_000, in: loose, key: "stray")
        #expect(foreign.owner == other.spoken.identity && foreign.owner != live.spoken.identity)
        var said = false
        let out = LivePlaybackTests.play(live) { frame in
            if !said && frame >= 50_000 {
                #expect(live.commands.push(.say(foreign)))
                #expect(live.commands.push(.say(stray)))
                said = true
            }
        }
        #expect(said)
        #expect(out == reference)
        // Its own store's sound, pushed the same way, is heard (so the comparison above can fail).
        let own = LivePlaybackTests.makeLive(Self.plan)
        let mine = Self.flat(4_000, in: own.spoken, key: "mine")
        var pushed = false
        let heard = LivePlaybackTests.play(own) { frame in
            if !pushed && frame >= 50_000 { _ = own.commands.push(.say(mine)); pushed = true }
        }
        #expect(heard != reference)
    }

    @Test func theSameTextIsKeptOnceAndTheStoreIsBounded() {
        let store = SpokenSamples()
        let a = store.add([1, 0.5], for: "a")
        #expect(store.add([0.25], for: "a") == a, "a key keeps its first sound")
        #expect(store.sample(for: "a") == a)
        for i in 1..<SpokenSamples.capacity { #expect(store.add([1], for: "k\(i)") != nil) }
        #expect(store.add([1], for: "one too many") == nil)
        #expect(store.add([], for: "empty") == nil)
    }
}
