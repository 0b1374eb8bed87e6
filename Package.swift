// swift-tools-version: 6.1
import PackageDescription

// The hot loops (GEMM, attention, LayerNorm, AdamW) are SIMD code that is ~150× slower unless the
// compiler knows the target CPU (see PLATFORM_NOTES.md), so the numeric targets are optimised in
// every configuration — `swift test` then runs the real kernels at full speed. `-fno-math-errno`
// lets `squareRoot()` on SIMD vectors become one vsqrtps: with errno semantics every lane is a
// scalar square root with a branch to a libm call (AdamW spent 3× longer than it needs).
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "native", "-Xcc", "-fno-math-errno"])]
let optimised: [SwiftSetting] = [.unsafeFlags(["-O", "-target-cpu", "native", "-Xcc", "-fno-math-errno"])]

let package = Package(
    name: "Nanoscope",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "nanoscope", targets: ["nanoscope"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        // Only for FilePath (swift-subprocess's own dependency; Apple platforms have System).
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
    ],
    targets: [
        // The module graph points one way (checked by Tests/ArchitectureTests):
        //   Kernels ← GPT ← Training ← Dashboard ← nanoscope
        //   Tokenizers ← Training,  SafeTensors ← Training,  TerminalUI ← Dashboard
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw"),
        .target(name: "Kernels", swiftSettings: fast),
        .target(name: "Tokenizers", swiftSettings: optimised),
        .target(name: "SafeTensors", swiftSettings: optimised),
        .target(name: "GPT", dependencies: ["Kernels"], swiftSettings: optimised),
        .target(
            name: "Training",
            dependencies: [
                "GPT", "Kernels", "Tokenizers", "SafeTensors",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            swiftSettings: optimised
        ),
        .target(name: "TerminalUI", dependencies: ["CNcursesw"]),
        .target(name: "Dashboard", dependencies: ["TerminalUI", "Training", "GPT", "Tokenizers", "SafeTensors"]),
        .executableTarget(
            name: "nanoscope",
            dependencies: [
                "Training", "GPT", "Kernels", "Tokenizers", "SafeTensors", "Dashboard", "TerminalUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by the test targets (not a test target itself).
        .target(
            name: "TestSupport",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system", condition: .when(platforms: [.linux])),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "TestSupport"], resources: [.copy("Fixtures")]),
        // The golden fixtures are read through #filePath, not as bundle resources.
        .testTarget(name: "GPTTests", dependencies: ["GPT", "Kernels", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "TrainingTests",
            dependencies: [
                "Training", "GPT", "Kernels", "Tokenizers", "SafeTensors", "TestSupport",
                .product(name: "Subprocess", package: "swift-subprocess"),
            ]
        ),
        .testTarget(name: "TerminalUITests", dependencies: ["TerminalUI"]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "TerminalUI", "Training", "GPT", "Kernels", "Tokenizers"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport"]),
        .testTarget(name: "ArchitectureTests", dependencies: []),
    ],
    swiftLanguageModes: [.v6]
)
