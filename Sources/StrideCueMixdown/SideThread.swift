import Glibc
import StrideCueCore

/// Starts `body` on a new thread, which holds it (and what it captures) until it returns; nil
/// when the system gives no thread. The one place a thread of the mixdown is made.
func startThread(_ body: @escaping () -> Void) -> pthread_t? {
    final class Body { let run: () -> Void; init(_ run: @escaping () -> Void) { self.run = run } }
    let context = Unmanaged.passRetained(Body(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { context in
        Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    guard status == 0 else {
        Unmanaged<Body>.fromOpaque(context).release()
        return nil
    }
    return thread
}

/// Runs `body` on a thread of its own (or, should no thread be had, right here); `join` waits
/// for it and throws what it threw.
final class SideThread: @unchecked Sendable {
    private var thread = pthread_t()
    private var running = false
    private let body: () throws -> Void
    private var failure: (any Error)?

    init(_ body: @escaping () throws -> Void) {
        self.body = body
        if let started = startThread({ [self] in run() }) {
            thread = started
            running = true
        } else {
            run()
        }
    }

    private func run() {
        do { try body() } catch { failure = error }
    }

    func join() throws {
        if running {
            pthread_join(thread, nil)
            running = false
        }
        if let failure { throw failure }
    }
}
