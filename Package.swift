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
    ],
    targets: [
        // The module graph points one way (checked by Tests/ArchitectureTests):
        //   Kernels ← GPT ← Training ← Dashboard ← nanoscope
        //   Tokenizers ← Training,  SafeTensors ← Training,  TerminalUI ← Dashboard
        //   CBFloat16 ← Kernels (C: the vdpbf16ps GEMM and F16C conversions, per-function target attributes)
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw"),
        .target(name: "CBFloat16", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Kernels", dependencies: ["CBFloat16"], swiftSettings: fast),
        .target(name: "Tokenizers", swiftSettings: optimised),
        .target(name: "SafeTensors", swiftSettings: optimised),
        .target(name: "GPT", dependencies: ["Kernels"], swiftSettings: optimised),
        .target(name: "Training", dependencies: ["GPT", "Kernels", "Tokenizers", "SafeTensors"], swiftSettings: optimised),
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
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GPTTests", dependencies: ["GPT", "Kernels", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "GPT", "Kernels", "Tokenizers", "SafeTensors", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TerminalUITests", dependencies: ["TerminalUI"]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "TerminalUI", "Training", "GPT", "Kernels", "Tokenizers"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport"]),
        .testTarget(name: "ArchitectureTests", dependencies: []),
    ],
    swiftLanguageModes: [.v6]
)
