// swift-tools-version:6.0
import PackageDescription

// Arrows point down only: stridecue (CLI) → adapters (sound files, ALSA) → StrideCueCore.
// StrideCueCore is pure Swift: no C modules, no full Foundation.
let package = Package(
    name: "StrideCue",
    products: [
        .executable(name: "stridecue", targets: ["stridecue"]),
        .library(name: "StrideCueCore", targets: ["StrideCueCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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

        // The pure core: session plan → timeline in frames → voices → mixer.
        .target(name: "StrideCueCore"),

        // Adapter: every sound file read or written goes through libsndfile.
        .target(
            name: "StrideCueSoundFile",
            dependencies: ["StrideCueCore", "CSndFile", "CSampleRate"]
        ),

        .executableTarget(
            name: "stridecue",
            dependencies: [
                "StrideCueCore",
                "StrideCueSoundFile",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(
            name: "StrideCueCoreTests",
            dependencies: ["StrideCueCore"]
        ),
        .testTarget(
            name: "StrideCueCLITests",
            dependencies: ["StrideCueCore", "StrideCueSoundFile"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
