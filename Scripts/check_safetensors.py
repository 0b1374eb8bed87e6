#!/usr/bin/env python3
"""Checks that Python's safetensors library reads Nanoscope checkpoint files as the contract says.

For each file: loads every tensor with the reference library, checks they are float32, and — when
the metadata has a `config` — that the names and shapes are exactly nanoGPT's `GPT.state_dict()`
(computed here independently of the Swift code). Prints one JSON summary per file on stdout;
exits 1 if any check fails.

    python3 Scripts/check_safetensors.py runs/baby/checkpoints/step-000500.safetensors
    # also load the weights into the PyTorch reference model, as nanoGPT would:
    python3 Scripts/check_safetensors.py CKPT --torch-reference ../shared/reference

Needs `safetensors` and `numpy`; `--torch-reference` also needs torch. The Swift tests run the
first form when python3 has safetensors installed.
"""
import argparse, json, sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file


def expected_shapes(c):
    """nanoGPT's state_dict names and shapes for a config (learned or sinusoidal positions)."""
    C, V, bias = c["n_embd"], c["vocab_size"], c.get("bias", False)
    out = {"transformer.wte.weight": [V, C]}
    if c.get("pos_encoding", "learned") == "learned":
        out["transformer.wpe.weight"] = [c["block_size"], C]

    def layer_norm(p):
        out[p + ".weight"] = [C]
        if bias:
            out[p + ".bias"] = [C]

    def linear(p, n_out, n_in):
        out[p + ".weight"] = [n_out, n_in]
        if bias:
            out[p + ".bias"] = [n_out]

    for i in range(c["n_layer"]):
        h = f"transformer.h.{i}"
        layer_norm(h + ".ln_1")
        linear(h + ".attn.c_attn", 3 * C, C)
        linear(h + ".attn.c_proj", C, C)
        layer_norm(h + ".ln_2")
        linear(h + ".mlp.c_fc", 4 * C, C)
        linear(h + ".mlp.c_proj", C, 4 * C)
    layer_norm("transformer.ln_f")
    out["lm_head.weight"] = [V, C]
    return out


def check(path, torch_reference):
    problems = []
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata() or {}
    tensors = load_file(path)
    for name, t in tensors.items():
        if t.dtype != np.float32:
            problems.append(f"{name} is {t.dtype}, not float32")

    config = json.loads(metadata["config"]) if "config" in metadata else None
    if config is not None:
        want = expected_shapes(config)
        tied = {"transformer.wte.weight", "lm_head.weight"}
        missing = [n for n in want if n not in tensors and not (n in tied and tied & tensors.keys())]
        unexpected = [n for n in tensors if n not in want]
        wrong = [f"{n} {list(tensors[n].shape)} != {want[n]}" for n in want
                 if n in tensors and list(tensors[n].shape) != want[n]]
        problems += [f"missing {n}" for n in missing] + [f"unexpected {n}" for n in unexpected] + wrong
        for key in ("tokenizer", "step", "created"):
            if key not in metadata:
                problems.append(f"metadata lacks '{key}'")
        if metadata.get("format") != "nanoscope/1":
            problems.append(f"metadata format is {metadata.get('format')!r}")

    if torch_reference and config is not None:
        import torch
        sys.path.insert(0, torch_reference)
        from torch_gpt import GPT
        model = GPT(dict(config, dropout=0.0))
        state = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [m for m in missing if m not in ("lm_head.weight", "transformer.wte.weight")]
        if missing or unexpected:
            problems.append(f"torch load_state_dict: missing {missing} unexpected {unexpected}")

    summary = {
        "path": path,
        "metadata": metadata,
        "tensors": {n: {"shape": list(t.shape), "values": t.reshape(-1)[:8].astype(float).tolist(),
                        "sum": float(t.astype(np.float64).sum())} for n, t in sorted(tensors.items())},
        "problems": problems,
    }
    print(json.dumps(summary))
    return not problems


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+")
    p.add_argument("--torch-reference", help="folder holding torch_gpt.py")
    a = p.parse_args()
    ok = all([check(f, a.torch_reference) for f in a.files])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
