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
            used when --device is not given; [direct hardware] marks hw: and plughw: devices, \
            which reach the card without a sound server), then the sound cards ALSA can see.
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
            for line in Devices.lines(pcms: pcms, cards: cards, defaultProblem: Devices.defaultProblem(pcms)) {
                print(line)
            }
        }
    }

    /// Why `default` cannot be used, when ALSA does not advertise it; nil when it can.
    static func defaultProblem(_ pcms: [PCMHint]) -> String? {
        if pcms.contains(where: \.isDefault) { return nil }
        do {
            try PCMDevice.probe("default")
            return nil
        } catch {
            return error.reason
        }
    }

    /// The listing, one line per PCM and per card.
    static func lines(pcms: [PCMHint], cards: [SoundCard], defaultProblem: String?) -> [String] {
        var rows: [(mark: String, name: String, about: String)] = []
        if !pcms.contains(where: \.isDefault) {
            let about = defaultProblem.map { "not available here (ALSA: \($0))" } ?? "the default PCM"
            rows.append(("*", "default", about))
        }
        for pcm in pcms {
            let about = oneLine(pcm.description)
            rows.append((pcm.isDefault ? "*" : " ", pcm.name,
                         pcm.isDirectHardware ? "[direct hardware] " + about : about))
        }
        let width = min(32, rows.map(\.name.count).max() ?? 0)
        var lines = ["ALSA playback devices for --device (* is the default):"]
        for row in rows {
            let padding = String(repeating: " ", count: max(1, width - row.name.count + 2))
            lines.append("\(row.mark) \(row.name)\(row.about.isEmpty ? "" : padding + row.about)")
        }
        lines.append("[direct hardware]: straight to the card, where live playback's timing holds; others go")
        lines.append("  through a plugin or sound server (PulseAudio, PipeWire) with its own locks and buffers.")
        if cards.isEmpty {
            lines.append("Sound cards: none. ALSA sees no sound card on this machine, so only software")
            lines.append("  devices such as 'null' will open; 'stridecue render' writes a file instead.")
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
