/// A fully connected layer as `nn.Linear(IC, OC)` computes it, over `rows` tokens at once:
///
///     y = x · Wᵀ + b          x: [rows, IC]   W: [OC, IC] (PyTorch's layout)   y: [rows, OC]
///
/// Backward, with G = ∂L/∂y:
///
///     ∂L/∂x  = G · W          [rows, OC]·[OC, IC]
///     ∂L/∂W += Gᵀ · x         [OC, rows]·[rows, IC]
///     ∂L/∂b += Σ_rows G
///
/// All three read W as the model stores it: the forward pass's x·Wᵀ transposes W's blocks
/// straight into the GEMM's panels (`GEMM.multiply(transposedB:)`), so no transposed copy of the
/// weights is kept.
public enum Linear {
    public static func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        rows: Int, inFeatures ic: Int, outFeatures oc: Int, pool: WorkerPool = .shared
    ) {
        if let bias {
            for r in 0..<rows { (out + r * oc).update(from: bias, count: oc) }
        }
        GEMM.multiply(m: rows, n: oc, k: ic, a: inp, aRowStride: ic, transposedB: weight, ldw: ic,
                      c: out, ldc: oc, accumulate: bias != nil, pool: pool)
    }

    /// Writes (or, with `accumulateInput`, adds) ∂L/∂x into `dinp`; always adds into ∂L/∂W, ∂L/∂b.
    public static func backward(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows: Int, inFeatures ic: Int, outFeatures oc: Int, accumulateInput: Bool = false,
        pool: WorkerPool = .shared
    ) {
        if let dinp {
            GEMM.multiply(m: rows, n: ic, k: oc, a: dout, aRowStride: oc, b: weight, ldb: ic,
                          c: dinp, ldc: ic, accumulate: accumulateInput, pool: pool)
        }
        // Gᵀ·x: A = G read column-wise (row stride 1, column stride OC).
        GEMM.multiply(m: oc, n: ic, k: rows, a: dout, aRowStride: 1, aColStride: oc, b: inp, ldb: ic,
                      c: dweight, ldc: ic, accumulate: true, pool: pool)
        if let dbias {
            for r in 0..<rows { Buffers.add(dbias, dout + r * oc, oc) }
        }
    }
}
