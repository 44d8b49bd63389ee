"""Speed ratios on a noisy machine: the configurations timed in turn, round after round, in one process.

    python benchmarks/interleaved_speed.py --rounds 15
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python benchmarks/interleaved_speed.py \
        --configs torch-fp32,openvino-fp32,openvino-int8 --file old=OLD.int8.onnx@openvino --json F

`n2n bench` times each configuration in its own subprocess, one after the other (so each has its own
peak RSS). On a shared machine whose speed drifts by a third within minutes (seen on these 2-core
machines), configurations timed minutes apart are not comparable. Here every round runs each
configuration once, so a drift hits all of them alike; the ratio to the first configuration (eager
fp32 torch by default) is taken within each round, and its median over rounds is reported with the
interquartile range. (Runtimes in one process can disturb each other: PyTorch's OpenMP threads spin
for a while after each run, which slows whatever runs next; compare like with like.)
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from noise2noise.deploy.bench import cpu_name, runner_for_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="torch-fp32,openvino-fp32,openvino-int8")
    ap.add_argument("--file", action="append", default=[], help="NAME=PATH[@BACKEND], as in n2n bench")
    ap.add_argument("--model", default=None)
    ap.add_argument("--shape", default="1x3x512x768")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", help="write the rows here")
    a = ap.parse_args()
    files = dict(f.split("=", 1) for f in a.file)
    configs = [c for c in a.configs.split(",") if c]
    configs += [f for f in files if f not in configs]
    base_name = configs[0]  # ratios are to the first configuration (eager fp32 torch by default)
    shape = tuple(int(v) for v in a.shape.split("x"))
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    runners = {c: runner_for_config(c, None, a.model, files)[0] for c in configs}
    for run in runners.values():
        for _ in range(a.warmup):
            run(x)
    times: dict[str, list[float]] = {c: [] for c in configs}
    for r in range(a.rounds):
        for c in configs:
            t = time.perf_counter()
            runners[c](x)
            times[c].append((time.perf_counter() - t) * 1e3)
        print(f"round {r + 1}/{a.rounds}: " + ", ".join(f"{c} {times[c][-1]:.0f} ms" for c in configs), flush=True)
    cpu = cpu_name()
    base = np.array(times[base_name])
    rows = []
    for c in configs:
        t = np.array(times[c])
        ratio = base / t
        rows.append(
            {
                "config": c,
                "shape": list(shape),
                "median_ms": float(np.median(t)),
                "speedup_vs": base_name,
                "speedup": float(np.median(ratio)),
                "speedup_iqr": [float(np.percentile(ratio, 25)), float(np.percentile(ratio, 75))],
                "rounds": a.rounds,
                "times_ms": [round(v, 1) for v in t],
                "cpu": cpu,
            }
        )
    print(f"on {cpu}, {a.rounds} rounds at {a.shape}:")
    for row in rows:
        lo, hi = row["speedup_iqr"]
        print(
            f"  {row['config']:<16} median {row['median_ms']:7.1f} ms   "
            f"{row['speedup']:5.2f}x {base_name} (round ratios, IQR {lo:.2f}-{hi:.2f})"
        )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
