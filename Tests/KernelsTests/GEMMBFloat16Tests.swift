import Foundation
import Testing
import Kernels
import TestSupport

/// The 16-bit GEMM and the vectorised conversions of the C target.
@Suite struct GEMMBFloat16Tests {
    /// Edge values, then random bit patterns: the C conversions (F16C where present) give exactly
    /// `HalfPrecision`'s patterns, which the PyTorch fixture pins down.
    @Test(arguments: HalfFormat.allCases)
    func vectorConversionsMatchHalfPrecisionBitForBit(format: HalfFormat) throws {
        var rng = SplitMix64(seed: 16)
        var inputs: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .nan, -.nan, Float(bitPattern: 0x7FC0_0001),
                               Float(bitPattern: 0xFF80_1234), 65504, 65519.99, 65520, -65520, 6.1035156e-05,
                               5.9604645e-08, 2.9802322e-08, 2.9802326e-08, Float(bitPattern: 0x0001_16C2), Float(bitPattern: 0x8000_0001), .greatestFiniteMagnitude,
                               Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), Float(bitPattern: 0x3F80_1000)]
        for _ in 0..<100_000 { inputs.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        var got = [UInt16](repeating: 0, count: inputs.count)
        inputs.withUnsafeBufferPointer { src in got.withUnsafeMutableBufferPointer { dst in
            Half.round(src.baseAddress!, into: dst.baseAddress!, count: inputs.count, format, pool: .serialPool)
        } }
        for (i, x) in inputs.enumerated() {
            let want = Half.bits(x, format)
            if got[i] != want { Issue.record("\(format) of \(String(x.bitPattern, radix: 16)): \(String(got[i], radix: 16)), want \(String(want, radix: 16))"); break }
        }
        // In place (front to back) and value rounding agree with the same patterns.
        var copy = inputs
        let inPlace = copy.withUnsafeMutableBufferPointer { Array(UnsafeBufferPointer(start: Half.roundInPlace($0.baseAddress!, count: inputs.count, format), count: inputs.count)) }
        #expect(inPlace == got)
        var values = inputs
        values.withUnsafeMutableBufferPointer { Half.roundValues($0.baseAddress!, count: inputs.count, format) }
        for (i, v) in values.enumerated() where !(v.isNaN && Half.value(got[i], format).isNaN) {
            if v.bitPattern != Half.value(got[i], format).bitPattern { Issue.record("value rounding differs at \(i)"); break }
        }
        // Widening: all 65536 patterns.
        let all = (0...UInt16.max).map { $0 }
        var wide = [Float](repeating: 0, count: all.count)
        all.withUnsafeBufferPointer { s in wide.withUnsafeMutableBufferPointer { d in
            Half.expand(s.baseAddress!, into: d.baseAddress!, count: all.count, format)
        } }
        for b in all {
            let want = Half.value(b, format), have = wide[Int(b)]
            if !(want.isNaN && have.isNaN) && want.bitPattern != have.bitPattern { Issue.record("widening \(b)"); break }
        }
    }

    /// A·B, Gᵀ·X and general strides, fresh and accumulated, against the float32 GEMM on the
    /// same (rounded) operands, for both kernels. Shapes cross the C kernel's blocks (K 256, N 512)
    /// with odd K and ragged M and N.
    @Test(arguments: [(1, 1, 1), (8, 32, 2), (9, 33, 17), (13, 65, 257), (64, 600, 128), (37, 40, 531), (150, 270, 530)])
    func matchesFloat32GEMMOnRoundedOperands(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: UInt64(m * 7919 + n * 31 + k))
        for format in HalfFormat.allCases {
            let a16 = (0..<(m * k)).map { _ in Half.bits(rng.nextFloat() * 2 - 1, format) }
            let b16 = (0..<(k * n)).map { _ in Half.bits(rng.nextFloat() * 2 - 1, format) }
            let a = a16.map { Half.value($0, format) }, b = b16.map { Half.value($0, format) }
            let aT16 = (0..<(k * m)).map { i in a16[(i % m) * k + i / m] }  // [k][m]
            var expected = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in expected.withUnsafeMutableBufferPointer { cp in
                GEMM.multiply(m: m, n: n, k: k, a: ap.baseAddress!, aRowStride: k, b: bp.baseAddress!, ldb: n,
                              c: cp.baseAddress!, ldc: n, accumulate: false, pool: .serialPool)
            } } }
            for kernel in GEMM16.kernels(for: format) {
                for layout in 0..<3 {  // A row-major, A given transposed (Gᵀ), A with a padded row stride
                    let (src, ars, acs): ([UInt16], Int, Int) = switch layout {
                    case 0: (a16, k, 1)
                    case 1: (aT16, 1, m)
                    default: ((0..<(m * (k + 3))).map { i in i % (k + 3) < k ? a16[(i / (k + 3)) * k + i % (k + 3)] : 0x7FC0 }, k + 3, 1)
                    }
                    var c = [Float](repeating: .nan, count: m * n)
                    for pass in 0..<2 {
                        src.withUnsafeBufferPointer { ap in b16.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                            GEMM16.multiply(format, m: m, n: n, k: k, a: ap.baseAddress!, aRowStride: ars, aColStride: acs,
                                            b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n, accumulate: pass == 1, kernel: kernel)
                        } } }
                        var worst: Float = 0
                        for i in 0..<(m * n) { worst = max(worst, abs(c[i] - Float(pass + 1) * expected[i])) }
                        // Same products (exact in float32), summed in another order: rounding only.
                        #expect(worst <= 2e-6 * Float(k) + 1e-6, "\(kernel) \(format) layout \(layout) pass \(pass) \(shape): off by \(worst)")
                    }
                }
            }
        }
    }

    /// The widening kernel gives the same bits on one thread and on the pool (which widens B once
    /// per K block for all threads), for both A layouts and across K blocks.
    @Test(arguments: HalfFormat.allCases)
    func wideningIsBitIdenticalOnAnyThreadCount(format: HalfFormat) {
        let (m, n, k) = (200, 70, 600)
        var rng = SplitMix64(seed: 4242)
        let a16 = (0..<(m * k)).map { _ in Half.bits(rng.nextFloat() * 2 - 1, format) }
        let b16 = (0..<(k * n)).map { _ in Half.bits(rng.nextFloat() * 2 - 1, format) }
        for (ars, acs) in [(k, 1), (1, m)] {
            var results: [[Float]] = []
            for pool in [WorkerPool.serialPool, WorkerPool.shared, WorkerPool(workers: 3)] {
                var c = [Float](repeating: 0.5, count: m * n)
                a16.withUnsafeBufferPointer { ap in b16.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                    GEMM16.multiply(format, m: m, n: n, k: k, a: ap.baseAddress!, aRowStride: ars, aColStride: acs,
                                    b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n, accumulate: true,
                                    kernel: .widenToFloat32, pool: pool)
                } } }
                results.append(c)
            }
            #expect(results[0].map(\.bitPattern) == results[1].map(\.bitPattern), "\(format) ars \(ars): shared pool")
            #expect(results[0].map(\.bitPattern) == results[2].map(\.bitPattern), "\(format) ars \(ars): 3 workers")
        }
    }

    /// Every bfloat16 kernel this CPU runs gives the same bits on one thread, on the pool and on
    /// three workers (whose splits cut rows and columns at other places), across K and N blocks.
    @Test(arguments: [(200, 70, 600), (45, 1100, 96), (1000, 33, 513)])
    func nativeBFloat16KernelsAreBitIdenticalOnAnyThreadCount(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        var rng = SplitMix64(seed: 77)
        let a16 = (0..<(m * k)).map { _ in Half.bits(rng.nextFloat() * 2 - 1, .bfloat16) }
        let b16 = (0..<(k * n)).map { _ in Half.bits(rng.nextFloat() * 2 - 1, .bfloat16) }
        for kernel in GEMM16.kernels(for: .bfloat16) {
            for (ars, acs) in [(k, 1), (1, m)] {
                var results: [[UInt32]] = []
                for pool in [WorkerPool.serialPool, WorkerPool.shared, WorkerPool(workers: 3)] {
                    var c = [Float](repeating: 0.25, count: m * n)
                    a16.withUnsafeBufferPointer { ap in b16.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                        GEMM16.multiply(.bfloat16, m: m, n: n, k: k, a: ap.baseAddress!, aRowStride: ars, aColStride: acs,
                                        b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n, accumulate: true,
                                        kernel: kernel, pool: pool)
                    } } }
                    results.append(c.map(\.bitPattern))
                }
                #expect(results[0] == results[1], "\(kernel) \(shape) ars \(ars): shared pool")
                #expect(results[0] == results[2], "\(kernel) \(shape) ars \(ars): 3 workers")
            }
        }
    }

    @Test func kernelIsChosenFromCPUID() {
        #expect(GEMM16.kernel(for: .float16) == .widenToFloat32)
        let expected: GEMM16.Kernel = GEMM16.hasAMXBF16 ? .amxBF16 : GEMM16.hasAVX512BF16 ? .avx512bf16 : .widenToFloat32
        if KernelFamily.active == .avx512 { #expect(GEMM16.kernel(for: .bfloat16) == expected) }
        else { #expect(GEMM16.kernel(for: .bfloat16) == .widenToFloat32) }
        #expect(GEMM16.kernels(for: .bfloat16).first == expected)
        #expect(GEMM16.kernels(for: .bfloat16).last == .widenToFloat32)
        // The CPU flags agree with /proc/cpuinfo where Linux has one.
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) {
            let set = Set(flags.split(separator: " ").map(String.init))
            #expect(GEMM16.hasAVX512BF16 == set.contains("avx512_bf16"))
            if !set.contains("amx_bf16") { #expect(!GEMM16.hasAMXBF16) }
        }
    }
}
