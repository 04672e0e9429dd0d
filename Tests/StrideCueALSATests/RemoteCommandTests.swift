import Foundation
import Glibc
import StrideCueTestSupport
import Testing

extension ALSATests {
    /// The coach's remote on the real binary: `play --remote` and `coach` on the paced fake
    /// card, driven over loopback as a phone or a script would.
    @Suite("The coach's remote")
    struct RemoteCommandTests {
        // MARK: Who may steer

        @Test("no token or a wrong one is a 401; the session's token is let in")
        func tokenRequired() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try RemoteRun.playing(seconds: 3, environment)
            #expect(run.token.count == 32, "128 bits as hex: \(run.token)")
            let none = try run.request("GET", "/api/status", token: .some(nil))
            #expect(none.status == 401)
            #expect(none.headers["www-authenticate"] == "Bearer")
            #expect(none.body == "{\"error\":\"missing or wrong token: send Authorization: Bearer TOKEN\"}\n")
            let wrong = try run.request("POST", "/api/pause", token: String(run.token.reversed()))
            #expect(wrong.status == 401)
            let shorter = try run.request("GET", "/api/status", token: String(run.token.dropLast()))
            #expect(shorter.status == 401)
            let right = try run.request("GET", "/api/status")
            #expect(right.status == 200)
            let status = try #require(jsonObject(right.body))
            for key in ["cadence", "state", "set", "step"] { #expect(status[key] != nil, "\(key) in \(right.body)") }
            // The page itself needs no token (it reads it from the URL's fragment), and says what it may load.
            let page = try run.request("GET", "/", token: .some(nil))
            #expect(page.status == 200)
            #expect(page.headers["content-security-policy"]?.contains("default-src 'none'") == true)
            #expect(page.body.contains("−5") && page.body.contains("+5"))
            #expect(!page.body.contains("http://") && !page.body.contains("https://"), "nothing from elsewhere")
            #expect(run.finish().status == 0)
        }

        @Test("the page, its script and its style are served byte for byte as the files in Sources/StrideCueRemote/Page, with nothing inline for the policy to allow")
        func pageIsItsFiles() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try RemoteRun(["play", "--spm", "180", "--duration", "3s", "--device", "paced", "--no-keys", "--remote", "0"], environment)
            let folder = playPackageRoot + "/Sources/StrideCueRemote/Page/"
            for (path, file, type) in [("/", "index.html", "text/html; charset=utf-8"), ("/app.js", "app.js", "text/javascript; charset=utf-8"),
                                       ("/app.css", "app.css", "text/css; charset=utf-8")] {
                let answer = try run.request("GET", path, token: .some(nil))
                #expect(answer.status == 200, "\(path)")
                #expect(answer.headers["content-type"] == type, "\(path)")
                let bytes = try #require(readBytes(folder + file), "no \(folder + file)")
                #expect(Array(answer.body.utf8) == bytes, "GET \(path) is not \(file) as it is")
            }
            // The policy lets in scripts and styles from the server only: the page holds none of its own.
            let page = String(decoding: try #require(readBytes(folder + "index.html")), as: UTF8.self)
            #expect(!page.contains("<style") && !page.contains(" style=") && !page.contains("<script>"))
            #expect(page.firstMatch(of: /\son[a-z]+=/) == nil, "no inline event handlers")
            let head = try run.request("GET", "/", token: .some(nil))
            #expect(head.headers["content-security-policy"]?.hasPrefix("default-src 'none'; script-src 'self'; style-src 'self'; ") == true)
            #expect(run.finish().status == 0)
        }

        @Test("a WebSocket handshake with no token or a wrong one is a 401, from another page 403; the token lets it in")
        func webSocketTokenRequired() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try RemoteRun.playing(seconds: 3, environment)
            let none = try WebSocketClient(port: run.port, path: "/api/events")
            #expect(!none.upgraded && none.answer.status == 401, "\(none.answer)")
            #expect(none.answer.headers["www-authenticate"] == "Bearer")
            #expect(none.answer.body.hasPrefix("{\"error\":\"missing or wrong token"))
            #expect(none.nextText() == nil, "the connection is closed")
            let wrong = try WebSocketClient(port: run.port, path: "/api/events?token=\(String(run.token.reversed()))")
            #expect(!wrong.upgraded && wrong.answer.status == 401)
            let wrongHeader = try WebSocketClient(port: run.port, path: "/api/events", authorization: "Bearer \(run.token.dropLast())")
            #expect(!wrongHeader.upgraded && wrongHeader.answer.status == 401)
            let stranger = try WebSocketClient(port: run.port, path: "/api/events?token=\(run.token)", origin: "http://evil.example")
            #expect(!stranger.upgraded && stranger.answer.status == 403)
            // The right token, as the query parameter (what the page sends) or the header.
            let page = try WebSocketClient(port: run.port, path: "/api/events?token=\(run.token)", origin: "http://127.0.0.1:\(run.port)")
            #expect(page.upgraded)
            #expect(page.nextText().flatMap(jsonObject)?["state"] != nil)
            let script = try WebSocketClient(port: run.port, path: "/api/events", authorization: "Bearer \(run.token)")
            #expect(script.upgraded)
            #expect(script.nextText().flatMap(jsonObject)?["state"] != nil)
            #expect(run.finish().status == 0)
        }

        @Test("more than 10 failures a minute from one address get 429; the right token is still served")
        func floodIsRefused() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try RemoteRun.playing(seconds: 3, environment)
            for _ in 0..<11 {
                #expect(try run.request("GET", "/api/status", token: "0123456789abcdef0123456789abcdef").status == 401)
            }
            let shutOut = try run.request("GET", "/api/status", token: "0123456789abcdef0123456789abcdef")
            #expect(shutOut.status == 429)
            #expect(shutOut.body.hasPrefix("{\"error\":"))
            #expect(try run.request("GET", "/api/status", token: .some(nil)).status == 429)
            #expect(try run.request("GET", "/api/status").status == 200)
            let socket = try WebSocketClient(port: run.port, path: "/api/events?token=\(run.token)")
            #expect(socket.upgraded)
            #expect(run.finish().status == 0)
        }

        @Test("bad JSON is a one-line 400 and the connection stays open; big bodies and paths are refused")
        func badRequests() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try RemoteRun.playing(seconds: 3, environment)
            let connection = try HTTPConnection(port: run.port)
            let auth = ["Authorization: Bearer \(run.token)"]
            for body in ["{\"delta\":", "[]", "{\"delta\":\"five\"}", "{}", "{\"spm\": 400}", "\u{FF}\u{FE}"] {
                let answer = try connection.send("POST", "/api/cadence", json: body, headers: auth)
                #expect(answer.status == 400, "\(body)")
                #expect(answer.body.hasPrefix("{\"error\":\"") && answer.body.hasSuffix("\"}\n"), "\(answer.body)")
                #expect(answer.body.filter { $0 == "\n" }.count == 1)
            }
            // The same connection still answers.
            #expect(try connection.send("GET", "/api/status", headers: auth).status == 200)
            let big = try connection.send("POST", "/api/say", headers: auth, rawBody: Array(repeating: UInt8(ascii: " "), count: 8_192))
            #expect(big.status == 413)
            let long = try run.request("POST", "/api/say", json: "{\"text\":\"\(String(repeating: "go ", count: 80))\"}")
            #expect(long.status == 400)
            #expect(long.body.contains("at most 200 characters"))
            let control = try run.request("POST", "/api/say", json: "{\"text\":\"a\\u0007b\"}")
            #expect(control.status == 400)
            let path = try run.request("POST", "/api/start", json: "{\"preset\":\"../../etc/passwd\"}")
            #expect(path.status == 400)
            #expect(path.body.contains("drill library"))
            #expect(run.finish().status == 0)
        }

        // MARK: Steering what is heard

        @Test("a cadence set from the API lands on a step boundary: an exact new grid from there on")
        func cadenceLandsOnSteps() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            let run = try RemoteRun(["play", "--spm", "180", "--duration", "5s", "--device", "paced:FILE='\(played)'",
                                     "--latency", "100", "--no-keys", "--remote", "0"], environment)
            let heard = try run.wait(seconds: 5) { ($0["step"] as? Int ?? 0) >= 4 }
            #expect(heard["step"] as? Int ?? 0 >= 4)
            let answer = try run.request("POST", "/api/cadence", json: "{\"spm\": 200}")
            #expect(answer.status == 200, "\(answer.body)")
            let after = try run.wait(seconds: 3) { $0["cadence"] as? Double == 200 }
            #expect(after["cadence"] as? Double == 200)
            #expect(run.finish().status == 0)

            let onsets = clickOnsets(leftChannel(try #require(readBytes(played))))
            try #require(onsets.count > 8)
            let offset = onsets[0]
            let changed = try #require(onsets.indices.first { onsets[$0] != offset + $0 * 16_000 }, "no change heard: \(onsets)")
            #expect(changed >= 4, "asked for after step 4")
            // Steps up to the anchor stay on the 180 grid; from it, exactly 60/200 s apart.
            let anchorStep = changed - 1
            let expected = (0..<(onsets.count - anchorStep)).map { m in
                offset + Int(((Double(anchorStep) * 60 / 180 + Double(m) * 60 / 200) * 48_000).rounded())
            }
            #expect(Array(onsets[anchorStep...]) == expected)
        }

        @Test("said now, a cue starts exactly on a step, over ducked clicks; before it the track is unchanged")
        func sayNowOnAStep() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let played = folder.file("played.raw")
            let rendered = folder.file("rendered.wav")
            let session = ["--spm", "180", "--duration", "5s"]
            let run = try RemoteRun(["play"] + session + ["--device", "paced:FILE='\(played)'", "--latency", "100", "--no-keys",
                                                          "--remote", "0"], environment)
            _ = try run.wait(seconds: 5) { ($0["step"] as? Int ?? 0) >= 3 }
            let answer = try run.request("POST", "/api/say", json: "{\"text\":\"good job\"}")
            #expect(answer.status == 200, "\(answer.body)")
            #expect(run.finish().status == 0)
            let render = try runStridecue(["render"] + session + ["--bits", "16", "--quiet", "-o", rendered], environment)
            #expect(render.status == 0)

            let heard = leftChannel(try #require(readBytes(played)))
            let clicks = leftChannel(try wavData(rendered))
            let first = try #require(heard.indices.first { $0 < clicks.count && heard[$0] != clicks[$0] }, "the cue was never heard")
            let offset = try #require(clickOnsets(clicks).first)
            // A click and a word both begin from a zero sample: the first that differs is at
            // most a few frames after the step's own frame.
            #expect((first - offset) % 16_000 < 48, "the cue starts on a step: frame \(first)")
            #expect(first >= 3 * 16_000, "after it was asked for")
            // Between that step's click and the next, the words sound where the plain track is silent.
            let between = (first + 4_000)..<(first + 12_000)
            #expect(clicks[between].allSatisfy { $0 == 0 })
            #expect(heard[between].contains { abs(Int($0)) > 1_000 })
        }

        // MARK: The coach's session

        @Test("coach waits silent, starts the drill the page picks, stops it, and waits again")
        func coachStartsAndStops() throws {
            let environment = try ALSATestEnvironment.ready()
            let run = try RemoteRun.coach(environment)
            #expect(try run.status()["state"] as? String == "idle")
            let library = try run.request("GET", "/api/library")
            #expect(library.body.contains("\"bum-kicks\""))
            #expect(try run.request("POST", "/api/stop").status == 409)
            #expect(try run.request("POST", "/api/start", json: "{\"preset\":\"bum-kicks\"}").status == 200)
            let playing = try run.wait(seconds: 20) { $0["preset"] as? String == "bum-kicks" && $0["cadence"] as? Double != nil }
            #expect(playing["name"] as? String == "Bum kicks")
            #expect(playing["cues"] as? [String] == ["pull through", "pop forwards"])
            let picture = try run.request("GET", "/api/plan.svg")
            #expect(picture.status == 200 && picture.body.contains("<svg"))
            #expect(try run.request("POST", "/api/stop").status == 200)
            let idle = try run.wait(seconds: 5) { $0["state"] as? String == "idle" }
            #expect(idle["state"] as? String == "idle")
            #expect(run.process.isRunning, "coach waits for the next drill")
            #expect(run.interrupt().status == 130)
        }

        @Test("the page's edit saves cadence, ramp and rest to the user's copy as 'preset set' does, comments kept")
        func editSavesTheUsersCopy() throws {
            let environment = try ALSATestEnvironment.ready()
            let folder = try TemporaryFolder()
            let run = try RemoteRun.coach(environment, home: folder.path)
            let saved = try run.request("POST", "/api/preset",
                                        json: "{\"preset\":\"bum-kicks\",\"cadence\":185,\"rampFrom\":160,\"rest\":90}")
            #expect(saved.status == 200, "\(saved.body)")
            #expect(saved.body.contains("Saved your copy"))
            let copy = folder.file("stridecue/presets/bum-kicks.yaml")
            let text = String(decoding: try #require(readBytes(copy)), as: UTF8.self)
            #expect(text.contains("cadence: 185"))
            #expect(text.contains("from: 160"))
            #expect(text.contains("rest: 90 s"))
            #expect(text.hasPrefix("# Bum kicks: a drill for the recovery of the swing leg."), "comments kept")
            // The page sends every field; the report lists only what changed.
            let again = try run.request("POST", "/api/preset",
                                        json: "{\"preset\":\"bum-kicks\",\"cadence\":185,\"rampFrom\":160,\"rest\":60}")
            #expect(again.status == 200, "\(again.body)")
            #expect(again.body.contains("rest  90 s → 60 s"), "\(again.body)")
            #expect(!again.body.contains("cadence") && !again.body.contains("ramp.from"), "\(again.body)")
            let settled = String(decoding: try #require(readBytes(copy)), as: UTF8.self)
            #expect(settled == text.replacingOccurrences(of: "rest: 90 s", with: "rest: 60 s"))
            // A bad value changes nothing and is one line.
            let refused = try run.request("POST", "/api/preset", json: "{\"preset\":\"bum-kicks\",\"cadence\":999}")
            #expect(refused.status == 400)
            #expect(refused.body.contains("Nothing was changed"), "\(refused.body)")
            #expect(String(decoding: try #require(readBytes(copy)), as: UTF8.self) == settled)
            #expect(run.interrupt().status == 130)
        }

        // MARK: Every page, the same state

        @Test("50 WebSocket clients follow a whole drill with no underrun")
        func fiftyClients() throws {
            let environment = try ALSATestEnvironment.ready()
            // The clients connect to a waiting coach, and then the drill starts (24 steps at
            // 180 spm): every step is pushed after every client is there. Steps 1 to 21 are
            // checked: with the last few the drill ends, and a loaded machine pushed the end
            // (idle) in their place.
            let folder = try TemporaryFolder()
            let presets = folder.file("stridecue/presets")
            try FileManager.default.createDirectory(atPath: presets, withIntermediateDirectories: true)
            try "name: Fifty\ncadence: 180\nset: {steps: 24}\n".write(toFile: presets + "/fifty.yaml", atomically: true, encoding: .utf8)
            let run = try RemoteRun.coach(environment, home: folder.path, extraEnvironment: ["STRIDECUE_TIMING": "1"])
            let clients = try (0..<50).map { _ in try WebSocketClient(port: run.port, path: "/api/events?token=\(run.token)") }
            #expect(clients.allSatisfy { $0.upgraded })
            let received = Mutex<[[Int]]>(Array(repeating: [], count: clients.count))
            let listened = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                DispatchQueue.concurrentPerform(iterations: clients.count) { i in
                    var steps: [Int] = []
                    while let text = clients[i].nextText() {
                        if let step = jsonObject(text)?["step"] as? Int { steps.append(step) }
                    }
                    received.withLock { $0[i] = steps }
                }
                listened.signal()
            }
            #expect(try run.request("POST", "/api/start", json: "{\"preset\":\"fifty\"}").status == 200)
            _ = try run.wait(seconds: 20) { $0["preset"] as? String == "fifty" }
            let over = try run.wait(seconds: 60) { $0["state"] as? String == "idle" }
            #expect(over["state"] as? String == "idle", "the drill ended: \(over)")
            let (status, stderr) = run.interrupt()  // closes every client's connection
            listened.wait()
            #expect(status == 130)
            #expect(stderr.contains("underruns 0"), "\(stderr)")
            #expect(!stderr.contains("dropped out"))
            for steps in received.withLock({ $0 }) {
                // Every step before the drill's end was pushed to every client, in order.
                #expect(steps == steps.sorted())
                #expect(Set(steps).isSuperset(of: 1...21), "\(steps)")
            }
        }
    }
}

import Synchronization
