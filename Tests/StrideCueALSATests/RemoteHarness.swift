import Foundation
import Glibc
import Testing

// Driving the coach's remote as a phone or a script would: the real binary, plain HTTP/1.1
// and WebSocket frames over loopback sockets (no client library in between, so every byte the
// server answers is what the test sees).

/// `stridecue play --remote` or `stridecue coach` running in the background, with the URL it printed.
final class RemoteRun: @unchecked Sendable {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    let port: UInt16
    let token: String
    let url: String

    init(_ arguments: [String], _ environment: ALSATestEnvironment, extraEnvironment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: try stridecueBinary(environment))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["STRIDECUE_DATA"] = playPackageRoot
        for (key, value) in extraEnvironment { env[key] = value }
        process.environment = env
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The first line: "Coach remote: http://127.0.0.1:PORT/#token=TOKEN".
        var line: [UInt8] = []
        let handle = output.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty || byte.first == UInt8(ascii: "\n") { break }
            line.append(byte.first!)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("Coach remote: http://127.0.0.1:"), let hash = text.range(of: "/#token=") else {
            throw ALSATestEnvironment.SetupFailure(description: "no remote URL printed: '\(text)'")
        }
        url = String(text.dropFirst("Coach remote: ".count))
        port = UInt16(text[text.index(text.startIndex, offsetBy: "Coach remote: http://127.0.0.1:".count)..<hash.lowerBound]) ?? 0
        token = String(text[hash.upperBound...])
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// `stridecue play --spm 180` for `seconds` on the paced card (or `device`), steered only
    /// through the remote on a free port.
    static func playing(seconds: Int, _ environment: ALSATestEnvironment, device: String = "paced",
                        extraEnvironment: [String: String] = [:]) throws -> RemoteRun {
        try RemoteRun(["play", "--spm", "180", "--duration", "\(seconds)s", "--device", device, "--no-keys", "--remote", "0"],
                      environment, extraEnvironment: extraEnvironment)
    }

    /// `stridecue coach` on the paced card (or `device`), waiting for the page to start a drill;
    /// with `home`, the user's presets are read and written there (XDG_CONFIG_HOME).
    static func coach(_ environment: ALSATestEnvironment, device: String = "paced", home: String? = nil,
                      extraEnvironment: [String: String] = [:]) throws -> RemoteRun {
        var extra = extraEnvironment
        if let home { extra["XDG_CONFIG_HOME"] = home }
        return try RemoteRun(["coach", "--remote", "0", "--device", device, "--no-keys"], environment, extraEnvironment: extra)
    }

    /// Interrupts the session as Ctrl-C would (SIGINT) and waits for its end.
    func interrupt() -> (status: Int32, stderr: String) {
        kill(process.processIdentifier, SIGINT)
        return finish()
    }

    /// Waits for the process to end and returns its exit status and standard error.
    func finish() -> (status: Int32, stderr: String) {
        let complained = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: complained, as: UTF8.self))
    }

    /// - Parameter source: the loopback address to send from (127.0.0.x: another device).
    func request(_ method: String, _ path: String, json: String? = nil, token: String?? = .none,
                 headers: [String] = [], from source: String? = nil) throws -> HTTPAnswer {
        let connection = try HTTPConnection(port: port, from: source)
        let bearer = token ?? self.token
        return try connection.send(method, path, json: json, headers: headers + (bearer.map { ["Authorization: Bearer \($0)"] } ?? []))
    }

    /// The status, decoded.
    func status() throws -> [String: Any] {
        let answer = try request("GET", "/api/status")
        try #require(answer.status == 200, "status: \(answer.status) \(answer.body)")
        return try #require(JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
    }

    /// Polls the status until `done` says so, for at most `seconds`.
    func wait(seconds: Double, until done: ([String: Any]) -> Bool) throws -> [String: Any] {
        let deadline = monotonicNow() + seconds
        var last: [String: Any] = [:]
        while monotonicNow() < deadline {
            last = try status()
            if done(last) { return last }
            usleep(20_000)
        }
        return last
    }
}

struct HTTPAnswer {
    var status: Int
    var headers: [String: String]
    var body: String
}

/// One TCP connection to the remote on loopback.
final class HTTPConnection: @unchecked Sendable {
    let socket: Int32
    let port: UInt16
    private var buffered: [UInt8] = []

    /// - Parameter source: the loopback address to connect from (127.0.0.x: another "device").
    init(port: UInt16, from source: String? = nil) throws {
        self.port = port
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw ALSATestEnvironment.SetupFailure(description: "bind \(source): errno \(errno)") }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ALSATestEnvironment.SetupFailure(description: "connect: errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(socket) }

    /// How long a read waits before it gives up (10 s unless set).
    func setReceiveTimeout(seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func write(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Reads exactly `count` bytes, or fewer at the end of the stream.
    func read(_ count: Int) -> [UInt8] {
        while buffered.count < count {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = recv(socket, &chunk, chunk.count, 0)
            if n <= 0 { break }
            buffered += chunk[0..<n]
        }
        let taken = Array(buffered.prefix(count))
        buffered.removeFirst(taken.count)
        return taken
    }

    func readLine() -> String? {
        var line: [UInt8] = []
        while true {
            let byte = read(1)
            guard let b = byte.first else { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if b == UInt8(ascii: "\n") { break }
            if b != UInt8(ascii: "\r") { line.append(b) }
        }
        return String(decoding: line, as: UTF8.self)
    }

    func send(_ method: String, _ path: String, json: String? = nil, headers: [String] = [], rawBody: [UInt8]? = nil) throws -> HTTPAnswer {
        let body = rawBody ?? Array((json ?? "").utf8)
        let has = { (name: String) in headers.contains { $0.lowercased().hasPrefix(name + ":") } }
        // The Host a browser sends for the printed URL, unless the test sends its own.
        var head = "\(method) \(path) HTTP/1.1\r\n" + (has("host") ? "" : "Host: 127.0.0.1:\(port)\r\n")
        for header in headers { head += header + "\r\n" }
        // A state change says it is JSON (the gate refuses anything else), unless the test says otherwise.
        if (json != nil || rawBody != nil || method == "POST") && !has("content-type") { head += "Content-Type: application/json\r\n" }
        if json != nil || rawBody != nil { head += "Content-Length: \(body.count)\r\n" }
        else if method == "POST" { head += "Content-Length: 0\r\n" }
        head += "\r\n"
        write(Array(head.utf8) + body)
        return try readAnswer()
    }

    func readAnswer() throws -> HTTPAnswer {
        guard let statusLine = readLine() else { throw ALSATestEnvironment.SetupFailure(description: "connection closed") }
        let parts = statusLine.split(separator: " ")
        let status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        var headers: [String: String] = [:]
        while let line = readLine(), !line.isEmpty {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        return HTTPAnswer(status: status, headers: headers, body: String(decoding: read(length), as: UTF8.self))
    }
}

/// A WebSocket client: the opening handshake, masked text frames out, frames in.
final class WebSocketClient: @unchecked Sendable {
    let connection: HTTPConnection
    let answer: HTTPAnswer

    init(port: UInt16, path: String, origin: String? = nil, authorization: String? = nil, host: String? = nil,
         from source: String? = nil) throws {
        connection = try HTTPConnection(port: port, from: source)
        var head = "GET \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if let origin { head += "Origin: \(origin)\r\n" }
        if let authorization { head += "Authorization: \(authorization)\r\n" }
        connection.write(Array((head + "\r\n").utf8))
        answer = try connection.readAnswer()
    }

    var upgraded: Bool { answer.status == 101 }

    func sendText(_ text: String) {
        let payload = Array(text.utf8)
        precondition(payload.count < 126)
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        var frame: [UInt8] = [0x81, 0x80 | UInt8(payload.count)] + mask
        for (i, b) in payload.enumerated() { frame.append(b ^ mask[i % 4]) }
        connection.write(frame)
    }

    /// The next text message, or nil when the server closed (or sent a close frame).
    func nextText() -> String? {
        while true {
            let head = connection.read(2)
            guard head.count == 2 else { return nil }
            var length = Int(head[1] & 0x7F)
            if length == 126 {
                let l = connection.read(2)
                length = Int(l[0]) << 8 | Int(l[1])
            } else if length == 127 {
                length = connection.read(8).reduce(0) { $0 << 8 | Int($1) }
            }
            let payload = connection.read(length)
            switch head[0] & 0x0F {
            case 0x1: return String(decoding: payload, as: UTF8.self)
            case 0x8: return nil
            case 0x9:  // ping: answer with a pong of the same payload
                let mask: [UInt8] = [1, 2, 3, 4]
                var frame: [UInt8] = [0x8A, 0x80 | UInt8(payload.count)] + mask
                for (i, b) in payload.enumerated() { frame.append(b ^ mask[i % 4]) }
                connection.write(frame)
            default: continue
            }
        }
    }
}

func jsonObject(_ text: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}
