import Kernels

/// The step's gradient as the sum of its micro-batches' gradients, each computed from zero:
///
///     g = ((g₀ + g₁) + g₂) + …      (in micro-batch order)
///
/// `GPT.backward` adds into `grads`, so accumulating micro-batches there directly would fold each
/// one into the running sum inside every kernel (the GEMM's K blocks, the embedding's scatter),
/// which rounds differently from adding finished gradients. Data parallelism can only do the
/// latter — each rank computes its micro-batches alone and `MPI_Allreduce` adds the results — so
/// the single process does the same, and two ranks with one micro-batch each take bit-for-bit the
/// single process's step. The cost: one extra gradient buffer and one pass over it per
/// micro-batch after the first (nothing when `gradient_accumulation_steps` is 1).
final class MicroBatchGradients {
    private var sum: FloatBuffer?
    private var held = 0

    /// Before the backward pass of every micro-batch but the first: moves the gradient so far
    /// out of `grads` (into the running sum) and zeroes `grads` for the next one.
    func stash(_ grads: FloatBuffer) {
        if sum == nil { sum = FloatBuffer(count: grads.count) }
        let s = sum!
        if held == 0 { s.copy(from: grads) } else { Buffers.accumulateParallel(s.pointer, grads.pointer, count: grads.count) }
        grads.zero()
        held += 1
    }

    /// After the last backward pass: `grads` ← running sum + last micro-batch's gradient.
    func finish(into grads: FloatBuffer) {
        if held > 0, let s = sum { Buffers.accumulateParallel(grads.pointer, s.pointer, count: grads.count) }
        held = 0
    }
}
