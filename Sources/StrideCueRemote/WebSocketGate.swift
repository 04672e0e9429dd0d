import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The HTTP/1 server with the WebSocket upgrade, and a gate in front of the upgrade: a
/// handshake to `/api/events` without the session's token, or with a wrong one, is answered
/// 401 (as any API call would be), from another page's origin 403, from an address shut out
/// 429, and the connection closed. HummingbirdWebSocket answers every refused upgrade 400
/// whatever the reason, so the refusal happens here, before it sees the request.
struct GatedWebSocketChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value
    let inner: HTTP1WebSocketUpgradeChannel
    let remote: CoachRemote

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let remote = self.remote
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let upgrader = try operations.handler(type: NIOTypedHTTPServerUpgradeHandler<HTTP1WebSocketUpgradeChannel.UpgradeResult>.self)
            try operations.addHandler(WebSocketGate(remote: remote, peer: channel.remoteAddress?.ipAddress ?? "?"),
                                      position: .before(upgrader))
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

/// Looks at the first request's head on a connection: a WebSocket handshake to `/api/events`
/// passes only with the token (`token` query parameter or `Authorization: Bearer`) and from
/// the page's own origin (or no browser origin at all). Anything else passes untouched.
/// Steps out of the pipeline once it let a head through.
final class WebSocketGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let remote: CoachRemote
    private let peer: String
    private var refused = false

    init(remote: CoachRemote, peer: String) {
        self.remote = remote
        self.peer = peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refused { return }
        guard case .head(let head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        if let (status, message) = refusal(head) {
            refused = true
            refuse(context: context, status: status, message: message)
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// Why this head is refused, or nil to let it through.
    func refusal(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String)? {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let upgrade = head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
        guard upgrade, path == "/api/events" else { return nil }
        if remote.limiter.isShutOut(peer) {
            return (.tooManyRequests, "too many failed attempts from this address; wait a minute")
        }
        var token: Substring? = nil
        if let query = head.uri.split(separator: "?", maxSplits: 1).dropFirst().first {
            for pair in query.split(separator: "&") where pair.hasPrefix("token=") {
                token = pair.dropFirst("token=".count)
            }
        }
        if token == nil, let authorization = head.headers.first(name: "authorization"), authorization.hasPrefix("Bearer ") {
            token = Substring(authorization.dropFirst("Bearer ".count))
        }
        guard let token, remote.token.matches(token) else {
            remote.limiter.fail(peer)
            return (.unauthorized, "missing or wrong token: open /api/events?token=TOKEN")
        }
        if let origin = head.headers.first(name: "origin"), origin != "http://" + (head.headers.first(name: "host") ?? "") {
            return (.forbidden, "WebSocket from another origin")
        }
        return nil
    }

    private func refuse(context: ChannelHandlerContext, status: HTTPResponseStatus, message: String) {
        var o = JSONObject()
        o.add("error", message)
        let body = context.channel.allocator.buffer(string: o.text + "\n")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        if status == .unauthorized { headers.add(name: "WWW-Authenticate", value: "Bearer") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        let channel = context.channel
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
}
