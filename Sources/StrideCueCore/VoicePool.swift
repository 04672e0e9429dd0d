/// A sound that is playing: which sample of its pool's table, and how far into it.
struct Voice {
    /// Index into the table of samples the pool mixes from (a click level; a cue part).
    var sound: Int
    var position: Int
    /// Frames left of a steal fade, or −1 while the voice plays normally.
    var fadeLeft: Int
    /// The level it started at (a click's under `feedback: fade`); 1 as planned.
    var level: Float = 1
}

/// A fixed number of voices sounding at once, mixed from a table of samples: the one way the
/// renderer plays both its clicks and its cues (a pool each). Allocated once; starting,
/// stealing and mixing allocate nothing and take no lock.
///
/// When a voice is started in a full pool, the one that has played longest is faded out over
/// `stealFadeFrames` rather than cut off (and the new one is not started); a pool full of
/// fading voices drops its last one for the new voice.
struct VoicePool {
    let voices: UnsafeMutablePointer<Voice>
    let capacity: Int
    var count = 0

    /// Frames of the fade applied when a voice is stolen from a full pool.
    static let stealFadeFrames = 32

    init(capacity: Int) {
        self.capacity = capacity
        voices = .allocate(capacity: capacity)
    }

    func release() { voices.deallocate() }

    /// Starts `sound` from its first frame, at `level` for its whole length.
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    mutating func start(_ sound: Int, level: Float = 1) {
        if count == capacity {
            var oldest = -1
            for v in 0..<count where voices[v].fadeLeft < 0 {
                if oldest < 0 || voices[v].position > voices[oldest].position { oldest = v }
            }
            if oldest >= 0 { voices[oldest].fadeLeft = VoicePool.stealFadeFrames }
            if oldest < 0 { count -= 1 }
            if count == capacity { return }
        }
        voices[count] = Voice(sound: sound, position: 0, fadeLeft: -1, level: level)
        count += 1
    }

    /// Adds every sounding voice into channel 0 of frames `from..<to` of `out`, scaled by
    /// `gain`, and moves them on; a voice that has ended leaves the pool. With `add` false
    /// they are only moved on (a stem without them, timed as in the mix).
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    @inline(__always)
    mutating func mix(_ samples: UnsafeMutablePointer<UnsafeMutableBufferPointer<Float>>,
                      into out: UnsafeMutablePointer<Float>, from: Int, to: Int, channels: Int,
                      gain: Float = 1, add: Bool = true) {
        guard from < to else { return }
        var v = 0
        while v < count {
            let sample = samples[voices[v].sound]
            let start = voices[v].position
            let gain = gain * voices[v].level
            var n = min(to - from, sample.count - start)
            let fading = voices[v].fadeLeft >= 0
            if fading { n = min(n, voices[v].fadeLeft) }
            if add {
                if fading {
                    let total = Float(VoicePool.stealFadeFrames)
                    for i in 0..<n {
                        let g = Float(voices[v].fadeLeft - i) / total
                        out[(from + i) * channels] += gain == 1 ? sample[start + i] * g : sample[start + i] * g * gain
                    }
                } else if gain != 1 {
                    if channels == 1, let base = sample.baseAddress {
                        let o = out + from, s = base + start
                        for i in 0..<n { o[i] += s[i] * gain }
                    } else {
                        for i in 0..<n { out[(from + i) * channels] += sample[start + i] * gain }
                    }
                } else if channels == 1, let base = sample.baseAddress {
                    // Plain pointers, so the loop vectorizes.
                    let o = out + from, s = base + start
                    for i in 0..<n { o[i] += s[i] }
                } else {
                    for i in 0..<n { out[(from + i) * channels] += sample[start + i] }
                }
            }
            if fading { voices[v].fadeLeft -= n }
            voices[v].position = start + n
            if voices[v].position >= sample.count || voices[v].fadeLeft == 0 {
                count -= 1
                voices[v] = voices[count]
            } else {
                v += 1
            }
        }
    }

    /// Whether a voice plays `sound`.
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    func isPlaying(_ sound: Int) -> Bool {
        for v in 0..<count where voices[v].sound == sound { return true }
        return false
    }

    /// Frames until the last voice ends (a fading one at the end of its fade), using `samples`'
    /// lengths; nil when none sounds.
    /// Real-time safety: allocates nothing, takes no lock.
    @_noAllocation @_noLocks
    func framesLeft(_ samples: UnsafeMutablePointer<UnsafeMutableBufferPointer<Float>>) -> Int? {
        var most = -1
        for v in 0..<count {
            let left = voices[v].fadeLeft >= 0 ? voices[v].fadeLeft : samples[voices[v].sound].count - voices[v].position
            most = max(most, max(0, left))
        }
        return most < 0 ? nil : most
    }
}
