import Foundation
import Glibc
import Synchronization
import Testing
import StrideCueTestSupport

extension ALSATests {
    /// The coach's remote probed as someone else on the club's Wi-Fi would: the real binary on
    /// the paced fake card, raw HTTP/1.1 over loopback (so every byte sent is the test's own).
    @Suite("The coach's remote, attacked")
    struct RemoteSecurityTests {
        /// Every route of the API, with a body that would act if it got through.
        static let routes: [(method: String, path: String, json: String?)] = [
            ("GET", "/api/status", nil), ("GET", "/api/library", nil), ("GET", "/api/plan.svg", nil),
            ("GET", "/api/events", nil),
            ("POST", "/api/cadence", "{\"spm\":30}"), ("POST", "/api/pause", "{}"), ("POST", "/api/resume", "{}"),
            ("POST", "/api/next", "{}"), ("POST", "/api/stop", "{}"), ("POST", "/api/say", "{\"text\":\"hello\"}"),
            ("POST", "/api/cue", "{\"cue\":0}"), ("POST", "/api/start", "{\"preset\":\"strides\"}"),
            ("POST", "/api/preset", "{\"preset\":\"bum-kicks\",\"cadence\":31}"),
        ]

        /// Ways of spelling `/api/NAME` that a router, a proxy or a browser may fold onto it.
        static func spellings(_ path: String, port: UInt16, token: String) -> [String] {
            let name = String(path.dropFirst("/api/".count))
            let first = name.unicodeScalars.first!.value
            let encodedName = String(format: "%%%02X", first) + name.dropFirst()
            return [
                path, "/" + path, "/api//" + name, "//api//" + name, "/./api/" + name, "/api/./" + name,
                "/api/../api/" + name, "/x/../api/" + name, "/api/" + name + "/..//api/" + name,
                "/%61pi/" + name, "/api/" + encodedName, "/api%2F" + name, "/%2Fapi/" + name,
                "/API/" + name, "/Api/" + name.capitalized, "/api/" + name.uppercased(),
                "/api/" + name + "/", "/api/" + name + "//", "/api/" + name + "/.", "/api/" + name + "?",
                "/api/" + name + "#x", "/api/" + name + ";x", "/api/" + name + "?token=" + token,
                "http://127.0.0.1:\(port)/api/" + name, "HTTP://127.0.0.1:\(port)//api/" + name,
            ]
        }

        // MARK: 1. One gate, on the path the router uses

        @Test("every route in every path spelling, without the token: 401 or 404 (or 400), never 2xx, and nothing changes")
        func pathSpellingsNeedTheToken() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let run = try RemoteRun.coach(environment, home: folder.path)
            var tried = 0
            var reachedWithToken = Set<String>()
            // Each attempt from another loopback address, so the failure limit (10 a minute from
            // one address, 429) never answers in the gate's place.
            func source() -> String { "127.0.1.\(tried % 250 + 1)" }
            for route in Self.routes {
                for spelling in Self.spellings(route.path, port: run.port, token: run.token) {
                    let answer = try run.request(route.method, spelling, json: route.json, token: .some(nil), from: source())
                    tried += 1
                    #expect([400, 401, 404].contains(answer.status), "\(route.method) \(spelling): \(answer.status) \(answer.body)")
                    #expect(!(200..<300).contains(answer.status))
                    // The same spelling with the token, read-only routes only: which spellings the
                    // router folds onto a route (so the table above is not testing 404s alone).
                    if route.method == "GET" && route.path != "/api/events" {
                        let withToken = try run.request("GET", spelling)
                        if withToken.status == 200 { reachedWithToken.insert(spelling) }
                    }
                }
                // The WebSocket the same way: no spelling upgrades without the token.
                if route.path == "/api/events" {
                    for spelling in Self.spellings(route.path, port: run.port, token: "0123456789abcdef0123456789abcdef") {
                        let socket = try WebSocketClient(port: run.port, path: spelling, from: source())
                        tried += 1
                        #expect(!socket.upgraded && [400, 401, 404].contains(socket.answer.status), "WS \(spelling): \(socket.answer)")
                    }
                }
            }
            #expect(tried > 300)
            #expect(reachedWithToken.contains("//api//status") || reachedWithToken.contains("/api/status/"),
                    "some spellings do reach a route (with the token): \(reachedWithToken.sorted())")
            // Nothing acted: no drill started, no preset written.
            #expect(try run.status()["state"] as? String == "idle")
            #expect(!FileManager.default.fileExists(atPath: folder.file("stridecue/presets/bum-kicks.yaml")))
            #expect(run.interrupt().status == 130)
        }

        // MARK: 2. Requests from other pages cannot act

        @Test("a Host that is not this server is 421; another page's Origin 403; a state change needs JSON (415)")
        func hostOriginAndContentType() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try RemoteRun.playing(seconds: 4, environment)
            let port = run.port
            for host in ["evil.example:\(port)", "127.0.0.1", "127.0.0.1:\(port + 1)", "127.0.0.1.evil.example:\(port)", "",
                         "127.0.0.1:\(port)@evil.example"] {
                let answer = try run.request("GET", "/api/status", headers: ["Host: \(host)"])
                #expect(answer.status == 421, "Host: '\(host)': \(answer.status) \(answer.body)")
                #expect(answer.body.contains("its own address"))
                let page = try run.request("GET", "/", token: .some(nil), headers: ["Host: \(host)"])
                #expect(page.status == 421, "the page too, for '\(host)'")
            }
            // Two Host headers, or an absolute-form target naming another server.
            #expect(try run.request("GET", "/api/status", headers: ["Host: 127.0.0.1:\(port)", "Host: evil.example"]).status == 421)
            #expect(try run.request("GET", "http://evil.example/api/status").status == 421)
            // localhost and the loopback address by name are this machine.
            #expect(try run.request("GET", "/api/status", headers: ["Host: localhost:\(port)"]).status == 200)
            #expect(try run.request("GET", "/api/status", headers: ["Host: LOCALHOST:\(port)"]).status == 200)
            // A WebSocket from a rebound name, or from another page's origin.
            let rebound = try WebSocketClient(port: port, path: "/api/events?token=\(run.token)", host: "evil.example:\(port)")
            #expect(!rebound.upgraded && rebound.answer.status == 421, "\(rebound.answer)")
            let stranger = try WebSocketClient(port: port, path: "/api/events?token=\(run.token)", origin: "http://evil.example:\(port)")
            #expect(!stranger.upgraded && stranger.answer.status == 403)
            let sameHostOtherPort = try WebSocketClient(port: port, path: "/api/events?token=\(run.token)", origin: "http://127.0.0.1:\(port + 1)")
            #expect(!sameHostOtherPort.upgraded && sameHostOtherPort.answer.status == 403)
            let own = try WebSocketClient(port: port, path: "/api/events?token=\(run.token)", origin: "http://localhost:\(port)")
            #expect(own.upgraded)
            // Another page's Origin on an API call, even with the token.
            let foreign = try run.request("POST", "/api/cadence", json: "{\"delta\":1}", headers: ["Origin: http://evil.example"])
            #expect(foreign.status == 403)
            // What a cross-origin form or `fetch` can send without a preflight is refused.
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                let answer = try run.request("POST", "/api/cadence", json: "{\"delta\":1}", headers: ["Content-Type: \(type)"])
                #expect(answer.status == 415, "\(type): \(answer.status)")
            }
            #expect(try run.request("POST", "/api/pause", headers: ["Content-Type: text/plain"]).status == 415)
            // A CORS preflight is never let through (it carries no token).
            let preflight = try run.request("OPTIONS", "/api/cadence", token: .some(nil),
                                            headers: ["Origin: http://evil.example", "Access-Control-Request-Method: POST"])
            #expect(preflight.status == 401 || preflight.status == 403)
            #expect(preflight.headers["access-control-allow-origin"] == nil)
            // Nothing above changed the cadence.
            #expect(try run.status()["cadence"] as? Double == 180)
            #expect(try run.request("POST", "/api/cadence", json: "{\"delta\":1}", headers: ["Content-Type: application/json; charset=utf-8"]).status == 200)
            #expect(run.finish().status == 0)
        }

        // MARK: 3. The token holder is never locked out

        @Test("a flood of bad tokens from the coach's own address is refused while the right token is served")
        func tokenHolderDuringFlood() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try RemoteRun.playing(seconds: 6, environment)
            let served = Mutex<[Int]>([])
            let refused = Mutex<[Int]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { side in
                for i in 0..<150 {
                    if side == 0 {
                        let answer = try? run.request("POST", "/api/cadence", json: "{\"spm\":30}", token: String(format: "%032x", i))
                        refused.withLock { $0.append(answer?.status ?? 0) }
                    } else if i % 5 == 0 {
                        let answer = try? run.request("GET", "/api/status")
                        served.withLock { $0.append(answer?.status ?? 0) }
                    }
                }
            }
            let bad = refused.withLock { $0 }
            #expect(bad.allSatisfy { $0 == 401 || $0 == 429 }, "\(Set(bad))")
            #expect(bad.contains(429), "the flood is limited")
            #expect(served.withLock { $0 }.allSatisfy { $0 == 200 }, "\(served.withLock { $0 })")
            // Still shut out for wrong tokens, still served with the right one, the scheme in any case.
            #expect(try run.request("GET", "/api/status", token: "0123456789abcdef0123456789abcdef").status == 429)
            #expect(try run.request("GET", "/api/status", token: .some(nil), headers: ["Authorization: bearer \(run.token)"]).status == 200)
            #expect(try run.request("POST", "/api/cadence", json: "{\"delta\":1}").status == 200)
            let socket = try WebSocketClient(port: run.port, path: "/api/events?token=\(run.token)")
            #expect(socket.upgraded)
            // A repeated token is no token, whichever copy is right; the cadence was never 30.
            #expect(try run.request("GET", "/api/status", token: .some(nil),
                                    headers: ["Authorization: Bearer \(run.token)", "Authorization: Bearer x"]).status == 429)
            let twice = try WebSocketClient(port: run.port, path: "/api/events?token=\(run.token)&token=x")
            #expect(!twice.upgraded && twice.answer.status == 429)
            let sameTwice = try WebSocketClient(port: run.port, path: "/api/events?token=\(run.token)&token=\(run.token)")
            #expect(!sameTwice.upgraded && sameTwice.answer.status == 429)
            #expect(try run.wait(seconds: 2) { $0["cadence"] as? Double == 181 }["cadence"] as? Double == 181)
            #expect(run.finish().status == 0)
        }

        // MARK: 5. Bounded resources

        @Test("numbers outside a field's range, whatever their size, are a one-line 400 and the session plays on")
        func hugeNumbers() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let run = try RemoteRun.coach(environment, home: folder.path)
            #expect(try run.request("POST", "/api/start", json: "{\"preset\":\"strides\"}").status == 200)
            _ = try run.wait(seconds: 20) { $0["preset"] as? String == "strides" && $0["cadence"] as? Double != nil }
            let huge = ["1e19", "-1e19", "9.3e18", "1e308", "-1e308", "1e400", "18446744073709551616", "0.5e-400", "-0"]
            var bodies: [(String, String)] = []
            for n in huge {
                for field in ["cadence", "rampFrom", "rampSteps", "rest"] {
                    bodies.append(("/api/preset", "{\"preset\":\"strides\",\"\(field)\":\(n)}"))
                }
                bodies.append(("/api/cadence", "{\"spm\":\(n)}"))
                bodies.append(("/api/cadence", "{\"delta\":\(n)}"))
                bodies.append(("/api/cue", "{\"cue\":\(n)}"))
            }
            for (path, body) in bodies {
                let answer = try run.request("POST", path, json: body)
                // -0 and 0.5e-400 are zero: a valid rest, a cadence out of range, a delta of 0, cue 0.
                if answer.status == 200 { continue }
                #expect(answer.status == 400, "\(path) \(body): \(answer.status) \(answer.body)")
                #expect(answer.body.hasPrefix("{\"error\":\"") && answer.body.hasSuffix("\"}\n"), "\(answer.body)")
            }
            let strange = try run.request("POST", "/api/preset", json: "{\"preset\":\"strides\",\"cadence\":1e19}")
            #expect(strange.body.contains("cadence must be from 30 to 300"), "\(strange.body)")
            #expect(strange.body.contains("Nothing was changed"))
            #expect(run.process.isRunning, "the session plays on")
            #expect(try run.status()["preset"] as? String == "strides")
            #expect(run.interrupt().status == 130)
        }

        @Test("an 80 KB header and a 20 KB one get 431, a large body 413, a request the parser cannot read 400")
        func headerAndBodyLimits() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try RemoteRun.playing(seconds: 4, environment)
            for size in [20_000, 80 * 1024, 200_000] {
                let connection = try HTTPConnection(port: run.port)
                // Answered, not hung: a read that times out (10 s) reads no status.
                let answer = try connection.send("GET", "/api/status",
                                                 headers: ["Authorization: Bearer \(run.token)", "X-Big: " + String(repeating: "a", count: size)])
                #expect(answer.status == 431, "\(size) bytes: \(answer.status)")
                #expect(connection.closesWithoutMore(), "and closed")
            }
            let big = try run.request("POST", "/api/say", json: "{\"text\":\"" + String(repeating: "a", count: 10_000) + "\"}")
            #expect(big.status == 413)
            let garbage = try HTTPConnection(port: run.port)
            garbage.write(Array("GET /api/status HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n".utf8))
            #expect(try garbage.readAnswer().status == 400)
            #expect(try run.request("GET", "/api/status").status == 200)
            #expect(run.finish().status == 0)
        }

        @Test("HEAD / answers as GET / does, without the body; HEAD of an API route still needs the token")
        func headOfThePage() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try RemoteRun.playing(seconds: 4, environment)
            let page = try run.request("GET", "/", token: .some(nil))
            #expect(page.status == 200 && !page.body.isEmpty)
            let connection = try HTTPConnection(port: run.port)
            connection.write(Array("HEAD / HTTP/1.1\r\nHost: 127.0.0.1:\(run.port)\r\nConnection: close\r\n\r\n".utf8))
            var lines: [String] = []
            while let line = connection.readLine() { lines.append(line) }
            #expect(lines.first == "HTTP/1.1 200 OK", "\(lines)")
            #expect(lines.contains { $0.lowercased() == "content-type: text/html; charset=utf-8" }, "\(lines)")
            #expect(lines.last == "", "headers only, no body: \(lines)")
            let status = try HTTPConnection(port: run.port)
            status.write(Array("HEAD /api/status HTTP/1.1\r\nHost: 127.0.0.1:\(run.port)\r\nConnection: close\r\n\r\n".utf8))
            #expect(status.readLine() == "HTTP/1.1 401 Unauthorized")
            #expect(run.finish().status == 0)
        }

        @Test("connections past the limits are answered 503; silent ones make room for the coach; idle ones are closed; memory is bounded")
        func connectionLimits() throws {
            let environment = try ALSATestEnvironment.ready()
            // Long enough to outlast the test on a loaded machine; ended by SIGTERM.
            let run = try RemoteRun.playing(seconds: 300, environment)
            let pid = run.process.processIdentifier
            let before = try #require(residentKiB(pid))
            var held: [HTTPConnection] = []
            // 64 idle connections from one "device" (127.0.0.2) are let in; the 65th is told why not.
            let descriptors = descriptorCount(pid)
            for _ in 0..<64 { held.append(try HTTPConnection(port: run.port, from: "127.0.0.2")) }
            // The server has taken them all.
            #expect(waitUntil { descriptorCount(pid) >= descriptors + 64 }, "\(descriptorCount(pid)) descriptors")
            let over = try HTTPConnection(port: run.port, from: "127.0.0.2")
            let refused = try over.send("GET", "/api/status", headers: ["Authorization: Bearer \(run.token)"])
            #expect(refused.status == 503)
            #expect(refused.body.contains("too many connections from this address"))
            // The coach's phone, another address, is served meanwhile.
            #expect(try run.request("GET", "/api/status").status == 200)
            // The limit in all (512): 7 more addresses fill it with silent connections. Those make
            // room, oldest first, for a connection that asks for something: the coach's phone.
            for source in 3...9 {
                for _ in 0..<64 { held.append(try HTTPConnection(port: run.port, from: "127.0.0.\(source)")) }
            }
            #expect(waitUntil { descriptorCount(pid) >= descriptors + 512 }, "\(descriptorCount(pid)) descriptors")
            #expect(try run.request("GET", "/api/status", from: "127.0.0.20").status == 200)
            // At once, not by the 10 s timeout (the oldest by the server's count: which of the
            // first ones that is depends on which event loop took each).
            #expect(waitUntil(seconds: 5) { held.contains { $0.closedByPeer } })
            let made = held.indices.filter { held[$0].closedByPeer }
            #expect(made.count == 1 && made[0] < 8, "closed to make room: \(made)")
            held.removeAll()
            #expect(waitUntil { descriptorCount(pid) <= descriptors + 8 }, "\(descriptorCount(pid)) descriptors")
            // 512 connections that all asked for something are kept; the next one is told why not.
            var spoken: [HTTPConnection] = []
            for source in 30..<38 {
                for _ in 0..<64 {
                    let connection = try HTTPConnection(port: run.port, from: "127.0.0.\(source)")
                    #expect(try connection.send("GET", "/api/status", headers: ["Authorization: Bearer \(run.token)"]).status == 200)
                    spoken.append(connection)
                }
            }
            let full = try HTTPConnection(port: run.port, from: "127.0.0.40")
            let whole = try full.send("GET", "/api/status", headers: ["Authorization: Bearer \(run.token)"])
            #expect(whole.status == 503, "\(whole.status) \(whole.body)")
            #expect(whole.body.contains("too many connections to the coach's remote"))
            #expect(whole.headers["retry-after"] != nil)
            let peak = try #require(residentKiB(pid))
            spoken.removeAll()  // closed by the client: the slots come back
            #expect(waitUntil { descriptorCount(pid) <= descriptors + 8 }, "\(descriptorCount(pid)) descriptors")
            // A second crowd of 512 costs no more memory than the first: buffers are reused, not leaked.
            for source in 30..<38 {
                for _ in 0..<64 {
                    let connection = try HTTPConnection(port: run.port, from: "127.0.0.\(source)")
                    #expect(try connection.send("GET", "/api/status", headers: ["Authorization: Bearer \(run.token)"]).status == 200)
                    spoken.append(connection)
                }
            }
            let secondPeak = try #require(residentKiB(pid))
            spoken.removeAll()
            #expect(waitUntil { descriptorCount(pid) <= descriptors + 8 }, "\(descriptorCount(pid)) descriptors")
            #expect(try run.request("GET", "/api/status").status == 200)
            // A connection that never sends a request is closed by the server (after 10 s):
            // the end of the stream, not a read that gave up after 30.
            let silent = try HTTPConnection(port: run.port)
            silent.setReceiveTimeout(seconds: 30)
            #expect(silent.closesWithoutMore(), "closed by the server")
            let after = try #require(residentKiB(pid))
            let figures = "RSS \(before) KiB before, \(peak) and \(secondPeak) KiB with 512 connections, \(after) KiB after"
            #expect(peak <= before + 32 * 1024, "\(figures)")
            #expect(secondPeak <= peak + 2 * 1024 && after <= peak + 2 * 1024, "\(figures)")
            kill(pid, SIGTERM)
            _ = run.finish()
        }

        @Test("500 drills started by the page leave the descriptor count where it was")
        func descriptorsStayFlat() throws {
            let environment = try ALSATestEnvironment.ready()
            let starts = Int(ProcessInfo.processInfo.environment["STRIDECUE_TEST_DRILL_STARTS"] ?? "") ?? 500
            let run = try RemoteRun.coach(environment)
            let pid = run.process.processIdentifier
            var counts: [Int] = []
            var last = -1
            for i in 0..<starts {
                let preset = i % 2 == 0 ? "strides" : "easy-run"
                #expect(try run.request("POST", "/api/start", json: "{\"preset\":\"\(preset)\"}").status == 200)
                let playing = try run.wait(seconds: 20) {
                    $0["preset"] as? String == preset && $0["cadence"] as? Double != nil && ($0["revision"] as? Int ?? 0) > last
                }
                last = playing["revision"] as? Int ?? last
                if i == 9 || i % 50 == 49 { counts.append(descriptorCount(pid)) }
            }
            #expect(run.process.isRunning)
            let first = try #require(counts.first)
            #expect(counts.allSatisfy { $0 <= first + 2 }, "open descriptors after 10, 50, 100, … drills: \(counts)")
            kill(pid, SIGINT)
            #expect(run.finish().status == 130)
        }

        // MARK: 4. Memory the audio thread reads

        @Test("say, then another drill starts before the words are made, 20 times: no crash, nothing but the plan's sounds heard")
        func sayThenAnotherDrill() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            // Freed memory is filled with 0x55 bytes (a float of 1.5e13: full scale once clipped);
            // a sound as long as a sentence is its own mapping, unmapped when freed (a crash).
            let run = try RemoteRun.coach(environment, device: "paced:FILE='\(played)'", extraEnvironment: ["MALLOC_PERTURB_": "85"])
            // Two drills with no caution: their steps come within two seconds of the start.
            let drills = ["easy-run", "cool-down"]
            #expect(try run.request("POST", "/api/start", json: "{\"preset\":\"\(drills[0])\"}").status == 200)
            var last = try run.wait(seconds: 20) { $0["preset"] as? String == drills[0] && $0["cadence"] as? Double != nil }["revision"] as? Int ?? -1
            var answers: [Int] = []
            for i in 0..<20 {
                let next = drills[(i + 1) % 2]
                let said = Mutex<Int>(0)
                DispatchQueue.concurrentPerform(iterations: 2) { side in
                    if side == 0 {
                        let status = (try? run.request("POST", "/api/say", json: "{\"text\":\"keep going, round \(i), nice and tall\"}"))?.status ?? 0
                        said.withLock { $0 = status }
                    } else {
                        // While the words are being made (about a tenth of a second).
                        usleep(UInt32(5_000 + (i % 8) * 10_000))
                        _ = try? run.request("POST", "/api/start", json: "{\"preset\":\"\(next)\"}")
                    }
                }
                answers.append(said.withLock { $0 })
                let playing = try run.wait(seconds: 20) {
                    $0["preset"] as? String == next && $0["cadence"] as? Double != nil && ($0["revision"] as? Int ?? 0) > last
                }
                last = playing["revision"] as? Int ?? last
                // The new drill plays on past its count-in and first steps: where a sound handed
                // to it would be said.
                _ = try run.wait(seconds: 20) { $0["preset"] as? String == next && ($0["step"] as? Int ?? 0) >= 3 }
                #expect(run.process.isRunning, "alive after round \(i)")
                if !run.process.isRunning { break }
            }
            #expect(answers.allSatisfy { $0 == 200 || $0 == 409 }, "\(answers)")
            kill(run.process.processIdentifier, SIGINT)
            let (status, stderr) = run.finish()
            #expect(status == 130, "\(stderr)")
            let heard = leftChannel(try #require(readBytes(played)))
            #expect(heard.count > 48_000)
            let fullScale = heard.filter { $0 == Int16.max || $0 == Int16.min }.count
            #expect(fullScale == 0, "\(fullScale) full-scale samples: something not in the plan was played")
        }
    }
}

extension HTTPConnection {
    /// True when the server closed the connection (a read would return at once with nothing).
    var closedByPeer: Bool {
        var byte: UInt8 = 0
        return recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }

    /// Reads until the server closes the connection: true at the end of the stream, or a reset
    /// (a server that closes with the client's bytes still unread resets), with nothing more
    /// sent; false if the read gave up (its timeout) or more bytes came.
    func closesWithoutMore() -> Bool {
        var byte: UInt8 = 0
        let n = recv(socket, &byte, 1, 0)
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }
}

/// The process's resident memory in KiB (`VmRSS` in /proc/PID/status).
func residentKiB(_ pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
    return Int(line.split(separator: " ").dropFirst().first ?? "")
}

/// Open descriptors of a process (/proc/PID/fd).
func descriptorCount(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
}
