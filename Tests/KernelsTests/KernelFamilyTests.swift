import Foundation
import Testing
@testable import Kernels
import TestSupport

/// Every kernel family this machine (and this build) can run, against a plain reference.
@Suite struct KernelFamilyTests {
    /// Shapes that cross every tile and cache-block edge of every family: tiles of 6, 8 or 12 rows
    /// and 12, 16 or 32 columns; M blocks of 126/128 rows, N blocks of 252/256 columns, K blocks
    /// of 256/512 — each with a ragged remainder, plus degenerate ones.
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (5, 3, 17), (7, 33, 13), (13, 12, 9), (6, 16, 256), (127, 253, 257),
        (130, 270, 530), (257, 515, 40), (9, 1030, 3),
        // A last full tile of 12 rows too close to A's end for `packRowGroup`'s 16-wide copy (Aᵀ·B).
        (24, 40, 70),
        // Aᵀ·B packs 48 rows of A at a time (`packRowGroup`): here a whole group, then one of
        // 5 rows; the 8-wide copy of the 6-row tile stops at row 42 (A's row ends at 53).
        (53, 24, 300),
        // Under 256 rows B is packed only for a row stride that is a multiple of 1 KB (`packsB`):
        // here it is (256 floats); in (127, 253, 257) and (130, 270, 530) it is read in place.
        (100, 256, 300),
        // Bottom-edge tiles of the 12-row kernel that its 8- and 4-row variants take: 128 rows
        // (10 tiles + 8 rows) and 14 (12 + 2).
        (128, 40, 33), (14, 20, 9),
        // Split by rows with B packed once for all threads (`GEMM.multiplySharingB`, from 128
        // rows a thread), across its K blocks (256) and N blocks.
        (400, 280, 520),
    ]

    static let pools = [WorkerPool(workers: 1), WorkerPool(workers: 2), WorkerPool(workers: 3)]

    /// A, B (both layouts of A) and the reference C = A·B in Double with its error bound.
    struct Problem {
        let m: Int, n: Int, k: Int
        let a: [Float], at: [Float], b: [Float], start: [Float]
        let reference: [Double], bound: [Double]

        init(m: Int, n: Int, k: Int, seed: UInt64) {
            self.m = m; self.n = n; self.k = k
            var rng = SplitMix64(seed: seed)
            a = (0..<(m * k)).map { _ in rng.nextFloat() - 0.5 }
            b = (0..<(k * n)).map { _ in rng.nextFloat() - 0.5 }
            start = (0..<(m * n)).map { _ in rng.nextFloat() - 0.5 }
            var at = [Float](repeating: 0, count: k * m)
            for i in 0..<m { for kk in 0..<k { at[kk * m + i] = a[i * k + kk] } }
            self.at = at
            var reference = [Double](repeating: 0, count: m * n), bound = reference
            for i in 0..<m { for j in 0..<n {
                var s = 0.0, abs = 0.0
                for kk in 0..<k {
                    let p = Double(a[i * k + kk]) * Double(b[kk * n + j])
                    s += p; abs += Swift.abs(p)
                }
                reference[i * n + j] = s
                bound[i * n + j] = abs
            } }
            self.reference = reference
            self.bound = bound
        }

        /// C = A·B (or Aᵀ·B with A stored transposed), optionally onto `start`.
        func run(_ family: KernelFamily, transposed: Bool, accumulate: Bool, pool: WorkerPool) -> [Float] {
            var c = accumulate ? start : [Float](repeating: .nan, count: m * n)
            let src = transposed ? at : a
            src.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                GEMM.multiply(m: m, n: n, k: k, a: ap.baseAddress!, aRowStride: transposed ? 1 : k,
                              aColStride: transposed ? m : 1, b: bp.baseAddress!, ldb: n,
                              c: cp.baseAddress!, ldc: n, accumulate: accumulate, pool: pool, kernel: family)
            } } }
            return c
        }
    }

    /// Within the rounding bound of a k-term dot product: |ĉ − c| ≤ (k+1)·u·(Σ|aᵢbᵢ| + |c₀|),
    /// u = 2⁻²⁴ (each fused multiply-add rounds once; `accumulate` adds the start value c₀).
    @Test(arguments: KernelFamily.available, shapes.indices)
    func matchesTheReference(family: KernelFamily, shape: Int) {
        let (m, n, k) = Self.shapes[shape]
        let p = Problem(m: m, n: n, k: k, seed: UInt64(shape * 7919 + 1))
        let u = Double(Float.ulpOfOne) / 2
        for transposed in [false, true] {
            for accumulate in [false, true] {
                let c = p.run(family, transposed: transposed, accumulate: accumulate, pool: Self.pools[1])
                var worst = 0.0
                for i in 0..<(m * n) {
                    let c0 = accumulate ? Double(p.start[i]) : 0
                    let err = Swift.abs(Double(c[i]) - (p.reference[i] + c0))
                    let tol = Double(k + 1) * u * (p.bound[i] + Swift.abs(c0)) + 1e-30
                    worst = max(worst, err / tol)
                }
                #expect(worst <= 1, "\(family) \(m)×\(n)×\(k) transposed \(transposed) accumulate \(accumulate): error \(worst)× the bound")
            }
        }
    }

    /// Each family's result does not depend on the thread count (1, 2 or 3 workers), bit for bit.
    @Test(arguments: KernelFamily.available)
    func sameBitsOnEveryThreadCount(family: KernelFamily) {
        for (index, shape) in Self.shapes.enumerated() {
            let p = Problem(m: shape.m, n: shape.n, k: shape.k, seed: UInt64(index + 99))
            for transposed in [false, true] {
                let results = Self.pools.map { p.run(family, transposed: transposed, accumulate: true, pool: $0) }
                #expect(results.allSatisfy { $0 == results[0] }, "\(family) \(shape) transposed \(transposed)")
            }
        }
    }

    /// Across families the tiles differ but every output is the same chain of fused
    /// multiply-adds in increasing k, so they agree not only to rounding but bit for bit.
    @Test func familiesAgreeBitForBit() {
        let families = KernelFamily.available
        for (index, shape) in Self.shapes.enumerated() {
            let p = Problem(m: shape.m, n: shape.n, k: shape.k, seed: UInt64(index + 500))
            for transposed in [false, true] {
                let results = families.map { p.run($0, transposed: transposed, accumulate: true, pool: Self.pools[0]) }
                for (f, r) in zip(families, results) {
                    #expect(r == results[0], "\(f) vs \(families[0]) on \(shape), transposed \(transposed)")
                }
            }
        }
    }

    /// A product writes C's M×N block and nothing else: not the columns past N in a wider row
    /// (`ldc` > N), not the rows past M — whatever the edge tiles, row variants and packing.
    @Test(arguments: KernelFamily.available)
    func leavesTheRestOfCAlone(family: KernelFamily) {
        for (m, n, k) in [(14, 20, 9), (128, 40, 33), (5, 3, 17), (100, 256, 300), (37, 70, 600)] {
            let p = Problem(m: m, n: n, k: k, seed: UInt64(m * 31 + n))
            let ldc = n + 5, sentinel: Float = 777
            for transposed in [false, true] {
                var c = [Float](repeating: sentinel, count: (m + 2) * ldc)
                let src = transposed ? p.at : p.a
                src.withUnsafeBufferPointer { ap in p.b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                    GEMM.multiply(m: m, n: n, k: k, a: ap.baseAddress!, aRowStride: transposed ? 1 : k,
                                  aColStride: transposed ? m : 1, b: bp.baseAddress!, ldb: n,
                                  c: cp.baseAddress!, ldc: ldc, accumulate: false, pool: Self.pools[1], kernel: family)
                } } }
                for i in 0..<(m + 2) { for j in 0..<ldc {
                    let inside = i < m && j < n, v = c[i * ldc + j]
                    if inside {
                        #expect(abs(Double(v) - p.reference[i * n + j]) <= Double(k + 1) * 0x1p-24 * p.bound[i * n + j] + 1e-30,
                                "\(family) (\(m), \(n), \(k)) transposed \(transposed) at (\(i), \(j))")
                    } else {
                        #expect(v == sentinel, "\(family) (\(m), \(n), \(k)) transposed \(transposed) wrote (\(i), \(j))")
                    }
                } }
            }
        }
    }

    /// The transpose, whole 16×16 blocks in registers (portable Swift SIMD, so it runs on any
    /// machine even where only the AVX-512 family uses it) and ragged edges element by element,
    /// with row strides wider than the rows.
    @Test(arguments: [(16, 16), (37, 50), (64, 32), (5, 3), (33, 17)])
    func transposeMovesEveryElement(rows: Int, cols: Int) {
        let lds = cols + 3, ldd = rows + 5
        let src = (0..<(rows * lds)).map { Float($0) }
        var dst = [Float](repeating: -1, count: cols * ldd)
        src.withUnsafeBufferPointer { s in dst.withUnsafeMutableBufferPointer { d in
            GEMM.transpose(rows: rows, cols: cols, src: s.baseAddress!, lds: lds, dst: d.baseAddress!, ldd: ldd)
        } }
        for j in 0..<cols { for i in 0..<ldd {
            #expect(dst[j * ldd + i] == (i < rows ? src[i * lds + j] : -1), "(\(j), \(i))")
        } }
        if rows >= 16 && cols >= 16 {
            var block = [Float](repeating: -1, count: 16 * ldd)
            src.withUnsafeBufferPointer { s in block.withUnsafeMutableBufferPointer { d in
                GEMM.transposeBlock16(s.baseAddress!, lds, d.baseAddress!, ldd)
            } }
            for j in 0..<16 { for i in 0..<16 { #expect(block[j * ldd + i] == src[i * lds + j]) } }
        }
    }

    /// The best family can run here, the portable one always can, and the table is sensible.
    @Test func availabilityIsConsistent() {
        #expect(KernelFamily.available.contains(.generic))
        #expect(KernelFamily.best.isAvailable)
        #expect(KernelFamily.available.contains(KernelFamily.active))
        for family in KernelFamily.allCases {
            let t = family.gemmTile
            #expect(t.cols % family.lanes == 0)
            // Accumulators + B's vectors + one broadcast fit the family's register file.
            let registers = family == .avx2 ? 16 : 32
            #expect(t.rows * t.cols / family.lanes + t.cols / family.lanes + 1 <= registers, "\(family)")
        }
        // A family the build has but the CPU lacks (or the reverse) is unavailable.
        if !CPUFeatures.build.avx512f || !CPUFeatures.cpu.avx512f { #expect(!KernelFamily.avx512.isAvailable) }
        if CPUFeatures.build.avx2fma && CPUFeatures.cpu.avx2fma { #expect(KernelFamily.avx2.isAvailable) }
    }

    /// Asking for a family that cannot run here, or one that does not exist, is an error that
    /// says why — and changes nothing.
    @Test func forcingAnUnavailableOrUnknownKernelIsAClearError() throws {
        let before = KernelFamily.active
        #expect(throws: KernelSelectionError.unknown(name: "avx513")) { try KernelFamily.resolve("avx513") }
        #expect(throws: KernelSelectionError.self) { try KernelFamily.select("sse9") }
        #expect(KernelFamily.active == before)
        for family in KernelFamily.allCases where !family.isAvailable {
            do {
                _ = try KernelFamily.resolve(family.rawValue)
                Issue.record("\(family) resolved although it cannot run here")
            } catch {
                guard case .unavailable(let f, let reason) = error else { Issue.record("\(error)"); continue }
                #expect(f == family && !reason.isEmpty)
                #expect(error.description.contains("cannot run here"))
            }
        }
        #expect(try KernelFamily.resolve("NEON") == .generic)
        #expect(try KernelFamily.resolve("auto") == nil)
        #expect(try KernelFamily.resolve(nil) == nil)
        for family in KernelFamily.available { #expect(try KernelFamily.resolve(family.rawValue) == family) }
    }

    /// The measured FMA peak is a real figure for every family (no timing comparison: the
    /// machine is shared, and other processes can take a core at any moment).
    @Test(arguments: KernelFamily.available)
    func fmaPeakIsMeasured(family: KernelFamily) {
        let r = FMAPeak.measure(family: family, pool: Self.pools[1], repeats: 1)
        #expect(r.family == family && (1...2).contains(r.threads))  // 1 when another test holds the pool
        #expect(r.oneCore > 0.5 && r.oneCore.isFinite && r.allCores > 0.5 && r.allCores.isFinite)
    }

    /// A's strips for Aᵀ·B, packed a group of row tiles at a time, for every family's tile height
    /// (12 — AVX-512, which this machine may lack — 6 and 8): each panel holds A's rows in
    /// `[kc][rows]` order, rows past A's end repeat the last one, and the vector copies never
    /// write past a panel's slack into the next panel.
    @Test(arguments: [6, 8, 12])
    func packedStripsOfAHoldTheirRows(rows: Int) {
        let kc = 37, acs = 61
        for rowsLeft in [1, rows - 1, rows, 16, 47, 48, 53, 61] where rowsLeft <= acs {
            let tiles = min(GEMM.aGroupTiles(rows), (rowsLeft + rows - 1) / rows)
            let a = (0..<(kc * acs)).map { Float($0) }
            let stride = GEMM.aPanelStride(rows: rows, kc: kc)
            var panels = [Float](repeating: -1, count: tiles * stride)
            a.withUnsafeBufferPointer { ap in panels.withUnsafeMutableBufferPointer { pp in
                GEMM.packRowGroup(rows: rows, tiles: tiles, rowsLeft: rowsLeft, kc: kc, a: ap.baseAddress!, ars: 1, acs: acs,
                                  into: pp.baseAddress!, panelStride: stride)
            } }
            for t in 0..<tiles { for kk in 0..<kc { for r in 0..<rows {
                let row = min(t * rows + r, rowsLeft - 1)
                #expect(panels[t * stride + kk * rows + r] == a[kk * acs + row], "rows \(rows), \(rowsLeft) left: tile \(t), k \(kk), row \(r)")
            } } }
        }
    }
}
