extension GPTConfig {
    /// The number of parameters `ParameterLayout` would lay out, counted with overflow checks
    /// before anything is built (a config with n_layer = 2⁶² gives nil, not a crash):
    ///
    ///     V·C (wte) + T·C (wpe, learned positions) + C (ln_f)
    ///     + n_layer · (12·C² + 2·C)                    per block: c_attn 3C², c_proj C², c_fc 4C², mlp.c_proj 4C², two LayerNorms
    ///     + biases: n_layer · 9·C + C                    (3C + C + 4C + C, and ln_1, ln_2, ln_f)
    public var checkedParameterCount: Int? {
        func mul(_ a: Int, _ b: Int) -> Int? {
            let r = a.multipliedReportingOverflow(by: b)
            return r.overflow || a < 0 || b < 0 ? nil : r.partialValue
        }
        func add(_ xs: Int?...) -> Int? {
            var sum = 0
            for x in xs {
                guard let x else { return nil }
                let r = sum.addingReportingOverflow(x)
                if r.overflow { return nil }
                sum = r.partialValue
            }
            return sum
        }
        let c = nEmbd
        guard let c2 = mul(c, c), let perBlockWeights = mul(12, c2) else { return nil }
        let perBlock = add(perBlockWeights, mul(2, c), bias ? mul(11, c) : 0)
        let blocks = perBlock.flatMap { mul(nLayer, $0) }
        return add(mul(vocabSize, c), posEncoding == .learned ? mul(blockSize, c) : 0, blocks, c, bias ? c : 0)
    }
}
