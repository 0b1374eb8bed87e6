import Foundation
import GPT
import Training
import Kernels

/// nanoGPT's `GPT.generate` timed in PyTorch, for `sample --bench --reference`: the model class of
/// `torch_gpt.py` (imported from the path the user gives), random weights of the same shape, and
/// nanoGPT's loop verbatim in spirit — no cache, the whole (cropped) context re-run per token,
/// temperature, top-k, softmax, multinomial.
enum ReferenceGeneration {
    static let script = #"""
    import importlib.util, json, sys, time
    import torch
    import torch.nn.functional as F
    path, L, H, C, block, vocab, tokens, temperature, top_k, threads = sys.argv[1:11]
    spec = importlib.util.spec_from_file_location("torch_gpt", path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    torch.manual_seed(1337)
    torch.set_num_threads(int(threads))
    model = ref.GPT(dict(vocab_size=int(vocab), block_size=int(block), n_layer=int(L), n_head=int(H),
                         n_embd=int(C), bias=False, dropout=0.0))
    model.eval()
    block, temperature, top_k = int(block), float(temperature), int(top_k)

    @torch.no_grad()
    def generate(idx, max_new_tokens):  # nanoGPT's model.py
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= block else idx[:, -block:]
            logits, _ = model(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k > 0:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx

    generate(torch.zeros((1, 1), dtype=torch.long), block)  # warm-up
    n = int(tokens)
    start = time.perf_counter()
    generate(torch.zeros((1, 1), dtype=torch.long), n)
    print(json.dumps({"tokens_per_s": n / (time.perf_counter() - start)}))
    """#

    /// Tokens/s of nanoGPT's `generate` for `tokens` tokens on a model of `config`'s shape.
    static func tokensPerSecond(torchGPT path: String, config c: GPTConfig, tokens: Int,
                                temperature: Float, topK: Int) -> Double {
        guard FileManager.default.fileExists(atPath: path) else { fail("reference script \(path) not found") }
        let object = runPythonForJSON(["-c", script, path, "\(c.nLayer)", "\(c.nHead)", "\(c.nEmbd)", "\(c.blockSize)",
                                       "\(c.vocabSize)", "\(tokens)", "\(max(temperature, 1e-6))", "\(topK)",
                                       "\(WorkerPool.shared.workers)"])
        guard let rate = object["tokens_per_s"] as? Double else { fail("the reference printed no tokens_per_s") }
        return rate
    }
}

/// Runs `python3 arguments…` and returns the last JSON object it printed on stdout; a failure
/// (no python3, no torch, a crash) is a one-line error with the end of Python's stderr. PyTorch
/// is held to the vector unit of the kernels in use (`KernelReport.referenceConfinement`).
func runPythonForJSON(_ arguments: [String],
                      what: String = "the reference (is torch installed? `pip install torch safetensors numpy`)") -> [String: Any] {
    let confine = KernelReport.referenceConfinement(KernelFamily.active)
    if confine.isEmpty { return runForJSON("python3", arguments, what: what) }
    return runForJSON("env", confine + ["python3"] + arguments, what: what)
}

/// Runs a program (a name looked up in PATH, or a path) and returns the last JSON object it
/// printed on stdout; a failure is a one-line error naming `what`, with the end of its stderr.
func runForJSON(_ executable: String, _ arguments: [String], what: String) -> [String: Any] {
    let result: ExternalCommand.Result
    do { result = try ExternalCommand.runAndWait([executable] + arguments) } catch { fail("cannot run \(executable): \(error)") }
    guard result.status == 0,
          let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
          let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        let tail = result.errorOutput.split(separator: "\n").suffix(3).joined(separator: " | ")
        fail("\(what) did not run: \(tail)")
    }
    return object
}
