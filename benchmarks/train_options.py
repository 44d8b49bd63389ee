"""What each training option is worth per CPU hour: the steady-state speed of the real training
loop (`n2n train`: data, noise, network, Adam, EMA) for each option, as crops (and pixels) per hour.

Each variant runs `n2n train` twice from scratch, for SHORT and LONG iterations, and the speed is
(LONG - SHORT) / (difference of their wall seconds), so start-up, torch.compile's compiling and the
final validation cancel out. "2 runs x 1 thread" runs two copies at once and counts both.
Run it with nothing else on the machine; the CPU is named in the output.

python benchmarks/train_options.py --out docs/results/training-options.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from noise2noise.deploy.bench import cpu_name

# name -> (extra n2n train options, threads per run, runs at once)
VARIANTS = {
    "fp32, 16 x 64x64, 1 thread": (["--precision", "fp32", "--no-channels-last"], 1, 1),
    "+ channels_last": (["--precision", "fp32"], 1, 1),
    "+ bf16 autocast (where native)": (["--precision", "auto"], 1, 1),
    "+ torch.compile": (["--precision", "auto", "--compile"], 1, 1),
    "same pixels as 4 x 128x128": (["--precision", "auto", "--batch", "4", "--crop", "128"], 1, 1),
    "same pixels as 1 x 256x256": (["--precision", "auto", "--batch", "1", "--crop", "256"], 1, 1),
    "1 run x 2 threads": (["--precision", "auto"], 2, 1),
    "2 runs x 1 thread": (["--precision", "auto"], 1, 2),
    # the targets at the comparison runs' shape (docs/lab/training.md: two runs side by side, one thread each)
    "noisy targets, 8 x 128x128, 2 runs x 1 thread": (["--batch", "8", "--crop", "128", "--target", "noisy"], 1, 2),
    "self (Ne2Ne), 8 x 128x128, 2 runs x 1 thread": (["--batch", "8", "--crop", "128", "--target", "self"], 1, 2),
    "self + --ne2ne-swap, 8 x 128x128, 2 runs x 1 thread": (
        ["--batch", "8", "--crop", "128", "--target", "self", "--ne2ne-swap"],
        1,
        2,
    ),
}
BASE = ["--data", "../shared/data/train", "--noise", "gaussian:0-50", "--batch", "16", "--crop", "64"]
BASE += ["--val-count", "1", "--val-every", "100000", "--ckpt-every", "100000", "--workers", "0", "--quiet"]


def timed(extra: list[str], threads: int, runs: int, iterations: int, tmp: str) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "noise2noise.cli", "train", *BASE, *extra, "--iterations", str(iterations)]
    t = time.perf_counter()
    procs = [
        subprocess.Popen([*cmd, "--out", tempfile.mkdtemp(dir=tmp)], env=env, stdout=subprocess.DEVNULL)
        for _ in range(runs)
    ]
    if any(p.wait() for p in procs):
        raise SystemExit(f"n2n train failed: {' '.join(cmd)}")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--short", type=int, default=10)
    ap.add_argument("--long", type=int, default=50)
    ap.add_argument("--only", nargs="*", help="variant names to run (default: all)")
    ap.add_argument("--out", help="write the rows as JSON here")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (extra, threads, runs) in VARIANTS.items():
            if args.only and name not in args.only:
                continue
            batch = int(extra[extra.index("--batch") + 1]) if "--batch" in extra else 16
            crop = int(extra[extra.index("--crop") + 1]) if "--crop" in extra else 64
            dt = timed(extra, threads, runs, args.long, tmp) - timed(extra, threads, runs, args.short, tmp)
            steps_per_s = runs * (args.long - args.short) / dt
            row = {
                "variant": name,
                "threads": threads,
                "runs": runs,
                "batch": batch,
                "crop": crop,
                "steps_per_s": steps_per_s,
                "crops_per_hour": steps_per_s * batch * 3600,
                "megapixels_per_hour": steps_per_s * batch * crop * crop * 3600 / 1e6,
            }
            rows.append(row)
            print(f"{name:32s} {steps_per_s:6.2f} steps/s  {row['megapixels_per_hour']:8.0f} MP/h", flush=True)
    base = rows[0]["megapixels_per_hour"] if rows else 1
    for r in rows:
        r["vs_first"] = r["megapixels_per_hour"] / base
    print(f"(measured on {cpu_name()}; {args.long} - {args.short} iterations per variant)")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"cpu": cpu_name(), "short": args.short, "long": args.long, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
