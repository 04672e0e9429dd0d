import StrideCueCore
import StrideCuePresets

/// One input through the YAML reader, the preset decoder and the in-place editor.
///
/// Whatever the bytes, each call returns or throws a `PresetError`/`PresetEditFailure`; a trap,
/// an out-of-bounds access (under AddressSanitizer) or a hang is a bug. The invariants checked:
/// every span of a parsed tree lies inside the file, and an edit that succeeds gives text that
/// reads back to the plan it reports.
func fuzzOne(_ bytes: [UInt8]) {
    let file = "fuzz.yaml"
    let root: YAMLNode
    do {
        root = try parseYAML(bytes, file: file)
    } catch {
        // One line, with a position inside the file (a column may point just past the last line).
        precondition(error.line >= 1 && error.column >= 1 && !error.message.contains("\n"), "bad error \(error)")
        return
    }
    checkSpans(root, count: bytes.count)
    guard let preset = try? decodePreset(bytes, file: file) else { return }
    // What `preset show` prints and draws: no raw control character may reach a terminal or an SVG.
    let layout = PlanLayout(plan: preset.plan, cues: planCues(in: preset.root))
    for shown in [planSummary(layout, origin: file), planPicture(layout, subtitle: file)] {
        precondition(!shown.utf8.contains(0x1B) && !shown.utf8.contains(0x07), "a control character reached the output")
    }
    for edit in ["cadence=185", "name=yes", "cues.1.say=~", "count-in.steps=3", "set.steps=40", "about=a\nb", "feedback.hold=10 s"] {
        guard let assignment = PresetAssignment(parsing: edit) else { continue }
        guard let result = try? editPreset(bytes, file: file, assignments: [assignment]) else { continue }
        let again = try? decodePreset(result.text, file: file)
        precondition(again?.plan == result.preset.plan, "an edit's text reads back differently")
    }
}

private func checkSpans(_ node: YAMLNode, count: Int) {
    let span = node.span
    precondition(span.start >= 0 && span.start <= span.end && span.end <= count && span.line >= 1 && span.column >= 1,
                 "span outside the file: \(span)")
    switch node {
    case .scalar: break
    case .sequence(let items, _): for item in items { checkSpans(item, count: count) }
    case .mapping(let entries, _):
        for entry in entries {
            precondition(entry.keySpan.end <= count)
            checkSpans(entry.value, count: count)
        }
    }
}

/// libFuzzer's callback: one input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzOne(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

#if FUZZING
import Glibc

/// libFuzzer's driver (in the runtime `-sanitize=fuzzer` links). SwiftPM renames an executable's
/// `main`, so libFuzzer's own `main` is never linked: this program's `main` starts the driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
#else
import FoundationEssentials
#endif

/// With libFuzzer (`-DFUZZING -sanitize=fuzzer`): the fuzzer, taking libFuzzer's flags and corpus
/// folders. Without: runs each file named on the command line once, so an input the fuzzer saved
/// can be replayed with an ordinary build (`swift run StrideCueFuzz crash-…`).
@main
struct StrideCueFuzz {
    static func main() throws {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, { fuzzInput($0, $1) }))
        #else
        for path in CommandLine.arguments.dropFirst() {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            _ = data.withUnsafeBytes { fuzzInput($0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
            // Whether the YAML reader took it, so a saved input can be set beside libyaml's verdict.
            do {
                _ = try parseYAML(Array(data), file: path)
                print("ok \(path): read")
            } catch {
                print("ok \(path): refused at \(error.line):\(error.column): \(error.message)")
            }
        }
        #endif
    }
}
