// swift-tools-version:6.1
// StrideCue: cadence click tracks with spoken cues for runners. GPL-3.0-or-later (see LICENSE).
import PackageDescription

// Arrows point down only:
//   stridecue, stridecue-remote (the executables) → stridecue (CLI: commands, flags, exit codes);
//   stridecue-remote also → StrideCueRemote (the coach's page, API and WebSocket; Hummingbird)
//     → StrideCueTerminal (keys, status line, progress bar, signals)
//     → StrideCueMixdown (track passes, loudness, encoder thread, export jobs)
//       → StrideCueSession (presets, plan resolution, preflight, cue preparation)
//         → adapters: StrideCueALSA (device, playback engine), StrideCueSoundFile, StrideCueSpeech,
//           StrideCueLoudness, StrideCueFiles (atomic writes, safe reads)
//           → StrideCueCore (pure: plan → timeline → voices → mixer; no C, no full Foundation).
// Every front end (the command line today, the coach's remote next) is a thin client of these.
let package = Package(
    name: "StrideCue",
    products: [
        .executable(name: "stridecue", targets: ["StrideCueMain"]),
        // The same commands with the coach's remote's server (Hummingbird, SwiftNIO) linked in;
        // `stridecue play --remote` and `stridecue coach` exec it. Installed next to `stridecue`.
        .executable(name: "stridecue-remote", targets: ["StrideCueRemoteMain"]),
        .library(name: "StrideCueCore", targets: ["StrideCueCore"]),
        // The paced fake sound card for tests: an ALSA plugin, loaded by alsa-lib with dlopen.
        // alsa-lib wants the file name libasound_module_pcm_<type>.so; SwiftPM names a
        // dynamic product lib<product>.so, so the product is named to fit.
        .library(name: "asound_module_pcm_stridecue_fake", type: .dynamic, targets: ["StrideCueFakeDevice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The coach's remote: HTTP and WebSocket on SwiftNIO's threads, never the audio thread's.
        // Without its default traits: no swift-configuration, and FoundationEssentials instead of
        // full Foundation (and its ICU data) in stridecue-remote.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.0.0"),
    ],
    targets: [
        // System libraries, used directly.
        .systemLibrary(
            name: "CALSA",
            pkgConfig: "alsa",
            providers: [.apt(["libasound2-dev"])]
        ),
        .systemLibrary(
            name: "CSndFile",
            pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"])]
        ),
        .systemLibrary(
            name: "CSampleRate",
            pkgConfig: "samplerate",
            providers: [.apt(["libsamplerate0-dev"])]
        ),
        .systemLibrary(
            name: "CEBUR128",
            pkgConfig: "libebur128",
            providers: [.apt(["libebur128-dev"])]
        ),
        // The coach's URL as a QR code on the terminal.
        .systemLibrary(
            name: "CQREncode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        // FFmpeg's headers only, for music libsndfile cannot read (M4A/AAC and the rest of what
        // phones hold): its libraries are opened with dlopen only when libsndfile has refused a
        // music file, so a click track never loads them (FFmpegLibrary.swift).
        .systemLibrary(
            name: "CFFmpeg",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswresample-dev", "libavutil-dev"])]
        ),
        // flite's headers only: its libraries are opened with dlopen when StrideCue first
        // speaks, so a click track does not pay for relocating its voices (FliteLibrary.swift).
        .systemLibrary(
            name: "CFlite",
            providers: [.apt(["flite1-dev"])]
        ),

        // The pure core: session plan → timeline in frames → voices → mixer.
        .target(
            name: "StrideCueCore",
            // sin, cos and exp come from libm through the standard library's builtins.
            linkerSettings: [.linkedLibrary("m")]
        ),

        // C that Swift cannot express: alsa-lib's C-variadic error handler.
        .target(name: "CALSAShim", dependencies: ["CALSA"]),

        // Adapter: live playback through alsa-lib.
        .target(
            name: "StrideCueALSA",
            dependencies: ["CALSA", "CALSAShim", "StrideCueCore", "StrideCueFiles"]
        ),

        // Adapter: cue text → speech (flite) at the output rate (libsamplerate), off the audio thread.
        .target(
            name: "StrideCueSpeech",
            dependencies: ["CFlite", "CSampleRate", "StrideCueCore"]
        ),

        // Adapter: every sound file read or written goes through libsndfile.
        .target(
            name: "StrideCueSoundFile",
            dependencies: ["StrideCueCore", "StrideCueFiles", "CSndFile", "CSampleRate", "CFFmpeg"]
        ),

        // Adapter: loudness (libebur128), the true-peak limiter and music ducking.
        .target(
            name: "StrideCueLoudness",
            dependencies: ["CEBUR128", "StrideCueCore"]
        ),

        // sync_file_range, which Glibc's module leaves out (it needs _GNU_SOURCE): a declaration only.
        .systemLibrary(name: "CFileSync"),

        // Adapter: the file system — atomic replacement of whole files, reads that never block,
        // writing back to disk while a track is still being written.
        .target(name: "StrideCueFiles", dependencies: ["StrideCueCore", "CFileSync"]),

        // A session from a preset and options: the preset store, plan resolution, click sounds,
        // cue preparation, and the one preflight every command and front end runs.
        .target(
            name: "StrideCueSession",
            dependencies: ["StrideCueCore", "StrideCueFiles", "StrideCueSoundFile", "StrideCueSpeech"]
        ),

        // Files for a phone: track passes, loudness gain search, limiter, encoder thread, export jobs.
        .target(
            name: "StrideCueMixdown",
            dependencies: ["StrideCueCore", "StrideCueFiles", "StrideCueSession", "StrideCueSoundFile", "StrideCueLoudness"]
        ),

        // The terminal: key mode, keys, the status line, the progress bar, signals.
        .target(
            name: "StrideCueTerminal",
            dependencies: ["StrideCueCore", "StrideCueFiles", "StrideCueALSA", "StrideCueSession", "StrideCueMixdown"]
        ),

        // The coach's remote: the page, the API and its WebSocket, a QR code of the URL. A thin
        // client of the live player: it reads the status board and pushes to the command queue.
        .target(
            name: "StrideCueRemote",
            dependencies: [
                "StrideCueCore", "StrideCueFiles", "StrideCueSession", "StrideCueSpeech", "StrideCueTerminal", "CQREncode",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ]
        ),

        // The commands, flags and exit codes. A library, so that both executables run them;
        // it does not link the remote's server (see CoachRemoteHost).
        .target(
            name: "stridecue",
            dependencies: [
                "StrideCueCore",
                "StrideCueFiles",
                "StrideCueSession",
                "StrideCueMixdown",
                "StrideCueTerminal",
                "StrideCueSoundFile",
                "StrideCueALSA",
                "StrideCueSpeech",
                "StrideCueLoudness",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "StrideCueMain", dependencies: ["stridecue"]),
        .executableTarget(name: "StrideCueRemoteMain", dependencies: ["stridecue", "StrideCueRemote", "StrideCueCore", "StrideCueSession", "StrideCueTerminal"]),

        // A libFuzzer target over the YAML reader, the preset decoder and the editor (`make fuzz`).
        // A plain build gives a replayer of saved inputs; `-DFUZZING -sanitize=fuzzer` gives the fuzzer.
        .executableTarget(name: "StrideCueFuzz", dependencies: ["StrideCueCore"]),

        // What the test targets share: scratch folders, a seeded generator, finding click onsets.
        .target(
            name: "StrideCueTestSupport",
            path: "Tests/Support"
        ),
        // Each library's own tests, in process, in the folder named for it.
        .testTarget(
            name: "StrideCueCoreTests",
            dependencies: ["StrideCueCore", "StrideCueTestSupport"]
        ),
        // The paced fake sound card (C, ALSA ioplug), built as the dynamic product above.
        // PIC selects alsa-lib's symbol macros for a dlopen'ed plugin.
        .target(
            name: "StrideCueFakeDevice",
            path: "Tests/FakeDevice",
            cSettings: [.define("PIC")],
            linkerSettings: [.linkedLibrary("asound")]
        ),
        .testTarget(
            name: "StrideCueALSATests",
            dependencies: ["StrideCueALSA", "CALSA", "StrideCueTestSupport"]
        ),
        .testTarget(
            name: "StrideCueSpeechTests",
            dependencies: ["StrideCueSpeech"]
        ),
        .testTarget(
            name: "StrideCueFilesTests",
            dependencies: ["StrideCueFiles", "StrideCueTestSupport"]
        ),
        .testTarget(
            name: "StrideCueSessionTests",
            dependencies: ["StrideCueSession", "StrideCueCore"]
        ),
        .testTarget(
            name: "StrideCueMixdownTests",
            dependencies: ["StrideCueMixdown", "StrideCueSession", "StrideCueSoundFile", "StrideCueFiles", "StrideCueCore",
                           "StrideCueTestSupport"]
        ),
        .testTarget(
            name: "StrideCueTerminalTests",
            dependencies: ["StrideCueTerminal", "StrideCueCore"]
        ),
        .testTarget(
            name: "StrideCueRemoteTests",
            dependencies: ["StrideCueRemote"]
        ),
        // The built binaries end to end: their output, files and exit status.
        .testTarget(
            name: "StrideCueCLITests",
            dependencies: ["StrideCueCore", "StrideCueSoundFile", "StrideCueLoudness", "StrideCueTestSupport",
                           "StrideCueSession", "StrideCueFiles"],
            // Preset fixtures, the malformed-preset corpus and golden outputs: data, not sources.
            exclude: ["Fixtures", "Malformed", "Snapshots"]
        ),
        // The command line parsed in process: every flag case without launching the binary.
        .testTarget(
            name: "StrideCueCommandTests",
            dependencies: ["stridecue", "StrideCueCore", "StrideCueSession",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // libyaml, for tests only: the oracle the YAML reader is checked against.
        .systemLibrary(
            name: "CYAML",
            path: "Tests/CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .testTarget(
            name: "StrideCueYAMLTests",
            dependencies: ["StrideCueCore", "CYAML"]
        ),
        .testTarget(
            name: "StrideCueLoudnessTests",
            dependencies: ["StrideCueLoudness", "StrideCueSoundFile", "StrideCueCore", "StrideCueTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
