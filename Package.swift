// swift-tools-version: 6.0
import PackageDescription

// The hot loops (GEMM, attention, LayerNorm, AdamW) are SIMD code that is ~150× slower unless the
// compiler knows the target CPU (see PLATFORM_NOTES.md), so the numeric targets are optimised in
// every configuration — `swift test` then runs the real kernels at full speed. `-fno-math-errno`
// lets `squareRoot()` on SIMD vectors become one vsqrtps: with errno semantics every lane is a
// scalar square root with a branch to a libm call (AdamW spent 3× longer than it needs).
//
// The CPU to compile for is `native` unless NANOSCOPE_TARGET_CPU names another (any LLVM CPU name,
// e.g. `znver3` for an AVX2-only Zen 3: `NANOSCOPE_TARGET_CPU=znver3 swift build -c release
// --scratch-path .build-znver3`). Such a build runs on this machine with that CPU's instruction
// set and register file, so an AVX2 machine's register pressure can be measured on an AVX-512 one.
let targetCPU = Context.environment["NANOSCOPE_TARGET_CPU"] ?? "native"
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", targetCPU, "-Xcc", "-fno-math-errno"])]
let optimised: [SwiftSetting] = [.unsafeFlags(["-O", "-target-cpu", targetCPU, "-Xcc", "-fno-math-errno"])]

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
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw"),
        // CPU feature detection (cpuid/xgetbv) for the kernel families; lives inside Kernels' folder.
        .target(name: "CCPUFeatures", path: "Sources/Kernels/CCPUFeatures"),
        .target(name: "Kernels", dependencies: ["CCPUFeatures"], exclude: ["CCPUFeatures"], swiftSettings: fast),
        .target(name: "Tokenizers", swiftSettings: optimised),
        .target(name: "GPT", dependencies: ["Kernels", "Tokenizers"], swiftSettings: optimised),
        .target(name: "Training", dependencies: ["GPT", "Kernels", "Tokenizers"], swiftSettings: optimised),
        .target(name: "Dashboard", dependencies: ["CNcursesw", "Training", "GPT"]),
        .executableTarget(
            name: "nanoscope",
            dependencies: [
                "Training", "GPT", "Kernels", "Tokenizers", "Dashboard",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by the test targets (not a test target itself).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GPTTests", dependencies: ["GPT", "Kernels", "Training"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "GPT", "Tokenizers", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "Training", "GPT"]),
        .testTarget(name: "EndToEndTests", dependencies: []),
    ],
    swiftLanguageModes: [.v6]
)
