import Testing
@testable import Dashboard
import Training
import TerminalUI

/// The model card (`i`) shows the snapshot's card: sizes, config, data, tokens seen, memory.
@Suite struct ModelCardTests {
    static let card = ModelCard(parameters: 818_241, parametersWithoutEmbeddings: 801_793, nLayer: 4, nHead: 4, nEmbd: 128,
                                blockSize: 64, bias: false, dropout: 0, dtype: "float32", batchSize: 12,
                                gradientAccumulationSteps: 1, learningRate: 1e-3, maxIters: 2000, tokensPerStep: 768,
                                tokenizer: "char", vocabSize: 65, corpus: "recipe:shakespeare", trainTokens: 1_003_854,
                                valTokens: 111_540, estimatedBytes: 42_000_000)

    static func frame(card: ModelCard?, key: Bool = true) -> String {
        var s = insightSnapshot()
        s.modelCard = card
        var ui = UIState()
        if key { ui = reduce(ui, .character("i"), training: .running).0 }
        return DashboardView.render(snapshot: s, ui: ui, theme: .builtInDefault, colorMode: .truecolor, width: 120, height: 40)
            .lines.joined(separator: "\n")
    }

    @Test func iOpensTheCardWithTheRunsFacts() {
        let text = Self.frame(card: Self.card)
        #expect(text.contains("Model card"))
        #expect(text.contains("818,241 (801,793 without the wte/wpe embeddings)"))
        #expect(text.contains("n_layer 4 · n_head 4 · n_embd 128 · block_size 64"))
        #expect(text.contains("char · vocab 65"))
        #expect(text.contains("train 1,003,854 tokens · val 111,540 tokens"))
        // 600 steps of 768 tokens.
        #expect(text.contains("460,800 (step 600)"))
        #expect(text.contains("estimated"))
        #expect(!Self.frame(card: Self.card, key: false).contains("Model card"))
        let twice = reduce(reduce(UIState(), .character("i"), training: .running).0, .character("i"), training: .running).0
        #expect(!twice.showModelCard)
    }

    /// The kernels row says which GEMM does the products; it is left out when the card has none
    /// (the goldens' fixed card), since it differs from CPU to CPU.
    @Test func theKernelsRowNamesTheKernelsWhenGiven() {
        #expect(!Self.frame(card: Self.card).contains("kernels"))
        var card = Self.card
        card.dtype = "bfloat16"
        card.kernels = "float32 GEMM avx512, 12×32 tile · bfloat16 products AMX tdpbf16ps"
        let text = Self.frame(card: card)
        #expect(text.contains("kernels     float32 GEMM avx512, 12×32 tile · bfloat16 products AMX tdpbf16ps"))
    }

    /// The memory row names the options the estimate was made for, so two runs' cards compare.
    @Test func theMemoryRowNamesTheMemoryOptions() {
        #expect(Self.frame(card: Self.card).contains("memory      42.0 MB estimated "))
        #expect(!Self.frame(card: Self.card).contains("estimated ·"))
        var card = Self.card
        card.memoryOptions = "fused attention, selective activation checkpointing"
        #expect(Self.frame(card: card).contains("memory      42.0 MB estimated · fused attention, selective activation checkpointing"),
                "\(Self.frame(card: card))")
    }

    @Test func withoutACardItSaysSo() {
        #expect(Self.frame(card: nil).contains("no model card"))
    }

    @Test func groupsDigits() {
        #expect(ModelCardView.grouped(1_234_567) == "1,234,567" && ModelCardView.grouped(999) == "999")
    }
}
