import GPT
import SafeTensors

/// The tensor names and shapes of nanoGPT's `GPT.state_dict()`, which Nanoscope's checkpoints use
/// so that `model.load_state_dict(safetensors.torch.load_file(path))` works in nanoGPT.
///
/// With C = `n_embd`, V = `vocab_size`, B = `block_size`, for each layer i:
///
///     transformer.wte.weight             [V, C]
///     transformer.wpe.weight             [B, C]     learned positions only
///     transformer.h.i.ln_1.weight        [C]        (+ .bias [C] when bias is on, as below)
///     transformer.h.i.attn.c_attn.weight [3C, C]    Linear weights are [out, in]
///     transformer.h.i.attn.c_proj.weight [C, C]
///     transformer.h.i.ln_2.weight        [C]
///     transformer.h.i.mlp.c_fc.weight    [4C, C]
///     transformer.h.i.mlp.c_proj.weight  [C, 4C]
///     transformer.ln_f.weight            [C]
///     lm_head.weight                     [V, C]     tied: the same values as wte, never a bias
///
/// Because wte and lm_head are one tensor, tools that drop shared tensors on save (Python's
/// `safetensors.torch.save_model`) keep only one of the two names; a file may hold either or both.
public enum NanoGPTStateDict {
    public static let tokenEmbedding = "transformer.wte.weight"
    public static let lmHead = "lm_head.weight"

    /// Every tensor of the state dict in nanoGPT's order, `lm_head.weight` last.
    public static func expectedShapes(for config: GPTConfig) -> [(name: String, shape: [Int])] {
        let c = config.nEmbd
        var out: [(name: String, shape: [Int])] = [(tokenEmbedding, [config.vocabSize, c])]
        if config.posEncoding == .learned { out.append(("transformer.wpe.weight", [config.blockSize, c])) }

        func layerNorm(_ prefix: String) {
            out.append((prefix + ".weight", [c]))
            if config.bias { out.append((prefix + ".bias", [c])) }
        }
        func linear(_ prefix: String, out outFeatures: Int, in inFeatures: Int) {
            out.append((prefix + ".weight", [outFeatures, inFeatures]))
            if config.bias { out.append((prefix + ".bias", [outFeatures])) }
        }
        for layer in 0..<max(0, config.nLayer) {
            let h = "transformer.h.\(layer)"
            layerNorm(h + ".ln_1")
            linear(h + ".attn.c_attn", out: 3 * c, in: c)
            linear(h + ".attn.c_proj", out: c, in: c)
            layerNorm(h + ".ln_2")
            linear(h + ".mlp.c_fc", out: 4 * c, in: c)
            linear(h + ".mlp.c_proj", out: c, in: 4 * c)
        }
        layerNorm("transformer.ln_f")
        out.append((lmHead, [config.vocabSize, c]))
        return out
    }

    /// Checks that a checkpoint's tensors (name → shape) are exactly what `config` needs, allowing
    /// either of the tied `transformer.wte.weight` / `lm_head.weight` to be absent. The error lists
    /// every missing, unexpected and wrongly shaped tensor.
    public static func validate(_ shapes: [String: [Int]], against config: GPTConfig, path: String) throws(CheckpointError) {
        do {
            try config.validate()
        } catch {
            throw CheckpointError(path, "invalid model configuration: \(error.message)")
        }
        // The config must agree with what the file holds before anything is built from it: a
        // small file whose metadata claims millions of layers is refused here, in O(1), instead of
        // listing millions of expected tensors. (Near misses get the detailed list below.)
        if let tensors = MemoryBudget.tensorCount(config), tensors > 2 * shapes.count + 16 {
            throw CheckpointError(path, "the metadata's config (\(summary(config))) needs \(tensors) tensors, but the file holds \(shapes.count) — the config does not belong to these weights")
        }
        let expected = expectedShapes(for: config)
        let expectedNames = Set(expected.map(\.name))
        var missing: [String] = []
        var wrongShape: [String] = []
        for (name, shape) in expected {
            guard let actual = shapes[name] else {
                missing.append(name)
                continue
            }
            if actual != shape { wrongShape.append("\(name) is \(actual), expected \(shape)") }
        }
        // One of the tied pair is enough.
        if shapes[tokenEmbedding] != nil || shapes[lmHead] != nil {
            missing.removeAll { $0 == tokenEmbedding || $0 == lmHead }
        }
        let unexpected = shapes.keys.filter { !expectedNames.contains($0) }.sorted()
        guard missing.isEmpty && wrongShape.isEmpty && unexpected.isEmpty else {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(list(missing))") }
            if !unexpected.isEmpty { parts.append("unexpected \(list(unexpected))") }
            if !wrongShape.isEmpty { parts.append("wrong shape: \(list(wrongShape))") }
            throw CheckpointError(path, "tensors do not match the model (\(summary(config))): " + parts.joined(separator: "; "))
        }
    }

    /// `n_layer=4 n_head=4 n_embd=128 vocab_size=65 block_size=64 bias=false pos=learned`
    static func summary(_ config: GPTConfig) -> String {
        "n_layer=\(config.nLayer) n_head=\(config.nHead) n_embd=\(config.nEmbd) vocab_size=\(config.vocabSize) "
            + "block_size=\(config.blockSize) bias=\(config.bias) pos=\(config.posEncoding.rawValue)"
    }

    /// At most a handful of items, so a wholly wrong file gives a readable message.
    private static func list(_ items: [String], limit: Int = 6) -> String {
        let shown = items.prefix(limit).joined(separator: ", ")
        return items.count > limit ? shown + " and \(items.count - limit) more" : shown
    }
}
