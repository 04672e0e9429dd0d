import Foundation
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

    /// An address asked for is kept; 0.0.0.0 becomes the first IPv4 address of an interface
    /// that is up and not loopback, as `ip` lists them, or stays 0.0.0.0 on a machine with
    /// loopback alone. (StrideCueCLITests makes both machines in network namespaces.)
    @Test func everyInterfaceBecomesAnAddressAPhoneCanReach() throws {
        #expect(reachableHost(listeningOn: "127.0.0.1") == "127.0.0.1")
        #expect(reachableHost(listeningOn: "192.168.1.20") == "192.168.1.20")
        let expected = try #require(try firstNetworkAddress(), "cannot run ip")
        #expect(reachableHost(listeningOn: "0.0.0.0") == (expected ?? "0.0.0.0"))
    }

    /// The first IPv4 address of an interface that is up and not loopback, by `ip`; nil when
    /// there is none; nil in the outer optional when `ip` cannot be run.
    private func firstNetworkAddress() throws -> String?? {
        func lines(_ arguments: [String]) throws -> [Substring]? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["ip"] + arguments
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return process.terminationStatus == 0 ? text.split(separator: "\n") : nil
        }
        // "1: lo: <LOOPBACK,UP,LOWER_UP> mtu …" and "2: eth0    inet 192.0.2.2/24 brd … scope global eth0 …"
        guard let links = try lines(["-o", "link", "show", "up"]), let addresses = try lines(["-4", "-o", "addr", "show", "up"]) else {
            return .none
        }
        let loopback = Set(links.compactMap { line -> Substring? in
            let fields = line.split(separator: " ")
            guard fields.count > 2, fields[2].contains("LOOPBACK") else { return nil }
            return fields[1].split(separator: "@").first.map { $0.hasSuffix(":") ? $0.dropLast() : $0 }
        })
        for line in addresses {
            let fields = line.split(separator: " ")
            guard fields.count > 3, fields[2] == "inet", !loopback.contains(fields[1]) else { continue }
            return .some(String(fields[3].prefix { $0 != "/" }))
        }
        return .some(nil)
    }
}
