import Dispatch
import CFileSync
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
import StrideCuePresets
import StrideCueLive

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
    /// A request head (its line and headers) larger than this is refused (431).
    static let headLimit = 16_384
    /// Open connections at once (more are answered 503); see `ConnectionCounter` for per address.
    static let connectionLimit = 512
    /// The routes anyone may load: the page and what it is made of. Every other route, the
    /// WebSocket and any path the router does not know need the token.
    static let publicRoutes: Set<String> = ["/", "/app.js", "/app.css"]
    /// Status pushes: checked this often; sent on a change, and at least once a second.
    static let tickMilliseconds = 40

    /// Starts listening on `host:port` (port 0: any free port) and returns once it listens.
    /// - Returns: the port it listens on.
    /// - Throws: a one-line `Failure` (exit 69) when the address cannot be listened on.
    public static func start(_ remote: CoachRemote, host: String, port: Int) throws -> Int {
        raiseDescriptorLimit()
        useOneMallocArena()
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
                configuration: .init(http1: .init(idleTimeout: .seconds(30)),
                                     ws: .init(maxFrameSize: 1 << 12, autoPing: .enabled(timePeriod: .seconds(20)))),
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
        Task.detached { await returnMemoryAfterCrowds(remote) }
        let boundPort = bound.withLock { $0 } ?? port
        remote.hostAllowList.listening(port: boundPort, printed: reachableHost(listeningOn: host))
        return boundPort
    }

    /// What a crowd of connections used, given back once it has gone. glibc gives each thread
    /// that allocates while another does an arena of its own (up to 8 per core); what a crowd
    /// frees stays in them, in free pieces between live ones that `malloc_trim` cannot return.
    /// With one arena (`M_ARENA_MAX`) the freed memory gathers at the top of one heap, where
    /// `malloc_trim` can return it, which it does two seconds after 64 connections have closed.
    /// Measured (`make bench`: 50 pages, 1,000 idle connections, then a flood of 3,000 bad
    /// requests and 2,000 half-open connections, all closed): RSS 1.36× idle 12 s after the
    /// flood with glibc's defaults, 1.18× with both. The playback thread never allocates, so it
    /// never waits on the arena's lock; the event loops and the speech thread share it.
    static let closedConnectionsToReturnMemory = 64

    /// See `closedConnectionsToReturnMemory`. First thing at the server's start, before its
    /// threads allocate.
    static func useOneMallocArena() {
        _ = mallopt(M_ARENA_MAX, 1)
    }

    /// See `closedConnectionsToReturnMemory`. Off the event loops, on a task of its own.
    static func returnMemoryAfterCrowds(_ remote: CoachRemote) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(2))
            if remote.connections.takeMemoryToReturn(atLeast: closedConnectionsToReturnMemory) {
                _ = malloc_trim(0)
            }
        }
    }

    /// Raises the soft limit on open descriptors towards the hard one (at most 4,096), so the
    /// connection limit is reached long before the process runs out of descriptors.
    static func raiseDescriptorLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = min(limit.rlim_max, 4_096)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }

    // MARK: Routes

    static func routes(_ router: Router<RemoteContext>, remote: CoachRemote, hub: Broadcaster) {
        router.add(middleware: Gate(remote: remote))
        router.get("/") { request, _ in
            page(Page.html, type: "text/html; charset=utf-8", csp: contentSecurityPolicy(request))
        }
        // HEAD of the page, as a browser or a link checker asks it: the page's headers, no body.
        router.head("/") { request, _ in
            var response = page(Page.html, type: "text/html; charset=utf-8", csp: contentSecurityPolicy(request))
            response.body = .init()
            return response
        }
        router.get("/app.js") { _, _ in page(Page.script, type: "text/javascript; charset=utf-8") }
        router.get("/app.css") { _, _ in page(Page.style, type: "text/css; charset=utf-8") }

        router.get("/api/status") { _, _ in json(text: remote.statusJSON()) }
        router.get("/api/library") { _, _ in json(LibraryAnswer(presets: remote.library())) }
        router.get("/api/plan.svg") { _, _ in
            guard let drill = remote.drill else { return problem(.notFound, "no drill is playing") }
            return page(drill.picture(cadence: drill.live.status.read().targetCadence).svg, type: "image/svg+xml")
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
            let text = body.text
            let rate = drill.rate
            let refused = await remote.say("say:" + text, in: drill) {
                await onSpeechQueue {
                    Result { try SpeechSynthesizer.shared.synthesize(text: text, outputRate: rate).samples }
                        .mapError { Refusal(status: .badRequest, message: "cannot say that: \(explain($0).message)") }
                }
            }
            if let refused { return problem(refused.status, refused.message) }
            return json(Taken())
        }
        router.post("/api/cue") { request, _ in
            let body: CueBody
            switch await decode(CueBody.self, request) {
            case .success(let b): body = b
            case .failure(let failed): return failed.response
            }
            guard let drill = remote.drill else { return problem(.conflict, "no drill is playing") }
            // Cues are counted from 1, as `preset show` and `preset cue` count them.
            let index = body.cue > 0 ? body.cue - 1 : -1  // (Int.min - 1 would trap)
            guard let sounds = drill.cues?.cues, sounds.indices.contains(index), let last = sounds[index].last else {
                return problem(.badRequest, "cue must be one of the drill's cues, from 1 to \(drill.plan.cues.count)")
            }
            // The words of a `both` cue (its last sound), or its only sound.
            let samples = last.samples
            let refused = await remote.say("cue:\(body.cue)", in: drill, level: drill.plan.cues[index].level) { .success(samples) }
            if let refused { return problem(refused.status, refused.message) }
            return json(Taken())
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
            return json(Taken())
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
            // Every number in its field's range before anything is written or formatted.
            if let refused = body.outOfRange() { return problem(.badRequest, refused + ". Nothing was changed.") }
            var changes: [String] = []
            if let v = body.cadence { changes.append("cadence=\(numberText(v))") }
            if let v = body.rampFrom { changes.append("ramp.from=\(numberText(v))") }
            if let v = body.rampSteps { changes.append("ramp.steps=\(v)") }
            if let v = body.rest { changes.append("rest=\(numberText(v)) s") }
            guard !changes.isEmpty else { return problem(.badRequest, "send cadence, rampFrom, rampSteps or rest") }
            let assignments = changes.compactMap { PresetAssignment(parsing: $0) }
            let preset = body.preset
            let outcome: Result<String, Error> = await onSpeechQueue { Result { try remote.save(preset, assignments) } }
            switch outcome {
            case .success(let report):
                // The page's picture of this drill shows what was saved.
                if let drill = remote.drill, drill.preset == preset {
                    drill.saved(.init(cadence: body.cadence, rampFrom: body.rampFrom, rampSteps: body.rampSteps, rest: body.rest))
                    remote.revision.add(1, ordering: .releasing)
                }
                return json(SavedAnswer(saved: report))
            case .failure(let error):
                return problem(.badRequest, explain(error).message)
            }
        }

        // Host, origin, token and the failure limit were checked by the one gate: before the
        // handshake on the connection (`ConnectionGate`, which answers 401, 403, 421 or 429 as
        // the API does), and again here by the router's middleware on the route it matched.
        router.ws("/api/events") { _, _ in
            .upgrade([:])
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

    static func command_(_ remote: CoachRemote, _ command: LiveCommand) -> Response {
        guard remote.drill != nil else { return problem(.conflict, "no drill is playing") }
        guard remote.send(command) else { return problem(.serviceUnavailable, "too many commands at once; try again") }
        return json(Taken())
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

    /// The first field out of its range, as one line; nil when all are in range.
    func outOfRange() -> String? {
        if let v = cadence, !PlanLimits.cadence.contains(v) { return "cadence must be from 30 to 300 steps per minute" }
        if let v = rampFrom, !PlanLimits.cadence.contains(v) { return "rampFrom must be from 30 to 300 steps per minute" }
        if let v = rampSteps, !PlanLimits.rampSteps.contains(v) { return "rampSteps must be from 1 to 100000" }
        if let v = rest, !PlanLimits.rest.contains(v) { return "rest must be from 0 to 3600 seconds" }
        return nil
    }
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
    } catch DecodingError.dataCorrupted(let c) where !c.codingPath.isEmpty {
        // A number too large for its field (1e19 steps): out of range, not a crash.
        let key = c.codingPath.map(\.stringValue).joined(separator: ".")
        return .failure(ResponseError(problem(.badRequest, "JSON \"\(key)\" is out of range")))
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

/// An answer of JSON: `value` as `jsonText` writes it, and a line feed.
func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
    json(text: jsonText(value), status: status)
}

/// An answer of JSON `jsonText` has written already (the status, which the WebSocket sends too).
func json(text: String, status: HTTPResponse.Status = .ok) -> Response {
    var headers = commonHeaders()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
}

/// A one-line JSON error: `{"error":"..."}`.
func problem(_ status: HTTPResponse.Status, _ message: String) -> Response {
    json(Refused(error: message), status: status)
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

/// The one gate, on the route the router matched (`context.endpointPath`, never the raw
/// path): every request's Host and Origin are checked, and anything but the public page
/// needs the token. See `CoachRemote.admit`.
struct Gate: RouterMiddleware {
    typealias Context = RemoteContext
    let remote: CoachRemote

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let isPublic = context.endpointPath.map { RemoteServer.publicRoutes.contains($0) } ?? false
        if let refused = remote.admit(GateRequest(request, isPublic: isPublic), peer: context.peer) {
            var response = problem(refused.status, refused.message)
            if refused.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
            return response
        }
        return try await next(request, context)
    }
}

extension GateRequest {
    init(_ request: Request, isPublic: Bool) {
        let fields = request.headers
        let target = request.head.path ?? ""
        self.init(
            method: request.method.rawValue,
            // The first Host header is the request's authority; any other stays a field.
            hosts: (request.head.authority.map { [$0] } ?? []) + fields[values: HTTPField.Name("Host")!],
            targetAuthority: absoluteFormAuthority(target),
            origins: fields[values: .origin],
            authorizations: fields[values: .authorization],
            contentTypes: fields[values: .contentType],
            query: target.firstIndex(of: "?").map { target[target.index(after: $0)...] },
            isWebSocket: fields[values: .upgrade].contains { $0.lowercased() == "websocket" },
            isPublic: isPublic)
    }
}

/// The authority of an absolute-form request target (`http://host:port/path`), else nil.
func absoluteFormAuthority(_ target: String) -> String? {
    guard !target.hasPrefix("/") else { return nil }
    let bytes = Array(target.utf8)
    guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes.count > colon + 2,
          bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/") else { return nil }
    let rest = bytes[(colon + 3)...]
    let end = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rest.endIndex
    return String(decoding: rest[..<end], as: UTF8.self)
}
