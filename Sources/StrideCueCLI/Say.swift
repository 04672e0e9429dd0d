import ArgumentParser
import StrideCueCore
import StrideCueFiles
import StrideCueMixdown
import StrideCueSession
import StrideCueSoundFile
import StrideCueSpeech
import StrideCueTerminal
/// `stridecue say`: one cue to a WAV file, so a coach can hear what a preset's cue sounds like.
struct Say: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "say",
        abstract: "Speak one cue to a WAV file.",
        discussion: """
            Speaks TEXT with a flite voice, as a preset's cue would be spoken: leading and \
            trailing pauses trimmed, peak at -1 dBFS. With --spm or --steps the cue is fitted \
            into that many steps (default 2 at 180 spm) by speaking faster, up to twice the \
            normal rate; a cue that still does not fit is an error that says how many steps it \
            needs. --style tone renders the cue's rhythm and pitch as tones instead of words.
            Examples:
              stridecue say "pull through" -o pull-through.wav
              stridecue say "relax the shoulders" --spm 180 --steps 3 -o relax.wav
            Exit codes: 0 done, 64 bad flag, 65 the text cannot be spoken in the time given, \
            73 cannot create the output, 74 I/O error.
            """
    )

    @Argument(help: "What to say, e.g. \"pull through\" (at most \(CueText.maxCharacters) characters).")
    var text: CueTextValue

    @Option(name: .shortAndLong, help: "The file to write (.wav, mono).")
    var output: String?

    @Option(help: "flite voice: slt (default), kal16, awb or rms. 'stridecue voices' lists them.")
    var voice: String = Voice.default.rawValue

    @Option(name: .customLong("spm"), parsing: .unconditional, help: "Cadence in steps per minute for fitting (default 180 when --steps is given).")
    var spm: CadenceValue?

    @Option(parsing: .unconditional, help: "Steps the cue may take (default 2 when --spm is given).")
    var steps: WholeValue?

    @Option(help: "voice (words) or tone (a motif with the words' rhythm and pitch).")
    var style: String = CueStyle.voice.rawValue

    @Option(parsing: .unconditional, help: "Sample rate in Hz, 8000 to 192000.")
    var rate = SampleRateValue(48_000)

    func validate() throws {
        guard let output else { return }
        guard output.lowercased().hasSuffix(".wav") else {
            throw ValidationError("-o \(escaped(output)): use a .wav name")
        }
        try spm?.validate("--spm")
        try steps?.validate("--steps", CueLimits.steps)
    }

    func run() throws {
        let text = self.text.text
        try reportingFailures {
            guard let output else { throw Failure.flag("-o/--output", "is missing: name the .wav file to write") }
            guard let voice = Voice(name: voice) else {
                let names = Voice.allCases.map(\.rawValue).joined(separator: ", ")
                throw Failure.flag("--voice", "must be one of: \(names); got '\(self.voice)'")
            }
            guard let style = CueStyle(rawValue: style), style != .both else {
                throw Failure.flag("--style", "must be voice or tone, got '\(self.style)'")
            }
            let sampleRate = rate.hz
            let fit = fitting()

            let cue: SpokenCue
            do {
                cue = try SpeechSynthesizer.shared.synthesize(
                    text: text, voice: voice, outputRate: sampleRate,
                    maxDuration: fit.map { Double($0.steps) * 60 / $0.cadence }, style: style
                )
            } catch let error as CueTooLong {
                let cadence = fit?.cadence ?? 180
                let needed = error.stepsNeeded(cadence: cadence)
                throw Failure(
                    "'\(quoted(text))' needs \(needed) steps at \(format(cadence)) spm; use --steps \(needed) or a shorter text",
                    exitCode: ExitStatus.dataError)
            } catch let error as SpeechError {
                if case .noSpeech = error { throw Failure("\(error)", exitCode: ExitStatus.dataError) }
                throw Failure("speech failed: \(error)", exitCode: ExitStatus.unavailable)
            }

            var writer = try SoundFileWriter(
                path: output, format: RenderFormat(sampleRate: sampleRate, channels: 1), encoding: .pcm16)
            try cue.samples.withUnsafeBufferPointer { samples throws(SoundFileError) in try writer.write(samples) }
            try writer.commit()

            let stressed = cue.syllables.isEmpty ? "" : cue.syllables[cue.stressedSyllable].word
            let speed = cue.speed == 1 ? "normal rate" : "\(format((cue.speed * 100).rounded() / 100))× normal rate"
            print("\(output): '\(text)', \(milliseconds(cue.duration)) ms at \(speed) (\(voice.rawValue), \(style.rawValue)); "
                + "stress on '\(stressed)' at \(milliseconds(Double(cue.stressOffset) / Double(sampleRate))) ms")
        }
    }

    /// The steps and cadence to fit into, or nil to speak at the natural length.
    func fitting() -> (steps: Int, cadence: Double)? {
        guard spm != nil || steps != nil else { return nil }
        return (steps?.value ?? 2, spm?.spm ?? 180)
    }

    private func milliseconds(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }
}
