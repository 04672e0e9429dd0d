import Dispatch
import Glibc
import FoundationEssentials
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import StrideCueCore
import StrideCueSpeech
import Synchronization

/// Per request: the address it came from (for the failed-login limit) and the WebSocket
/// upgrade's slot.
struct RemoteContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<RemoteContext>
    let peer: String

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        peer = source.channel.remoteAddress?.ipAddress ?? "?"
    }

    var maxUploadSize: Int { RemoteServer.bodyLimit }
}

/// The coach's remote over HTTP: the page, the API and the WebSocket, on SwiftNIO's event-loop
/// threads. Nothing here runs on, waits for or locks against the audio thread: commands go
/// into the live player's queue, the status is read from its lock-free board.
public enum RemoteServer {
    /// Request bodies larger than this are refused (413).
    static let bodyLimit = 4_096
    /// Status pushes: checked this often; sent on a change, and at least once a second.
    static let tickMilliseconds = 40

    /// Starts listening on `host:port` (port 0: any free port) and returns once it listens.
    /// - Returns: the port it listens on.
    /// - Throws: a one-line `Failure` (exit 69) when the address cannot be listened on.
    public static func start(_ remote: CoachRemote, host: String, port: Int) throws -> Int {
        let router = Router(context: RemoteContext.self)
        let hub = Broadcaster()
        routes(router, remote: remote, hub: hub)
        var logger = Logger(label: "stridecue-remote")
        logger.logLevel = .critical
        let listening = DispatchSemaphore(value: 0)
        let bound = Mutex<Int?>(nil)
        let app = Application(
            router: router,
            server: .gatedWebSocketUpgrade(
                webSocketRouter: router,
                configuration: .init(http1: .init(idleTimeout: .seconds(120)), ws: .init(maxFrameSize: 1 << 12)),
                remote: remote),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                bound.withLock { $0 = channel.localAddress?.port ?? port }
                listening.signal()
            },
            logger: logger)
        let failure = Mutex<String?>(nil)
        Task.detached {
            do {
                try await app.run()
            } catch {
                failure.withLock { $0 = "\(error)" }
                listening.signal()
            }
        }
        listening.wait()
        if let error = failure.withLock({ $0 }) {
            throw Failure("--remote \(host):\(port): cannot listen there (\(error))", exitCode: ExitStatus.unavailable)
        }
        Task.detached { await hub.run(remote) }
        return bound.withLock { $0 } ?? port
    }

    // MARK: Routes

    static func routes(_ router: Router<RemoteContext>, remote: CoachRemote, hub: Broadcaster) {
        router.add(middleware: Guard(remote: remote))
        router.get("/") { request, _ in
            page(Page.html, type: "text/html; charset=utf-8", csp: contentSecurityPolicy(request))
        }
        router.get("/app.js") { _, _ in page(Page.script, type: "text/javascript; charset=utf-8") }
        router.get("/app.css") { _, _ in page(Page.style, type: "text/css; charset=utf-8") }

        router.get("/api/status") { _, _ in json(remote.statusJSON()) }
        router.get("/api/library") { _, _ in
            var o = JSONObject()
            o.add("presets", strings: remote.library())
            return json(o.text)
        }
        router.get("/api/plan.svg") { _, _ in
            guard let drill = remote.drill else { return problem(.notFound, "no drill is playing") }
            return page(drill.picture, type: "image/svg+xml")
        }
        router.post("/api/cadence") { request, context in
            let body: CadenceBody
            switch await decode(CadenceBody.self, request) {
            case .success(let b): body = b
            case .failure(let failed): return failed.response
            }
            let command: LiveCommand
            switch (body.delta, body.spm) {
            case (let delta?, nil) where delta.isFinite && abs(delta) <= 270: command = .changeCadence(by: delta)
            case (nil, let spm?) where PlanLimits.cadence.contains(spm): command = .setCadence(to: spm)
            case (nil, _?): return problem(.badRequest, "spm must be between 30 and 300 steps per minute")
            default: return problem(.badRequest, "send {\"delta\": number} or {\"spm\": number}")
            }
            if timing, let drill = remote.drill { return timed(remote, drill, command) }
            return command_(remote, command)
        }
        router.post("/api/pause") { _, _ in command_(remote, .pause) }
        router.post("/api/resume") { _, _ in command_(remote, .resume) }
        router.post("/api/next") { _, _ in command_(remote, .skip) }
        router.post("/api/stop") { _, _ in
            guard remote.drill != nil else { return problem(.conflict, "no drill is playing") }
            remote.cancelRequests()
            return command_(remote, .stop)
        }
        router.post("/api/say") { request, _ in
            let body: SayBody
            switch await decode(SayBody.self, request) {
            case .success(let b): body = b
            case .failure(let failed): return failed.response
            }
            if let problem_ = CueText.problem(with: body.text) { return problem(.badRequest, "text \(problem_)") }
            guard let drill = remote.drill else { return problem(.conflict, "no drill is playing") }
            let key = "say:" + body.text
            var sample = drill.spoken.sample(for: key)
            if sample == nil {
                let text = body.text
                let rate = drill.rate
                let made: Result<[Float], Error> = await onSpeechQueue {
                    Result { try SpeechSynthesizer.shared.synthesize(text: text, outputRate: rate).samples }
                }
                switch made {
                case .success(let samples): sample = drill.spoken.add(samples, for: key)
                case .failure(let error): return problem(.badRequest, "cannot say that: \(explain(error).message)")
                }
            }
            guard let sample else {
                return problem(.tooManyRequests, "\(SpokenSamples.capacity) different texts said in this drill already")
            }
            return command_(remote, .say(sample))
        }
        router.post("/api/cue") { request, _ in
            let body: CueBody
            switch await decode(CueBody.self, request) {
            case .success(let b): body = b
            case .failure(let failed): return failed.response
            }
            guard let drill = remote.drill else { return problem(.conflict, "no drill is playing") }
            // Cues are counted from 1, as `preset show` and `preset cue` count them.
            let index = body.cue - 1
            guard let sounds = drill.cues?.cues, sounds.indices.contains(index), let last = sounds[index].last else {
                return problem(.badRequest, "cue must be one of the drill's cues, from 1 to \(drill.plan.cues.count)")
            }
            // The words of a `both` cue (its last sound), or its only sound.
            guard let sample = drill.spoken.add(last.samples, level: drill.plan.cues[index].level, for: "cue:\(body.cue)") else {
                return problem(.tooManyRequests, "too many different sounds said in this drill")
            }
            return command_(remote, .say(sample))
        }
        router.post("/api/start") { request, _ in
            let body: StartBody
            switch await decode(StartBody.self, request) {
            case .success(let b): body = b
            case .failure(let failed): return failed.response
            }
            // A name from the library only: never a path.
            guard remote.library().contains(body.preset) else {
                return problem(.badRequest, "preset must be a name from the drill library (GET /api/library)")
            }
            remote.request(.start(preset: body.preset))
            return json("{\"ok\":true}")
        }
        router.post("/api/preset") { request, _ in
            let body: PresetBody
            switch await decode(PresetBody.self, request) {
            case .success(let b): body = b
            case .failure(let failed): return failed.response
            }
            guard remote.library().contains(body.preset) else {
                return problem(.badRequest, "preset must be a name from the drill library (GET /api/library)")
            }
            var changes: [String] = []
            if let v = body.cadence { changes.append("cadence=\(jsonNumber(v))") }
            if let v = body.rampFrom { changes.append("ramp.from=\(jsonNumber(v))") }
            if let v = body.rampSteps { changes.append("ramp.steps=\(v)") }
            if let v = body.rest { changes.append("rest=\(jsonNumber(v)) s") }
            guard !changes.isEmpty else { return problem(.badRequest, "send cadence, rampFrom, rampSteps or rest") }
            let assignments = changes.compactMap { PresetAssignment(parsing: $0) }
            let preset = body.preset
            let outcome: Result<String, Error> = await onSpeechQueue { Result { try remote.save(preset, assignments) } }
            switch outcome {
            case .success(let report):
                var o = JSONObject()
                o.add("ok", true)
                o.add("saved", report)
                return json(o.text)
            case .failure(let error):
                return problem(.badRequest, explain(error).message)
            }
        }

        // Token, origin and the failure limit are checked before the handshake, in
        // `WebSocketGate`, which answers 401, 403 or 429 as the API does; this only makes sure.
        router.ws("/api/events") { request, _ in
            let token = request.uri.queryParameters["token"]
                ?? request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? $0.dropFirst(7) : nil }
            guard let token, remote.token.matches(token) else { return .dontUpgrade }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, _ in
            let (id, stream) = hub.subscribe()
            defer { hub.unsubscribe(id) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Nothing is read from a page; the loop ends when it goes away.
                    for try await _ in inbound.messages(maxSize: 1 << 12) {}
                }
                group.addTask {
                    try await outbound.writeTextMessage(remote.statusJSON())
                    for await text in stream { try await outbound.writeTextMessage(text) }
                }
                _ = try await group.next()
                group.cancelAll()
            }
        }
    }

    /// STRIDECUE_REMOTE_TIMING=1 (for `make bench`): each cadence command's time from its
    /// request to the new cadence being handed to ALSA (the audio thread publishes its
    /// status right after each write), printed to standard error by a watcher thread.
    static let timing = getenv("STRIDECUE_REMOTE_TIMING") != nil

    static func timed(_ remote: CoachRemote, _ drill: RemoteDrill, _ command: LiveCommand) -> Response {
        let asked = monotonicSeconds()
        let before = drill.live.status.read().targetCadence
        let response = command_(remote, command)
        let expected: Double
        switch command {
        case .changeCadence(let delta): expected = min(max(before + delta, 30), 300)
        case .setCadence(let spm): expected = min(max(spm, 30), 300)
        default: return response
        }
        DispatchQueue.global().async {
            while drill.live.status.read().targetCadence != expected {
                if monotonicSeconds() - asked > 2 { return }
                usleep(50)
            }
            let line = "stridecue: remote timing: cadence handed to ALSA \(jsonNumber((monotonicSeconds() - asked) * 1000)) ms after the request\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
        }
        return response
    }

    static func command_(_ remote: CoachRemote, _ command: LiveCommand) -> Response {
        guard remote.drill != nil else { return problem(.conflict, "no drill is playing") }
        guard remote.send(command) else { return problem(.serviceUnavailable, "too many commands at once; try again") }
        return json("{\"ok\":true}")
    }

    static func contentSecurityPolicy(_ request: Request) -> String {
        let host = request.head.authority ?? ""
        let socket = host.isEmpty || host.contains(where: { $0 == " " || $0 == ";" || $0 == "'" }) ? "" : " ws://\(host)"
        return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'\(socket); base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }
}

// MARK: Bodies

struct CadenceBody: Decodable { var delta: Double?; var spm: Double? }
struct SayBody: Decodable { var text: String }
struct CueBody: Decodable { var cue: Int }
struct StartBody: Decodable { var preset: String }
struct PresetBody: Decodable {
    var preset: String
    var cadence: Double?
    var rampFrom: Double?
    var rampSteps: Int?
    var rest: Double?
}

/// Reads a JSON body of at most `RemoteServer.bodyLimit` bytes; a bad one becomes a one-line 400
/// (or 413) answer, and the connection stays open.
func decode<T: Decodable>(_ type: T.Type, _ request: Request) async -> Result<T, ResponseError> {
    var request = request
    let buffer: ByteBuffer
    do {
        buffer = try await request.collectBody(upTo: RemoteServer.bodyLimit)
    } catch {
        return .failure(ResponseError(problem(.contentTooLarge, "body larger than \(RemoteServer.bodyLimit) bytes")))
    }
    do {
        return .success(try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)))
    } catch DecodingError.keyNotFound(let key, _) {
        return .failure(ResponseError(problem(.badRequest, "JSON is missing \"\(key.stringValue)\"")))
    } catch DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c) {
        let key = c.codingPath.map(\.stringValue).joined(separator: ".")
        return .failure(ResponseError(problem(.badRequest, "JSON \"\(key)\" has the wrong type")))
    } catch {
        return .failure(ResponseError(problem(.badRequest, "body is not JSON")))
    }
}

struct ResponseError: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}

func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    var headers = commonHeaders()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
}

/// A one-line JSON error: `{"error":"..."}`.
func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
    var o = JSONObject()
    o.add("error", message)
    return json(o.text, status: status)
}

func page(_ text: String, type: String, csp: String? = nil) -> Response {
    var headers = commonHeaders()
    headers[.contentType] = type
    if let csp { headers[.contentSecurityPolicy] = csp }
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
}

func commonHeaders() -> HTTPFields {
    var headers = HTTPFields()
    headers[.cacheControl] = "no-store"
    headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
    headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
    return headers
}

/// Runs `work` on the remote's own serial queue (speech, preset files): slow work that must
/// not hold an event loop.
private let workQueue = DispatchQueue(label: "stridecue.remote.work")
func onSpeechQueue<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        workQueue.async { continuation.resume(returning: work()) }
    }
}

/// Every API request must carry the token; an address that failed too often is refused first.
struct Guard: RouterMiddleware {
    typealias Context = RemoteContext
    let remote: CoachRemote

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/api/") else { return try await next(request, context) }
        if remote.limiter.isShutOut(context.peer) {
            return problem(.tooManyRequests, "too many failed attempts from this address; wait a minute")
        }
        if path == "/api/events" { return try await next(request, context) }
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
              remote.token.matches(authorization.dropFirst(7)) else {
            remote.limiter.fail(context.peer)
            var response = problem(.unauthorized, "missing or wrong token: send Authorization: Bearer TOKEN")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }
}
