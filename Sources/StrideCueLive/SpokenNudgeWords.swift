import StrideCueCore
import StrideCueSpeech

/// The spoken nudge's words ("quicker", "ease off", or the preset's own), synthesized by flite
/// on the control thread before the sound card opens, then kept in the session's
/// `SpokenSamples`: the player only pushes `LiveCommand.say` when it is time, the path the
/// coach's "say" takes, and the words land on the next step on which no cue sounds.
public struct SpokenNudgeWords {
    /// The sound for a runner under the target, and over it.
    let under: [Float]
    let over: [Float]

    /// The key each side's sound is kept under in `SpokenSamples`.
    public static func key(_ side: SpokenNudge.Side) -> String {
        side == .under ? "nudge:under" : "nudge:over"
    }

    /// Synthesizes both sides' words at `rate`.
    /// - Throws: `Failure` (exit 65) naming the words when flite cannot say them.
    public init(_ settings: SpokenNudgeSettings, rate: Int) throws {
        func say(_ side: SpokenNudge.Side) throws -> [Float] {
            let words = settings.words(side)
            do {
                return try SpeechSynthesizer.shared.synthesize(text: words, outputRate: rate).samples
            } catch {
                throw Failure("cannot say the feedback's words '\(words)': \(explain(error).message)", exitCode: ExitStatus.dataError)
            }
        }
        under = try say(.under)
        over = try say(.over)
    }

    /// Keeps both sounds in `store`, as the coach's "say" keeps its words.
    public func keep(in store: SpokenSamples) {
        _ = store.add(under, for: Self.key(.under))
        _ = store.add(over, for: Self.key(.over))
    }
}
