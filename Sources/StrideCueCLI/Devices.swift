import ArgumentParser
import StrideCueALSA
import StrideCueCore
import StrideCueFiles
import StrideCueMixdown
import StrideCueSession
import StrideCueTerminal
/// `stridecue devices`: the names `play --device` accepts, and the sound cards behind them.
struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the ALSA devices you can pass to --device.",
        discussion: """
            Lists the playback PCMs ALSA's configuration advertises (* marks the default, \
            used when --device is not given, with whether it opens now and what it plays \
            through: a sound card, PulseAudio or PipeWire; [direct hardware] marks hw: and \
            plughw: devices, which reach the card without a sound server), then the sound \
            cards ALSA can see.
            """
    )

    func run() throws {
        try reportingFailures {
            // alsa-lib would otherwise print its own lines for every PCM it cannot open.
            ALSALibrary.silenceErrorMessages()
            let pcms: [PCMHint]
            let cards: [SoundCard]
            do {
                pcms = try DeviceList.pcms().filter(\.canPlay)
                cards = try DeviceList.cards()
            } catch {
                throw Failure("cannot list ALSA devices (\(error))", exitCode: ExitStatus.unavailable)
            }
            for line in Devices.lines(pcms: pcms, cards: cards, defaultDevice: Devices.probeDefault()) {
                print(line)
            }
        }
    }

    /// Whether `default` opens now, and what it goes through: a card, PulseAudio or PipeWire
    /// (read from the PCM itself, not from its name or the configuration's description).
    static func probeDefault() -> Result<PCMRoute, PCMOpenError> {
        Result { () throws(PCMOpenError) in try PCMDevice.probe("default") }
    }

    /// The listing, one line per PCM and per card.
    static func lines(pcms: [PCMHint], cards: [SoundCard], defaultDevice: Result<PCMRoute, PCMOpenError>) -> [String] {
        var rows: [(mark: String, name: String, about: String)] = []
        let defaultAbout: String
        switch defaultDevice {
        case .success(let route): defaultAbout = "opens now; plays through \(route.description)"
        case .failure(let error): defaultAbout = "does not open now (ALSA: \(error.reason))"
        }
        if !pcms.contains(where: \.isDefault) {
            rows.append(("*", "default", defaultAbout))
        }
        for pcm in pcms {
            var about = oneLine(pcm.description)
            if pcm.isDefault { about = about.isEmpty ? defaultAbout : about + "; " + defaultAbout }
            rows.append((pcm.isDefault ? "*" : " ", pcm.name,
                         pcm.isDirectHardware ? "[direct hardware] " + about : about))
        }
        let width = min(32, rows.map(\.name.count).max() ?? 0)
        var lines = ["ALSA playback devices for --device (* is the default):"]
        for row in rows {
            let padding = String(repeating: " ", count: max(1, width - row.name.count + 2))
            lines.append("\(row.mark) \(row.name)\(row.about.isEmpty ? "" : padding + row.about)")
        }
        lines.append("[direct hardware]: straight to the card; others go through a plugin or a sound server")
        lines.append("  (PulseAudio, PipeWire), which StrideCue plays through as steadily, with the server's delay added.")
        if cards.isEmpty {
            if case .success(let route) = defaultDevice, route.isSoundServer {
                lines.append("Sound cards: none that ALSA sees itself; 'default' plays through \(route.description),")
                lines.append("  which owns the sound hardware (Bluetooth headphones, USB or HDMI audio).")
            } else {
                lines.append("Sound cards: none. ALSA sees no sound card and no sound server answers, so only software")
                lines.append("  devices such as 'null' will open; 'stridecue render' writes a file instead.")
            }
        } else {
            lines.append("Sound cards:")
            for card in cards {
                let id = card.id.map { " [\($0)]" } ?? ""
                let long = card.longName.isEmpty || card.longName == card.name ? "" : " — \(card.longName)"
                lines.append("  \(card.index)\(id) \(card.name)\(long)")
            }
        }
        return lines
    }

    /// ALSA descriptions span lines ("HDA Intel PCH, ALC892 Analog\nFront speakers").
    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }.joined(separator: ", ")
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
