import CALSA
import Glibc

/// A PCM that ALSA's configuration advertises (`aplay -L` shows the same list).
public struct PCMHint: Sendable, Equatable {
    /// Which way a PCM carries sound.
    public enum Direction: Sendable, Equatable {
        case playback, capture, both
    }

    /// The name to open, e.g. `default`, `null`, `hw:CARD=PCH,DEV=0`.
    public var name: String
    /// ALSA's description, possibly several lines, e.g. "HDA Intel PCH, ALC892 Analog\nFront speakers".
    public var description: String
    public var direction: Direction

    public init(name: String, description: String, direction: Direction) {
        self.name = name
        self.description = description
        self.direction = direction
    }

    /// The PCM used when none is named.
    public var isDefault: Bool { name == "default" }
    /// Whether `PCMDevice` could be opened on it (it is not capture-only).
    public var canPlay: Bool { direction != .capture }

    /// A card's own device (`hw:`, or `plughw:`, which only converts formats): frames go
    /// straight to the driver, and StrideCue's real-time promises hold. Everything else
    /// (`default` on a desktop, `pulse`, `pipewire`, `dmix`…) passes through a plugin or a
    /// sound server that takes its own locks and adds its own buffering.
    public var isDirectHardware: Bool { name.hasPrefix("hw:") || name.hasPrefix("plughw:") }
}

/// A sound card the kernel knows about.
public struct SoundCard: Sendable, Equatable {
    /// The card number, as in `hw:0`.
    public var index: Int
    /// The card's identifier, as in `hw:CARD=PCH`; nil when its control device would not open.
    public var id: String?
    /// Short name, e.g. "HDA Intel PCH".
    public var name: String
    /// Long name, e.g. "HDA Intel PCH at 0xf7f10000 irq 32".
    public var longName: String

    public init(index: Int, id: String?, name: String, longName: String) {
        self.index = index
        self.id = id
        self.name = name
        self.longName = longName
    }
}

/// What ALSA can play to on this machine.
public enum DeviceList {
    /// The PCMs ALSA's configuration advertises, in its order.
    ///
    /// Only PCMs with a `hint` in the configuration are listed. On a machine without sound
    /// cards `default` is defined but neither listed nor openable; `null` still is.
    /// The corresponding C function is `snd_device_name_hint`.
    public static func pcms() throws(ALSAError) -> [PCMHint] {
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        try alsaCheck(snd_device_name_hint(-1, "pcm", &hints), "snd_device_name_hint")
        guard let hints else { return [] }
        defer { snd_device_name_free_hint(hints) }
        var result: [PCMHint] = []
        var cursor = hints
        while let hint = cursor.pointee {
            defer { cursor += 1 }
            guard let name = hintValue(hint, "NAME") else { continue }
            let direction: PCMHint.Direction =
                switch hintValue(hint, "IOID") {
                case "Output": .playback
                case "Input": .capture
                default: .both  // absent means both ways
                }
            result.append(PCMHint(name: name, description: hintValue(hint, "DESC") ?? "", direction: direction))
        }
        return result
    }

    /// The sound cards, by number. Empty on a machine without any.
    /// The corresponding C functions are `snd_card_next`, `snd_card_get_name` and
    /// `snd_card_get_longname`.
    public static func cards() throws(ALSAError) -> [SoundCard] {
        var cards: [SoundCard] = []
        var index: Int32 = -1
        while true {
            try alsaCheck(snd_card_next(&index), "snd_card_next")
            if index < 0 { break }
            var name: UnsafeMutablePointer<CChar>?
            var longName: UnsafeMutablePointer<CChar>?
            try alsaCheck(snd_card_get_name(index, &name), "snd_card_get_name")
            defer { free(name) }
            try alsaCheck(snd_card_get_longname(index, &longName), "snd_card_get_longname")
            defer { free(longName) }
            cards.append(
                SoundCard(
                    index: Int(index), id: cardID(index),
                    name: name.map { String(cString: $0) } ?? "",
                    longName: longName.map { String(cString: $0) } ?? ""))
        }
        return cards
    }

    /// One field of a name hint; the C string is the caller's to free.
    private static func hintValue(_ hint: UnsafeMutableRawPointer, _ field: String) -> String? {
        guard let value = snd_device_name_get_hint(hint, field) else { return nil }
        defer { free(value) }
        return String(cString: value)
    }

    /// The identifier used in `hw:CARD=ID`, read from the card's control device.
    private static func cardID(_ index: Int32) -> String? {
        var ctl: OpaquePointer?
        guard snd_ctl_open(&ctl, "hw:\(index)", SND_CTL_NONBLOCK) >= 0, let ctl else { return nil }
        defer { snd_ctl_close(ctl) }
        var info: OpaquePointer?
        guard snd_ctl_card_info_malloc(&info) >= 0, let info else { return nil }
        defer { snd_ctl_card_info_free(info) }
        guard snd_ctl_card_info(ctl, info) >= 0, let id = snd_ctl_card_info_get_id(info) else { return nil }
        return String(cString: id)
    }
}
