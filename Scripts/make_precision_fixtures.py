#!/usr/bin/env python3
"""Golden fixture for bfloat16 / float16 rounding, computed by PyTorch (run by hand; the tests
never need torch).

    pip install torch numpy
    python3 Scripts/make_precision_fixtures.py    # writes Tests/KernelsTests/Fixtures/precision.json

For a list of float32 bit patterns — ties in both formats, the largest finite values and the
first ones that overflow, subnormals of both formats, the smallest values that flush to zero,
signed zeros, infinities and NaNs with payloads — it records the 16-bit patterns PyTorch's
`Tensor.to(torch.bfloat16)` and `Tensor.to(torch.float16)` produce on the CPU, both for a single
element and inside a long tensor (PyTorch converts long tensors with vector instructions, which
may treat NaN differently), and the float32 each 16-bit value widens back to.
"""
import json, os, struct
import numpy as np
import torch

def f2b(x): return struct.unpack("<I", struct.pack("<f", x))[0]

patterns = set()
for x in [0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 3.14159265, 65504.0, 65519.99, 65520.0, 65536.0, 1e5,
          3.3895314e38, 3.3961776e38, 3.4028235e38, float("inf"), float("-inf"),
          6.1035156e-05, 6.097555e-05, 5.9604645e-08, 2.9802322e-08, 2.9802326e-08, 4.4703484e-08,
          1e-8, 1e-30, 1.1754944e-38, 9.1835e-41, 1e-45, -1e-45, 1.0000001, 1.00390625, 1.01171875]:
    patterns.add(f2b(x))
# bf16 ties: the low 16 bits exactly 0x8000, with even and odd kept bit; just below and above.
for hi in [0x3F80, 0x3F81, 0x4049, 0x7F7F, 0x0001, 0x0080, 0x8000, 0xBF80]:
    for lo in [0x7FFF, 0x8000, 0x8001, 0x0000, 0xFFFF]:
        patterns.add((hi << 16) | lo)
# fp16 ties: float32 mantissa bits below fp16's 10 kept bits at exactly half.
for e in [112, 113, 127, 142, 143, 102, 103]:   # subnormal range, normal range, max
    for m in [0x000000, 0x001000, 0x002000, 0x003000, 0x001FFF, 0x002001, 0x7FF000, 0x7FE000]:
        patterns.add((e << 23) | m)
        patterns.add(0x80000000 | (e << 23) | m)
patterns |= {0x7F800001, 0x7FC00000, 0x7FC12345, 0xFFC00001, 0x7FBFFFFF, 0xFF800001}
patterns = sorted(patterns)

bits = torch.from_numpy(np.array(patterns, dtype=np.uint32).view(np.int32).copy())
floats = bits.view(torch.float32)

def convert(dtype, vector):
    out = []
    for i in range(len(patterns)):
        x = floats[i:i + 1]
        if vector:  # the element inside a long tensor
            x = floats[i:i + 1].repeat(257)
        h = x.to(dtype)
        out.append(int(h.view(torch.int16)[0].item()) & 0xFFFF)
    return out

def widen(dtype, halves):
    t = torch.from_numpy(np.array(halves, dtype=np.uint16).view(np.int16).copy()).view(dtype)
    return [int(v) & 0xFFFFFFFF for v in t.to(torch.float32).view(torch.int32).tolist()]

fixture = {"float32": patterns}
for name, dtype in [("bfloat16", torch.bfloat16), ("float16", torch.float16)]:
    scalar, vector = convert(dtype, False), convert(dtype, True)
    fixture[name] = scalar
    fixture[name + "_vectorised"] = vector
    fixture[name + "_widened"] = widen(dtype, scalar)
fixture["torch_version"] = torch.__version__
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "KernelsTests", "Fixtures", "precision.json")
with open(path, "w") as f:
    json.dump(fixture, f, indent=0)
print(f"wrote {len(patterns)} cases to {os.path.normpath(path)}")
