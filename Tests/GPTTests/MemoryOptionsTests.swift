import Testing
import Kernels
@testable import GPT

/// Memory options change what is kept between the passes, never what is computed.
@Suite struct MemoryOptionsTests {
    static let config = GPTConfig(vocabSize: 23, blockSize: 70, nLayer: 3, nHead: 2, nEmbd: 16, bias: true, dropout: 0.2)

    /// Loss and every gradient of one training step with `options`.
    static func step(_ options: MemoryOptions, seqLen: Int = 70, config: GPTConfig = config,
                     headInForward: Bool = false, dtype: DType = .float32) throws -> (loss: Float, grads: [Float]) {
        let model = try randomModel(config)
        model.memoryOptions = options
        model.dtype = dtype
        var rng = RandomNumbers(seed: 3)
        let n = 2 * seqLen
        let tokens = (0..<n).map { _ in Int32(rng.next() % 23) }
        let targets = (0..<n).map { _ in Int32(rng.next() % 23) }
        model.zeroGradients()
        let loss = try #require(model.forward(tokens: tokens, targets: targets, batch: 2, seqLen: seqLen,
                                              training: true, dropoutSeed: 99, headGradientScale: headInForward ? 0.5 : nil))
        // Under a chunked head the forward pass itself has added the head's part of ∂wte.
        if headInForward { #expect(model.gradient("transformer.wte.weight")!.contains { $0 != 0 }) }
        model.backward(lossScale: headInForward ? 0.5 : 1)
        if headInForward { Buffers.scale(model.grads.pointer, 2, model.grads.count) }
        return (loss, model.grads.array)
    }

    /// The recomputation stops short of each block's MLP output projection (its only product is
    /// the next block's saved input), and under selective checkpointing starts after attention; a
    /// recomputed block that differed, a buffer the skipped part should have filled, or a layer
    /// reading another's kept attention would show here — in float32 and in the 16-bit path.
    @Test(arguments: [MemoryOptions.Checkpointing.full, .selective], [DType.float32, .bfloat16])
    func checkpointingGivesBitIdenticalGradients(checkpointing: MemoryOptions.Checkpointing, dtype: DType) throws {
        for attention in MemoryOptions.AttentionKernel.allCases {
            let stored = try Self.step(MemoryOptions(attention: attention), dtype: dtype)
            let recomputed = try Self.step(MemoryOptions(attention: attention, checkpointing: checkpointing), dtype: dtype)
            #expect(stored.loss == recomputed.loss)
            let firstDifference = stored.grads.indices.first { stored.grads[$0] != recomputed.grads[$0] }
            #expect(firstDifference == nil, "\(attention): gradients differ from index \(firstDifference ?? -1) of \(stored.grads.count)")
            #expect(stored.grads.contains { $0 != 0 })
        }
    }

    /// 2 × 600 rows: the head runs in two chunks (1024 + 176 rows) under checkpointing.
    @Test func theChunkedHeadGivesBitIdenticalGradients() throws {
        let long = GPTConfig(vocabSize: 23, blockSize: 600, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0.1)
        let stored = try Self.step(.standard, seqLen: 600, config: long)
        let recomputed = try Self.step(MemoryOptions(checkpointing: .full), seqLen: 600, config: long)
        #expect(stored.loss == recomputed.loss)
        #expect(stored.grads == recomputed.grads)
        // The trainer's way: each chunk's head gradient taken in the forward pass, not recomputed
        // (at scale ½, then doubled: exact in binary, and a wrong scale would show).
        let deep = GPTConfig(vocabSize: 23, blockSize: 600, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 0.1)
        let reference = try Self.step(.standard, seqLen: 600, config: deep)
        let inForward = try Self.step(MemoryOptions(checkpointing: .full), seqLen: 600, config: deep, headInForward: true)
        #expect(reference.loss == inForward.loss)
        #expect(reference.grads == inForward.grads)
    }

    @Test func fusedAttentionAgreesToFloatRounding() throws {
        let standard = try Self.step(.standard)
        let fused = try Self.step(MemoryOptions(attention: .fused))
        #expect(abs(standard.loss - fused.loss) <= 1e-5 * abs(standard.loss))
        let scale = standard.grads.map(abs).max()!
        let worst = zip(standard.grads, fused.grads).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-4 * scale, "largest gradient difference \(worst) of \(scale)")
    }

    /// Checkpointing keeps one block's internals instead of one per layer, fused attention
    /// O(T) instead of O(T²); the allocation follows the estimate.
    @Test func theFootprintShrinksAsEachOptionPromises() throws {
        let big = GPTConfig(vocabSize: 50304, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768)
        func total(_ o: MemoryOptions) throws -> Int {
            try #require(ActivationFootprint.of(big, batch: 4, seqLen: 1024, workers: 2, options: o)?.total)
        }
        let standard = try total(.standard)
        let fused = try total(MemoryOptions(attention: .fused))
        let both = try total(MemoryOptions(attention: .fused, checkpointing: .full))
        let selective = try total(MemoryOptions(attention: .fused, checkpointing: .selective))
        // P is 4·12·1024² floats per layer: 12 layers of it is 2.4 GB.
        #expect(standard - fused == 12 * (4 * 12 * 1024 * 1024 - 4 * 12 * 1024) + 2 * (Attention.scratchCount(seqLen: 1024, headSize: 64, pool: .serialPool) - FusedAttention.scratchCount(seqLen: 1024, headSize: 64, pool: .serialPool)))
        // Checkpointing keeps one block's internals (14·B·T·C + 4·B·T floats, plus residual2 and
        // attention) instead of twelve; each block's output is kept either way.
        let btc = 4 * 1024 * 768, bt = 4 * 1024, lse = 4 * 12 * 1024
        // …and one chunk of 1024 rows of logits instead of all 4096.
        #expect(fused - both == 11 * (15 * btc + 4 * bt + lse) + (bt - 1024) * 50304)
        // Selective checkpointing keeps q, k, v, the attention output and the log-sum-exp of the
        // other eleven layers as well.
        #expect(selective - both == 11 * (4 * btc + lse))
        #expect(ActivationFootprint.of(GPTConfig(vocabSize: 1 << 40, blockSize: 1 << 20, nLayer: 1, nHead: 1, nEmbd: 1 << 30),
                                       batch: 1 << 20, seqLen: 1 << 20, workers: 2, options: .standard) == nil)
    }
}
