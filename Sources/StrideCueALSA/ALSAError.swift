import CALSA
import Glibc

extension ALSAError: Equatable, CustomStringConvertible {
    /// ALSA's own text for the code, e.g. "No such file or directory".
    /// The corresponding C function is `snd_strerror`.
    public var reason: String { String(cString: snd_strerror(code)) }

    /// The error name for the code, e.g. "ENOENT", or nil for codes StrideCue does not name.
    public var codeName: String? {
        switch -code {
        case ENOENT: "ENOENT"
        case EBUSY: "EBUSY"
        case EACCES: "EACCES"
        case EPERM: "EPERM"
        case ENODEV: "ENODEV"
        case ENXIO: "ENXIO"
        case EIO: "EIO"
        case EINVAL: "EINVAL"
        case EPIPE: "EPIPE"
        case ESTRPIPE: "ESTRPIPE"
        case EAGAIN: "EAGAIN"
        case EBADFD: "EBADFD"
        case ENOMEM: "ENOMEM"
        case ENOSYS: "ENOSYS"
        default: nil
        }
    }

    /// The device went away or failed while playing (`-ENODEV`, `-EIO`): unplugged, driver gone.
    public var isDeviceLost: Bool { code == -ENODEV || code == -EIO }

    /// E.g. `snd_pcm_writei: No such device (ENODEV)`.
    public var description: String {
        var text = "\(call): \(reason)"
        if let name = codeName { text += " (\(name))" }
        return text
    }

    public static func == (lhs: ALSAError, rhs: ALSAError) -> Bool {
        lhs.code == rhs.code && lhs.call.description == rhs.call.description
    }
}

/// A PCM that could not be opened, or would not take the settings asked of it.
public struct PCMOpenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The PCM name as given, e.g. `default`.
    public var device: String
    /// The alsa-lib call that failed and its code.
    public var failure: ALSAError
    /// What StrideCue asked for, when ALSA's code alone would mislead
    /// (e.g. "48000 Hz exactly; the device offers 44100 Hz").
    public var detail: String?

    public init(device: String, failure: ALSAError, detail: String? = nil) {
        self.device = device
        self.failure = failure
        self.detail = detail
    }

    /// ALSA's own text for the failure, e.g. "No such file or directory".
    public var reason: String { failure.reason }

    /// The device itself would not open (`-ENOENT` unknown or absent, `-EBUSY` in use,
    /// `-EACCES`…), as opposed to opening and then refusing a setting.
    /// A user-facing program says "no sound device" for these.
    public var isUnavailable: Bool { failure.call.description == "snd_pcm_open" }

    /// E.g. `cannot open PCM 'nosuch': No such file or directory (snd_pcm_open, ENOENT)`.
    public var description: String {
        var text = isUnavailable ? "cannot open PCM '\(device)'" : "cannot set up PCM '\(device)'"
        text += ": \(reason) (\(failure.call)"
        if let name = failure.codeName { text += ", \(name)" }
        text += ")"
        if let detail { text += "; asked for \(detail)" }
        return text
    }
}
