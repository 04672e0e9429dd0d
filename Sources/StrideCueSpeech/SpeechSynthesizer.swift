import StrideCueCore
import Synchronization

/// Turns cue text into samples at the output rate, with flite, ahead of playback.
///
/// Identical requests (text, voice, rate, style and time limit) are synthesized once and
/// served from a cache afterwards, including the `CueTooLong` answer for a cue that cannot
/// fit. Use `shared` in the program; tests make their own to count synthesis calls.
///
/// Real-time safety: none. Synthesis allocates, takes a lock and runs for tens of
/// milliseconds (55 ms for "pull through" with slt, 200 ms for a two-sentence caution):
/// call it before playback or on a worker thread, never on the audio thread. A cache hit
/// takes a lock and copies nothing (the samples are shared).
public final class SpeechSynthesizer: Sendable {
    /// The process's synthesizer, whose cache every caller shares.
    public static let shared = SpeechSynthesizer()

    /// Fastest speaking rate a cue may be fitted to, relative to the voice's normal rate.
    /// slt stays clear at 2×; faster is gabble.
    public static let maximumSpeed = 2.0

    /// Fraction of the time limit a fitted cue aims for, so rounding in flite's timing does
    /// not push a cue that was meant to fit a hair over.
    static let fitMargin = 0.985

    private struct Key: Hashable {
        var text: String
        var voice: Voice
        var outputRate: Int
        var maxDuration: Double?
        var style: CueStyle
    }

    private struct State {
        var cache: [Key: Result<SpokenCue, any Error>] = [:]
        var synthesisCalls = 0
        var cacheHits = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Calls to flite's synthesizer made by this synthesizer so far (fitting a cue may take
    /// several). A cache hit makes none.
    public var synthesisCount: Int { state.withLock { $0.synthesisCalls } }

    /// Requests answered from the cache so far.
    public var cacheHits: Int { state.withLock { $0.cacheHits } }

    /// The voices that register with flite in this build, in `Voice.allCases` order.
    public static var availableVoices: [Voice] {
        Flite.lock.withLock { flite in
            Voice.allCases.filter { (try? flite.voice($0)) != nil }
        }
    }

    /// Speaks `text`, fitted into `maxDuration` seconds if given, as mono samples at
    /// `outputRate`.
    ///
    /// A cue longer than `maxDuration` at the voice's normal rate is spoken faster, with
    /// flite's own `duration_stretch`, down to half the normal duration and no further.
    ///
    /// - Parameters:
    ///   - text: What to say, as written in a preset ("pull through").
    ///   - voice: The flite voice.
    ///   - outputRate: Frames per second of the result (8 kHz to 384 kHz).
    ///   - maxDuration: Seconds the spoken part may take, or nil for the natural length.
    ///   - style: `.voice` for the words; `.tone` for a motif with the words' rhythm and pitch
    ///     (`.both` is refused: ask for the tone and the words separately).
    /// - Throws: `CueTooLong` when the text does not fit even at twice the normal rate;
    ///   `SpeechError` for text with nothing to say, a bad argument, or a failing C call.
    public func synthesize(
        text: String,
        voice: Voice = .default,
        outputRate: Int,
        maxDuration: Double? = nil,
        style: CueStyle = .voice
    ) throws -> SpokenCue {
        guard (8_000...384_000).contains(outputRate) else {
            throw SpeechError.invalidArgument("output rate \(outputRate) Hz is outside 8000...384000")
        }
        if style == .both {
            throw SpeechError.invalidArgument("style both is two cues: synthesize the tone and the words separately")
        }
        if let maxDuration, !(maxDuration > 0 && maxDuration.isFinite) {
            throw SpeechError.invalidArgument("a cue's time must be positive, not \(maxDuration) s")
        }
        let key = Key(text: text, voice: voice, outputRate: outputRate, maxDuration: maxDuration, style: style)
        // The whole request runs under this synthesizer's lock so two threads asking for the
        // same cue synthesize it once; flite's own lock is taken inside.
        return try state.withLock { state in try cue(key, &state) }
    }

    /// A spoken count-in: "three", "two", "one", "go" for four steps, each fitted into one
    /// step at `cadence`.
    ///
    /// - Parameters:
    ///   - steps: Steps of count-in; the numbers count down from `steps - 1`, then "go".
    ///   - cadence: Steps per minute; each word gets `60 / cadence` seconds.
    /// - Returns: One cue per step, in the order they are spoken; empty for 0 steps.
    /// - Throws: `CueTooLong` when a number cannot be said within one step.
    public func countIn(
        steps: Int, cadence: Double, voice: Voice = .default, outputRate: Int
    ) throws -> [SpokenCue] {
        guard steps >= 0, cadence > 0, cadence.isFinite else {
            throw SpeechError.invalidArgument("count-in of \(steps) steps at \(cadence) spm")
        }
        return try SpeechSynthesizer.countInWords(steps: steps).map {
            try synthesize(text: $0, voice: voice, outputRate: outputRate, maxDuration: 60 / cadence)
        }
    }

    /// The words of a count-in of `steps` steps: `["three", "two", "one", "go"]` for 4.
    public static func countInWords(steps: Int) -> [String] {
        guard steps > 0 else { return [] }
        let names = [
            "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
            "eighteen", "nineteen", "twenty",
        ]
        let numbers = stride(from: steps - 1, through: 1, by: -1).map {
            $0 <= names.count ? names[$0 - 1] : String($0)  // flite reads digits aloud
        }
        return numbers + ["go"]
    }

    // MARK: - Building a cue

    private func cue(_ key: Key, _ state: inout State) throws -> SpokenCue {
        if let cached = state.cache[key] {
            state.cacheHits += 1
            return try cached.get()
        }
        let result: Result<SpokenCue, any Error>
        switch key.style {
        case .voice:
            result = Result { try spokenCue(key, calls: &state.synthesisCalls) }
        case .tone, .both:
            var spokenKey = key
            spokenKey.style = .voice
            result = Result { ToneMotif.render(from: try cue(spokenKey, &state)) }
        }
        // Failures of a C call are not remembered: the next request tries again.
        if case .failure(let error) = result, error is SpeechError { return try result.get() }
        state.cache[key] = result
        return try result.get()
    }

    private func spokenCue(_ key: Key, calls: inout Int) throws -> SpokenCue {
        let (utterance, span, speed) = try fitted(key, calls: &calls)
        return try SpeechSynthesizer.render(
            utterance, span: span, text: key.text, voice: key.voice,
            outputRate: key.outputRate, speed: speed
        )
    }

    /// Synthesizes at the voice's normal rate, then as much faster as the limit needs.
    private func fitted(
        _ key: Key, calls: inout Int
    ) throws -> (Utterance, Span, speed: Double) {
        try Flite.lock.withLock { flite throws -> (Utterance, Span, speed: Double) in
            let voice = try flite.voice(key.voice)
            let library = try flite.library()
            let normal = Utterance.normalStretch(of: voice, using: library)
            let fastest = normal / SpeechSynthesizer.maximumSpeed

            var stretch = normal
            // Duration is close to proportional to the stretch, so this converges in one or
            // two steps; the bound is a guard, and its last try is at the fastest rate.
            for attempt in 0..<6 {
                calls += 1
                let utterance = try Utterance.synthesize(key.text, voice: voice, durationStretch: stretch, using: library)
                guard let span = Span(of: utterance) else {
                    throw SpeechError.noSpeech(text: key.text)
                }
                guard let limit = key.maxDuration, span.duration > limit else {
                    return (utterance, span, normal / stretch)
                }
                if stretch <= fastest {
                    throw CueTooLong(
                        text: key.text, voice: key.voice,
                        maxDuration: limit, shortestDuration: span.duration
                    )
                }
                let proposed = stretch * limit / span.duration * SpeechSynthesizer.fitMargin
                stretch = attempt == 4 ? fastest : max(fastest, proposed)
            }
            preconditionFailure("the sixth attempt is at the fastest rate and returns or throws")
        }
    }

    /// Cuts the speech out of the utterance, resamples it, and measures its syllables.
    static func render(
        _ utterance: Utterance, span: Span, text: String, voice: Voice,
        outputRate: Int, speed: Double
    ) throws -> SpokenCue {
        let inputRate = utterance.sampleRate
        let input = utterance.samples

        // Resample a little more than the speech so the sinc filter sees real signal, not
        // an edge, at the cut points; then cut at the output rate.
        let margin = inputRate / 50
        let first = max(0, Int((span.start * Double(inputRate)).rounded(.down)) - margin)
        let last = min(input.count, Int((span.end * Double(inputRate)).rounded(.up)) + margin)
        let resampled = try Resampler.resample(Array(input[first..<last]), from: inputRate, to: outputRate)
        let chunkStart = Double(first) / Double(inputRate)
        let cutStart = min(resampled.count, Int(((span.start - chunkStart) * Double(outputRate)).rounded()))
        let cutEnd = min(resampled.count, cutStart + Int((span.duration * Double(outputRate)).rounded()))
        var samples = Array(resampled[cutStart..<cutEnd])

        Shaping.fade(&samples, frames: Int(SpokenCue.fadeDuration * Double(outputRate)))
        Shaping.normalize(&samples, peak: SpokenCue.peakLevel)

        let frame = { (seconds: Double) -> Int in
            min(samples.count, max(0, Int(((seconds - span.start) * Double(outputRate)).rounded())))
        }
        let syllables = utterance.syllables.map { syllable -> SpokenSyllable in
            let segments = utterance.segments[syllable.segments]
            let onset = frame(segments.first!.start)
            return SpokenSyllable(
                word: syllable.word,
                onset: onset,
                length: frame(segments.last!.end) - onset,
                stressed: syllable.stressed,
                accented: syllable.accented,
                pitch: pitch(of: syllable, in: utterance)
            )
        }
        return SpokenCue(
            text: text, voice: voice, style: .voice, sampleRate: outputRate,
            samples: samples, syllables: syllables,
            stressedSyllable: nuclearStress(utterance.syllables),
            durationStretch: utterance.durationStretch, speed: speed
        )
    }

    /// The syllable `align: stress` lands on the step: the last lexically stressed one.
    ///
    /// In a short English phrase the main stress falls on the last stressed syllable: pull
    /// THROUGH, pop FORwards, relax the SHOULders. flite's `accented` feature is no guide
    /// here: it accents "pull" and not "through".
    static func nuclearStress(_ syllables: [Utterance.Syllable]) -> Int {
        syllables.lastIndex(where: \.stressed) ?? 0
    }

    /// Median F0 over the syllable's vowels (its voiced consonants if it has no vowel).
    static func pitch(of syllable: Utterance.Syllable, in utterance: Utterance) -> Double? {
        let segments = utterance.segments[syllable.segments]
        let voiced = segments.contains(where: \.isVowel)
            ? segments.filter(\.isVowel) : segments.filter(\.isVoicedConsonant)
        guard let start = voiced.first?.start, let end = voiced.last?.end else { return nil }
        let rate = Double(utterance.sampleRate)
        let range = Int(start * rate)..<min(utterance.samples.count, Int(end * rate))
        return Pitch.median(utterance.samples, in: range, sampleRate: utterance.sampleRate)
    }
}

/// The spoken part of an utterance, in seconds from the wave's start.
struct Span: Sendable, Equatable {
    var start: Double
    var end: Double
    var duration: Double { end - start }

    /// Level, relative to the utterance's peak, above which a 5 ms window counts as sound.
    static let onsetThreshold: Float = 0.005_6  // −45 dB
    /// Level below which the last phone's release counts as over.
    static let releaseThreshold: Float = 0.01  // −40 dB
    /// How far past the last phone's end a decaying release may run.
    static let maximumRelease = 0.030

    /// From the first to the last phone that is not a pause (`pau`), by the Segment
    /// relation; the start moves on to the first sound when the first phone begins silent
    /// (the closure of "p" in "pull" is 70 ms of nothing), and the end takes in the release
    /// of the last phone. Nil when the utterance is all pause.
    init?(of utterance: Utterance) {
        guard let first = utterance.segments.firstIndex(where: { !$0.isPause }),
              let last = utterance.segments.lastIndex(where: { !$0.isPause })
        else { return nil }
        let samples = utterance.samples
        let rate = Double(utterance.sampleRate)
        let window = max(1, utterance.sampleRate / 200)
        let step = max(1, utterance.sampleRate / 1000)
        var peak: Float = 0
        for sample in samples { peak = max(peak, abs(sample)) }

        let phoneStart = Int(utterance.segments[first].start * rate)
        let phoneEnd = min(samples.count, Int(utterance.segments[first].end * rate))
        var onset = phoneStart
        var position = phoneStart
        while position + window <= phoneEnd {
            if Shaping.rms(samples, position..<(position + window)) >= peak * Span.onsetThreshold {
                onset = max(phoneStart, position - 3 * step)
                break
            }
            position += step
        }

        let speechEnd = min(samples.count, Int(utterance.segments[last].end * rate))
        let releaseLimit = min(samples.count, speechEnd + Int(Span.maximumRelease * rate))
        var end = speechEnd
        while end + window <= releaseLimit,
              Shaping.rms(samples, end..<(end + window)) >= peak * Span.releaseThreshold {
            end += step
        }
        guard end > onset else { return nil }
        start = Double(onset) / rate
        self.end = Double(end) / rate
    }
}
