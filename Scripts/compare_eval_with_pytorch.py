#!/usr/bin/env python3
"""Checks that Nanoscope and PyTorch compute the same canonical eval loss on one checkpoint.

1. builds nanoscope (release) and trains the baby config briefly into a temporary runs folder;
2. evaluates the final checkpoint with `nanoscope eval` and with the PyTorch reference
   (`torch_gpt.py eval`): mean next-token cross-entropy over the first K block_size windows of
   the corpus's last 10 %;
3. re-saves the same weights from PyTorch as a nanoGPT state_dict with `safetensors.torch.save_file`
   (both tied names, then lm_head.weight only), with the contract's config/tokenizer metadata, and
   evaluates those files with `nanoscope eval` too: checkpoints made elsewhere load.

Exits 1 if any two numbers differ by 1e-4 or more. Needs torch, safetensors and numpy. Run from
the package root:

    python3 Scripts/compare_eval_with_pytorch.py
    python3 Scripts/compare_eval_with_pytorch.py --steps 500 --blocks 128 --keep runs-compare
"""
import argparse, json, os, shutil, subprocess, sys, tempfile

TOLERANCE = 1e-4


def run(cmd, **kw):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, text=True, **kw)


def nanoscope_eval(binary, checkpoint, data, blocks):
    out = run([binary, "eval", checkpoint, "--data", data, "--blocks", str(blocks), "--json"], stdout=subprocess.PIPE).stdout
    return json.loads(out)


def resave_from_pytorch(reference, checkpoint, folder):
    """The checkpoint's weights loaded into the reference PyTorch GPT and saved back the way a
    nanoGPT user would; returns the paths written."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file
    sys.path.insert(0, os.path.dirname(os.path.abspath(reference)))
    import torch_gpt

    with safe_open(checkpoint, framework="pt") as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    cfg = json.loads(meta["config"])
    model = torch_gpt.GPT(dict(vocab_size=cfg["vocab_size"], block_size=cfg["block_size"], n_layer=cfg["n_layer"],
                               n_head=cfg["n_head"], n_embd=cfg["n_embd"], bias=cfg.get("bias", False), dropout=0.0))
    model.load_state_dict(tensors, strict=True)
    # save_file refuses tensors that share memory (wte and lm_head are tied), hence the clones.
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    contract = {"config": meta["config"], "tokenizer": meta["tokenizer"]}
    both = os.path.join(folder, "pytorch-state-dict.safetensors")
    save_file(state, both, metadata=contract)
    head_only = os.path.join(folder, "pytorch-lm-head-only.safetensors")
    save_file({k: v for k, v in state.items() if k != "transformer.wte.weight"}, head_only, metadata=contract)
    return [both, head_only]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(root, "..", "shared", "data", "tinyshakespeare.txt"))
    p.add_argument("--reference", default=os.path.join(root, "..", "shared", "reference", "torch_gpt.py"))
    p.add_argument("--config", default=os.path.join(root, "Samples", "shakespeare-char.toml"))
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--blocks", type=int, default=64)
    p.add_argument("--keep", help="keep the run folder here instead of a temporary one")
    a = p.parse_args()

    run(["swift", "build", "-c", "release", "--product", "nanoscope"], cwd=root, stdout=sys.stderr)
    binary = os.path.join(root, ".build", "release", "nanoscope")
    runs = a.keep or tempfile.mkdtemp(prefix="nanoscope-compare-")
    try:
        run([binary, "train", a.config, "--headless", "--data", a.data, f"--max_iters={a.steps}",
             f"--eval_interval={a.steps}", "--checkpoint_interval=0", f"--runs_dir={runs}", "--run_name=compare"],
            stderr=subprocess.DEVNULL)
        checkpoint = os.path.join(runs, "compare", "checkpoints", f"step-{a.steps:06d}.safetensors")

        ours = nanoscope_eval(binary, checkpoint, a.data, a.blocks)
        theirs = json.loads(run([sys.executable, a.reference, "eval", checkpoint, "--data", a.data,
                                 "--blocks", str(a.blocks)], stdout=subprocess.PIPE).stdout)
        rows = [("nanoscope eval (Nanoscope checkpoint)", ours["val_loss"], ours["blocks"]),
                ("torch_gpt.py eval (Nanoscope checkpoint)", theirs["val_loss"], theirs["blocks"])]
        for path in resave_from_pytorch(a.reference, checkpoint, runs):
            r = nanoscope_eval(binary, path, a.data, a.blocks)
            rows.append((f"nanoscope eval ({os.path.basename(path)})", r["val_loss"], r["blocks"]))

        reference = theirs["val_loss"]
        ok = True
        print(f"checkpoint: {checkpoint} ({a.steps} steps), {a.blocks} windows")
        for name, loss, blocks in rows:
            diff = abs(loss - reference)
            good = diff < TOLERANCE and blocks == theirs["blocks"]
            ok &= good
            print(f"  {name:52s} {loss:.7f}  |diff| {diff:.2e}  {'ok' if good else 'MISMATCH'}")
        print("agree" if ok else f"DISAGREE (tolerance {TOLERANCE})")
        return 0 if ok else 1
    finally:
        if not a.keep:
            shutil.rmtree(runs, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
