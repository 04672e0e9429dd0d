import Glibc
import StrideCueCore
import Testing
import StrideCueLive

/// A player's audio-thread-only functions are used from one thread at a time (debug builds
/// check it, as NIO's `NIOLoopBound` checks its event loop): a second thread rendering while
/// the first holds the player stops the program before it reads the player's state.
@Suite("Live control: the audio thread, checked")
struct AudioThreadTests {
    /// Renders one block of `live` on a new thread and waits for it.
    static func renderOnAnotherThread(_ live: LivePlayback) {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(live).toOpaque()
        pthread_create(&thread, nil, { raw in
            let live = Unmanaged<LivePlayback>.fromOpaque(raw!).takeRetainedValue()
            var block = [Float](repeating: 0, count: 256)
            _ = block.withUnsafeMutableBufferPointer { live.render(into: $0) }
            return nil
        }, context)
        pthread_join(thread, nil)
    }

    static func installThreadIdentity() {
        AudioThread.current = { UInt(pthread_self()) }
    }

    #if DEBUG
    @Test func aSecondThreadRenderingStopsADebugBuild() async {
        await #expect(processExitsWith: .failure) {
            AudioThreadTests.installThreadIdentity()
            let live = LivePlaybackTests.makeLive()
            var block = [Float](repeating: 0, count: 256)
            _ = block.withUnsafeMutableBufferPointer { live.render(into: $0) }
            AudioThreadTests.renderOnAnotherThread(live)
        }
    }
    #endif

    @Test func aThreadThatLetGoHandsThePlayerOn() async {
        await #expect(processExitsWith: .success) {
            AudioThreadTests.installThreadIdentity()
            let live = LivePlaybackTests.makeLive()
            var block = [Float](repeating: 0, count: 256)
            _ = block.withUnsafeMutableBufferPointer { live.render(into: $0) }
            live.releaseAudioThread()
            AudioThreadTests.renderOnAnotherThread(live)
            exit(0)
        }
    }
}
