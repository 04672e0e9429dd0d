import ArgumentParser
import StrideCueCore
import StrideCueSession
import StrideCueSoundFile
import StrideCueTerminal
import StrideCueLive

/// `stridecue coach`: waits, silent, for the coach to pick a drill on the remote's page and
/// start it; plays it; waits again. Runs all session on the device at the track.
struct Coach: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coach",
        abstract: "Wait for the coach's phone to start drills (the coach's remote).",
        discussion: """
            Prints 'Coach remote: http://HOST:PORT/#token=TOKEN' (and, on a terminal, the same as a \
            QR code): open it on the coach's phone. The page starts, steers and stops drills; keys \
            work as in 'stridecue play' while one plays. Plain HTTP: use it on a network you trust. \
            The token is new each run. The server is the stridecue-remote program, installed next to stridecue.
            Exit codes: 0 never (Ctrl-C ends it: 130), 64 bad flag, 69 cannot listen or no sound device.
            """
    )

    @Option(help: ArgumentHelp("Listen on [ADDRESS:]PORT; 127.0.0.1 unless an address is given.", valueName: "[addr:]port"))
    var remote = RemoteAddress(host: "127.0.0.1", port: 8080)

    @OptionGroup var output: LiveOutputOptions

    @Flag(name: .customLong("no-keys"), help: "Do not read keys from the terminal.")
    var noKeys = false

    @OptionGroup var musicOptions: MusicOptions

    func validate() throws {
        try output.validate()
        _ = try musicOptions.settings()
    }

    func run() throws {
        // The server lives in `stridecue-remote` (see `CoachRemoteHost`).
        guard let host = CoachRemoteHost.installed else { execRemoteFrontEnd() }
        try reportingFailures {
            catchInterrupts()
            let music = try musicOptions.settings()
            // Music no library reads is refused before the server starts and prints its address.
            if let music { try MusicLoop.checkReadable(music.path) }
            let coach = try host.start(remote)
            let player = output.player(keys: !noKeys, verbose: false)
            while true {
                let signal = interruptions.signal
                if signal != 0 { throw ExitCode(128 + signal) }
                guard let preset = coach.waitForStartRequest(milliseconds: 200) else { continue }
                printError("stridecue: coach started \(preset)")
                do {
                    try player.play(SessionRequest(preset: preset), remote: coach, music: music)
                } catch let stop as Stopped {
                    throw stop
                } catch let failure as Failure where failure.exitStatus == ExitStatus.unavailable {
                    throw failure  // no sound device: nothing to wait for
                } catch {
                    // A drill that cannot play is the coach's news, not the end of the session.
                    let (message, _) = explain(error)
                    printError("stridecue: \(message)")
                    coach.report(message)
                }
            }
        }
    }
}
