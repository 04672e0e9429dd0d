import Foundation
import Testing
import StrideCueCore
import StrideCuePresets

/// A sample of the malformed-preset corpus (Tests/StrideCueCLITests/Malformed), decoded in
/// process: each is refused at the exact line and column a coach would look at, with the exact
/// message. The end-to-end suite checks every file of the corpus for the shape of the line.
@Suite struct MalformedPositionTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("StrideCueCLITests/Malformed").path

    @Test(arguments: [
        ("anchor", 1, 10, "anchors ('&') are not supported in presets"),
        ("billion-laughs", 2, 4, "anchors ('&') are not supported in presets"),
        ("cadence-hex", 1, 10, "cadence must be a number of steps per minute, got '0xB4'"),
        ("cadence-nan", 1, 10, "cadence must be a finite number of steps per minute, got '.nan'"),
        ("control-character", 1, 11, "preset contains the control character 0x07; is it a binary file?"),
        ("deep-flow-nesting", 1, 41, "nesting is deeper than 32 levels"),
        ("duplicate-key", 3, 1, "duplicate key 'cadence' (first at line 1)"),
        ("duplicate-nested-key", 4, 3, "duplicate key 'steps' (first at line 3)"),
        ("invalid-utf8", 1, 10, "preset is not valid UTF-8 text (byte 0xE9); is it a binary file?"),
        ("key-without-value-indent", 2, 3, "unexpected indentation; the keys of a mapping must line up at column 1"),
        ("tab-indentation", 3, 1, "tab in indentation; indent with spaces"),
        ("two-documents", 2, 1, "a preset holds one document; a second '---' is not supported"),
        ("unclosed-flow-mapping", 2, 7, "missing '}' to close this '{'"),
        ("unknown-nested-key", 2, 19, "unknown key 'stepz' in ramp; did you mean 'steps'?"),
        ("unterminated-quote", 1, 7, "missing '\"' to close this double-quoted value"),
        ("set-two-lengths", 2, 18, "set takes only one of steps, duration or distance, and already has steps"),
        ("ramp-without-steps", 2, 7, "ramp.steps is required (a whole number from 1 to 100000)"),
        ("lone-carriage-return", 1, 13, "carriage return without a line feed; save the preset with Unix or Windows line endings"),
    ])
    func refusedAtItsPlace(name: String, line: Int, column: Int, message: String) throws {
        let path = "\(Self.folder)/\(name).yaml"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(throws: PresetError(file: path, line: line, column: column, message: message)) {
            _ = try decodePreset(bytes, file: path)
        }
    }
}
