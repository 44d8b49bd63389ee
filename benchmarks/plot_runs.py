"""Validation PSNR against training time for several runs on one plot (N2N vs N2C at equal budget).

python benchmarks/plot_runs.py runs/n2n-gaussian runs/n2c-gaussian -o docs/figures/n2n_vs_n2c_gaussian.png
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("runs", nargs="+")
ap.add_argument("-o", "--out", required=True)
ap.add_argument("--title", default="validation PSNR (held-out training images)")
a = ap.parse_args()
fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
for run in map(Path, a.runs):
    cfg = json.loads((run / "config.json").read_text())
    rows = [r for r in csv.DictReader(open(run / "log.csv")) if r["val_psnr"] not in ("", "nan")]
    label = f"{cfg['target']} targets ({cfg['noise']}, {cfg['loss']})"
    ax[0].plot([int(r["step"]) for r in rows], [float(r["val_psnr"]) for r in rows], marker="o", ms=3, label=label)
    ax[1].plot(
        [float(r["elapsed_s"]) / 60 for r in rows], [float(r["val_psnr"]) for r in rows], marker="o", ms=3, label=label
    )
ax[0].set(xlabel="iteration", ylabel="PSNR (dB)", title=a.title)
ax[1].set(xlabel="wall-clock minutes (1 thread each, machine shared)", ylabel="PSNR (dB)", title="against time")
for x in ax:
    x.grid(alpha=0.3)
    x.legend(fontsize=8)
fig.tight_layout()
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
fig.savefig(a.out, dpi=90)
print(a.out)
