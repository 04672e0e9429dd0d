// swift-tools-version:6.1
// StrideCue: cadence click tracks with spoken cues for runners. GPL-3.0-or-later (see LICENSE).
import PackageDescription

// Arrows point down only (docs/architecture.md draws the graph):
//   stridecue, stridecue-remote (the executables) → StrideCueCLI (commands, flags, exit codes);
//   stridecue-remote also → StrideCueRemote (the coach's page, API and WebSocket; Hummingbird)
//     → StrideCueLive (live playback: commands, status, the playback engine, the terminal player)
//       → StrideCueMixdown (track passes, loudness, encoder thread, export jobs, the music stage)
//       → StrideCueTerminal (key mode, signals, progress bar)
//       → StrideCueLink (an Ableton Link peer, through the C++ target CLink)
//       → StrideCueSession (preset store, plan resolution, preflight, cue preparation)
//         → StrideCuePresets (the YAML reader, the preset decoder and editor)
//         → adapters: StrideCueALSA (the PCM device), StrideCueSoundFile, StrideCueSpeech,
//           StrideCueLoudness, StrideCueFiles (atomic writes, safe reads)
//           → StrideCueCore (pure: plan → timeline → voices → mixer; no C, no full Foundation).
// Every front end (the command line, the coach's remote) is a thin client of these.
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
        // sd-bus, systemd's D-Bus client, for BlueZ's API (running sensors): docs/sensor.md says why.
        .systemLibrary(
            name: "CSDBus",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),

        // Ableton Link (ableton-link-dev: header-only C++, GPL-2.0-or-later) behind a small
        // `extern "C"` face: Swift cannot import `ableton::Link` or the asio headers it brings.
        .target(
            name: "CLink",
            cxxSettings: [.define("LINK_PLATFORM_LINUX", to: "1")],
            linkerSettings: [.linkedLibrary("pthread")]
        ),
        // Adapter: one Link peer (tempo, beat and phase shared on the network), every call
        // through one checking helper; the playback thread uses Link's real-time capture.
        .target(name: "StrideCueLink", dependencies: ["CLink", "StrideCueFiles"]),

        // The pure core: session plan → timeline in frames → voices → mixer.
        .target(
            name: "StrideCueCore",
            // sin, cos and exp come from libm through the standard library's builtins.
            linkerSettings: [.linkedLibrary("m")]
        ),

        // Presets: the YAML subset they are written in, the decoder into a session plan, and the
        // editor that changes a value or a cue in place and keeps the rest of the file.
        .target(name: "StrideCuePresets", dependencies: ["StrideCueCore"]),

        // C that Swift cannot express: alsa-lib's C-variadic error handler.
        .target(name: "CALSAShim", dependencies: ["CALSA"]),

        // Adapter: the PCM device through alsa-lib (open, configure, write, drain, devices).
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

        // Adapter: a running sensor (Bluetooth LE Running Speed and Cadence) read through BlueZ's
        // D-Bus API on a thread of its own; measurements go out through Core's SensorReadings.
        .target(
            name: "StrideCueSensor",
            dependencies: ["CSDBus", "StrideCueCore", "StrideCueFiles"]
        ),

        // sync_file_range (it needs _GNU_SOURCE) and eventfd, which Glibc's module leaves out: declarations only.
        .systemLibrary(name: "CFileSync"),

        // Adapter: the file system — atomic replacement of whole files, reads that never block,
        // writing back to disk while a track is still being written.
        .target(name: "StrideCueFiles", dependencies: ["StrideCueCore", "CFileSync"]),

        // A session from a preset and options: the preset store, plan resolution, click sounds,
        // cue preparation, and the one preflight every command and front end runs.
        .target(
            name: "StrideCueSession",
            dependencies: ["StrideCueCore", "StrideCuePresets", "StrideCueFiles", "StrideCueSoundFile", "StrideCueSpeech"]
        ),

        // Files for a phone: track passes, loudness gain search, limiter, encoder thread, export jobs.
        .target(
            name: "StrideCueMixdown",
            dependencies: ["StrideCueCore", "StrideCueFiles", "StrideCueSession", "StrideCueSoundFile", "StrideCueLoudness"]
        ),

        // The terminal: key mode, the progress bar, signals.
        .target(
            name: "StrideCueTerminal",
            dependencies: ["StrideCueCore", "StrideCueFiles"]
        ),

        // Live playback: the runner's commands and the status board, the playback engine on its
        // thread (render, music stage, write), keys and the status line, and the terminal player
        // both front ends build on.
        .target(
            name: "StrideCueLive",
            dependencies: ["StrideCueCore", "StrideCueFiles", "StrideCueALSA", "StrideCueSession", "StrideCueMixdown",
                           "StrideCueLoudness", "StrideCueSoundFile", "StrideCueSpeech", "StrideCueTerminal", "StrideCueLink"]
        ),

        // The coach's remote: the page, the API and its WebSocket, a QR code of the URL. A thin
        // client of the live player: it reads the status board and pushes to the command queue.
        .target(
            name: "StrideCueRemote",
            dependencies: [
                "StrideCueCore", "StrideCueFiles", "StrideCueSession", "StrideCueSpeech", "StrideCueLive", "CQREncode", "CFileSync",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ],
            // The page's HTML, CSS and JavaScript: embedded by the EmbedPage plugin, not compiled.
            exclude: ["Page"],
            plugins: ["EmbedPage"]
        ),
        // The coach's page files → one generated Swift file of their bytes, at build time, so
        // stridecue-remote stays one binary (SwiftPM's `resources:` put a bundle folder beside it).
        .executableTarget(name: "PageEmbedder"),
        .plugin(name: "EmbedPage", capability: .buildTool(), dependencies: ["PageEmbedder"]),

        // The commands, flags and exit codes. A library, so that both executables run them;
        // it does not link the remote's server (see CoachRemoteHost).
        .target(
            name: "StrideCueCLI",
            dependencies: [
                "StrideCueCore",
                "StrideCuePresets",
                "StrideCueLive",
                "StrideCueFiles",
                "StrideCueSession",
                "StrideCueMixdown",
                "StrideCueTerminal",
                "StrideCueSoundFile",
                "StrideCueALSA",
                "StrideCueSpeech",
                "StrideCueLoudness",
                "StrideCueSensor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "StrideCueMain", dependencies: ["StrideCueCLI"]),
        .executableTarget(name: "StrideCueRemoteMain", dependencies: ["StrideCueCLI", "StrideCueRemote", "StrideCueCore", "StrideCueSession", "StrideCueLive"]),

        // A libFuzzer target over the YAML reader, the preset decoder and the editor (`make fuzz`).
        // A plain build gives a replayer of saved inputs; `-DFUZZING -sanitize=fuzzer` gives the fuzzer.
        .executableTarget(name: "StrideCueFuzz", dependencies: ["StrideCueCore", "StrideCuePresets"]),

        // What the test targets share: scratch folders, a seeded generator, finding click onsets.
        .target(
            name: "StrideCueTestSupport",
            path: "Tests/Support"
        ),
        // Each library's own tests, in process, in the folder named for it.
        .testTarget(
            name: "StrideCueCoreTests",
            dependencies: ["StrideCueCore", "StrideCuePresets", "StrideCueLive", "StrideCueTestSupport"]
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
            dependencies: ["StrideCueALSA", "StrideCueLive", "CALSA", "StrideCueTestSupport"]
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
            name: "StrideCueLiveTests",
            dependencies: ["StrideCueLive", "StrideCueMixdown", "StrideCueSession", "StrideCueSoundFile", "StrideCueCore",
                           "StrideCueTestSupport"]
        ),
        .testTarget(
            name: "StrideCueRemoteTests",
            dependencies: ["StrideCueRemote"]
        ),
        // The built binaries end to end: their output, files and exit status.
        .testTarget(
            name: "StrideCueCLITests",
            dependencies: ["StrideCueCore", "StrideCueSoundFile", "StrideCueLoudness", "StrideCueTestSupport",
                           "StrideCueSession", "StrideCueFiles", "StrideCuePresets", "StrideCueLive"],
            // Preset fixtures, the malformed-preset corpus and golden outputs: data, not sources.
            exclude: ["Fixtures", "Malformed", "Snapshots"]
        ),
        // The command line parsed in process: every flag case without launching the binary.
        .testTarget(
            name: "StrideCueCommandTests",
            dependencies: ["StrideCueCLI", "StrideCueCore", "StrideCuePresets", "StrideCueSession",
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
            dependencies: ["StrideCueCore", "StrideCuePresets", "CYAML"]
        ),
        // The RSC decoder on exact bytes, and the sensor end to end against bluezoo (a mock of
        // BlueZ on a private dbus-daemon) with a scripted footpod (Tests/Sensor).
        .testTarget(
            name: "StrideCueSensorTests",
            dependencies: ["StrideCueSensor", "StrideCueCore", "StrideCueLive"]
        ),
        .testTarget(
            name: "StrideCueLoudnessTests",
            dependencies: ["StrideCueLoudness", "StrideCueSoundFile", "StrideCueCore", "StrideCueTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6],
    // CLink keeps the rendering thread's session state in a std::optional.
    cxxLanguageStandard: .cxx17
)
