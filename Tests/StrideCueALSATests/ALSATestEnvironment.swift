import CALSA
import Glibc
import StrideCueALSA
import Testing

/// All tests that touch alsa-lib. One serialized suite: the paced tests measure time, and
/// running them beside each other would measure each other's load.
@Suite("ALSA through a private configuration", .serialized)
struct ALSATests {}

/// What the tests need from the outside: alsa-lib pointed at Tests/ALSA/test.conf, and the
/// paced fake sound card, which SwiftPM builds next to the test bundle as
/// libasound_module_pcm_stridecue_fake.so (the dynamic product in Package.swift).
struct ALSATestEnvironment: Sendable {
    let configFile: String
    let fakeCardLibrary: String
    /// Where SwiftPM put the test bundle, the plugin and the `stridecue` binary.
    let productsFolder: String

    struct SetupFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Prepared once, before the first test opens a PCM: alsa-lib reads the environment when
    /// it loads its configuration, and setting it later, while other threads may read it, races.
    static func ready() throws -> ALSATestEnvironment {
        try shared.get()
    }

    private static let shared: Result<ALSATestEnvironment, SetupFailure> = prepare()

    private static func prepare() -> Result<ALSATestEnvironment, SetupFailure> {
        // Tests/StrideCueALSATests/ALSATestEnvironment.swift → Tests/
        let testsFolder = parent(parent(#filePath))
        let configFile = testsFolder + "/ALSA/test.conf"
        guard access(configFile, R_OK) == 0 else {
            return .failure(SetupFailure(description: "missing \(configFile)"))
        }
        guard let productsFolder = executableFolder() else {
            return .failure(SetupFailure(description: "cannot read /proc/self/exe"))
        }
        let library = productsFolder + "/libasound_module_pcm_stridecue_fake.so"
        guard access(library, R_OK) == 0 else {
            return .failure(SetupFailure(description: """
                the paced fake sound card is not built: \(library) is missing \
                (it is the dynamic product asound_module_pcm_stridecue_fake; `swift build` builds it)
                """))
        }
        // Keep the stock configuration first: it defines `null`, `file` and the rest.
        let stock = String(cString: snd_config_topdir()) + "/alsa.conf"
        setenv("ALSA_CONFIG_PATH", stock + ":" + configFile, 1)
        setenv("STRIDECUE_FAKE_LIB", library, 1)
        ALSALibrary.silenceErrorMessages()
        return .success(ALSATestEnvironment(configFile: configFile, fakeCardLibrary: library, productsFolder: productsFolder))
    }

    private static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    private static func executableFolder() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let path = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return parent(path)
    }
}

/// A fresh folder under /tmp, removed with its files when the test ends.
final class TemporaryFolder {
    let path: String

    init() throws {
        var template = Array("/tmp/stridecue-alsa-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ALSATestEnvironment.SetupFailure(description: "mkdtemp failed: errno \(errno)")
        }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        if let folder = opendir(path) {
            while let entry = readdir(folder) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { unlink(file(name)) }
            }
            closedir(folder)
        }
        rmdir(path)
    }
}

/// The whole content of a file, or nil when it cannot be read.
func readBytes(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count == 0 { break }
        bytes += chunk[..<count]
    }
    return ferror(file) == 0 ? bytes : nil
}

/// The bytes ALSA's S16_LE format holds for these samples.
func littleEndianBytes(_ samples: some Collection<Int16>) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(samples.count * 2)
    for sample in samples {
        let bits = UInt16(bitPattern: sample)
        bytes.append(UInt8(truncatingIfNeeded: bits))
        bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
    }
    return bytes
}

/// Interleaved stereo frames that are never zero, so silence inserted by a device stands out,
/// and that differ from frame to frame, so a lost, repeated or reordered frame shows.
func countingFrames(_ frames: Int, from start: Int = 0) -> [Int16] {
    var samples: [Int16] = []
    samples.reserveCapacity(frames * 2)
    for frame in start..<(start + frames) {
        let value = Int16(frame % 30_000 + 1)
        samples.append(value)
        samples.append(-value)
    }
    return samples
}

/// A small seeded generator (SplitMix64), so a failing random test fails the same way again.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes `samples` in chunks of `chunkFrames` frames, as a playback loop would.
func write(_ samples: [Int16], to device: inout PCMDevice, chunkFrames: Int) throws(ALSAError) {
    let channels = device.channels
    try samples.withUnsafeBufferPointer { (all: UnsafeBufferPointer<Int16>) throws(ALSAError) in
        var start = 0
        while start < all.count {
            let end = min(all.count, start + chunkFrames * channels)
            try device.write(UnsafeBufferPointer(rebasing: all[start..<end]))
            start = end
        }
    }
}

/// Seconds elapsed on the monotonic clock while `body` ran.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    try body()
    let elapsed = clock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func sleepMilliseconds(_ milliseconds: Int) {
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// Nil when the byte strings are equal; otherwise where they first differ, briefly
/// (an expectation on the arrays themselves would print hundreds of kilobytes).
func difference(_ actual: [UInt8], _ expected: [UInt8]) -> String? {
    if actual == expected { return nil }
    let common = min(actual.count, expected.count)
    let first = (0..<common).first { actual[$0] != expected[$0] } ?? common
    return "\(actual.count) bytes where \(expected.count) were expected; first difference at byte \(first) (frame \(first / 4))"
}
