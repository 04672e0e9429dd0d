import CFlite
import Synchronization

/// A flite voice compiled into StrideCue.
///
/// All four speak US English at 16 kHz. `slt` is the default: it stays clear up to twice
/// its normal speaking rate, which is what fitting a cue into two steps needs.
public enum Voice: String, CaseIterable, Sendable, Hashable {
    case slt
    case kal16
    case awb
    case rms

    /// The voice used when a cue names none.
    public static let `default`: Voice = .slt

    /// flite's own name for the voice, e.g. `cmu_us_slt`.
    public var fliteName: String { "cmu_us_\(rawValue)" }

    /// One line for `stridecue voices`.
    public var summary: String {
        switch self {
        case .slt: return "female, US English (clustergen)"
        case .kal16: return "male, US English (diphone; less clear when sped up)"
        case .awb: return "male, Scottish English (clustergen)"
        case .rms: return "male, US English (clustergen)"
        }
    }

    /// Looks a voice up by its short name (`slt`) or flite's name (`cmu_us_slt`), ignoring case.
    public init?(name: String) {
        var key = name.lowercased()
        if key.hasPrefix("cmu_us_") { key.removeFirst("cmu_us_".count) }
        self.init(rawValue: key)
    }

    /// Looks a voice up by name, or throws `SpeechError.unknownVoice` listing the known names.
    public static func named(_ name: String) throws(SpeechError) -> Voice {
        guard let voice = Voice(name: name) else {
            throw .unknownVoice(name, known: Voice.allCases.map(\.rawValue))
        }
        return voice
    }
}

/// flite's process-wide state: the library, loaded and initialised once, and the registered
/// voices.
///
/// flite is not thread-safe (its voices carry mutable feature tables, and synthesis shares
/// global lexicon caches), so every flite call in StrideCue runs inside `Flite.lock`.
/// Synthesis never runs on the audio thread, so a lock is fine here.
struct FliteState: ~Copyable {
    private var loaded: FliteLibrary?
    private var voices: [Voice: UnsafeMutablePointer<cst_voice>] = [:]

    /// flite's functions, loading the library (and calling `flite_init`) the first time.
    mutating func library() throws(SpeechError) -> FliteLibrary {
        if let loaded { return loaded }
        let library = try FliteLibrary.load()
        _ = library.initialise()  // flite_init always returns 0
        loaded = library
        return library
    }

    /// The registered voice, registering it (and loading flite) the first time.
    mutating func voice(_ voice: Voice) throws(SpeechError) -> UnsafeMutablePointer<cst_voice> {
        let library = try library()
        if let registered = voices[voice] { return registered }
        let registered = try library.register(voice)
        voices[voice] = registered
        return registered
    }
}

enum Flite {
    /// The one lock around every flite call in the process.
    static let lock = Mutex(FliteState())
}
