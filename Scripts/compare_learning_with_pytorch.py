#!/usr/bin/env python3
"""Does Nanoscope learn like nanoGPT? Trains the baby Shakespeare config with both, over several
seeds, and prints the val-loss curves side by side with their means.

One run's val loss at step 2000 moves by a few hundredths from seed to seed (different initial
weights, different batches, and a 20-batch estimate of the loss), so a single pair of runs
cannot tell a real difference from luck; the means over seeds can.

    python3 Scripts/compare_learning_with_pytorch.py \\
        --torch-gpt ../shared/reference/torch_gpt.py --data ../shared/data/tinyshakespeare.txt \\
        --seeds 1337 1 2 3 4 5 6 7

Needs a release build (`swift build -c release`) and torch. Takes ~2.5 minutes per seed on two
cores. Runs go to a temporary folder.
"""
import argparse, re, statistics, subprocess, sys, tempfile

LINE = re.compile(r"step (\d+): train loss ([\d.]+), val loss ([\d.]+)")


def curve(text):
    return {int(m[1]): float(m[3]) for m in LINE.finditer(text)}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--torch-gpt", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--binary", default=".build/release/nanoscope")
    p.add_argument("--config", default="Samples/shakespeare-char.toml")
    p.add_argument("--seeds", type=int, nargs="+", default=[1337, 1, 2, 3])
    a = p.parse_args()
    runs = tempfile.mkdtemp(prefix="nanoscope-parity-")
    ours, theirs = {}, {}
    for seed in a.seeds:
        out = subprocess.run([a.binary, "train", "--headless", a.config, "--data", a.data, f"--seed={seed}",
                              f"--runs_dir={runs}", f"--run_name=seed-{seed}"],
                             capture_output=True, text=True)
        ours[seed] = curve(out.stdout + out.stderr.replace("\r", "\n"))
        out = subprocess.run([sys.executable, a.torch_gpt, "train", "--data", a.data, "--seed", str(seed)],
                             capture_output=True, text=True)
        theirs[seed] = curve(out.stdout)
        print(f"seed {seed}: nanoscope {ours[seed].get(2000, float('nan')):.4f}   "
              f"pytorch {theirs[seed].get(2000, float('nan')):.4f}", flush=True)

    steps = sorted(set().union(*(c.keys() for c in ours.values())))
    print("\nval loss, mean over seeds (min–max)")
    print(f"{'step':>6}  {'nanoscope':>24}  {'pytorch':>24}")
    for s in steps:
        row = []
        for side in (ours, theirs):
            v = [c[s] for c in side.values() if s in c]
            row.append(f"{statistics.mean(v):.4f} ({min(v):.3f}–{max(v):.3f})" if v else "—")
        print(f"{s:>6}  {row[0]:>24}  {row[1]:>24}")
    final = [[c[2000] for c in side.values() if 2000 in c] for side in (ours, theirs)]
    if all(len(f) > 1 for f in final):
        diff = statistics.mean(final[0]) - statistics.mean(final[1])
        se = (statistics.variance(final[0]) / len(final[0]) + statistics.variance(final[1]) / len(final[1])) ** 0.5
        print(f"\nstep 2000: mean difference {diff:+.4f} (standard error {se:.4f}); "
              f"runs ≤ 1.89: nanoscope {sum(v <= 1.89 for v in final[0])}/{len(final[0])}, "
              f"pytorch {sum(v <= 1.89 for v in final[1])}/{len(final[1])}")


if __name__ == "__main__":
    main()
