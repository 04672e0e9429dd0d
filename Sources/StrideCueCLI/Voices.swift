import ArgumentParser
import StrideCueCore
import StrideCueFiles
import StrideCueMixdown
import StrideCueSession
import StrideCueSpeech
import StrideCueTerminal
/// `stridecue voices`: the flite voices `--voice` and a preset's `voice:` accept.
struct Voices: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voices",
        abstract: "List the speech voices you can pass to --voice.",
        discussion: "All are built into StrideCue (CMU Flite) and speak at 16 kHz; * marks the default."
    )

    func run() throws {
        for line in Voices.lines(available: SpeechSynthesizer.availableVoices) { print(line) }
    }

    static func lines(available: [Voice]) -> [String] {
        var lines = ["flite voices for --voice (* is the default):"]
        for voice in Voice.allCases {
            let mark = voice == .default ? "*" : " "
            let name = voice.rawValue.padding(to: 6)
            let flite = voice.fliteName.padding(to: 13)
            let state = available.contains(voice) ? voice.summary : "not available (registration failed)"
            lines.append("\(mark) \(name)\(flite)\(state)")
        }
        return lines
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        self + String(repeating: " ", count: Swift.max(1, width - count))
    }
}
