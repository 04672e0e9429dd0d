import CQREncode
import Glibc
import HTTPTypes
import StrideCueFiles
import Synchronization

/// The session's secret: 128 random bits from the kernel (`getrandom`), as 32 hex digits.
public struct RemoteToken: Sendable, Equatable {
    public let text: String

    /// A fresh token.
    /// - Throws: `RemoteError` naming `getrandom` when the kernel gives no random bytes.
    public static func fresh() throws -> RemoteToken {
        var bytes = [UInt8](repeating: 0, count: 16)
        var filled = 0
        while filled < bytes.count {
            let n = try bytes.withUnsafeMutableBytes { raw in
                try systemCall("getrandom") { getrandom(raw.baseAddress! + filled, raw.count - filled, 0) }
            }
            filled += n
        }
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        for b in bytes {
            hex.append(digits[Int(b >> 4)])
            hex.append(digits[Int(b & 15)])
        }
        return RemoteToken(text: String(decoding: hex, as: UTF8.self))
    }

    init(text: String) { self.text = text }

    /// True when `candidate` is the token. Takes the same time whatever the two have in
    /// common, so the time of a wrong guess tells nothing about the right one.
    public func matches(_ candidate: Substring) -> Bool {
        let a = Array(text.utf8)
        let b = Array(candidate.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<a.count {
            difference |= a[i] ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}

/// Counts failed logins per address; more than `limit` within a minute and a wrong token from
/// that address is answered 429 at once, until its failures age past the minute. A request
/// that carries the right token is never refused for its address: a flood of bad attempts
/// from a page the coach's phone opened (or from behind the same address) costs the coach nothing.
final class FailureLimiter: Sendable {
    static let limit = 10
    static let window = 60.0
    private let failures = Mutex<[String: [Double]]>([:])

    /// Notes a failure from `address`.
    func fail(_ address: String, now: Double = monotonicSeconds()) {
        failures.withLock { table in
            var times = table[address, default: []].filter { now - $0 < Self.window }
            if times.count <= Self.limit * 4 { times.append(now) }
            table[address] = times
            // Forget addresses that went quiet, so a scan of many addresses cannot grow the table for ever.
            if table.count > 4_096 { table = table.filter { $0.value.contains { now - $0 < Self.window } } }
        }
    }

    /// True when `address` failed more than `limit` times in the last minute.
    func isShutOut(_ address: String, now: Double = monotonicSeconds()) -> Bool {
        failures.withLock { table in
            (table[address]?.filter { now - $0 < Self.window }.count ?? 0) > Self.limit
        }
    }
}

// MARK: The one gate

/// What the gate looks at in a request, whichever layer saw it (the router's middleware for
/// HTTP, the connection's first handler for a WebSocket handshake): both ask `CoachRemote.admit`.
struct GateRequest {
    var method: String
    /// The Host header (all of them: more than one is refused).
    var hosts: [String]
    /// The authority of an absolute-form request target (`GET http://host/path`), if any.
    var targetAuthority: String?
    var origins: [String]
    var authorizations: [String]
    var contentTypes: [String]
    /// The request target's query, for a WebSocket handshake's `token`.
    var query: Substring?
    var isWebSocket: Bool
    /// The router matched an explicitly public route (the page, its script and style).
    var isPublic: Bool
}

/// Why a request is refused: its status and one line for `{"error": ...}`.
struct Refusal: Error {
    var status: HTTPResponse.Status
    var message: String
}

extension CoachRemote {
    /// The one gate every request passes, before any route runs:
    /// 1. the Host header must name this server (the printed address, localhost or one of the
    ///    machine's own addresses, with the port listened on): else 421 (DNS rebinding);
    /// 2. a browser's Origin, when sent, must be this server's own: else 403;
    /// 3. what is not explicitly public needs the session's token (401; 429 for a wrong one
    ///    from an address that failed too often; the right one always passes);
    /// 4. a request that changes state must say `Content-Type: application/json`, which no
    ///    other page can send without a CORS preflight (and a preflight gets 401): else 415.
    func admit(_ request: GateRequest, peer: String) -> Refusal? {
        guard request.hosts.count == 1, hostAllowList.allows(request.hosts[0]),
              request.targetAuthority.map { hostAllowList.allows($0) } ?? true else {
            return Refusal(status: .misdirectedRequest,
                           message: "this server answers only to its own address (\(hostAllowList.printed)); check the URL")
        }
        if request.origins.count > 1 || request.origins.contains(where: { !hostAllowList.allows(origin: $0) }) {
            return Refusal(status: .forbidden, message: "requests from another page's origin are refused")
        }
        if request.isPublic && !request.isWebSocket { return nil }
        guard let token = presentedToken(request), self.token.matches(token) else {
            if limiter.isShutOut(peer) {
                return Refusal(status: .tooManyRequests, message: "too many failed attempts from this address; wait a minute")
            }
            limiter.fail(peer)
            return Refusal(status: .unauthorized, message: request.isWebSocket
                ? "missing or wrong token: open /api/events?token=TOKEN"
                : "missing or wrong token: send Authorization: Bearer TOKEN")
        }
        if request.method != "GET" && request.method != "HEAD" {
            guard request.contentTypes.count == 1, isJSON(request.contentTypes[0]) else {
                return Refusal(status: .unsupportedMediaType, message: "send the body as JSON, with Content-Type: application/json")
            }
        }
        return nil
    }

    /// The token a request presents: one `Authorization: Bearer TOKEN` (the scheme in any
    /// case), or, for a WebSocket handshake (browsers cannot set its headers), one `token`
    /// query parameter. Two of either, or both that differ, present none: the gate and the
    /// routes never read a repeated token differently.
    func presentedToken(_ request: GateRequest) -> Substring? {
        var found: [Substring] = []
        for value in request.authorizations {
            let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            found.append(parts[1].drop { $0 == " " })
        }
        var parameters = 0
        if request.isWebSocket, let query = request.query {
            for pair in query.split(separator: "&") {
                let name = pair.prefix { $0 != "=" }
                guard name == "token" else { continue }
                found.append(pair.dropFirst(name.count + 1))
                parameters += 1
            }
        }
        guard let first = found.first, found.allSatisfy({ $0 == first }),
              request.authorizations.count <= 1, parameters <= 1 else { return nil }
        return first
    }

    private func isJSON(_ contentType: String) -> Bool {
        let media = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: " \t") } ?? ""
        return media.lowercased() == "application/json"
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}

/// The names a request's Host (and a browser's Origin) may give: the address printed for the
/// coach, localhost, and the machine's own addresses, each with the port listened on. Anything
/// else is a page that got here by another name (DNS rebinding) or a misdirected request.
final class HostAllowList: Sendable {
    private struct State {
        var port = -1
        var printed = ""
        var names: Set<String> = ["localhost", "127.0.0.1", "::1"]
        var readAt = -1e9
    }
    private let state = Mutex(State())

    /// The server listens on `port` and printed `host` for the coach.
    func listening(port: Int, printed host: String) {
        state.withLock {
            $0.port = port
            $0.printed = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            $0.names.insert(host.lowercased())
        }
        refresh(force: true)
    }

    var printed: String { state.withLock { $0.printed } }

    /// True when `authority` (`host:port`, `[v6]:port`, or a host alone for port 80) names this server.
    func allows(_ authority: String) -> Bool {
        guard let (host, port) = Self.split(authority) else { return false }
        let known = state.withLock { s in s.port >= 0 && port == s.port && s.names.contains(host) }
        if known { return true }
        // An address the machine gained since (a phone hotspot, a new DHCP lease): look again,
        // at most once every few seconds.
        guard refresh(force: false) else { return false }
        return state.withLock { s in s.port >= 0 && port == s.port && s.names.contains(host) }
    }

    /// True when a browser's `Origin` is this server's own page (`http://` and an allowed authority).
    func allows(origin: String) -> Bool {
        guard origin.lowercased().hasPrefix("http://") else { return false }
        let authority = origin.dropFirst("http://".count)
        guard !authority.contains("/") else { return false }
        return allows(String(authority))
    }

    /// Host and port of an authority, lower-cased; nil when it is not one.
    static func split(_ authority: String) -> (String, Int)? {
        let text = authority.lowercased()
        var host: Substring
        var rest: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            rest = text[text.index(after: close)...]
        } else {
            let colon = text.firstIndex(of: ":") ?? text.endIndex
            host = text[..<colon]
            rest = text[colon...]
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" }) else { return nil }
        if rest.isEmpty { return (String(host), 80) }
        guard rest.first == ":", rest.count >= 2, rest.count <= 6, rest.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }),
              let port = Int(rest.dropFirst()) else { return nil }
        return (String(host), port)
    }

    /// Reads the machine's interface addresses again (not more than every 5 s unless forced).
    @discardableResult
    private func refresh(force: Bool) -> Bool {
        let now = monotonicSeconds()
        let due = state.withLock { s -> Bool in
            guard force || now - s.readAt >= 5 else { return false }
            s.readAt = now
            return true
        }
        guard due else { return false }
        let found = interfaceAddresses()
        state.withLock { $0.names.formUnion(found) }
        return true
    }
}

/// The IPv4 and IPv6 addresses of the machine's interfaces, as text (IPv6 without a zone).
func interfaceAddresses() -> Set<String> {
    var list: UnsafeMutablePointer<ifaddrs>? = nil
    guard getifaddrs(&list) == 0 else { return [] }
    defer { freeifaddrs(list) }
    var found: Set<String> = []
    var entry = list
    while let e = entry {
        defer { entry = e.pointee.ifa_next }
        guard let address = e.pointee.ifa_addr else { continue }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok: Bool
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            ok = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                var a = inet.pointee.sin_addr
                return inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) != nil
            }
        case AF_INET6:
            ok = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet in
                var a = inet.pointee.sin6_addr
                return inet_ntop(AF_INET6, &a, &text, socklen_t(text.count)) != nil
            }
        default:
            ok = false
        }
        if ok { found.insert(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased()) }
    }
    return found
}

/// Open connections, in all and per source address. Past the limit per address a new
/// connection is answered 503 and closed. At the limit in all, the oldest connection that has
/// not yet sent a whole request head makes room (a flood of idle or half-open connections
/// cannot keep the coach's phone out); when every one has spoken, the new one gets 503. A
/// connection that sends no request head within `firstRequestSeconds` is closed.
final class ConnectionCounter: Sendable {
    /// At most this many connections at once, and this many from one address (a phone opens
    /// about 6 and a WebSocket).
    let total: Int
    static let perSource = 64
    static let firstRequestSeconds: Int64 = 10

    private struct Table {
        var all = 0
        var by: [String: Int] = [:]
        var next = 0
        /// Admitted connections that have not sent a request head yet, oldest first (ids rise).
        var silent: [Int: @Sendable () -> Void] = [:]
        /// Connections closed since the memory they used was last given back.
        var closedSinceReturn = 0
    }
    private let open = Mutex(Table())

    init(total: Int) { self.total = total }

    /// Counts a new connection from `peer`: its id, or why it is refused. `close` closes it,
    /// should it be the oldest silent one when room is needed.
    func admit(_ peer: String, close: @escaping @Sendable () -> Void) -> Result<Int, Refusal> {
        var evicted: (@Sendable () -> Void)? = nil
        let result = open.withLock { o -> Result<Int, Refusal> in
            if o.by[peer, default: 0] >= Self.perSource {
                return .failure(Refusal(status: .serviceUnavailable,
                                        message: "too many connections from this address (\(Self.perSource)); close some and try again"))
            }
            if o.all >= total {
                guard let oldest = o.silent.keys.min() else {
                    return .failure(Refusal(status: .serviceUnavailable,
                                            message: "too many connections to the coach's remote (\(total)); try again in a moment"))
                }
                evicted = o.silent.removeValue(forKey: oldest)
            }
            o.all += 1
            o.by[peer, default: 0] += 1
            let id = o.next
            o.next += 1
            o.silent[id] = close
            return .success(id)
        }
        evicted?()
        return result
    }

    /// Connection `id` sent its first request head: it is no longer evicted to make room.
    func spoke(_ id: Int) {
        open.withLock { _ = $0.silent.removeValue(forKey: id) }
    }

    /// Admitted connection `id` from `peer` closed.
    func closed(_ id: Int, _ peer: String) {
        open.withLock { o in
            o.silent.removeValue(forKey: id)
            o.all -= 1
            let left = o.by[peer, default: 1] - 1
            o.by[peer] = left > 0 ? left : nil
            o.closedSinceReturn += 1
        }
    }

    /// Whether enough connections closed since the last time to give their memory back to the
    /// system (`RemoteServer.returnMemoryAfterCrowds`); counts afresh from here when it says
    /// yes. A few pages coming and going never ask; a crowd that closed does, once.
    func takeMemoryToReturn(atLeast closed: Int) -> Bool {
        open.withLock { o in
            guard o.closedSinceReturn >= closed else { return false }
            o.closedSinceReturn = 0
            return true
        }
    }

    var count: Int { open.withLock { $0.all } }
}

