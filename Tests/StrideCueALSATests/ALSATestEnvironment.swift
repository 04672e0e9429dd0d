import CALSA
import Glibc
import StrideCueALSA
import Testing

/// All tests that touch alsa-lib, under the one configuration set before the first PCM opens.
/// Not serialized as a whole: each test plays on a fake card or a sound server of its own and
/// asserts frames, not times, and the player takes SCHED_FIFO (the tests run as root in CI).
/// The suites that drive a PCM from the test's own thread, and the sound servers' soak with both
/// cores busy, run their tests one at a time.
@Suite("ALSA through a private configuration")
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

/// Polls `condition` every 10 ms until it holds; false if it still does not after `seconds`
/// (a deadline for a failure, not a time the test measures).
func waitUntil(seconds: Double = 20, _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        sleepMilliseconds(10)
    }
    return condition()
}

/// The size of a file in bytes; 0 when there is none.
func fileSize(_ path: String) -> Int {
    var status = stat()
    return stat(path, &status) == 0 ? Int(status.st_size) : 0
}

/// Waits until the paced card's recording at `path` (FILE=, 16-bit stereo) holds `frames`
/// frames: the card has played that much.
func waitUntilPlayed(_ path: String, frames: Int, seconds: Double = 20) -> Bool {
    waitUntil(seconds: seconds) { fileSize(path) >= frames * 4 }
}

/// The paced card's control file (CONTROL=, Tests/FakeDevice/stridecue_fake.c).
struct CardControl {
    let path: String

    /// Writes `word` ("hang", "unplug", anything else to undo them) and waits until the card
    /// says it has done `state` ("hung", "waiting": a writer is blocked on the hung card,
    /// "moving", "gone") in `path.seen`, which lists what it did since.
    @discardableResult
    func set(_ word: String, until state: String, seconds: Double = 20) -> Bool {
        unlink(path + ".seen")
        writeText(word, to: path)
        return waitUntil(seconds: seconds) { saw(state) }
    }

    /// Whether the card has said `state` since the last `set`.
    func saw(_ state: String) -> Bool {
        readBytes(path + ".seen").map { String(decoding: $0, as: UTF8.self).split(separator: "\n").contains { $0 == state } } ?? false
    }

    /// Writes `word` without waiting for the card (the card is not open to see it).
    func write(_ word: String) { writeText(word, to: path) }

    private func writeText(_ text: String, to file: String) {
        // Whole or not at all: the card reads the file at every period.
        let temporary = file + ".new"
        guard let handle = fopen(temporary, "w") else { return }
        fputs(text, handle)
        fclose(handle)
        rename(temporary, file)
    }
}

/// Runs `body` on this thread at SCHED_FIFO 20 where the system allows it (root), as the player
/// runs its own writer, so that other work on a loaded machine cannot starve a test that writes
/// to a paced card from its own thread; ordinary scheduling is restored after.
func atRealTimePriority<T>(_ body: () throws -> T) rethrows -> T {
    var parameters = sched_param()
    parameters.sched_priority = 20
    let raised = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) == 0
    defer {
        if raised {
            var ordinary = sched_param()
            pthread_setschedparam(pthread_self(), SCHED_OTHER, &ordinary)
        }
    }
    return try body()
}
