import CSampleRate
import CSndFile
import Glibc

/// A sound read whole into memory: interleaved float frames and their format.
public struct DecodedSound: Sendable {
    public var samples: [Float]
    public var sampleRate: Int
    public var channels: Int

    public var frameCount: Int { samples.count / max(1, channels) }

    /// The channels averaged into one.
    public func mono() -> [Float] {
        guard channels > 1 else { return samples }
        let scale = 1 / Float(channels)
        return (0..<frameCount).map { i in
            var sum: Float = 0
            for c in 0..<channels { sum += samples[i * channels + c] }
            return sum * scale
        }
    }
}

/// Reads any format libsndfile reads, whole, as floats.
///
/// Meant for short sounds (click samples, recorded cues): files over `maxSeconds` are refused.
/// - Throws: `.missing` when there is no such file, `.unreadable` when libsndfile cannot
///   decode it, `.io` when reading fails part way.
/// Opens a sound file for reading with libsndfile.
///
/// Only a regular file is opened: the file is opened `O_NONBLOCK` and checked with `fstat`
/// first, so a FIFO, a device or a socket is refused at once (`.missing`, exit 66) instead of
/// blocking forever. The corresponding C calls are `open`, `fstat`, `fcntl` and `sf_open_fd`.
func openSound(_ path: String) throws(SoundFileError) -> (OpaquePointer, SF_INFO) {
    let fd = try openRegularFile(path)
    var info = SF_INFO()
    let file = sf_open_fd(fd, Int32(SFM_READ), &info, 1)
    if file == nil { close(fd) }
    try sndfileCheck(file == nil, "sf_open_fd", path: path, kind: .unreadable, message: .lastOpen) {
        "not a sound file libsndfile can read (\($0))"
    }
    return (file!, info)
}

/// Opens `path` for reading, only if it is a regular file: opened `O_NONBLOCK` and checked with
/// `fstat` first, so a FIFO, a device or a socket is refused at once (`.missing`, exit 66)
/// instead of blocking forever; then set back to blocking reads.
/// The corresponding C calls are `open`, `fstat` and `fcntl`.
func openRegularFile(_ path: String) throws(SoundFileError) -> Int32 {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    if fd < 0 {
        let code = errno
        throw SoundFileError(kind: code == ENOENT ? .missing : .unreadable, path: path, call: "open",
                             reason: String(cString: strerror(code)))
    }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
        close(fd)
        let folder = (st.st_mode & S_IFMT) == S_IFDIR
        throw SoundFileError(kind: .missing, path: path, call: "fstat",
                             reason: folder ? "is a folder, not a sound file" : "not a regular file (a FIFO, device or socket)")
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    return fd
}

public func readSound(at path: String, maxSeconds: Double = 600) throws(SoundFileError) -> DecodedSound {
    let (file, info) = try openSound(path)
    defer { sf_close(file) }
    guard info.channels > 0, info.samplerate > 0, info.frames >= 0 else {
        throw SoundFileError(kind: .unreadable, path: path, call: "sf_open", reason: "the file has no channels or no sample rate")
    }
    guard Double(info.frames) <= maxSeconds * Double(info.samplerate) else {
        throw SoundFileError(kind: .unreadable, path: path, call: "sf_open",
                             reason: "longer than \(Int(maxSeconds)) seconds; use a shorter sound")
    }
    let channels = Int(info.channels)
    var samples = [Float](repeating: 0, count: Int(info.frames) * channels)
    let read = samples.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress, info.frames) }
    try sndfileCheck(read != info.frames, "sf_readf_float", path: path, message: .handle(file)) {
        "read \(read) of \(info.frames) frames (\($0))"
    }
    try samples.withUnsafeBufferPointer { (buffer) throws(SoundFileError) in try requireFinite(buffer, path: path) }
    return DecodedSound(samples: samples, sampleRate: Int(info.samplerate), channels: channels)
}

/// Refuses decoded audio holding NaN or an infinity: one such sample turns a whole mix silent
/// or into noise, and aborts LAME's MP3 encoder. Floating-point WAV, FLAC-free formats and
/// hostile files can hold them; integer formats cannot.
/// - Throws: `.unreadable` (exit 65), naming the file and the first bad frame's time.
func requireFinite(_ samples: UnsafeBufferPointer<Float>, path: String,
                   call: String = "sf_readf_float") throws(SoundFileError) {
    // One pass that the compiler vectorizes: x − x is 0 for every finite x, NaN otherwise.
    var check: Float = 0
    for x in samples { check += x - x }
    guard check.isNaN else { return }
    throw SoundFileError(kind: .unreadable, path: path, call: call,
                         reason: "holds samples that are not numbers (NaN or infinity); StrideCue refuses such audio")
}

/// Converts mono samples to another rate with libsamplerate's best sinc converter.
///
/// The corresponding C function is `src_simple`.
public func resample(_ samples: [Float], from sourceRate: Int, to targetRate: Int) throws(SoundFileError) -> [Float] {
    guard sourceRate != targetRate, !samples.isEmpty else { return samples }
    let ratio = Double(targetRate) / Double(sourceRate)
    // Room for the converter's rounding; the exact count comes back in output_frames_gen.
    let capacity = Int((Double(samples.count) * ratio).rounded(.up)) + 16
    var output = [Float](repeating: 0, count: capacity)
    var generated = 0
    let status: Int32 = samples.withUnsafeBufferPointer { input in
        output.withUnsafeMutableBufferPointer { out in
            var data = SRC_DATA()
            data.data_in = input.baseAddress
            data.input_frames = Int(input.count)
            data.data_out = out.baseAddress
            data.output_frames = Int(out.count)
            data.src_ratio = ratio
            let status = src_simple(&data, Int32(SRC_SINC_BEST_QUALITY), 1)
            if status == 0 { generated = data.output_frames_gen }
            return status
        }
    }
    if status != 0 {
        throw SoundFileError(kind: .unreadable, path: "\(sourceRate) Hz → \(targetRate) Hz", call: "src_simple",
                             reason: String(cString: src_strerror(status)))
    }
    return Array(output.prefix(generated))
}
