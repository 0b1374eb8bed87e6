#!/usr/bin/env python3
"""Golden fixture for float16 dynamic loss scaling: the scales and skipped steps of
`torch.amp.GradScaler` on a schedule of forced overflows (run by hand; the tests never need torch).

    pip install torch
    python3 Scripts/make_loss_scaler_fixture.py   # writes Tests/TrainingTests/Fixtures/loss_scaler.json

A one-parameter model is stepped with SGD through GradScaler; on the listed steps its gradient is
made infinite (or NaN), as an fp16 overflow would. Each case records, per step, the scale used
for that step's backward pass, whether the optimizer step was skipped, and the scale after
`update()`.
"""
import json, os
import torch

def run(steps, overflow, nan, **kwargs):
    w = torch.nn.Parameter(torch.ones(1))
    opt = torch.optim.SGD([w], lr=0.1)
    scaler = torch.amp.GradScaler("cpu", **kwargs)
    out = []
    for s in range(steps):
        opt.zero_grad()
        used = float(scaler.get_scale())
        loss = (w * 2.0).sum()
        scaler.scale(loss).backward()
        if s in overflow: w.grad.fill_(float("inf"))
        if s in nan: w.grad.fill_(float("nan"))
        before = w.detach().clone()
        scaler.step(opt)
        scaler.update()
        out.append({"scale_used": used, "skipped": bool(torch.equal(before, w.detach())), "scale_after": float(scaler.get_scale())})
    return out

cases = [
    {"name": "defaults", "kwargs": {}, "steps": 12, "overflow": [0, 1, 5], "nan": [8]},
    {"name": "growth_interval_3", "kwargs": {"growth_interval": 3}, "steps": 30,
     "overflow": [2, 3, 9, 15, 16, 17], "nan": [24]},
    {"name": "custom_factors", "kwargs": {"init_scale": 1024.0, "growth_factor": 4.0, "backoff_factor": 0.25, "growth_interval": 2},
     "steps": 16, "overflow": [0, 7], "nan": [11]},
]
for c in cases:
    c["trace"] = run(c["steps"], set(c["overflow"]), set(c["nan"]), **c["kwargs"])
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "TrainingTests", "Fixtures", "loss_scaler.json")
with open(path, "w") as f:
    json.dump({"torch_version": torch.__version__, "cases": cases}, f, indent=1)
print("wrote", os.path.normpath(path))
