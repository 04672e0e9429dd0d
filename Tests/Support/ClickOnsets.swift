/// Helpers the test targets share: code, not fixtures (TemporaryFolder, SeededGenerator and this).

/// Frames at which a click starts: a zero sample followed by a non-zero one, after at least
/// `gap` silent frames. Clicks start at exactly 0 (a raised-cosine attack), so the onset is
/// the last zero before the sound.
public func clickOnsets<Sample: Numeric>(_ samples: [Sample], gap: Int = 200) -> [Int] {
    var result: [Int] = []
    var silent = gap
    for i in 0..<samples.count {
        if samples[i] == .zero {
            silent += 1
        } else {
            if silent >= gap { result.append(i - 1) }
            silent = 0
        }
    }
    return result
}
