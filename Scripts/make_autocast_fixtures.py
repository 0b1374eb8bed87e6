#!/usr/bin/env python3
"""Golden fixtures of PyTorch CPU autocast (bfloat16 and float16) for Nanoscope's 16-bit path.

    python3 Scripts/make_autocast_fixtures.py     # writes Tests/GPTTests/Fixtures/autocast_*.json

The model and weights are those of make_gpt_fixtures.py (nanoGPT's architecture, awkward sizes),
with attention through F.scaled_dot_product_attention as in ../shared/reference/torch_gpt.py. The
forward pass runs under `torch.autocast("cpu", dtype=...)`, the backward pass outside it, exactly
as nanoGPT's train.py does. Each fixture holds the float32 weights, the batch, the autocast logits,
loss and gradients, and the same three computed in float32 from the same weights: the distance
between the two is the scale against which the Swift test's tolerances are stated.
"""
import json, math, os
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, n_head, bias):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(C, bias=bias)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(C, 3 * C, bias=bias)
        self.attn.c_proj = nn.Linear(C, C, bias=bias)
        self.ln_2 = nn.LayerNorm(C, bias=bias)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(C, 4 * C, bias=bias)
        self.mlp.c_proj = nn.Linear(4 * C, C, bias=bias)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c["vocab_size"], c["n_embd"]),
            wpe=nn.Embedding(c["block_size"], c["n_embd"]),
            h=nn.ModuleList([Block(c["n_embd"], c["n_head"], c["bias"]) for _ in range(c["n_layer"])]),
            ln_f=nn.LayerNorm(c["n_embd"], bias=c["bias"]),
        ))
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * c["n_layer"]) if name.endswith("c_proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std * 10)
            elif name.endswith("bias"):
                nn.init.normal_(p, 0.0, 0.1)
            else:
                nn.init.normal_(p, 1.0, 0.1)

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
        for blk in self.transformer.h:
            x = blk(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return logits, F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.view(-1))


def flat(t):
    return [float("%.9g" % v) for v in t.detach().float().reshape(-1).tolist()]


def run(model, idx, targets, dtype):
    model.zero_grad(set_to_none=True)
    if dtype is None:
        logits, loss = model(idx, targets)
    else:
        with torch.autocast("cpu", dtype=dtype):
            logits, loss = model(idx, targets)
    loss.backward()
    return flat(logits), float(loss), {n: flat(p.grad) for n, p in model.named_parameters()}


def make(name, dtype, bias, seed):
    torch.manual_seed(seed)
    c = dict(vocab_size=13, block_size=16, n_layer=2, n_head=2, n_embd=16, bias=bias, dropout=0.0,
             pos_encoding="learned")
    B, T = 3, 12
    model = GPT(c)
    idx = torch.randint(0, c["vocab_size"], (B, T))
    targets = torch.randint(0, c["vocab_size"], (B, T))
    state = {k: flat(v) for k, v in model.state_dict().items() if k != "lm_head.weight"}
    logits, loss, grads = run(model, idx, targets, getattr(torch, dtype))
    logits32, loss32, grads32 = run(model, idx, targets, None)
    out = dict(config=c, dtype=dtype, torch_version=torch.__version__, batch=B, seq_len=T,
               tokens=idx.reshape(-1).tolist(), targets=targets.reshape(-1).tolist(), params=state,
               logits=logits, loss=loss, grads=grads, logits_fp32=logits32, loss_fp32=loss32, grads_fp32=grads32)
    path = os.path.join(os.path.dirname(__file__), "..", "Tests", "GPTTests", "Fixtures", f"autocast_{name}.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {path}: {dtype} loss {loss:.6f} (float32 {loss32:.6f})")


if __name__ == "__main__":
    torch.set_num_threads(1)
    make("bf16_nobias", "bfloat16", False, 1)
    make("bf16_bias", "bfloat16", True, 2)
    make("fp16_nobias", "float16", False, 1)
