import Foundation
import Kernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory a model shape needs, computed with overflow-checked arithmetic *before* anything is
/// allocated, and checked against what this process may use — so an absurd size is a one-line
/// error naming the figure, never an allocator abort or an arithmetic trap.
///
/// The counts follow the allocations exactly: `GPT` holds parameters, gradients and transposed
/// weights (3 × P floats) and its activations (`Activations`); AdamW holds m and v (2 × P);
/// `Generator` holds a packed copy of the weights and a K/V cache of n_layer × block_size × n_embd
/// each.
public enum MemoryBudget {
    /// Largest value of any one dimension: token ids are `Int32`.
    public static let maxDimension = Int(Int32.max)

    /// a · b · … or nil when it overflows.
    public static func product(_ xs: Int...) -> Int? {
        var r = 1
        for x in xs {
            let (v, o) = r.multipliedReportingOverflow(by: x)
            if o { return nil }
            r = v
        }
        return r
    }

    /// a + b + … or nil when it overflows.
    static func sum(_ xs: Int?...) -> Int? {
        var r = 0
        for x in xs {
            guard let x else { return nil }
            let (v, o) = r.addingReportingOverflow(x)
            if o { return nil }
            r = v
        }
        return r
    }

    /// Number of parameters of `config` (as `ParameterLayout.totalCount`), nil on overflow.
    public static func parameterCount(_ config: GPTConfig) -> Int? { config.checkedParameterCount }

    /// Number of named tensors of `config`'s state dict (without `lm_head.weight`), nil on overflow.
    public static func tensorCount(_ config: GPTConfig) -> Int? {
        sum(config.posEncoding == .learned ? 2 : 1, product(config.bias ? 12 : 6, config.nLayer), config.bias ? 2 : 1)
    }

    /// Floats of one `Activations` set for `batch` sequences of `seqLen` tokens, nil on overflow
    /// (`ActivationFootprint` is what `Activations` allocates).
    public static func activationFloats(_ config: GPTConfig, batch: Int, seqLen: Int, options: MemoryOptions = .standard) -> Int? {
        ActivationFootprint.of(config, batch: batch, seqLen: seqLen, workers: WorkerPool.shared.workers, options: options)?.total
    }

    /// Bytes of a model: parameters and gradients (and the sinusoid table).
    public static func modelBytes(_ config: GPTConfig) -> Int? {
        guard let p = parameterCount(config) else { return nil }
        return sum(product(p, 2, 4), config.posEncoding == .sinusoidal ? product(config.blockSize, config.nEmbd, 4) : 0)
    }

    /// Bytes of a training run: the model, AdamW's two moments, the 16-bit copies of the weights
    /// when the products run in 16 bits (`halfWeights`), activations for the batch and for a
    /// one-sequence probe, and the batch's token ids.
    public static func trainingBytes(_ config: GPTConfig, batchSize: Int, blockSize: Int,
                                     options: MemoryOptions = .standard, halfWeights: Bool = false) -> Int? {
        guard let p = parameterCount(config) else { return nil }
        return sum(modelBytes(config), product(p, halfWeights ? 3 : 2, 4),
                   activationFloats(config, batch: batchSize, seqLen: blockSize, options: options).flatMap { product($0, 4) },
                   activationFloats(config, batch: 1, seqLen: blockSize).flatMap { product($0, 4) },
                   product(batchSize, blockSize, 16))
    }

    /// Bytes of a generator: a packed copy of the weights, the K/V cache and the sinusoid table.
    public static func generationBytes(_ config: GPTConfig) -> Int? {
        guard let p = parameterCount(config) else { return nil }
        return sum(product(p, 2, 4), product(config.nLayer, config.blockSize, config.nEmbd, 2, 4),
                   product(config.blockSize, config.nEmbd, 4), product(config.vocabSize, 16))
    }

    /// What this process may allocate: physical memory, or less when an address-space limit
    /// (`ulimit -v`, `prlimit --as`) or a cgroup memory limit says so. Returns the figure and how
    /// to name it in a message.
    public static var available: (bytes: Int, description: String) {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        var best = (bytes: physical, description: "this machine has \(format(physical)) of memory")
        if let cgroup = cgroupLimit(), cgroup < best.bytes {
            best = (cgroup, "this process's cgroup may use \(format(cgroup))")
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max {
            // The runtime, thread stacks and malloc arenas take address space of their own.
            let usable = max(0, Int(clamping: limit.rlim_cur) - reservedAddressSpace)
            if usable < best.bytes { best = (usable, "the address-space limit (ulimit -v) leaves \(format(usable))") }
        }
        return best
    }

    /// Address space the program uses besides the model (runtime, libraries, stacks, arenas).
    static let reservedAddressSpace = 1 << 30

    private static func cgroupLimit() -> Int? {
        guard let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
              let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return value
    }

    /// Throws unless `bytes` (nil: beyond counting) fit in what this process may use.
    /// `what` names the request, e.g. "n_layer=4 n_embd=128 … training with batch_size=12".
    public static func check(_ bytes: Int?, for what: String, fix: String) throws(ConfigError) {
        let budget = available
        guard let bytes else {
            throw ConfigError("\(what) needs more memory than can be counted (the sizes overflow 64-bit arithmetic) — \(fix)")
        }
        if bytes > budget.bytes {
            throw ConfigError("\(what) needs \(format(bytes)) of memory, but \(budget.description) — \(fix)")
        }
    }

    /// `812 B`, `3.2 kB`, `10.7 MB`, `1.1 GB`, `4.6e+09 GB` (decimal units).
    public static func format(_ bytes: Int) -> String {
        if bytes < 1000 { return "\(bytes) B" }
        var value = Double(bytes)
        for unit in ["kB", "MB", "GB"] {
            value /= 1000
            if value < 1000 || unit == "GB" { return String(format: value < 1e6 ? "%.1f %@" : "%.2g %@", value, unit) }
        }
        return "\(bytes) B"
    }

    /// `n_layer=4 n_head=4 n_embd=128 vocab_size=65 block_size=64`.
    public static func shape(_ c: GPTConfig) -> String {
        "n_layer=\(c.nLayer) n_head=\(c.nHead) n_embd=\(c.nEmbd) vocab_size=\(c.vocabSize) block_size=\(c.blockSize)"
    }
}
