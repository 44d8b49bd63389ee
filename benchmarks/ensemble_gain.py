"""What the geometric self-ensemble (``--ensemble N``, ``src/noise2noise/ensemble.py``) buys: PSNR
and SSIM of shipped models with 1, 2, 4 and 8 views, on the same noisy images (``n2n eval``
semantics, seed 0), with the seconds per image on this CPU.

    python benchmarks/ensemble_gain.py --models n2n-gaussian n2c-gaussian --backend openvino \
        --precision fp32 --json docs/results/ensemble-gain.json
    python benchmarks/ensemble_gain.py --models n2n-photo --data ../shared/data/pairs --sets PolyU \
        --noise real --views 1 8 --backend openvino --precision fp32 --json docs/results/ensemble-gain-polyu.json

Prints a Markdown table; the JSON holds every summary and the CPU."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from noise2noise.denoiser import Denoiser
from noise2noise.deploy.bench import cpu_name
from noise2noise.evaluation.core import MethodSpec, evaluate, model_method

ap = argparse.ArgumentParser()
ap.add_argument("--models", nargs="+", default=["n2n-gaussian"])
ap.add_argument("--data", default="../shared/data/test")
ap.add_argument("--sets", nargs="+", default=["Kodak24", "CBSD68"])
ap.add_argument("--noise", default="gaussian:25", help="'real' for folders of real noisy/clean pairs")
ap.add_argument("--protocol", default="float")
ap.add_argument("--views", nargs="+", type=int, default=[1, 2, 4, 8])
ap.add_argument("--backend", default="auto")
ap.add_argument("--precision", default="auto")
ap.add_argument("--json", default="docs/results/ensemble-gain.json")
a = ap.parse_args()

specs = []
for m in a.models:
    base = Denoiser.from_weights(model=m, tile=0, backend=a.backend, precision=a.precision)
    tag = f"{base.meta['backend']} {base.meta['precision']}"
    for n in a.views:
        specs.append(MethodSpec(f"{m} [{tag}] x{n}", model_method(dataclasses.replace(base, ensemble=n))))
rows = []
for s in a.sets:
    noise = None if a.noise == "real" else a.noise
    res, _ = evaluate(str(Path(a.data) / s), specs, noise, a.protocol, 0, progress=False)
    for r, sp in zip(res, specs):
        rows.append({"set": s, "method": sp.name, **r.summary()})
        print(s, sp.name, round(r.summary()["psnr"], 3), flush=True)
protocol = "real-8bit" if a.noise == "real" else a.protocol  # real pairs: the files as they are
out = {"cpu": cpu_name(), "noise": a.noise, "protocol": protocol, "rows": rows}
Path(a.json).parent.mkdir(parents=True, exist_ok=True)
Path(a.json).write_text(json.dumps(out, indent=2) + "\n")
print(f"\n{a.noise}, {protocol} protocol; seconds per image on {out['cpu']}")
print("| model | set | " + " | ".join(f"x{n} PSNR / SSIM" for n in a.views) + " | gain | s/img |")
print("|---|---|" + "---:|" * (len(a.views) + 2))
for m in a.models:
    for s in a.sets:
        got = [r for r in rows if r["set"] == s and r["method"].startswith(f"{m} [")]
        cells = " | ".join(f"{r['psnr']:.3f} / {r['ssim']:.4f}" for r in got)
        secs = " / ".join(f"{r['seconds_per_image']:.2f}" for r in got)
        print(f"| {m} | {s} | {cells} | {got[-1]['psnr'] - got[0]['psnr']:+.3f} | {secs} |")
