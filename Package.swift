// swift-tools-version: 6.1
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
    // `swift build --traits MPI`: data-parallel training under `mpirun` (Open MPI; see README
    // "More than one machine"). The default build needs no MPI.
    traits: [
        .trait(name: "MPI", description: "Data-parallel training over Open MPI (mpirun -np N nanoscope train --distributed)"),
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
        //   CBFloat16 ← Kernels (C: the vdpbf16ps GEMM and F16C conversions, per-function target attributes)
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw"),
        // Open MPI's C API plus a shim for the handles that are macros (only with the MPI trait).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        // CPU feature detection (cpuid/xgetbv) for the kernel families; lives inside Kernels' folder.
        .target(name: "CCPUFeatures", path: "Sources/Kernels/CCPUFeatures"),
        .target(name: "CBFloat16", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Kernels", dependencies: ["CCPUFeatures", "CBFloat16"], exclude: ["CCPUFeatures"], swiftSettings: fast),
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
                .target(name: "CMPI", condition: .when(traits: ["MPI"])),
            ],
            swiftSettings: [.define("MPI", .when(traits: ["MPI"]))]
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
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "TestSupport"], resources: [.copy("Fixtures")]),
        // The golden fixtures are read through #filePath, not as bundle resources.
        .testTarget(name: "GPTTests", dependencies: ["GPT", "Kernels", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(
            name: "TrainingTests",
            dependencies: [
                "Training", "GPT", "Kernels", "Tokenizers", "SafeTensors", "TestSupport",
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "TerminalUITests", dependencies: ["TerminalUI"]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "TerminalUI", "Training", "GPT", "Kernels", "Tokenizers"],
                    exclude: ["Golden"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport"]),
        .testTarget(name: "ArchitectureTests", dependencies: []),
    ],
    swiftLanguageModes: [.v6]
)
