"""Does `n2n denoise --streams 2` ever hang? Repeats, in one process, what hung once in CI: torch
training (`--adapt`) followed by a folder denoised in two OpenVINO streams, with a watchdog.

    python benchmarks/streams_stress.py --rounds 30 [--timeout 120] [--images 12]

Each round: a few adaptation steps of the shipped default model on a folder of noisy images (torch,
all cores), then the folder in two streams with the default model's float path; the outputs must
equal the one-stream ones up to one grey level. A round that takes longer than `--timeout` seconds
dumps every thread's stack to stderr and exits 1 (faulthandler). Prints one JSON line (rounds, seconds per round)."""

import argparse
import faulthandler
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from noise2noise.adapt import adapt
from noise2noise.denoiser import Denoiser
from noise2noise.files import denoise_files, plan
from noise2noise.weights import load_checkpoint, resolve

ap = argparse.ArgumentParser()
ap.add_argument("--rounds", type=int, default=30)
ap.add_argument("--timeout", type=float, default=120.0)
ap.add_argument("--images", type=int, default=12)
ap.add_argument("--size", type=int, default=256)
a = ap.parse_args()
rng = np.random.default_rng(0)
weights = resolve()
with tempfile.TemporaryDirectory() as d:
    src = Path(d) / "in"
    src.mkdir()
    y, x = np.mgrid[0 : a.size, 0 : a.size]
    base = np.stack([128 + 60 * np.sin(x / 9.0), 128 + 60 * np.cos(y / 7.0), (x + y) % 256], -1)
    for i in range(a.images):
        cv2.imwrite(str(src / f"{i:02d}.png"), np.clip(base + rng.normal(0, 25, base.shape), 0, 255).astype(np.uint8))
    one = Denoiser.from_weights(weights, backend="openvino", precision="fp32")
    denoise_files(plan([str(src)], Path(d) / "ref"), one, progress=False)
    ref = {p.name: cv2.imread(str(p)).astype(int) for p in (Path(d) / "ref").iterdir()}
    two = Denoiser.from_weights(weights, backend="openvino", precision="fp32", streams=2)
    ckpt = load_checkpoint(str(weights))
    times = []
    for r in range(a.rounds):
        faulthandler.dump_traceback_later(a.timeout, exit=True)  # exits 1 with every thread's stack
        t = time.perf_counter()
        adapt(ckpt, sorted(src.iterdir()), steps=3, seed=r, progress=False, force=True)
        out = Path(d) / f"out{r}"
        denoise_files(plan([str(src)], out), two, progress=False)
        faulthandler.cancel_dump_traceback_later()
        times.append(time.perf_counter() - t)
        worst = max(int(np.abs(cv2.imread(str(p)).astype(int) - ref[p.name]).max()) for p in out.iterdir())
        if worst > 1 or len(list(out.iterdir())) != a.images:
            print(f"round {r}: outputs differ from one stream by {worst} grey levels", file=sys.stderr)
            sys.exit(2)
print(json.dumps({"rounds": a.rounds, "streams": two.streams, "seconds_per_round": round(float(np.mean(times)), 2)}))
