"""Quality table of shipped models: Kodak24, CBSD68 and McMaster at sigma 15, 25, 50, in the
``float`` and ``uint8`` protocols (``n2n eval`` semantics, seed 0).

    python benchmarks/quality.py --models n2n-gaussian n2c-gaussian --out docs/results/models-quality.json

Prints a Markdown table; the JSON holds every summary."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from noise2noise.denoiser import Denoiser
from noise2noise.evaluation.core import MethodSpec, evaluate, model_method

ap = argparse.ArgumentParser()
ap.add_argument("--models", nargs="+", default=["n2n-gaussian"])
ap.add_argument("--weights", nargs="*", default=[], help="extra checkpoint files")
ap.add_argument("--data", default="../shared/data/test")
ap.add_argument("--sets", nargs="+", default=["Kodak24", "CBSD68", "McMaster"])
ap.add_argument("--sigmas", nargs="+", type=int, default=[15, 25, 50])
ap.add_argument("--protocols", nargs="+", default=["float", "uint8"])
ap.add_argument("--backend", default="auto")
ap.add_argument(
    "--precision", default="auto", help="fp32 for figures that do not depend on the CPU (auto: bf16 where native)"
)
ap.add_argument("--out", default="docs/results/models-quality.json")
a = ap.parse_args()

specs = [
    MethodSpec(m, model_method(Denoiser.from_weights(model=m, tile=0, backend=a.backend, precision=a.precision)))
    for m in a.models
]
specs += [
    MethodSpec(Path(w).stem, model_method(Denoiser.from_weights(w, tile=0, backend=a.backend, precision=a.precision)))
    for w in a.weights
]
rows = []
for s in a.sets:
    for sigma in a.sigmas:
        for proto in a.protocols:
            res, cfg = evaluate(str(Path(a.data) / s), specs, f"gaussian:{sigma}", proto, 0, progress=False)
            for r in res:
                rows.append({"set": s, "sigma": sigma, "protocol": proto, "model": r.method, **r.summary()})
            print(s, sigma, proto, [(r.method, round(r.summary()["psnr"], 3)) for r in res], flush=True)
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
Path(a.out).write_text(json.dumps(rows, indent=2) + "\n")
print("| model | set | sigma | float PSNR / SSIM | uint8 PSNR / SSIM | noisy (8-bit) PSNR |")
print("|---|---|---:|---:|---:|---:|")
for m in [sp.name for sp in specs]:
    for s in a.sets:
        for sigma in a.sigmas:
            f = next(
                r
                for r in rows
                if r["model"] == m and r["set"] == s and r["sigma"] == sigma and r["protocol"] == "float"
            )
            u = next(
                r
                for r in rows
                if r["model"] == m and r["set"] == s and r["sigma"] == sigma and r["protocol"] == "uint8"
            )
            print(
                f"| {m} | {s} | {sigma} | {f['psnr']:.2f} / {f['ssim']:.4f} | {u['psnr']:.2f} / {u['ssim']:.4f} | {f['noisy_psnr']:.2f} |"
            )
