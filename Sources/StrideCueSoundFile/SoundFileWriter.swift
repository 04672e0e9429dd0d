import CSndFile
import Glibc
import StrideCueCore

/// Sample encoding of a written file.
public enum SampleEncoding: String, Sendable, CaseIterable {
    case pcm16 = "16"
    case pcm24 = "24"
    case float32 = "32f"

    var sndfileSubtype: Int32 {
        switch self {
        case .pcm16: return Int32(SF_FORMAT_PCM_16)
        case .pcm24: return Int32(SF_FORMAT_PCM_24)
        case .float32: return Int32(SF_FORMAT_FLOAT)
        }
    }
}

/// Writes a sound file atomically: frames go to a hidden temporary file in the destination's
/// folder, which is renamed onto the destination only by `commit()`.
///
/// If the writer is dropped without `commit()` (an error, Ctrl-C), the temporary file is
/// removed and nothing appears at the destination. The corresponding C calls are `mkstemp`,
/// `sf_open_fd`, `sf_writef_*`, `sf_close` and `rename`.
public struct SoundFileWriter: ~Copyable {
    public let path: String
    public let format: RenderFormat
    public let encoding: SampleEncoding
    private let temporaryPath: String
    private var file: OpaquePointer?
    /// Conversion space for one block, allocated once.
    private let int16Block: UnsafeMutableBufferPointer<Int16>
    private let int32Block: UnsafeMutableBufferPointer<Int32>

    /// Samples per conversion block (interleaved).
    public static let blockSamples = 262_144

    /// Creates the temporary file and opens it for writing WAV.
    /// - Throws: `SoundFileError` of kind `.cannotCreate` when the folder does not exist or
    ///   cannot be written.
    public init(path: String, format: RenderFormat, encoding: SampleEncoding) throws(SoundFileError) {
        let (folder, name) = Self.split(path)
        var template = Array("\(folder)/.\(name).XXXXXX".utf8CString)
        let fd = try template.withUnsafeMutableBufferPointer { (buffer) throws(SoundFileError) -> Int32 in
            try systemCheck(mkstemp(buffer.baseAddress!), "mkstemp", path: path, kind: .cannotCreate)
        }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // mkstemp creates the file 0600; a finished track should be readable like any other file.
        let mask = umask(0)
        umask(mask)
        _ = fchmod(fd, 0o666 & ~mask)

        var info = SF_INFO()
        info.samplerate = Int32(format.sampleRate)
        info.channels = Int32(format.channels)
        info.format = Int32(SF_FORMAT_WAV) | encoding.sndfileSubtype
        guard let handle = sf_open_fd(fd, Int32(SFM_WRITE), &info, 1) else {
            let reason = cleaned(String(cString: sf_strerror(nil)))
            close(fd)
            unlink(temporary)
            throw SoundFileError(kind: .cannotCreate, path: path, call: "sf_open_fd", reason: reason)
        }
        // Without a PEAK chunk the header does not depend on the samples written.
        sf_command(handle, Int32(SFC_SET_ADD_PEAK_CHUNK), nil, Int32(SF_FALSE))
        self.path = path
        self.format = format
        self.encoding = encoding
        self.temporaryPath = temporary
        self.file = handle
        int16Block = .allocate(capacity: Self.blockSamples)
        int32Block = .allocate(capacity: Self.blockSamples)
    }

    deinit {
        if let file { sf_close(file) }
        unlink(temporaryPath)
        int16Block.deallocate()
        int32Block.deallocate()
    }

    /// Appends interleaved frames rendered as floats in −1…1, quantized for the file's encoding.
    /// - Throws: `.io` when the disk is full or the write fails.
    public mutating func write(_ samples: UnsafeBufferPointer<Float>) throws(SoundFileError) {
        guard let file else { return }
        var offset = 0
        while offset < samples.count {
            let n = min(Self.blockSamples, samples.count - offset)
            let chunk = UnsafeBufferPointer(rebasing: samples[offset..<offset + n])
            let frames = sf_count_t(n / format.channels)
            let written: sf_count_t
            switch encoding {
            case .pcm16:
                SampleQuantizer.toInt16(chunk, into: int16Block.baseAddress!)
                written = sf_writef_short(file, int16Block.baseAddress, frames)
            case .pcm24:
                SampleQuantizer.toInt24(chunk, into: int32Block.baseAddress!)
                written = sf_writef_int(file, int32Block.baseAddress, frames)
            case .float32:
                written = sf_writef_float(file, chunk.baseAddress, frames)
            }
            if written != frames {
                throw writeError(file, call: encoding == .float32 ? "sf_writef_float" : encoding == .pcm16 ? "sf_writef_short" : "sf_writef_int")
            }
            offset += n
        }
    }

    /// Finishes the header, closes the file and renames it onto the destination.
    public consuming func commit() throws(SoundFileError) {
        guard let handle = file else { return }
        file = nil
        let status = sf_close(handle)
        if status != 0 {
            throw SoundFileError(kind: .io, path: path, call: "sf_close", reason: cleaned(String(cString: sf_error_number(status))))
        }
        try systemCheck(rename(temporaryPath, path), "rename", path: path, kind: .cannotCreate)
    }

    private func writeError(_ file: OpaquePointer, call: StaticString) -> SoundFileError {
        let code = errno
        var reason = cleaned(String(cString: sf_strerror(file)))
        if code != 0, reason.isEmpty || reason.hasPrefix("No error") { reason = String(cString: strerror(code)) }
        return SoundFileError(kind: .io, path: path, call: "\(call)", reason: reason)
    }

    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }
}
