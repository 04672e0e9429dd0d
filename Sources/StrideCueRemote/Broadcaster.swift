import Synchronization

/// Pushes the status to every open WebSocket: checked every `tickMilliseconds`, sent when it
/// changed and at least once a second. Each client holds only the newest status, so a slow
/// or stalled client costs one string, never a growing queue.
final class Broadcaster: Sendable {
    private let clients = Mutex<(next: Int, all: [Int: AsyncStream<String>.Continuation])>((0, [:]))

    func subscribe() -> (Int, AsyncStream<String>) {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = clients.withLock { c in
            let id = c.next
            c.next += 1
            c.all[id] = continuation
            return id
        }
        return (id, stream)
    }

    func unsubscribe(_ id: Int) {
        let continuation = clients.withLock { $0.all.removeValue(forKey: id) }
        continuation?.finish()
    }

    func run(_ remote: CoachRemote) async {
        var lastKey: StatusKey? = nil
        var lastSent = ContinuousClock.now
        var idle = false
        while true {
            // With nobody listening, look rarely: a new client gets its first status from its
            // own handler at once, not from here.
            try? await Task.sleep(for: .milliseconds(idle ? 250 : RemoteServer.tickMilliseconds))
            let targets = clients.withLock { Array($0.all.values) }
            idle = targets.isEmpty
            if idle {
                lastKey = nil
                continue
            }
            let key = remote.statusKey()
            let now = ContinuousClock.now
            guard key != lastKey || now - lastSent >= .seconds(1) else { continue }
            lastKey = key
            lastSent = now
            let text = remote.statusJSON()
            for client in targets { client.yield(text) }
        }
    }
}
