#!/usr/bin/env python3
"""Golden fixtures for Nanoscope's engine, computed by PyTorch (run by hand; the tests never need torch).

    pip install torch numpy
    python3 Scripts/make_gpt_fixtures.py        # writes Tests/GPTTests/Fixtures/gpt_*.json

For a small nanoGPT-architecture model (written out below, identical to nanoGPT's model.py:
pre-LN blocks, causal self-attention, exact-erf GELU, tied wte/lm_head, LayerNorm eps 1e-5) and a
fixed batch, each fixture holds: the config, the weights (nanoGPT state_dict names), the batch,
the logits, the loss, every parameter's gradient, and the losses of 10 AdamW steps (nanoGPT's
decay groups, gradient clipping at 1.0) on that same batch. Sizes are chosen to be awkward
(sequence length 12, head size 8, vocab 13) so the Swift kernels' ragged edges are exercised.
"""
import json, math, os, sys
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
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
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
                # Larger than nanoGPT's 0.02 so activations and gradients are far from zero.
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
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def flat(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def make(name, bias, seed):
    torch.manual_seed(seed)
    c = dict(vocab_size=13, block_size=16, n_layer=2, n_head=2, n_embd=16, bias=bias, dropout=0.0,
             pos_encoding="learned")
    B, T = 3, 12
    model = GPT(c)
    idx = torch.randint(0, c["vocab_size"], (B, T))
    targets = torch.randint(0, c["vocab_size"], (B, T))
    state = {k: flat(v) for k, v in model.state_dict().items() if k != "lm_head.weight"}
    logits, loss = model(idx, targets)
    loss.backward()
    grads = {n: flat(p.grad) for n, p in model.named_parameters()}
    # 10 AdamW steps on the same batch, as nanoGPT's configure_optimizers + train loop do them.
    lr, wd, betas, clip = 1e-2, 0.1, (0.9, 0.99), 1.0
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=betas, eps=1e-8)
    opt.zero_grad(set_to_none=True)
    losses, norms = [], []
    for _ in range(10):
        _, l = model(idx, targets)
        l.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip)))
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(l))
    out = dict(config=c, batch=B, seq_len=T, adamw=dict(lr=lr, weight_decay=wd, beta1=betas[0], beta2=betas[1],
               grad_clip=clip, eps=1e-8),
               tokens=idx.reshape(-1).tolist(), targets=targets.reshape(-1).tolist(),
               params=state, logits=flat(logits), loss=float(loss), grads=grads,
               adamw_losses=losses, adamw_grad_norms=norms)
    path = os.path.join(os.path.dirname(__file__), "..", "Tests", "GPTTests", "Fixtures", f"gpt_{name}.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {path}: loss {float(loss):.6f}, after 10 steps {losses[-1]:.6f}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    make("nobias", False, 1)
    make("bias", True, 2)
