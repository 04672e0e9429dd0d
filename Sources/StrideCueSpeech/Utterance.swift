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
        _ text: String, voice: UnsafeMutablePointer<cst_voice>, durationStretch: Double?,
        using flite: FliteLibrary
    ) throws(SpeechError) -> Utterance {
        let features = voice.pointee.features
        let hadStretch = flite.featurePresent(features, "duration_stretch") != 0
        let voiceStretch = Double(flite.parameterFloat(features, "duration_stretch", 1))
        if let durationStretch {
            flite.setFeature(features, "duration_stretch", Float(durationStretch))
        }
        defer {
            if hadStretch {
                flite.setFeature(features, "duration_stretch", Float(voiceStretch))
            } else {
                _ = flite.removeFeature(features, "duration_stretch")
            }
        }

        // Clustergen voices excite unvoiced sounds with noise from libc's rand(): a fixed seed
        // makes the same text give the same samples every time, so renders can be hashed.
        srand(Utterance.noiseSeed)
        let utterance = try CCall.nonNull(flite.synthesizeText(text, voice), "flite_synth_text")
        defer { flite.deleteUtterance(utterance) }
        let wave = try CCall.nonNull(flite.wave(utterance), "utt_wave")

        let count = Int(max(0, wave.pointee.num_samples))
        let channels = Int(max(1, wave.pointee.num_channels))
        var samples = [Float](repeating: 0, count: count)
        if let source = wave.pointee.samples {
            for i in 0..<count { samples[i] = Float(source[i * channels]) / 32768 }
        }

        var segments: [Segment] = []
        var indexOfSegment: [UnsafeMutablePointer<cst_item>: Int] = [:]
        var item = flite.relationHead(flite.relation(utterance, "Segment"))
        var previousEnd = 0.0
        while let segment = item {
            let end = Double(flite.itemFloat(segment, "end"))
            indexOfSegment[segment] = segments.count
            segments.append(Segment(
                phone: string(flite.itemString(segment, "name")),
                start: previousEnd, end: end,
                isVowel: string(flite.featureString(segment, "ph_vc")) == "+",
                isVoicedConsonant: string(flite.featureString(segment, "ph_cvox")) == "+"
            ))
            previousEnd = end
            item = flite.next(segment)
        }

        var syllables: [Syllable] = []
        item = flite.relationHead(flite.relation(utterance, "Syllable"))
        while let syllable = item {
            // A syllable's daughters in SylStructure are its segments.
            var first: Int?
            var last: Int?
            var daughter = flite.daughter(flite.itemAs(syllable, "SylStructure"))
            while let node = daughter {
                if let segment = flite.itemAs(node, "Segment"), let index = indexOfSegment[segment] {
                    first = min(first ?? index, index)
                    last = max(last ?? index, index)
                }
                daughter = flite.next(node)
            }
            if let first, let last {
                syllables.append(Syllable(
                    word: string(flite.featureString(syllable, "R:SylStructure.parent.name")),
                    stressed: string(flite.featureString(syllable, "stress")) == "1",
                    accented: string(flite.featureString(syllable, "accented")) == "1",
                    segments: first..<(last + 1)
                ))
            }
            item = flite.next(syllable)
        }

        return Utterance(
            samples: samples, sampleRate: Int(wave.pointee.sample_rate),
            segments: segments, syllables: syllables,
            durationStretch: durationStretch ?? voiceStretch
        )
    }

    /// The voice's own `duration_stretch` (1 unless the voice sets it; kal16 sets 1.1).
    /// Must be called inside `Flite.lock`.
    static func normalStretch(of voice: UnsafeMutablePointer<cst_voice>, using flite: FliteLibrary) -> Double {
        Double(flite.parameterFloat(voice.pointee.features, "duration_stretch", 1))
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}
