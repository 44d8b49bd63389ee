"""Test-set PSNR against training time: every weight snapshot of one or more runs (``n2n train
--keep-every N`` keeps ``snapshots/step-*.safetensors``; the run's ``latest.safetensors`` is the
last point) scored with ``n2n eval`` semantics, then plotted against the training seconds recorded
in each file's header.

    python benchmarks/snapshot_curve.py runs/n2n-gaussian runs/n2c-gaussian --set ../shared/data/test/Kodak24 \
        --noise gaussian:25 --out docs/results/training-snapshots-kodak24-s25.json --plot docs/figures/kodak24_vs_time.png

Snapshots taken before the learning-rate ramp-down are scored as they are (not annealed), so they
sit below what a run of that length, ramped down, would reach.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from noise2noise.denoiser import Denoiser
from noise2noise.evaluation.core import MethodSpec, evaluate, model_method
from noise2noise.weights import load_weights

ap = argparse.ArgumentParser()
ap.add_argument("runs", nargs="+")
ap.add_argument("--set", default="../shared/data/test/Kodak24")
ap.add_argument("--noise", default="gaussian:25")
ap.add_argument("--protocols", nargs="+", default=["float", "uint8"])
ap.add_argument("--out", required=True)
ap.add_argument("--plot")
a = ap.parse_args()

rows = []
for run in map(Path, a.runs):
    files = sorted((run / "snapshots").glob("step-*.safetensors")) + [run / "latest.safetensors"]
    seen = set()
    for f in files:
        tr = load_weights(f).meta["training"]
        if tr["step"] in seen:
            continue
        seen.add(tr["step"])
        spec = MethodSpec(f.stem, model_method(Denoiser.from_weights(str(f), tile=0, backend="auto", precision="auto")))
        row = {
            "run": run.name,
            "target": tr["target"],
            "step": tr["step"],
            "iterations": tr["iterations"],
            "train_seconds": tr["seconds"],
            "file": f.name,
        }
        for proto in a.protocols:
            res, _ = evaluate(a.set, [spec], a.noise, proto, 0, progress=False)
            row[proto] = res[0].summary()["psnr"]
        rows.append(row)
        print(json.dumps(row), flush=True)
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
Path(a.out).write_text(json.dumps({"set": a.set, "noise": a.noise, "rows": rows}, indent=2) + "\n")

if a.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4))
    for run in dict.fromkeys(r["run"] for r in rows):
        rr = [r for r in rows if r["run"] == run]
        for proto, ls in zip(a.protocols, ("-", "--")):
            ax.plot(
                [r["train_seconds"] / 3600 for r in rr],
                [r[proto] for r in rr],
                ls,
                marker="o",
                ms=3,
                label=f"{run} ({rr[0]['target']} targets), {proto}",
            )
    ax.set(xlabel="training hours (1 CPU thread)", ylabel="PSNR (dB)", title=f"{Path(a.set).name}, {a.noise}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    Path(a.plot).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.plot, dpi=90)
    print(a.plot)
