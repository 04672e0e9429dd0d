import ArgumentParser

/// Every command names itself (`commandName:`): otherwise ArgumentParser derives each name
/// from its type by demangling, at every start — a few milliseconds of a 50 ms render.
@main
struct StrideCue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stridecue",
        abstract: "Cadence click tracks with spoken coaching cues for runners.",
        discussion: """
            Render a drill to a file for your phone, or play it live through ALSA.
            Examples:
              stridecue render bum-kicks -o bum-kicks.wav
              stridecue render --spm 172.5 --duration 20m -o easy.wav
            """,
        subcommands: [Render.self, Export.self, Play.self, Devices.self, Say.self, Voices.self, Presets.self, PresetCommand.self]
    )
}
