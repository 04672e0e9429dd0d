import StrideCueCore
import StrideCueLive
import Testing

/// Bytes typed on the terminal, as commands.
@Suite("Keys")
struct KeysTests {
    @Test func keysBecomeCommands() {
        let keys = Array("+-][ nq".utf8)
        #expect(Keys.parse(keys[...]) == [
            .command(.changeCadence(by: 1)), .command(.changeCadence(by: -1)),
            .command(.changeCadence(by: 5)), .command(.changeCadence(by: -5)),
            .command(.togglePause), .command(.skip), .quit,
        ])
    }

    /// Arrow keys (ESC [ A) and function keys (ESC O P) are skipped; a lone Esc quits; Ctrl-C
    /// read as a byte interrupts.
    @Test func escapeSequencesAreSkipped() {
        let bytes: [UInt8] = [0x1B, 0x5B, 0x41, UInt8(ascii: "+"), 0x1B, 0x4F, 0x50, 0x1B, 0x5B, 0x31, 0x35, 0x7E, 0x03, 0x1B]
        #expect(Keys.parse(bytes[...]) == [.command(.changeCadence(by: 1)), .interrupt, .quit])
    }

    /// An arrow key whose bytes come in two reads is skipped, not taken for Esc (which quits).
    @Test func anArrowKeySplitOverTwoReadsDoesNotQuit() {
        var keys = KeyReader()
        #expect(keys.feed([0x1B][...]) == [])
        #expect(keys.isWaiting)
        #expect(keys.feed([0x5B, 0x41, UInt8(ascii: "+")][...]) == [.command(.changeCadence(by: 1))])
        #expect(!keys.isWaiting)
        #expect(keys.feed([0x1B, 0x5B][...]) == [])
        #expect(keys.feed([0x31, 0x35, 0x7E][...]) == [])
        // A lone Esc, when nothing follows: quits.
        #expect(keys.feed([UInt8(ascii: "n"), 0x1B][...]) == [.command(.skip)])
        #expect(keys.flush() == [.quit])
        #expect(!keys.isWaiting)
    }
}
