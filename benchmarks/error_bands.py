"""Where the error of a denoiser lies: in the coarse band (a Gaussian blur of 3 px) or the fine band
(what the blur takes out), against the same split of the noise itself.

    python benchmarks/error_bands.py --set ../shared/data/pairs/PolyU [--methods auto wavelet-visu] [--limit N]
    python benchmarks/error_bands.py --set ../shared/data/test/McMaster --noise phone:32

Each method runs as ``n2n eval`` runs it (the same 8-bit noisy inputs and seeds; ``auto`` and the
shipped models by their default path, the baselines with the noise level estimated per image). For
each image, the standard deviation (grey levels of 255) of the noise ``noisy - clean`` and of each
method's error ``output - clean``, whole and split into the two bands; one JSON line per image, then
the mean over the images and over those where the first method is behind the second in PSNR.
"""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np

from noise2noise.config import EVAL_METHODS, NoiseConfig
from noise2noise.data.evalsets import open_evalset
from noise2noise.denoiser import Denoiser
from noise2noise.evaluation.core import build_methods, noisy_inputs
from noise2noise.evaluation.metrics import psnr

BLUR = 3.0  # sigma (px) of the blur that splits an error into its coarse and fine bands


def bands(e: np.ndarray) -> dict:
    """Standard deviation of ``e`` (HWC, [0, 1] units) in grey levels: whole, coarse and fine."""
    coarse = cv2.GaussianBlur(e.astype(np.float32), (0, 0), BLUR)
    return {"all": float(e.std() * 255), "coarse": float(coarse.std() * 255), "fine": float((e - coarse).std() * 255)}


def method(name: str, noise: str | None):
    """A baseline or a shipped model as ``n2n eval`` builds it."""
    if name in EVAL_METHODS and name != "model":
        return build_methods([name], noise, lambda: None, "")[0].fn
    return build_methods(["model"], noise, lambda: Denoiser.from_weights(model=name, tile=0), name)[0].fn


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", required=True)
    ap.add_argument("--noise", help="for a folder of clean images (as n2n eval --noise)")
    ap.add_argument("--methods", nargs="+", default=["auto", "wavelet-visu"])
    ap.add_argument("--limit", type=int)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    ncfg = NoiseConfig.parse(a.noise) if a.noise else None
    runs = {m: method(m, a.noise) for m in a.methods}
    rows = []
    for i, (name, clean, real) in enumerate(open_evalset(a.set, real=ncfg is None)):
        if a.limit is not None and i >= a.limit:
            break
        x = clean.astype(np.float32) / 255.0
        y = noisy_inputs(clean, real, ncfg, "uint8", i, a.seed)
        row = {"name": name, "noise": bands(y - x)}
        for m, fn in runs.items():
            out = fn(y)
            out = out[0] if isinstance(out, tuple) else out
            o = out.astype(np.float32) / 255.0
            row[m] = {"psnr": float(psnr(out.astype(np.float64), clean.astype(np.float64))), **bands(o - x)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    first, second = a.methods[0], a.methods[-1]
    behind = [r for r in rows if r[first]["psnr"] < r[second]["psnr"]]
    for label, group in (("all", rows), (f"{first} behind {second}", behind)):
        if not group:
            continue
        mean = {k: {b: float(np.mean([r[k][b] for r in group])) for b in group[0][k]} for k in ("noise", *runs)}
        print(json.dumps({"images": label, "count": len(group), "mean": mean}))


if __name__ == "__main__":
    main()
