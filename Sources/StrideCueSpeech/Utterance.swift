import CFlite
import Glibc

/// What one flite synthesis gives: the wave at the voice's own rate and the timing of its
/// phones and syllables, copied out of flite's utterance so flite's memory is freed at once.
struct Utterance: Sendable {
    struct Segment: Sendable {
        var phone: String
        /// Seconds from the wave's start.
        var start: Double
        var end: Double
        /// A vowel (`ph_vc` is `+`).
        var isVowel: Bool
        /// A voiced consonant (`ph_cvox` is `+`).
        var isVoicedConsonant: Bool
        var isPause: Bool { phone == "pau" }
    }

    struct Syllable: Sendable {
        var word: String
        /// Lexical stress (`stress` is `1`).
        var stressed: Bool
        /// Pitch accent predicted by flite (`accented` is `1`).
        var accented: Bool
        /// Indices into `segments`.
        var segments: Range<Int>
    }

    /// Samples scaled to -1...1, mono.
    var samples: [Float]
    var sampleRate: Int
    var segments: [Segment]
    var syllables: [Syllable]
    /// The `duration_stretch` it was spoken with.
    var durationStretch: Double

    /// Seed of libc's generator before every synthesis.
    static let noiseSeed: UInt32 = 1

    /// Synthesizes `text` with `voice` at `durationStretch`.
    ///
    /// The stretch is set on the voice's shared feature table for this one call and put back
    /// as it was afterwards, so the next caller gets the voice's normal rate.
    /// Must be called inside `Flite.lock`.
    static func synthesize(
        _ text: String, voice: UnsafeMutablePointer<cst_voice>, durationStretch: Double?
    ) throws(SpeechError) -> Utterance {
        let features = voice.pointee.features
        let hadStretch = feat_present(features, "duration_stretch") != 0
        let voiceStretch = Double(get_param_float(features, "duration_stretch", 1))
        if let durationStretch {
            CFlite_set_duration_stretch(voice, Float(durationStretch))
        }
        defer {
            if hadStretch {
                CFlite_set_duration_stretch(voice, Float(voiceStretch))
            } else {
                _ = feat_remove(features, "duration_stretch")
            }
        }

        // Clustergen voices excite unvoiced sounds with noise from libc's rand(): a fixed seed
        // makes the same text give the same samples every time, so renders can be hashed.
        srand(Utterance.noiseSeed)
        let utterance = try CCall.nonNull(flite_synth_text(text, voice), "flite_synth_text")
        defer { delete_utterance(utterance) }
        let wave = try CCall.nonNull(utt_wave(utterance), "utt_wave")

        let count = Int(max(0, wave.pointee.num_samples))
        let channels = Int(max(1, wave.pointee.num_channels))
        var samples = [Float](repeating: 0, count: count)
        if let source = wave.pointee.samples {
            for i in 0..<count { samples[i] = Float(source[i * channels]) / 32768 }
        }

        var segments: [Segment] = []
        var indexOfSegment: [UnsafeMutablePointer<cst_item>: Int] = [:]
        var item = relation_head(utt_relation(utterance, "Segment"))
        var previousEnd = 0.0
        while let segment = item {
            let end = Double(item_feat_float(segment, "end"))
            indexOfSegment[segment] = segments.count
            segments.append(Segment(
                phone: string(item_feat_string(segment, "name")),
                start: previousEnd, end: end,
                isVowel: string(ffeature_string(segment, "ph_vc")) == "+",
                isVoicedConsonant: string(ffeature_string(segment, "ph_cvox")) == "+"
            ))
            previousEnd = end
            item = item_next(segment)
        }

        var syllables: [Syllable] = []
        item = relation_head(utt_relation(utterance, "Syllable"))
        while let syllable = item {
            // A syllable's daughters in SylStructure are its segments.
            var first: Int?
            var last: Int?
            var daughter = item_daughter(item_as(syllable, "SylStructure"))
            while let node = daughter {
                if let segment = item_as(node, "Segment"), let index = indexOfSegment[segment] {
                    first = min(first ?? index, index)
                    last = max(last ?? index, index)
                }
                daughter = item_next(node)
            }
            if let first, let last {
                syllables.append(Syllable(
                    word: string(ffeature_string(syllable, "R:SylStructure.parent.name")),
                    stressed: string(ffeature_string(syllable, "stress")) == "1",
                    accented: string(ffeature_string(syllable, "accented")) == "1",
                    segments: first..<(last + 1)
                ))
            }
            item = item_next(syllable)
        }

        return Utterance(
            samples: samples, sampleRate: Int(wave.pointee.sample_rate),
            segments: segments, syllables: syllables,
            durationStretch: durationStretch ?? voiceStretch
        )
    }

    /// The voice's own `duration_stretch` (1 unless the voice sets it; kal16 sets 1.1).
    /// Must be called inside `Flite.lock`.
    static func normalStretch(of voice: UnsafeMutablePointer<cst_voice>) -> Double {
        Double(get_param_float(voice.pointee.features, "duration_stretch", 1))
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}
