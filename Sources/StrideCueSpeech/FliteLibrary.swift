import CFlite
import Glibc

/// flite's functions, found in its shared libraries the first time a cue is spoken.
///
/// flite's voices are shared libraries full of pointer tables that the dynamic loader must
/// relocate before `main`: 130 000 relocations and about 6 MiB of touched memory, which every
/// `stridecue` command would pay — a plain click track, a `presets` listing — if they were
/// linked in. Opened with `dlopen` on first use, they cost only the commands that speak, and
/// only the voices those use. The names are the sonames of Debian's `libflite1`.
///
/// Every call into flite goes through one of these pointers, inside `Flite.lock`.
struct FliteLibrary {
    typealias Features = UnsafeMutablePointer<cst_features>?
    typealias Item = UnsafeMutablePointer<cst_item>?
    typealias Text = UnsafePointer<CChar>?

    let initialise: @convention(c) () -> Int32
    let featurePresent: @convention(c) (Features, Text) -> Int32
    let parameterFloat: @convention(c) (Features, Text, Float) -> Float
    let setFeatureFloat: @convention(c) (Features, Text, Float) -> Void
    let removeFeature: @convention(c) (Features, Text) -> Int32
    let synthesizeText: @convention(c) (Text, UnsafeMutablePointer<cst_voice>?) -> UnsafeMutablePointer<cst_utterance>?
    let deleteUtterance: @convention(c) (UnsafeMutablePointer<cst_utterance>?) -> Void
    let wave: @convention(c) (UnsafeMutablePointer<cst_utterance>?) -> UnsafeMutablePointer<cst_wave>?
    let relation: @convention(c) (UnsafeMutablePointer<cst_utterance>?, Text) -> UnsafeMutablePointer<cst_relation>?
    let relationHead: @convention(c) (UnsafeMutablePointer<cst_relation>?) -> Item
    let itemFloat: @convention(c) (Item, Text) -> Float
    let itemString: @convention(c) (Item, Text) -> Text
    let featureString: @convention(c) (Item, Text) -> Text
    let next: @convention(c) (Item) -> Item
    let daughter: @convention(c) (Item) -> Item
    let itemAs: @convention(c) (Item, Text) -> Item

    /// The core library, flite's text-to-speech engine without a voice.
    static let coreLibrary = "libflite.so.1"

    /// Opens libflite and finds its functions.
    /// - Throws: `.libraryMissing` when the library or one of its functions is not there.
    static func load() throws(SpeechError) -> FliteLibrary {
        let handle = try open(coreLibrary)
        func find<F>(_ name: String, as _: F.Type) throws(SpeechError) -> F {
            try symbol(name, in: handle, library: coreLibrary, as: F.self)
        }
        return FliteLibrary(
            initialise: try find("flite_init", as: (@convention(c) () -> Int32).self),
            featurePresent: try find("feat_present", as: (@convention(c) (Features, Text) -> Int32).self),
            parameterFloat: try find("get_param_float", as: (@convention(c) (Features, Text, Float) -> Float).self),
            setFeatureFloat: try find("feat_set_float", as: (@convention(c) (Features, Text, Float) -> Void).self),
            removeFeature: try find("feat_remove", as: (@convention(c) (Features, Text) -> Int32).self),
            synthesizeText: try find("flite_synth_text", as: (@convention(c) (Text, UnsafeMutablePointer<cst_voice>?) -> UnsafeMutablePointer<cst_utterance>?).self),
            deleteUtterance: try find("delete_utterance", as: (@convention(c) (UnsafeMutablePointer<cst_utterance>?) -> Void).self),
            wave: try find("utt_wave", as: (@convention(c) (UnsafeMutablePointer<cst_utterance>?) -> UnsafeMutablePointer<cst_wave>?).self),
            relation: try find("utt_relation", as: (@convention(c) (UnsafeMutablePointer<cst_utterance>?, Text) -> UnsafeMutablePointer<cst_relation>?).self),
            relationHead: try find("relation_head", as: (@convention(c) (UnsafeMutablePointer<cst_relation>?) -> Item).self),
            itemFloat: try find("item_feat_float", as: (@convention(c) (Item, Text) -> Float).self),
            itemString: try find("item_feat_string", as: (@convention(c) (Item, Text) -> Text).self),
            featureString: try find("ffeature_string", as: (@convention(c) (Item, Text) -> Text).self),
            next: try find("item_next", as: (@convention(c) (Item) -> Item).self),
            daughter: try find("item_daughter", as: (@convention(c) (Item) -> Item).self),
            itemAs: try find("item_as", as: (@convention(c) (Item, Text) -> Item).self)
        )
    }

    /// Opens a voice's library and registers the voice (`register_cmu_us_slt` and so on).
    /// - Throws: `.libraryMissing` when the library is not there, `.returnedNull` when the
    ///   voice does not register.
    func register(_ voice: Voice) throws(SpeechError) -> UnsafeMutablePointer<cst_voice> {
        let library = "libflite_\(voice.fliteName).so.1"
        let handle = try Self.open(library)
        let call = "register_\(voice.fliteName)"
        typealias Register = @convention(c) (UnsafePointer<CChar>?) -> UnsafeMutablePointer<cst_voice>?
        let register = try Self.symbol(call, in: handle, library: library, as: Register.self)
        // voxdir is unused by voices compiled into their library.
        return try CCall.nonNull(register(nil), call)
    }

    /// Sets a float feature. flite keeps the name pointer it is given, not a copy, so the
    /// name must live as long as the feature table: a literal (whose bytes are in the
    /// binary), never a temporary such as a `String` passed as `const char *`.
    func setFeature(_ features: Features, _ name: StaticString, _ value: Float) {
        setFeatureFloat(features, UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self), value)
    }

    private static func open(_ library: String) throws(SpeechError) -> UnsafeMutableRawPointer {
        // Lazy binding: flite has hundreds of functions, StrideCue calls twenty.
        guard let handle = dlopen(library, RTLD_LAZY) else {
            throw .libraryMissing(library: library, reason: lastError())
        }
        return handle
    }

    private static func symbol<F>(_ name: String, in handle: UnsafeMutableRawPointer, library: String,
                                  as _: F.Type) throws(SpeechError) -> F {
        guard let address = dlsym(handle, name) else {
            throw .libraryMissing(library: library, reason: lastError())
        }
        return unsafeBitCast(address, to: F.self)
    }

    private static func lastError() -> String {
        dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
    }
}
