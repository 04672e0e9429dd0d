/// Float samples to integer PCM, the same way for files and for the sound card, so that what
/// a runner hears live is, sample for sample, what an exported file holds.
///
/// Samples are scaled by the largest positive value, clipped, and rounded to nearest with ties
/// to even (IEEE's default). No dither: the output is a pure function of the input, which is
/// what makes golden hashes and byte-identity tests possible.
///
/// The rounding uses the classic magic-number trick: adding 1.5·2²³ to a float of magnitude
/// below 2²² leaves round(x) in the low mantissa bits. It is exact, branch-free and vectorizes,
/// which matters: converting samples is most of the work of writing a long click track.
public enum SampleQuantizer {
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public static func toInt16(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutablePointer<Int16>) {
        let magic: Float = 12_582_912          // 1.5 · 2²³
        let magicBits: Int32 = 0x4B40_0000     // its bit pattern
        for i in 0..<source.count {
            let x = min(max(source[i] * 32_767, -32_768), 32_767)
            let bits = Int32(bitPattern: (x + magic).bitPattern) &- magicBits
            destination[i] = Int16(truncatingIfNeeded: bits)
        }
    }

    /// 24-bit samples in the top three bytes of an `Int32`, as libsndfile and ALSA's S32 expect.
    ///
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    public static func toInt24(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutablePointer<Int32>) {
        let magic: Double = 6_755_399_441_055_744   // 1.5 · 2⁵²: the same trick in double precision
        for i in 0..<source.count {
            let x = Double(min(max(source[i] * 8_388_607, -8_388_608), 8_388_607))
            let rounded = Int32(truncatingIfNeeded: Int64(bitPattern: (x + magic).bitPattern))
            destination[i] = rounded &<< 8
        }
    }
}

/// Rounds to the nearest integer, ties away from zero, without touching the rounding-rule
/// enum (whose metadata the real-time checker refuses). Exact for |x| < 2⁵².
@_noAllocation @_noLocks
@inline(__always)
public func roundedToInt64(_ x: Double) -> Int64 {
    let whole = Int64(x)
    let fraction = x - Double(whole)
    if fraction >= 0.5 { return whole + 1 }
    if fraction <= -0.5 { return whole - 1 }
    return whole
}
