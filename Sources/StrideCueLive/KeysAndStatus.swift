import StrideCueCore

public enum KeyAction: Equatable {
    case command(LiveCommand)
    case quit
    /// Ctrl-C read as a byte (when the terminal does not turn it into SIGINT).
    case interrupt
}

public enum Keys {
    /// Turns bytes read from the terminal into actions. Escape sequences (arrow and function
    /// keys: ESC [ … or ESC O …) are skipped; a lone Esc quits.
    public static func parse(_ bytes: ArraySlice<UInt8>) -> [KeyAction] {
        scan(bytes, final: true).actions
    }

    /// The actions of `bytes` and where an unfinished escape sequence at their end starts (when
    /// not `final`, it is not acted on: its other bytes may come in the next read).
    static func scan(_ bytes: ArraySlice<UInt8>, final: Bool) -> (actions: [KeyAction], unfinished: Int?) {
        var actions: [KeyAction] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let byte = bytes[i]
            let start = i
            i += 1
            switch byte {
            case UInt8(ascii: "+"), UInt8(ascii: "="): actions.append(.command(.changeCadence(by: 1)))
            case UInt8(ascii: "-"), UInt8(ascii: "_"): actions.append(.command(.changeCadence(by: -1)))
            case UInt8(ascii: "]"): actions.append(.command(.changeCadence(by: 5)))
            case UInt8(ascii: "["): actions.append(.command(.changeCadence(by: -5)))
            case UInt8(ascii: " "): actions.append(.command(.togglePause))
            case UInt8(ascii: "n"), UInt8(ascii: "N"): actions.append(.command(.skip))
            case UInt8(ascii: "q"), UInt8(ascii: "Q"): actions.append(.quit)
            case 0x03: actions.append(.interrupt)
            case 0x1B:
                if i == bytes.endIndex && !final { return (actions, start) }
                if i < bytes.endIndex && (bytes[i] == UInt8(ascii: "[") || bytes[i] == UInt8(ascii: "O")) {
                    // Skip to the sequence's final byte (0x40–0x7E).
                    i += 1
                    while i < bytes.endIndex && !(0x40...0x7E).contains(bytes[i]) { i += 1 }
                    if i < bytes.endIndex {
                        i += 1
                    } else if !final {
                        return (actions, start)
                    }
                } else {
                    actions.append(.quit)
                }
            default:
                break
            }
        }
        return (actions, nil)
    }
}

/// Keys across reads: an arrow key whose bytes arrive in two reads is still one (skipped)
/// key, not a lone Esc that quits. A lone Esc at the end of a read is held until more bytes
/// come or the caller, after a short wait (`escapeWait`), calls `flush`.
public struct KeyReader {
    private var pending: [UInt8] = []
    /// How long a terminal may take to send the rest of an escape sequence.
    public static let escapeWaitMilliseconds: Int32 = 50

    public init() {}

    /// Whether bytes are held back, waiting for the rest of an escape sequence.
    public var isWaiting: Bool { !pending.isEmpty }

    /// The actions of the bytes read, after any held back.
    public mutating func feed(_ bytes: ArraySlice<UInt8>) -> [KeyAction] {
        let all = pending + bytes
        let (actions, unfinished) = Keys.scan(all[...], final: false)
        pending = unfinished.map { Array(all[$0...]) } ?? []
        return actions
    }

    /// No more bytes came: what is held back is what it is (a lone Esc quits).
    public mutating func flush() -> [KeyAction] {
        defer { pending = [] }
        return Keys.parse(pending[...])
    }
}

public enum StatusLine {
    /// E.g. `180 spm  set 1/2  step 42  0:14  next "pull through" at step 42`,
    /// `190 spm  set 2/2  count-in 3/4  1:40` or `PAUSED  180 spm  rest 0:45, then set 2/2  1:02`.
    /// With `music`, `+ music` ends the line.
    /// With `sensor`, the running sensor's part (`SensorStatus`) follows the cadence.
    public static func text(_ s: LiveStatus, rate: Int, plan: SessionPlan, music: Bool = false, sensor: String? = nil) -> String {
        var parts: [String] = []
        switch s.device {
        case .reconnecting: parts.append("DEVICE GONE: reconnecting, \(s.reconnectSecondsLeft) s left")
        case .notResponding: parts.append("DEVICE NOT RESPONDING")
        case .playing: break
        }
        switch s.phase {
        case .paused: parts.append("PAUSED")
        case .pausing: parts.append(s.pauseAfterCue ? "pausing after the cue" : "pausing at the next step")
        case .stopping, .finished, .playing: break
        }
        // On the way to a new cadence, whole steps per minute: `153 -> 191 spm`, not `152.563`.
        let spm = s.targetCadence == s.cadence ? "\(format(s.cadence)) spm"
            : "\(format(s.cadence.rounded())) -> \(format(s.targetCadence)) spm"
        parts.append(spm)
        if let sensor { parts.append(sensor) }
        if s.linkPeers >= 0 { parts.append(s.linkPeers == 0 ? "link alone" : "link \(s.linkPeers) peer\(s.linkPeers == 1 ? "" : "s")") }
        if let left = s.restFramesLeft {
            parts.append("rest \(clock(left, rate: rate)), then set \(s.set + 1)/\(s.sets)")
        } else {
            if s.sets > 1 { parts.append("set \(s.set + 1)/\(s.sets)") }
            if s.countIn > 0 {
                parts.append("count-in \(s.countIn)/\(s.countInLength)")
            } else if s.step > 0 {
                parts.append("step \(s.step)")
            } else if s.caution {
                parts.append("caution")
            } else {
                parts.append("starting")
            }
        }
        parts.append(clock(s.frame, rate: rate))
        if let cue = nextCueText(s, plan: plan) { parts.append("next \(cue)") }
        if s.underruns > 0 { parts.append("dropouts \(s.underruns)") }
        if music { parts.append("+ music") }
        return parts.joined(separator: "  ")
    }

    /// The next cue, e.g. `"pull through" at step 10`, `"pop forwards" at step 5 of set 2`,
    /// `"last push" at the set's end`; nil when no cue is left.
    public static func nextCueText(_ s: LiveStatus, plan: SessionPlan) -> String? {
        switch s.phase {
        case .stopping, .finished: return nil
        case .playing, .paused, .pausing: break
        }
        let resting = s.restFramesLeft != nil
        let heard = resting || s.countIn > 0 ? 0 : s.step
        guard let next = plan.upcomingCue(set: s.set, stepsHeard: heard, cadence: s.cadence) else { return nil }
        let cue = plan.cues[next.cue]
        let what: String
        switch cue.source {
        case .say(let text): what = "\"\(text)\""
        case .sound(let file): what = file
        }
        // While resting, `set` is already the set to come.
        let laterSet: Int? = next.inNextSet ? s.set + 2 : resting ? s.set + 1 : nil
        let when: String
        switch (next.step, laterSet) {
        case (let step?, nil): when = "at step \(step)"
        case (let step?, let set?): when = "at step \(step) of set \(set)"
        case (nil, nil): when = cue.timing == .halfway ? "halfway" : "at the set's end"
        case (nil, let set?): when = cue.timing == .halfway ? "halfway through set \(set)" : "at the end of set \(set)"
        }
        return "\(what) \(when)"
    }

    /// The line cut to fit `columns` terminal columns with the last one left free, so that
    /// the cursor never moves to a new line (a full last column makes some terminals wrap).
    /// Control characters are dropped; everything else counts as one column.
    public static func fit(_ line: String, columns: Int) -> String {
        let room = max(1, columns - 1)
        var out = ""
        var used = 0
        for c in line where !(c.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false) {
            if used == room { break }
            out.append(c)
            used += 1
        }
        return out
    }

    /// m:ss, or h:mm:ss from an hour.
    public static func clock(_ frames: Int64, rate: Int) -> String {
        let total = Int(max(0, frames) / Int64(rate))
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        let ss = s < 10 ? "0\(s)" : "\(s)"
        if h > 0 { return "\(h):\(m < 10 ? "0\(m)" : "\(m)"):\(ss)" }
        return "\(m):\(ss)"
    }
}
