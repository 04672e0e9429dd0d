import StrideCueCLI
import StrideCueCore
import StrideCueRemote
import StrideCueTerminal
import StrideCueSession
import StrideCueLive

// `stridecue-remote`: the same commands, with the coach's remote's server linked in.
// `stridecue play --remote …` and `stridecue coach …` exec it with their arguments.
CoachRemoteHost.installed = CoachRemoteHost { host, port, library, save in
    let coach = try CoachRemote(library: library, save: save)
    let bound = try RemoteServer.start(coach, host: host, port: port)
    return RemoteSession(coach: coach, url: "http://\(reachableHost(listeningOn: host)):\(bound)/#token=\(coach.token.text)")
}
StrideCue.main()

/// The remote as the commands see it.
final class RemoteSession: CoachRemoteSession {
    let coach: CoachRemote
    let url: String

    init(coach: CoachRemote, url: String) {
        self.coach = coach
        self.url = url
    }

    func qrCodeLines() throws -> [String] { try QRCode.lines(url) }

    func attach(live: LivePlayback, prepared: PreparedSession, preset: String?, sensor: SensorReadings?) {
        coach.attach(RemoteDrill(live: live, prepared: prepared, preset: preset, sensor: sensor))
    }

    func detach() { coach.detach() }

    func report(_ message: String) { coach.report(message) }

    func takeStartRequest() -> String? {
        guard case .start(let preset)? = coach.takeRequest() else { return nil }
        return preset
    }

    func waitForStartRequest(milliseconds: Int32) -> String? {
        guard case .start(let preset)? = coach.waitForRequest(milliseconds: milliseconds) else { return nil }
        return preset
    }
}
