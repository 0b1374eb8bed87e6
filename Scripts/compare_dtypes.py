#!/usr/bin/env python3
"""Does 16-bit training learn as well as float32? Trains one config in float32, bfloat16 and
float16 over several seeds, back to back on one machine, and prints each dtype's val-loss curve
(mean over seeds) and its step-2000 mean beside float32's.

The seed fixes the initial weights and the batches, so for one seed the three dtypes see the same
data in the same order; what differs is only the rounding of the matrix-multiply operands and of
the activations kept for the backward pass. Runs are deterministic: the machine's load changes
how long they take, not what they print.

    python3 Scripts/compare_dtypes.py --data ../shared/data/tinyshakespeare.txt --seeds 1337 1 2 3

Needs a release build (`swift build -c release`). Runs go to a temporary folder.
"""
import argparse, re, statistics, subprocess, sys, tempfile

LINE = re.compile(r"step (\d+): train loss ([\d.]+), val loss ([\d.]+)")
DTYPES = ["float32", "bfloat16", "float16"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--binary", default=".build/release/nanoscope")
    p.add_argument("--config", default="Samples/shakespeare-char.toml")
    p.add_argument("--seeds", type=int, nargs="+", default=[1337, 1, 2, 3])
    p.add_argument("--tolerance", type=float, default=0.02,
                   help="how far a 16-bit mean may be from float32's (the issue's bar)")
    a = p.parse_args()
    runs = tempfile.mkdtemp(prefix="nanoscope-dtypes-")
    curves = {d: {} for d in DTYPES}
    for seed in a.seeds:
        for dtype in DTYPES:
            out = subprocess.run([a.binary, "train", "--headless", a.config, "--data", a.data, f"--seed={seed}",
                                  f"--dtype={dtype}", f"--runs_dir={runs}", f"--run_name={dtype}-{seed}"],
                                 capture_output=True, text=True)
            text = out.stdout + out.stderr.replace("\r", "\n")
            if out.returncode != 0:
                sys.exit(f"{dtype} seed {seed} failed ({out.returncode}): {text.strip().splitlines()[-1:]}")
            curves[dtype][seed] = {int(m[1]): float(m[3]) for m in LINE.finditer(text)}
            skipped = re.findall(r"skipped[^\d]*(\d+)", text)
            print(f"seed {seed:>5} {dtype:>9}: val loss at the last eval "
                  f"{curves[dtype][seed][max(curves[dtype][seed])]:.4f}"
                  + (f"  (skipped steps reported: {skipped[-1]})" if skipped else ""), flush=True)

    steps = sorted(set().union(*(c.keys() for d in DTYPES for c in curves[d].values())))
    print("\nval loss, mean over seeds")
    print(f"{'step':>6}" + "".join(f"{d:>12}" for d in DTYPES))
    for s in steps:
        print(f"{s:>6}" + "".join(f"{statistics.mean(c[s] for c in curves[d].values() if s in c):>12.4f}" for d in DTYPES))
    last = steps[-1]
    means = {d: statistics.mean(c[last] for c in curves[d].values()) for d in DTYPES}
    print(f"\nstep {last}, mean over {len(a.seeds)} seeds: " + ", ".join(f"{d} {means[d]:.4f}" for d in DTYPES))
    ok = True
    for d in DTYPES[1:]:
        diff = means[d] - means["float32"]
        within = abs(diff) <= a.tolerance
        ok &= within
        print(f"  {d} − float32 = {diff:+.4f} ({'within' if within else 'OUTSIDE'} ±{a.tolerance})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
