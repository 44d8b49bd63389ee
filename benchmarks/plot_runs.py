"""Validation PSNR against training time for several runs on one plot (N2N vs N2C at equal budget).
Each run is labelled by its target, noise and loss, plus the options in which the runs differ
(``clip_grad=0.1``, ``seed=1``, ...), so that runs of one target stay apart.

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
runs = [Path(r) for r in a.runs]
rows_of_legend = (len(runs) + 1) // 2  # the legend sits below both plots, two runs a row
fig, ax = plt.subplots(1, 2, figsize=(10, 3.8 + 0.3 * rows_of_legend))
# Options added after some runs were logged, with the behaviour those runs had (not today's defaults).
BEFORE = {"clip_grad": 0.0, "ne2ne_swap": False}
cfgs = [{**BEFORE, **json.loads((run / "config.json").read_text())} for run in runs]
SELF_ONLY = ("ne2ne_swap", "gamma", "pd")  # options that only --target self reads
LABELLED = ("target", "noise", "loss", "out", "resumes", "iterations", "val_every", "keep_every", "ckpt_every")
differ = [k for k in cfgs[0] if k not in LABELLED and len({json.dumps(c.get(k)) for c in cfgs}) > 1]
for run, cfg in zip(runs, cfgs):
    rows = [r for r in csv.DictReader(open(run / "log.csv")) if r["val_psnr"] not in ("", "nan")]
    own = [k for k in differ if cfg["target"] == "self" or k not in SELF_ONLY]
    label = ", ".join([f"{cfg['target']} targets ({cfg['noise']}, {cfg['loss']})"] + [f"{k}={cfg[k]}" for k in own])
    ax[0].plot([int(r["step"]) for r in rows], [float(r["val_psnr"]) for r in rows], marker="o", ms=3, label=label)
    ax[1].plot(
        [float(r["elapsed_s"]) / 60 for r in rows], [float(r["val_psnr"]) for r in rows], marker="o", ms=3, label=label
    )
fig.suptitle(a.title, fontsize=10)
ax[0].set(xlabel="iteration", ylabel="PSNR (dB)", title="against iterations")
ax[1].set(xlabel="wall-clock minutes (1 thread each, machine shared)", ylabel="PSNR (dB)", title="against time")
for x in ax:
    x.grid(alpha=0.3)
fig.legend(*ax[0].get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=8, frameon=False)
fig.tight_layout(rect=(0, 0.06 * rows_of_legend, 1, 1))
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
fig.savefig(a.out, dpi=90)
print(a.out)
