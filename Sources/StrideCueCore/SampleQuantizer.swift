/// Float samples to integer PCM, the same way for files and for the sound card, so that what
/// a runner hears live is, sample for sample, what an exported file holds.
///
/// Samples are scaled by the largest positive value, rounded to nearest (ties away from zero)
/// and clipped. No dither: the output is a pure function of the input, which is what makes
/// golden hashes and byte-identity tests possible.
public enum SampleQuantizer {
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public static func toInt16(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutablePointer<Int16>) {
        for i in 0..<source.count {
            var x = source[i] * 32_767
            x = min(max(x, -32_768), 32_767)
            destination[i] = Int16(truncatingIfNeeded: roundedToInt64(Double(x)))
        }
    }

    /// 24-bit samples in the top three bytes of an `Int32`, as libsndfile and ALSA's S32 expect.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public static func toInt24(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutablePointer<Int32>) {
        for i in 0..<source.count {
            var x = source[i] * 8_388_607
            x = min(max(x, -8_388_608), 8_388_607)
            destination[i] = Int32(truncatingIfNeeded: roundedToInt64(Double(x))) << 8
        }
    }
}

/// Rounds to the nearest integer, ties away from zero, without touching the rounding-rule
/// enum (whose metadata the real-time checker refuses). Exact for |x| < 2⁵².
@_noAllocation @_noLocks
@inline(__always)
func roundedToInt64(_ x: Double) -> Int64 {
    let whole = Int64(x)
    let fraction = x - Double(whole)
    if fraction >= 0.5 { return whole + 1 }
    if fraction <= -0.5 { return whole - 1 }
    return whole
}
