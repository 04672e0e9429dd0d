import CSampleRate

/// What went wrong in the speech module, other than a cue that cannot fit (`CueTooLong`).
public enum SpeechError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A C function returned NULL where it should have returned an object.
    case returnedNull(call: String)
    /// A C function returned an error code; `reason` is the library's own text for it.
    case failed(call: String, code: Int32, reason: String)
    /// No voice of that name is built in; `known` lists the names that are.
    case unknownVoice(String, known: [String])
    /// The text produced no speech at all (empty, or only punctuation).
    case noSpeech(text: String)
    /// An argument out of its documented range, e.g. an output rate of 0 Hz.
    case invalidArgument(String)
    /// flite's shared library (or a function in it) could not be loaded; `reason` is dlerror's.
    case libraryMissing(library: String, reason: String)

    public var description: String {
        switch self {
        case .returnedNull(let call):
            return "\(call) failed (returned NULL)"
        case .failed(let call, let code, let reason):
            return "\(call) failed: \(reason) (code \(code))"
        case .unknownVoice(let name, let known):
            return "unknown voice '\(name)'; known voices: \(known.joined(separator: ", "))"
        case .noSpeech(let text):
            return "'\(text)' has nothing to say"
        case .invalidArgument(let what):
            return what
        case .libraryMissing(_, let reason):
            return "speech needs CMU Flite, which could not be loaded (\(reason)); on Debian or Ubuntu: apt-get install libflite1"
        }
    }
}

/// The one seam every fallible C call of this module passes through.
///
/// flite reports failure with NULL (a voice that did not register, an utterance without a
/// wave); libsamplerate with a non-zero code that `src_strerror` explains. Both become a
/// `SpeechError` naming the call, so a failure reads "src_simple failed: …", not a crash.
enum CCall {
    /// Returns `pointer`, or throws `.returnedNull(call:)` when it is NULL.
    static func nonNull<Pointee>(
        _ pointer: UnsafeMutablePointer<Pointee>?, _ call: String
    ) throws(SpeechError) -> UnsafeMutablePointer<Pointee> {
        guard let pointer else { throw .returnedNull(call: call) }
        return pointer
    }

    /// Throws `.failed` when a libsamplerate call returned a non-zero error code.
    ///
    /// The corresponding C function for the reason is `src_strerror`.
    static func samplerate(_ code: Int32, _ call: String) throws(SpeechError) {
        guard code != 0 else { return }
        let reason = src_strerror(code).map { String(cString: $0) } ?? "unknown error"
        throw .failed(call: call, code: code, reason: reason)
    }
}
