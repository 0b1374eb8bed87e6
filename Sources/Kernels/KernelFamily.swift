import CCPUFeatures
import Foundation
import Synchronization

/// The shapes of the hot loops, one family per vector unit, chosen once at start.
///
/// A register-tiled loop is fast only while its accumulators fit the register file: the 12×32
/// GEMM tile keeps 24 `SIMD16<Float>` accumulators, 24 of AVX-512's 32 ZMM registers, but on an
/// AVX2 machine each `SIMD16` is two YMM registers — 48 accumulators in a file of 16 — and the
/// tile spills to the stack on every step (a third of the core's peak). So each family has its
/// own tile, sized for its registers:
///
/// | family    | needs              | registers        | GEMM tile (accumulators)                |
/// |-----------|--------------------|------------------|-----------------------------------------|
/// | `avx512`  | AVX-512F           | 32 × 512-bit     | 12×32 of `SIMD16` (24 of 32)            |
/// | `avx2`    | AVX2 + FMA         | 16 × 256-bit     | 6×16 of `SIMD8`  (12 of 16)             |
/// | `generic` | nothing (NEON's shape) | 32 × 128-bit | 8×12 of `SIMD4`  (24 of 32)             |
///
/// `generic` is portable Swift SIMD shaped for ARM NEON's 32 128-bit registers; on x86 it runs
/// on XMM registers (it spills in a build for an AVX2 CPU, which has only 16) and serves as the
/// always-available fallback and as the NEON tile's test on x86.
///
/// A family can run when the CPU has its instructions (`cpuid`) *and* the build was compiled
/// for them (`-target-cpu`, see Package.swift's NANOSCOPE_TARGET_CPU): an AVX2 build has no
/// AVX-512 code in it, even on an AVX-512 CPU.
///
/// Every family accumulates each output of a product over k in increasing order with one fused
/// multiply-add per term, starting from the output (accumulate) or 0 — so all families give the
/// same results, bit for bit, and a result never depends on the thread count.
public enum KernelFamily: String, CaseIterable, Sendable, CustomStringConvertible {
    case avx512
    case avx2
    case generic

    /// The instruction set the family needs, as people write it.
    public var isaName: String {
        switch self {
        case .avx512: "AVX-512F"
        case .avx2: "AVX2+FMA"
        case .generic: CPUFeatures.build.neon ? "NEON" : "portable SIMD (128-bit)"
        }
    }

    /// Floats per vector register of this family.
    public var lanes: Int {
        switch self {
        case .avx512: 16
        case .avx2: 8
        case .generic: 4
        }
    }

    /// The GEMM micro-kernel's tile of C held in registers.
    public var gemmTile: (rows: Int, cols: Int) {
        switch self {
        case .avx512: (Tile12x32AVX512.rows, Tile12x32AVX512.cols)
        case .avx2: (Tile6x16AVX2.rows, Tile6x16AVX2.cols)
        case .generic: (Tile8x12Generic.rows, Tile8x12Generic.cols)
        }
    }

    /// The GEMM's cache block of N (columns of B packed together; a multiple of the tile's width).
    public var gemmNBlock: Int {
        switch self {
        case .avx512: Tile12x32AVX512.nBlock
        case .avx2: Tile6x16AVX2.nBlock
        case .generic: Tile8x12Generic.nBlock
        }
    }

    /// e.g. "avx2 (GEMM tile 6×16 of SIMD8<Float>, 12 accumulators)".
    public var description: String {
        let t = gemmTile
        let vectors = t.rows * t.cols / lanes
        return "\(rawValue) (GEMM tile \(t.rows)×\(t.cols) of SIMD\(lanes)<Float>, \(vectors) accumulators)"
    }

    /// Why this family cannot run here, or nil when it can.
    public var unavailableReason: String? {
        let cpu = CPUFeatures.cpu, build = CPUFeatures.build
        switch self {
        case .avx512:
            if !cpu.avx512f { return "this CPU has no AVX-512F" }
            if !build.avx512f { return "this build is compiled for \(build.summary), without AVX-512F (build with NANOSCOPE_TARGET_CPU unset, or native/znver4)" }
        case .avx2:
            if !cpu.avx2fma { return "this CPU has no AVX2+FMA" }
            if !build.avx2fma { return "this build is compiled for \(build.summary), without AVX2+FMA" }
        case .generic:
            break
        }
        return nil
    }

    public var isAvailable: Bool { unavailableReason == nil }

    /// The families that can run here, best first.
    public static var available: [KernelFamily] { allCases.filter(\.isAvailable) }

    /// The widest family that can run here.
    public static var best: KernelFamily { available.first ?? .generic }

    /// The family the kernels use when not told otherwise: the one forced with `select`, else the
    /// one named by the environment variable NANOSCOPE_KERNEL (`avx512`, `avx2`, `generic`,
    /// `neon` or `auto`), else `best`.
    public static var active: KernelFamily {
        let f = forced.load(ordering: .relaxed)
        return f >= 0 ? allCases[f] : fromEnvironment
    }

    /// Forces `active` for the rest of the process (`nil` or "auto": back to the default).
    /// Throws, without changing anything, for an unknown name or a family that cannot run here.
    @discardableResult
    public static func select(_ name: String?) throws(KernelSelectionError) -> KernelFamily {
        guard let family = try resolve(name) else {
            forced.store(-1, ordering: .relaxed)
            return active
        }
        forced.store(allCases.firstIndex(of: family)!, ordering: .relaxed)
        return family
    }

    /// The family a name asks for (nil for "auto" or no name), if it can run here.
    public static func resolve(_ name: String?) throws(KernelSelectionError) -> KernelFamily? {
        guard let raw = name?.trimmingCharacters(in: .whitespaces).lowercased(), !raw.isEmpty, raw != "auto" else {
            return nil
        }
        guard let family = raw == "neon" ? .generic : KernelFamily(rawValue: raw) else {
            throw .unknown(name: raw)
        }
        if let reason = family.unavailableReason { throw .unavailable(family, reason: reason) }
        return family
    }

    private static let forced = Atomic<Int>(-1)

    /// NANOSCOPE_KERNEL, read once. A name that is unknown or cannot run here is a usage error:
    /// the process says why and exits (every command reads it, and guessing would measure the
    /// wrong kernel).
    private static let fromEnvironment: KernelFamily = {
        let value = ProcessInfo.processInfo.environment["NANOSCOPE_KERNEL"]
        do {
            return try resolve(value) ?? best
        } catch {
            FileHandle.standardError.write(Data("nanoscope: NANOSCOPE_KERNEL=\(value ?? ""): \(error)\n".utf8))
            exit(2)
        }
    }()
}

public enum KernelSelectionError: Error, CustomStringConvertible, Equatable {
    case unknown(name: String)
    case unavailable(KernelFamily, reason: String)

    public var description: String {
        switch self {
        case .unknown(let name):
            "unknown kernel '\(name)' (choose from \(KernelFamily.allCases.map(\.rawValue).joined(separator: ", ")), neon or auto)"
        case .unavailable(let family, let reason):
            "kernel \(family.rawValue) cannot run here: \(reason) (available: \(KernelFamily.available.map(\.rawValue).joined(separator: ", ")))"
        }
    }
}

/// What the CPU can execute and what the build was compiled for.
public struct CPUFeatures: Sendable, Equatable {
    public var avx2fma: Bool
    public var avx512f: Bool
    public var neon: Bool

    /// Asked of the CPU at run time (`cpuid`/`xgetbv` on x86).
    public static let cpu = CPUFeatures(avx2fma: nanoscope_cpu_has_avx2_fma() != 0,
                                        avx512f: nanoscope_cpu_has_avx512f() != 0,
                                        neon: nanoscope_cpu_has_neon() != 0)

    /// The instruction sets the Kernels module was compiled for.
    public static let build = CPUFeatures(avx2fma: nanoscope_build_has_avx2_fma() != 0,
                                          avx512f: nanoscope_build_has_avx512f() != 0,
                                          neon: nanoscope_build_has_neon() != 0)

    /// e.g. "AVX2+FMA, AVX-512F".
    public var summary: String {
        var parts: [String] = []
        if avx2fma { parts.append("AVX2+FMA") }
        if avx512f { parts.append("AVX-512F") }
        if neon { parts.append("NEON") }
        return parts.isEmpty ? "baseline only" : parts.joined(separator: ", ")
    }

    /// One line for reports: the CPU's model name (Linux), its ISA, the build's, and the family in use.
    public static var report: String {
        "CPU \(modelName): \(cpu.summary); build: \(build.summary); kernel \(KernelFamily.active)"
    }

    /// The CPU's model name from /proc/cpuinfo where there is one (for reports only).
    public static let modelName: String = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }()
}
