import StrideCueRemote
import Testing

@Suite("The coach's remote: token and QR code")
struct RemoteTokenAndQRTests {
    @Test func eachTokenIsFresh128BitsOfHex() throws {
        let tokens = try (0..<64).map { _ in try RemoteToken.fresh().text }
        #expect(Set(tokens).count == tokens.count)
        for token in tokens {
            #expect(token.count == 32)
            #expect(token.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        }
    }

    @Test func onlyTheWholeTokenMatches() throws {
        let token = try RemoteToken.fresh()
        #expect(token.matches(Substring(token.text)))
        #expect(!token.matches(Substring(token.text.dropLast())))
        #expect(!token.matches(Substring(token.text + "0")))
        #expect(!token.matches(""))
        var flipped = Array(token.text)
        flipped[31] = flipped[31] == "0" ? "1" : "0"
        #expect(!token.matches(Substring(String(flipped))))
    }

    @Test func theQRCodeIsSquareWithItsQuietZone() throws {
        let lines = try QRCode.lines("http://192.168.1.20:8080/#token=0123456789abcdef0123456789abcdef")
        let width = lines[0].count
        // Two modules a line: a square of `width` modules takes ⌈width / 2⌉ lines.
        #expect(lines.count == (width + 1) / 2)
        #expect(lines.allSatisfy { $0.count == width })
        // libqrencode fits these 64 characters in version 4 at level M (33 modules), plus 4
        // light modules each side.
        #expect(width == 33 + 8)
        #expect(lines[0].allSatisfy { $0 == "█" } && lines[1].allSatisfy { $0 == "█" })
        // The top-left finder pattern's dark ring starts after the quiet zone.
        #expect(Array(lines[2])[4] == "▄" || Array(lines[2])[4] == " ")
    }

    @Test func everyInterfaceBecomesAnAddressAPhoneCanReach() {
        #expect(reachableHost(listeningOn: "127.0.0.1") == "127.0.0.1")
        let host = reachableHost(listeningOn: "0.0.0.0")
        #expect(host.split(separator: ".").count == 4)
        #expect(!host.hasPrefix("127."))
    }
}
