"""GPU inference: eager fp32 PyTorch against fp16/bf16 autocast with channels_last, each eager and
under ``torch.compile``, through the same ``Denoiser`` that ``n2n denoise --device cuda`` uses.

    python benchmarks/gpu_infer.py --images FOLDER --out gpu_infer.json   # on a GPU (scripts/device_train.sh)

Speed: a 768x512 image, whole (no tiles), milliseconds per image with the host copies included
(median of ``--repeats`` after warm-up). Quality: PSNR of each path on the same noisy crops (Gaussian
sigma 25, seed 0) of the images in ``--images``; ``delta_db`` is against eager fp32 on the same inputs,
so any images serve for it (the device run uses images of the packed training set: held-out quality
figures come from ``n2n eval`` here)."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from noise2noise.config import NoiseConfig
from noise2noise.data.folders import find_images, load_rgb
from noise2noise.denoiser import Denoiser
from noise2noise.evaluation.metrics import psnr
from noise2noise.images import to_float
from noise2noise.noise.synthetic import add_noise

ap = argparse.ArgumentParser()
ap.add_argument("--images", required=True)
ap.add_argument("--count", type=int, default=16)
ap.add_argument("--model", default="n2n-gaussian")
ap.add_argument("--device", default="cuda")
ap.add_argument("--repeats", type=int, default=30)
ap.add_argument(
    "--configs", nargs="+", default=["fp32", "fp16", "bf16", "fp32+compile", "fp16+compile", "bf16+compile"]
)
ap.add_argument("--out", default="gpu_infer.json")
a = ap.parse_args()

pairs = []
for i, p in enumerate(find_images([Path(a.images)])[: a.count]):
    clean = to_float(load_rgb(p))[:256, :256]  # one shape: one compilation
    if clean.shape[:2] == (256, 256):
        noisy, _ = add_noise(clean, NoiseConfig.parse("gaussian:25"), np.random.default_rng(i))
        pairs.append((noisy.transpose(2, 0, 1)[None].astype(np.float32), clean))
big = np.random.default_rng(0).random((1, 3, 512, 768), dtype=np.float32)
rows = []
for config in a.configs:
    precision, compiled = config.split("+")[0], config.endswith("+compile")
    den = Denoiser.from_weights(model=a.model, device=a.device, precision=precision, tile=0, compile=compiled)
    t0 = time.perf_counter()
    den.run_array(big)  # the first call compiles
    first = time.perf_counter() - t0
    for _ in range(3):
        den.run_array(big)
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        den.run_array(big)
        times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    score = float(np.mean([psnr(np.clip(den.run_array(n)[0].transpose(1, 2, 0), 0, 1), c, 1.0) for n, c in pairs]))
    rows.append(
        {
            "config": config,
            "ms": round(ms, 2),
            "mpix_s": round(0.393216 / ms * 1000, 1),
            "first_s": round(first, 1),
            "psnr": round(score, 4),
        }
    )
    print(json.dumps(rows[-1]), flush=True)
base = next(r for r in rows if r["config"] == "fp32")
for r in rows:
    r["speedup"] = round(base["ms"] / r["ms"], 2)
    r["delta_db"] = round(r["psnr"] - base["psnr"], 4)
gpu = torch.cuda.get_device_name() if a.device.startswith("cuda") else a.device
report = {
    "device": gpu,
    "torch": torch.__version__,
    "model": a.model,
    "images": len(pairs),
    "shape": [512, 768],
    "rows": rows,
}
Path(a.out).write_text(json.dumps(report, indent=2) + "\n")
print(json.dumps(report, indent=2))
