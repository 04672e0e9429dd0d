import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The HTTP/1 server with the WebSocket upgrade, with `ConnectionGate` first on every
/// connection: it counts the connection against the limits, closes one that sends no request,
/// answers oversized or malformed heads, and puts a WebSocket handshake through the one gate
/// before HummingbirdWebSocket sees it (which answers every refused upgrade 400, whatever the
/// reason: the gate answers 401, 403, 421 or 429 as the API does).
struct GatedWebSocketChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value
    let inner: HTTP1WebSocketUpgradeChannel
    let remote: CoachRemote

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let remote = self.remote
        let peer = channel.remoteAddress?.ipAddress ?? "?"
        let admitted = remote.connections.admit(peer, close: { channel.close(promise: nil) })
        if case .success(let id) = admitted {
            channel.closeFuture.whenComplete { _ in remote.connections.closed(id, peer) }
        }
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let upgrader = try operations.handler(type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            try operations.addHandler(ConnectionGate(remote: remote, peer: peer, admitted: admitted), position: .before(upgrader))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with the WebSocket upgrade behind `WebSocketGate`.
    static func gatedWebSocketUpgrade(
        webSocketRouter: Router<RemoteContext>, configuration: HTTP1WebSocketUpgradeChannel.Configuration, remote: CoachRemote
    ) -> HTTPServerBuilder {
        let webSocketResponder = webSocketRouter.buildResponder()
        return .init { responder in
            GatedWebSocketChannel(
                inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder,
                                                    configuration: configuration),
                remote: remote)
        }
    }
}

/// First on every connection, right after the HTTP decoder:
/// - a connection past the limits (`admitted`) gets 503 to its first request, then is closed;
/// - a connection that sends no request head within `ConnectionCounter.firstRequestSeconds`
///   is closed (half-open connections do not pile up);
/// - a head larger than `RemoteServer.headLimit` gets 431, one the decoder cannot read 431
///   (headers past its own limit) or 400, and the connection is closed;
/// - a WebSocket handshake passes only if the one gate (`CoachRemote.admit`) lets it, whatever
///   its path: no WebSocket is public. Once upgraded, frames pass untouched.
final class ConnectionGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let remote: CoachRemote
    private let peer: String
    /// The connection's id, or why it was refused (answered to its first request).
    private let admitted: Result<Int, Refusal>
    private var sawHead = false
    private var upgrading = false
    private var closing = false
    private var timeout: Scheduled<Void>?

    init(remote: CoachRemote, peer: String, admitted: Result<Int, Refusal>) {
        self.remote = remote
        self.peer = peer
        self.admitted = admitted
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        var seconds: Int64 = 2
        if case .success = admitted { seconds = ConnectionCounter.firstRequestSeconds }
        timeout = context.eventLoop.scheduleTask(in: .seconds(seconds)) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if upgrading {
            context.fireChannelRead(data)
            return
        }
        if closing { return }
        guard case .head(let head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        let first = !sawHead
        sawHead = true
        timeout?.cancel()
        timeout = nil
        switch admitted {
        case .failure(let refused):
            answer(context, HTTPResponseStatus(statusCode: refused.status.code), refused.message)
            return
        case .success(let id):
            if first { remote.connections.spoke(id) }
        }
        let size = head.uri.utf8.count + head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
        if size > RemoteServer.headLimit {
            answer(context, .requestHeaderFieldsTooLarge, "request line and headers larger than \(RemoteServer.headLimit) bytes")
            return
        }
        // An absolute-form target (`GET http://host/path`) names the server it is for: that
        // authority must be this server's too (HTTP types keep only its path for the router).
        if let authority = absoluteFormAuthority(head.uri), !remote.hostAllowList.allows(authority) {
            answer(context, .misdirectedRequest,
                   "this server answers only to its own address (\(remote.hostAllowList.printed)); check the URL")
            return
        }
        if head.headers["upgrade"].contains(where: { $0.lowercased() == "websocket" }) {
            // Only a connection's first request may upgrade (NIO's upgrader); a later one is plain HTTP.
            if first {
                if let refused = remote.admit(GateRequest(webSocket: head), peer: peer) {
                    answer(context, HTTPResponseStatus(statusCode: refused.status.code), refused.message,
                           bearer: refused.status == .unauthorized)
                    return
                }
                upgrading = true
            }
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !upgrading, !closing, let parser = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if case .headerOverflow = parser {
            answer(context, .requestHeaderFieldsTooLarge, "request line and headers larger than \(RemoteServer.headLimit) bytes")
        } else {
            answer(context, .badRequest, "not an HTTP/1.1 request this server can read")
        }
    }

    /// Answers with a one-line JSON error and closes the connection.
    private func answer(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ message: String, bearer: Bool = false) {
        closing = true
        let body = context.channel.allocator.buffer(string: jsonText(Refused(error: message)) + "\n")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        if bearer { headers.add(name: "WWW-Authenticate", value: "Bearer") }
        if status == .serviceUnavailable { headers.add(name: "Retry-After", value: "5") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        let channel = context.channel
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
}

extension GateRequest {
    /// A WebSocket handshake's head, as the connection's first handler sees it.
    init(webSocket head: HTTPRequestHead) {
        let uri = head.uri
        let fields = head.headers
        self.init(
            method: head.method.rawValue,
            hosts: fields["host"],
            targetAuthority: absoluteFormAuthority(uri),
            origins: fields["origin"],
            authorizations: fields["authorization"],
            contentTypes: fields["content-type"],
            query: uri.firstIndex(of: "?").map { uri[uri.index(after: $0)...] },
            isWebSocket: true,
            isPublic: false)
    }
}
