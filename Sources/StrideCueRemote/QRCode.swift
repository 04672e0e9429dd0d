import CQREncode
import Glibc
import StrideCueCore

/// The coach's URL as a QR code drawn with block characters, for a phone's camera.
public enum QRCode {
    /// The code of `text` as lines of text: two modules per character cell (upper and lower
    /// half blocks), dark on light with the four-module quiet zone the standard asks for.
    /// - Throws: a `Failure` naming `QRcode_encodeString` when libqrencode refuses the text.
    public static func lines(_ text: String) throws -> [String] {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else {
            throw Failure("QRcode_encodeString: \(String(cString: strerror(errno)))", exitCode: 70)
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let quiet = 4
        let size = width + 2 * quiet
        func dark(_ x: Int, _ y: Int) -> Bool {
            let (mx, my) = (x - quiet, y - quiet)
            guard mx >= 0, my >= 0, mx < width, my < width else { return false }
            return code.pointee.data[my * width + mx] & 1 == 1
        }
        var lines: [String] = []
        var y = 0
        while y < size {
            var line = ""
            for x in 0..<size {
                // Light modules are drawn, dark ones left blank: on a dark terminal the code
                // reads as dark-on-light, which is what phone cameras look for.
                switch (!dark(x, y), y + 1 < size && !dark(x, y + 1)) {
                case (true, true): line += "█"
                case (true, false): line += "▀"
                case (false, true): line += "▄"
                case (false, false): line += " "
                }
            }
            lines.append(line)
            y += 2
        }
        return lines
    }
}

/// The address to put in the coach's URL: the one listened on, or, for 0.0.0.0 (every
/// interface), the first IPv4 address of an interface that is up and not the loopback: the
/// one a phone on the same network reaches.
public func reachableHost(listeningOn host: String) -> String {
    guard host == "0.0.0.0" else { return host }
    var list: UnsafeMutablePointer<ifaddrs>? = nil
    guard getifaddrs(&list) == 0 else { return host }
    defer { freeifaddrs(list) }
    var entry = list
    while let e = entry {
        defer { entry = e.pointee.ifa_next }
        let flags = Int32(e.pointee.ifa_flags)
        guard let address = e.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
              flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0 else { continue }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        let found = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
            var a = inet.pointee.sin_addr
            return inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) != nil
        }
        if found { return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }
    return host
}
