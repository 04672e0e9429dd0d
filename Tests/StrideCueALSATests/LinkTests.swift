import Foundation
import Glibc
import StrideCueTestSupport
import Testing

// `play --link` against real Ableton Link peers: StrideCue processes in network namespaces of
// their own joined by a veth pair (as two phones on one Wi-Fi), and a small C++ Link peer the
// test builds from the Debian headers (Tests/Link/peer.cpp). Each plays on a paced fake card
// that records its frames and when they were played (TIMES=), so clicks compare by host time.

/// What the Link tests need from the machine: root (network namespaces), iproute2, g++ and
/// the Link headers. `make test-deps` installs the packages; CI runs as root.
enum LinkMachine {
    static let ip: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { (path: String) in access(path, X_OK) == 0 }
    static let compiler: String? = access("/usr/bin/g++", X_OK) == 0 ? "/usr/bin/g++" : nil
    static let ready = getuid() == 0 && ip != nil && compiler != nil && access("/usr/include/ableton/Link.hpp", R_OK) == 0
    static let reason: Comment = "needs root (network namespaces), iproute2, g++ and ableton-link-dev: make test-deps, as root"

    /// Runs `path arguments`, waits, and returns its exit status and standard output; its
    /// standard error goes into the failure message.
    @discardableResult
    static func run(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complained = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ALSATestEnvironment.SetupFailure(description:
                "\(path) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: complained, as: UTF8.self))")
        }
        return String(decoding: printed, as: UTF8.self)
    }

    /// The test peer, built once per test process next to the test bundle.
    static let peer: Result<String, ALSATestEnvironment.SetupFailure> = {
        do {
            let environment = try ALSATestEnvironment.ready()
            let binary = environment.productsFolder + "/stridecue-link-test-peer"
            try run(compiler!, ["-std=c++17", "-O1", "-DLINK_PLATFORM_LINUX=1", "-pthread",
                                playPackageRoot + "/Tests/Link/peer.cpp", "-o", binary])
            return .success(binary)
        } catch let failure as ALSATestEnvironment.SetupFailure {
            return .failure(failure)
        } catch {
            return .failure(ALSATestEnvironment.SetupFailure(description: "\(error)"))
        }
    }()
}

/// Network namespaces for one test, deleted (with their links) when it ends: `count` of them,
/// the first two joined by a veth pair (10.77.N.1 and .2), each with its loopback up.
final class Namespaces {
    let names: [String]

    init(_ count: Int, joined: Bool) throws {
        let ip = LinkMachine.ip!
        // Unique per process and test: namespaces are machine-wide.
        let tag = "\(getpid() % 100_000)-\(Namespaces.next.add(1))"
        names = (0..<count).map { "stridecue-\(tag)-\($0)" }
        for name in names {
            try LinkMachine.run(ip, ["netns", "add", name])
            try LinkMachine.run(ip, ["-n", name, "link", "set", "lo", "up"])
        }
        if joined && count >= 2 {
            let subnet = Namespaces.next.add(1) % 250
            try LinkMachine.run(ip, ["link", "add", "scA\(tag)".prefix(15).description, "type", "veth", "peer", "name", "scB\(tag)".prefix(15).description])
            for (i, end) in ["scA\(tag)", "scB\(tag)"].enumerated() {
                let device = String(end.prefix(15))
                try LinkMachine.run(ip, ["link", "set", device, "netns", names[i]])
                try LinkMachine.run(ip, ["-n", names[i], "addr", "add", "10.77.\(subnet).\(i + 1)/24", "dev", device])
                try LinkMachine.run(ip, ["-n", names[i], "link", "set", device, "up"])
            }
        }
    }

    deinit {
        for name in names { _ = try? LinkMachine.run(LinkMachine.ip!, ["netns", "del", name]) }
    }

    private static let next = Counter()

    /// A counter any test thread may bump.
    final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLock()
        func add(_ n: Int) -> Int { lock.withLock { value += n; return value } }
    }
}

/// A process started in a namespace; its output read when it ends.
final class Background {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()

    init(in namespace: String, _ command: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        process.executableURL = URL(fileURLWithPath: LinkMachine.ip!)
        process.arguments = ["netns", "exec", namespace] + command
        process.environment = environment
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Waits for it to end: its exit status, standard output and standard error.
    func finish() -> (status: Int32, stdout: String, stderr: String) {
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complained = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: printed, as: UTF8.self), String(decoding: complained, as: UTF8.self))
    }
}

/// The clicks a paced card played, as host times (CLOCK_MONOTONIC seconds): the onsets of its
/// recording, placed by the lines of its TIMES file.
func clickTimes(played: String, times: String, rate: Double = 48_000) throws -> [Double] {
    let onsets = clickOnsets(leftChannel(try #require(readBytes(played), "nothing recorded in \(played)")))
    let text = String(decoding: try #require(readBytes(times), "no host times in \(times)"), as: UTF8.self)
    let starts: [(origin: Int, ns: Double)] = text.split(separator: "\n").compactMap { line in
        let parts = line.split(separator: " ")
        guard parts.count == 2, let origin = Int(parts[0]), let ns = Double(parts[1]) else { return nil }
        return (origin, ns)
    }
    try #require(!starts.isEmpty, "no start of the card's clock in \(times)")
    return onsets.map { frame in
        let start = starts.last { $0.origin <= frame } ?? starts[0]
        return (start.ns + Double(frame - start.origin) * 1e9 / rate) / 1e9
    }
}

extension ALSATests {
    @Suite("play --link: a squad in step through Ableton Link", .enabled(if: LinkMachine.ready, LinkMachine.reason))
    struct LinkTests {
        func stridecueEnvironment() -> [String: String] {
            var env = ProcessInfo.processInfo.environment
            env["STRIDECUE_DATA"] = playPackageRoot
            return env
        }

        func play(_ environment: ALSATestEnvironment, in namespace: String, spm: Int, seconds: Int,
                  played: String, times: String) throws -> Background {
            try Background(in: namespace, [try stridecueBinary(environment), "play", "--link", "--verbose", "--no-keys",
                                           "--spm", "\(spm)", "--duration", "\(seconds)s", "--latency", "100",
                                           "--device", "paced:FILE='\(played)',TIMES='\(times)'"],
                           environment: stridecueEnvironment())
        }

        @Test("two devices and a C++ Link peer: clicks within 1 ms at the same host time; the peer's tempo heard by both from their next step; the peer leaves, another joins, they play on together")
        func twoDevicesAndAPeer() throws {
            let environment = try ALSATestEnvironment.ready()
            let peer = try LinkMachine.peer.get()
            let net = try Namespaces(2, joined: true)
            let folder = try TemporaryFolder()
            let (playedA, timesA) = (folder.file("a.raw"), folder.file("a.times"))
            let (playedB, timesB) = (folder.file("b.raw"), folder.file("b.times"))

            // The peer leads at 180; it waits for both devices, changes to 190, and leaves.
            let app = try Background(in: net.names[0], [peer, "180", "peers:2", "sleep:2", "tempo:190", "sleep:2", "quit"])
            // Link joins a newcomer to a session that has run for more than half a second
            // (sessions younger than that are ordered by their random ids): the peer's session
            // is the one running when A starts. Setup, not a measurement.
            usleep(1_000_000)
            let a = try play(environment, in: net.names[0], spm: 170, seconds: 11, played: playedA, times: timesA)
            // B joins mid-drill, from the other namespace.
            #expect(waitUntilPlayed(playedA, frames: 120_000))
            let b = try play(environment, in: net.names[1], spm: 150, seconds: 8, played: playedB, times: timesB)
            let (peerStatus, peerSaid, peerErrors) = app.finish()
            // Another app joins the squad's session while they play, and leaves: it takes the
            // session's tempo (Link joins a newcomer to a running session), not its own 120.
            let again = try Background(in: net.names[1], [peer, "120", "peers:2", "sleep:1", "show", "quit"]).finish()
            #expect(again.status == 0, "second peer: \(again.stderr)")
            let seen = again.stdout.split(separator: "\n").first { $0.hasPrefix("session ") }.flatMap { Double($0.split(separator: " ")[1]) }
            #expect(seen.map { abs($0 - 190) < 0.01 } ?? false, "second peer: \(again.stdout)")
            let ranA = a.finish(), ranB = b.finish()
            #expect(peerStatus == 0, "peer: \(peerErrors)")
            #expect(ranA.status == 0, "A: \(ranA.stderr)")
            #expect(ranB.status == 0, "B: \(ranB.stderr)")
            // The peer and B (Link may count a peer twice for a moment, as it finds it on two routes).
            let most = ranA.stderr.split(separator: "\n").first { $0.hasPrefix("stridecue: link: ") }.flatMap { Int($0.split(separator: " ")[2]) }
            #expect((most ?? 0) >= 2, "A: \(ranA.stderr)")
            let said = peerSaid.split(separator: "\n").map { $0.split(separator: " ") }
            let changed = try #require(said.first { $0.first == "tempo" }.flatMap { Double($0[2]) }, "\(peerSaid)") / 1e9
            let left = try #require(said.first { $0.first == "left" }.flatMap { Double($0[1]) }, "\(peerSaid)") / 1e9

            let clicksA = try clickTimes(played: playedA, times: timesA)
            let clicksB = try clickTimes(played: playedB, times: timesB)
            try #require(clicksA.count > 20 && clicksB.count > 15, "A \(clicksA.count) clicks, B \(clicksB.count)")
            // Once B has played half a second, every click of B is within 1 ms of one of A's,
            // until the first of them ends: through the tempo change and after the peer left.
            let from = clicksB[0] + 0.5, to = min(clicksA.last!, clicksB.last!) - 0.05
            #expect(to > left + 1, "the devices played on together after the peer left")
            var compared = 0
            for click in clicksB where click >= from && click <= to {
                let nearest = clicksA.min { abs($0 - click) < abs($1 - click) }!
                #expect(abs(nearest - click) <= 0.001, "B's click at \(click) s is \((nearest - click) * 1000) ms from A's")
                compared += 1
            }
            #expect(compared >= 15)
            // A took the session's tempo (180, not its own 170) before B came. Each device: no
            // step at 190 before the peer asked, and from half a second after it every step
            // 60/190 s apart. (Between B's arrival and the change the squad may play at B's
            // 150: Link 3.0.6 sometimes makes a newcomer's first session the squad's, when a
            // peer measures it just after the newcomer left it; see docs/link.md.)
            let firstA = clicksA.filter { $0 >= clicksA[0] + 0.5 && $0 < clicksB[0] - 0.4 }
            let gapsA = zip(firstA.dropFirst(), firstA).map { $0 - $1 }
            #expect(!gapsA.isEmpty && gapsA.allSatisfy { abs($0 - 60.0 / 180) < 0.000_2 }, "A before B: \(gapsA)")
            for (name, clicks) in [("A", clicksA), ("B", clicksB)] {
                let settled = clicks.filter { $0 >= clicks[0] + 0.5 }
                let gaps = zip(settled.dropFirst(), settled).map { (at: $1, gap: $0 - $1) }
                let fast = gaps.filter { abs($0.gap - 60.0 / 190) < 0.000_2 }
                #expect(fast.allSatisfy { $0.at > changed - 60.0 / 150 }, "\(name): a step at 190 before the peer asked: \(gaps.map(\.gap))")
                let after = gaps.filter { $0.at > changed + 0.5 }
                #expect(after.count >= 6 && after.allSatisfy { abs($0.gap - 60.0 / 190) < 0.000_2 }, "\(name): \(after.map(\.gap))")
            }
        }

        @Test("a leader's ramp reaches a follower that joined mid-ramp as tempo: its clicks stay within 1 ms of the leader's through the ramp")
        func aLeadersRampReachesTheFollower() throws {
            let environment = try ALSATestEnvironment.ready()
            let net = try Namespaces(2, joined: true)
            let folder = try TemporaryFolder()
            let preset = folder.file("build-up.yaml")
            try "name: Build up\ncadence: 190\nramp: {from: 150, steps: 16}\nset: {steps: 30}\naccent: 2\n"
                .write(toFile: preset, atomically: false, encoding: .utf8)
            let (playedA, timesA) = (folder.file("a.raw"), folder.file("a.times"))
            let (playedB, timesB) = (folder.file("b.raw"), folder.file("b.times"))
            let a = try Background(in: net.names[0], [try stridecueBinary(environment), "play", preset, "--link", "--no-keys",
                                                      "--latency", "100", "--device", "paced:FILE='\(playedA)',TIMES='\(timesA)'"],
                                   environment: stridecueEnvironment())
            // B joins once A has played a second (two steps of the ramp, its session long founded).
            #expect(waitUntilPlayed(playedA, frames: 48_000))
            let b = try play(environment, in: net.names[1], spm: 170, seconds: 6, played: playedB, times: timesB)
            let ranA = a.finish(), ranB = b.finish()
            #expect(ranA.status == 0, "A: \(ranA.stderr)")
            #expect(ranB.status == 0, "B: \(ranB.stderr)")
            let clicksA = try clickTimes(played: playedA, times: timesA)
            let clicksB = try clickTimes(played: playedB, times: timesB)
            let settled = clicksB.filter { $0 >= clicksB[0] + 0.5 }
            try #require(settled.count >= 10, "B: \(clicksB)")
            for click in settled {
                let nearest = clicksA.min { abs($0 - click) < abs($1 - click) }!
                #expect(abs(nearest - click) <= 0.001, "B's click at \(click) s is \((nearest - click) * 1000) ms from A's")
            }
            // B's steps quicken with A's ramp: more than a few different gaps, ending at 190.
            let gaps = zip(settled.dropFirst(), settled).map { $0 - $1 }
            let distinct = gaps.reduce(into: [Double]()) { seen, gap in if !seen.contains(where: { abs($0 - gap) < 0.001 }) { seen.append(gap) } }
            #expect(distinct.count >= 4, "B's gaps: \(gaps)")
            #expect(gaps.first.map { $0 > 60.0 / 185 } ?? false, "B's gaps: \(gaps)")
            #expect(gaps.last.map { abs($0 - 60.0 / 190) < 0.000_2 } ?? false, "B's gaps: \(gaps)")
        }

        @Test("start/stop sync: a Link app stops the session, both devices pause; it starts it, both resume, in step")
        func startAndStopReachEveryDevice() throws {
            let environment = try ALSATestEnvironment.ready()
            let peer = try LinkMachine.peer.get()
            let net = try Namespaces(2, joined: true)
            let folder = try TemporaryFolder()
            let (playedA, timesA) = (folder.file("a.raw"), folder.file("a.times"))
            let (playedB, timesB) = (folder.file("b.raw"), folder.file("b.times"))
            let app = try Background(in: net.names[0], [peer, "180", "peers:2", "sleep:1.5", "stop", "sleep:1.5", "start", "sleep:1", "quit"])
            usleep(1_000_000)  // the app's session runs for more than half a second (see above)
            let a = try play(environment, in: net.names[0], spm: 180, seconds: 7, played: playedA, times: timesA)
            #expect(waitUntilPlayed(playedA, frames: 48_000))
            let b = try play(environment, in: net.names[1], spm: 180, seconds: 5, played: playedB, times: timesB)
            let (peerStatus, peerSaid, peerErrors) = app.finish()
            let ranA = a.finish(), ranB = b.finish()
            #expect(peerStatus == 0, "peer: \(peerErrors)")
            #expect(ranA.status == 0 && ranB.status == 0, "A: \(ranA.stderr) B: \(ranB.stderr)")
            let said = peerSaid.split(separator: "\n").map { $0.split(separator: " ") }
            let stopped = try #require(said.first { $0.first == "stop" }.flatMap { Double($0[1]) }, "\(peerSaid)") / 1e9
            let started = try #require(said.first { $0.first == "start" }.flatMap { Double($0[1]) }, "\(peerSaid)") / 1e9
            let clicksA = try clickTimes(played: playedA, times: timesA)
            let clicksB = try clickTimes(played: playedB, times: timesB)
            for (name, clicks) in [("A", clicksA), ("B", clicksB)] {
                // Paused from the step after the stop reached it (a step and the buffer at most)
                // until the start: no click there; clicks again after it.
                let silent = clicks.filter { $0 > stopped + 0.5 && $0 < started }
                #expect(silent.isEmpty, "\(name) clicked while the session was stopped: \(silent) (stop \(stopped), start \(started))")
                #expect(clicks.contains { $0 > started + 0.5 }, "\(name) did not resume")
                #expect(clicks.contains { $0 < stopped }, "\(name) did not play before the stop")
            }
            // In step after the start, too.
            for click in clicksB where click > started + 0.5 && click <= min(clicksA.last!, clicksB.last!) - 0.05 {
                let nearest = clicksA.min { abs($0 - click) < abs($1 - click) }!
                #expect(abs(nearest - click) <= 0.001, "B's click at \(click) s is \((nearest - click) * 1000) ms from A's")
            }
        }

        @Test("across a link with 20 ± 5 ms each way (a user-space bridge between two TAP devices): clicks within 1 ms once joined")
        func acrossADelayedLink() throws {
            let environment = try ALSATestEnvironment.ready()
            let net = try Namespaces(2, joined: false)
            let folder = try TemporaryFolder()
            let ready = folder.file("bridge.ready")
            // "stridecue-PID-N-0" → "PIDN": device names are machine-wide until moved, 15 characters at most.
            let parts = net.names[0].split(separator: "-")
            let tag = String((parts[1] + parts[2]).suffix(12))
            let taps = ["dtA\(tag)", "dtB\(tag)"].map { String($0.prefix(15)) }
            let bridge = Process()
            bridge.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            bridge.arguments = [playPackageRoot + "/Tests/Link/delay-bridge.py", taps[0], taps[1], "20", "5", ready]
            try bridge.run()
            defer {
                // SIGKILL: the test process may ignore SIGTERM, and its children inherit that.
                kill(bridge.processIdentifier, SIGKILL)
                bridge.waitUntilExit()
            }
            try #require(waitUntil(seconds: 10) { access(ready, R_OK) == 0 }, "the delay bridge did not start")
            let ip = LinkMachine.ip!
            for (i, device) in taps.enumerated() {
                try LinkMachine.run(ip, ["link", "set", device, "netns", net.names[i]])
                try LinkMachine.run(ip, ["-n", net.names[i], "addr", "add", "10.79.\(getpid() % 250).\(i + 1)/24", "dev", device])
                try LinkMachine.run(ip, ["-n", net.names[i], "link", "set", device, "up"])
            }
            let (playedA, timesA) = (folder.file("a.raw"), folder.file("a.times"))
            let (playedB, timesB) = (folder.file("b.raw"), folder.file("b.times"))
            let a = try play(environment, in: net.names[0], spm: 180, seconds: 10, played: playedA, times: timesA)
            #expect(waitUntilPlayed(playedA, frames: 48_000))
            let b = try play(environment, in: net.names[1], spm: 150, seconds: 7, played: playedB, times: timesB)
            let ranA = a.finish(), ranB = b.finish()
            #expect(ranA.status == 0 && ranB.status == 0, "A: \(ranA.stderr) B: \(ranB.stderr)")
            let clicksA = try clickTimes(played: playedA, times: timesA)
            let clicksB = try clickTimes(played: playedB, times: timesB)
            // Link measures the other side's clock over the slow link before B joins (a second
            // or two here): from B's first click plus three seconds on, every click together.
            let from = try #require(clicksB.first) + 3
            var compared = 0
            for click in clicksB where click >= from && click <= min(clicksA.last!, clicksB.last!) - 0.05 {
                let nearest = clicksA.min { abs($0 - click) < abs($1 - click) }!
                #expect(abs(nearest - click) <= 0.001, "B's click at \(click) s is \((nearest - click) * 1000) ms from A's")
                compared += 1
            }
            #expect(compared >= 6)
        }

        @Test("alone (no peer on its network), play --link plays exactly what play does")
        func aloneAsToday() throws {
            let environment = try ALSATestEnvironment.ready()
            let net = try Namespaces(1, joined: false)
            let folder = try TemporaryFolder()
            let (played, times, rendered) = (folder.file("p.raw"), folder.file("p.times"), folder.file("r.wav"))
            let run = try play(environment, in: net.names[0], spm: 180, seconds: 3, played: played, times: times).finish()
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(run.stderr.contains("stridecue: link: 0 peers at most"), "\(run.stderr)")
            _ = try runStridecue(["render", "--spm", "180", "--duration", "3s", "--bits", "16", "--quiet", "-o", rendered], environment)
            #expect(difference(try #require(readBytes(played)), try wavData(rendered)) == nil)
        }
    }
}
