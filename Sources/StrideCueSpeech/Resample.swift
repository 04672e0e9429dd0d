import CSampleRate

enum Resampler {
    /// Converts mono samples from `inputRate` to `outputRate` with libsamplerate's medium
    /// sinc converter. Returns the input unchanged when the rates are equal.
    ///
    /// Medium, not best: flite's 16 kHz speech has next to nothing above medium's passband
    /// (90% of 8 kHz), and best quality took 60 ms more per two-word cue at 48 kHz.
    ///
    /// The corresponding C function is `src_simple`.
    static func resample(
        _ input: [Float], from inputRate: Int, to outputRate: Int
    ) throws(SpeechError) -> [Float] {
        if inputRate == outputRate || input.isEmpty { return input }
        let ratio = Double(outputRate) / Double(inputRate)
        let capacity = Int((Double(input.count) * ratio).rounded(.up)) + 64
        var output = [Float](repeating: 0, count: capacity)
        var generated = 0
        let code: Int32 = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                var data = SRC_DATA(
                    data_in: source.baseAddress, data_out: target.baseAddress,
                    input_frames: source.count, output_frames: target.count,
                    input_frames_used: 0, output_frames_gen: 0,
                    end_of_input: 1, src_ratio: ratio
                )
                let code = src_simple(&data, Int32(SRC_SINC_MEDIUM_QUALITY), 1)
                generated = data.output_frames_gen
                return code
            }
        }
        try CCall.samplerate(code, "src_simple")
        output.removeSubrange(generated...)
        return output
    }
}
