import CSndFile
import Glibc

/// The labels a phone's music player shows: written into every tagged file.
public struct TrackTags: Sendable, Equatable {
    /// e.g. `Bum kicks — 180 spm`.
    public var title: String
    public var artist: String
    /// The collection, e.g. `Drills`.
    public var album: String
    /// What the track holds, in a line: the plan summary.
    public var comment: String
    /// `YYYY-MM-DD`.
    public var date: String
    /// Position in an exported set, e.g. `3/12`, or empty.
    public var trackNumber: String

    public init(title: String, artist: String = "StrideCue", album: String = "Drills", comment: String = "",
                date: String = TrackTags.today(), trackNumber: String = "") {
        self.title = title
        self.artist = artist
        self.album = album
        self.comment = comment
        self.date = date
        self.trackNumber = trackNumber
    }

    /// Today's local date as `YYYY-MM-DD`.
    public static func today() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
    }

    /// The tags as libsndfile string types, in the order they are set.
    var sndfileStrings: [(Int32, String)] {
        var strings: [(Int32, String)] = [
            (Int32(SF_STR_TITLE), title), (Int32(SF_STR_ARTIST), artist),
            (Int32(SF_STR_ALBUM), album), (Int32(SF_STR_COMMENT), comment),
            (Int32(SF_STR_DATE), date), (Int32(SF_STR_SOFTWARE), "StrideCue"),
        ]
        if !trackNumber.isEmpty { strings.append((Int32(SF_STR_TRACKNUMBER), trackNumber)) }
        return strings.filter { !$0.1.isEmpty }
    }
}

/// An ID3v2.3 tag with UTF-16 text, the tag every phone and desktop player reads.
///
/// libsndfile hands MP3 tags to LAME's `id3tag_set_*`, which take ISO-8859-1: a title such as
/// `Bum kicks — 180 spm` would come out as mojibake. So StrideCue writes the tag itself, in
/// front of the MPEG stream libsndfile writes after it. ID3v2.3 rather than 2.4 because some
/// players still read only 2.3; UTF-16 with a byte-order mark is 2.3's Unicode encoding.
enum ID3Tag {
    /// The complete tag: header and frames.
    static func bytes(for tags: TrackTags) -> [UInt8] {
        var frames: [UInt8] = []
        frames += textFrame("TIT2", tags.title)
        frames += textFrame("TPE1", tags.artist)
        frames += textFrame("TALB", tags.album)
        if !tags.trackNumber.isEmpty { frames += textFrame("TRCK", tags.trackNumber) }
        // 2.3 splits a date into the year (TYER, YYYY) and day and month (TDAT, DDMM).
        let date = Array(tags.date.utf8)
        if date.count >= 4 { frames += textFrame("TYER", String(decoding: date[0..<4], as: UTF8.self)) }
        if date.count == 10, date[4] == UInt8(ascii: "-"), date[7] == UInt8(ascii: "-") {
            frames += textFrame("TDAT", String(decoding: date[8..<10] + date[5..<7], as: UTF8.self))
        }
        frames += textFrame("TSSE", "StrideCue")
        if !tags.comment.isEmpty { frames += commentFrame(tags.comment) }
        var header: [UInt8] = Array("ID3".utf8) + [3, 0, 0]
        header += synchsafe(frames.count)
        return header + frames
    }

    private static func textFrame(_ id: String, _ text: String) -> [UInt8] {
        guard !text.isEmpty else { return [] }
        return frame(id, [1] + utf16(text))
    }

    /// COMM: encoding, language, an empty description, then the text.
    private static func commentFrame(_ text: String) -> [UInt8] {
        frame("COMM", [1] + Array("eng".utf8) + utf16("") + [0, 0] + utf16(text))
    }

    private static func frame(_ id: String, _ body: [UInt8]) -> [UInt8] {
        let n = body.count
        return Array(id.utf8) + [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF), 0, 0] + body
    }

    /// Little-endian UTF-16 with its byte-order mark.
    private static func utf16(_ text: String) -> [UInt8] {
        var out: [UInt8] = [0xFF, 0xFE]
        for unit in text.utf16 { out += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        return out
    }

    /// A 28-bit size in four 7-bit bytes, as ID3 headers store it.
    private static func synchsafe(_ n: Int) -> [UInt8] {
        [UInt8(n >> 21 & 0x7F), UInt8(n >> 14 & 0x7F), UInt8(n >> 7 & 0x7F), UInt8(n & 0x7F)]
    }
}
