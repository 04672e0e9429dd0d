import CEBUR128
import Glibc
import StrideCueCore

/// A failure of libebur128, naming the call.
public struct LoudnessError: UserFacingError, Equatable, Sendable {
    /// The C call that failed, e.g. `ebur128_init`.
    public var call: String
    /// What went wrong, in words.
    public var reason: String

    public var description: String { "loudness measurement failed in \(call): \(reason)" }
    public var exitStatus: Int32 { ExitStatus.ioError }
}

/// The one place a libebur128 status is checked: anything but `EBUR128_SUCCESS` becomes a
/// `LoudnessError` naming the call.
func ebur128Check(_ code: Int32, _ call: StaticString) throws(LoudnessError) {
    guard code != Int32(EBUR128_SUCCESS.rawValue) else { return }
    let reason: String
    switch code {
    case Int32(EBUR128_ERROR_NOMEM.rawValue): reason = "out of memory"
    case Int32(EBUR128_ERROR_INVALID_MODE.rawValue): reason = "the meter was not set up for this measurement"
    case Int32(EBUR128_ERROR_INVALID_CHANNEL_INDEX.rawValue): reason = "no such channel"
    default: reason = "error \(code)"
    }
    throw LoudnessError(call: "\(call)", reason: reason)
}

/// An EBU R128 / ITU-R BS.1770 loudness meter: libebur128, fed interleaved float frames.
///
/// StrideCue never measures loudness itself: gating, K-weighting and the true-peak
/// interpolator are libebur128's, the implementation ffmpeg's `ebur128` filter and most
/// loudness tools agree with.
public struct LoudnessMeter: ~Copyable {
    public let channels: Int
    public let sampleRate: Int
    /// Whether `truePeak()` is available (it costs about five times the loudness measurement).
    public let measuresTruePeak: Bool
    private let state: UnsafeMutablePointer<ebur128_state>

    /// - Parameters:
    ///   - channels: interleaved channels of the frames `add` will get. Channel 0 and 1 are
    ///     left and right; a mono signal is counted once, as BS.1770 says.
    ///   - sampleRate: in Hz.
    ///   - dualMono: measure a single channel as if it played on both sides (identical left
    ///     and right), i.e. 3 dB louder than plain mono: a stereo file with identical channels
    ///     measures exactly the same as its left channel metered with `dualMono`.
    ///   - truePeak: also measure the 4× oversampled true peak.
    ///
    /// The corresponding C function is `ebur128_init`.
    public init(channels: Int, sampleRate: Int, dualMono: Bool = false, truePeak: Bool = false) throws(LoudnessError) {
        precondition(channels >= 1 && sampleRate > 0)
        var mode = Int32(EBUR128_MODE_I.rawValue)
        if truePeak { mode |= Int32(EBUR128_MODE_TRUE_PEAK.rawValue) }
        guard let state = ebur128_init(UInt32(channels), UInt(sampleRate), mode) else {
            throw LoudnessError(call: "ebur128_init", reason: "cannot meter \(channels) channels at \(sampleRate) Hz")
        }
        if dualMono && channels == 1 {
            let status = ebur128_set_channel(state, 0, Int32(EBUR128_DUAL_MONO.rawValue))
            if status != Int32(EBUR128_SUCCESS.rawValue) {
                var s: UnsafeMutablePointer<ebur128_state>? = state
                ebur128_destroy(&s)
                try ebur128Check(status, "ebur128_set_channel")
            }
        }
        self.channels = channels
        self.sampleRate = sampleRate
        self.measuresTruePeak = truePeak
        self.state = state
    }

    deinit {
        var s: UnsafeMutablePointer<ebur128_state>? = state
        ebur128_destroy(&s)
    }

    /// Adds interleaved frames (`samples.count / channels` of them).
    ///
    /// The corresponding C function is `ebur128_add_frames_float`.
    public mutating func add(_ samples: UnsafeBufferPointer<Float>) throws(LoudnessError) {
        guard let base = samples.baseAddress, samples.count >= channels else { return }
        try ebur128Check(ebur128_add_frames_float(state, base, samples.count / channels), "ebur128_add_frames_float")
    }

    /// Integrated (gated) loudness of everything added so far, in LUFS; `-infinity` for silence.
    ///
    /// The corresponding C function is `ebur128_loudness_global`.
    public func integratedLoudness() throws(LoudnessError) -> Double {
        var value = 0.0
        try ebur128Check(ebur128_loudness_global(state, &value), "ebur128_loudness_global")
        return value
    }

    /// Integrated loudness of everything added to this meter and to `other`, as if one meter
    /// had measured both (their gating blocks pooled): how a track metered in two parts, on
    /// two threads, is measured as a whole. Only the blocks across the seam are lost: three of
    /// the 400 ms blocks, out of ten a second.
    ///
    /// The corresponding C function is `ebur128_loudness_global_multiple`.
    public func integratedLoudness(with other: borrowing LoudnessMeter) throws(LoudnessError) -> Double {
        var value = 0.0
        var states: [UnsafeMutablePointer<ebur128_state>?] = [state, other.state]
        let status = states.withUnsafeMutableBufferPointer { ebur128_loudness_global_multiple($0.baseAddress, 2, &value) }
        try ebur128Check(status, "ebur128_loudness_global_multiple")
        return value
    }

    /// The largest true peak of any channel so far, in dBTP; `-infinity` for silence.
    ///
    /// The corresponding C function is `ebur128_true_peak`.
    public func truePeak() throws(LoudnessError) -> Double {
        precondition(measuresTruePeak, "the meter was made without truePeak: true")
        var peak = 0.0
        for c in 0..<channels {
            var value = 0.0
            try ebur128Check(ebur128_true_peak(state, UInt32(c), &value), "ebur128_true_peak")
            peak = max(peak, value)
        }
        return decibels(peak)
    }
}

/// A linear amplitude in dB; `-infinity` for 0.
public func decibels(_ amplitude: Double) -> Double {
    amplitude > 0 ? 20 * log10(amplitude) : -.infinity
}

/// A gain in dB as a linear amplitude factor.
public func amplitude(decibels: Double) -> Double {
    pow(10, decibels / 20)
}
