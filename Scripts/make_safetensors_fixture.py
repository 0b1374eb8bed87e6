#!/usr/bin/env python3
"""Writes Tests/TrainingTests/Fixtures/python-written.safetensors with the Python safetensors library.

The Swift tests check that Nanoscope reads exactly these values, so a file made by the reference
implementation is part of the test suite. Needs torch and safetensors; run from the package root:

    python3 Scripts/make_safetensors_fixture.py
"""
import torch
from safetensors.torch import save_file

tensors = {
    # Values are i * 0.25 - 1 (exact in F32), so the Swift test can recompute them.
    "transformer.wte.weight": torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.25 - 1,
    "transformer.ln_f.weight": torch.tensor([1.5, -2.0, 3.25, 1e-7], dtype=torch.float32),
    "scalar": torch.tensor(42.0, dtype=torch.float32),
    "empty": torch.zeros(0, 5, dtype=torch.float32),
    "a.cube": torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) * 0.25 - 1,
}
metadata = {"format": "nanoscope/1", "note": "written by Python safetensors \u2713", "step": "7"}
save_file(tensors, "Tests/TrainingTests/Fixtures/python-written.safetensors", metadata=metadata)
print("wrote Tests/TrainingTests/Fixtures/python-written.safetensors")

# With at most one metadata key the Python output is deterministic, so the Swift writer must
# reproduce it byte for byte.
save_file(tensors, "Tests/TrainingTests/Fixtures/python-written-one-key.safetensors",
          metadata={"format": "nanoscope/1"})
print("wrote Tests/TrainingTests/Fixtures/python-written-one-key.safetensors")
