"""How correlated is the noise a model removes? The number `n2n denoise --adapt-pd auto` decides by.

    python benchmarks/noise_correlation.py --set ../shared/data/test/Kodak24 --noise gaussian:25 [--model n2n-photo]
    python benchmarks/noise_correlation.py --set ../shared/data/pairs/PolyU        # real noisy/clean pairs

For each of the first `--count` images (a `--crop` square from the top left): the correlation of
adjacent pixels (horizontal and vertical averaged) of the model's residual `noisy - model(noisy)`
(`selfsup.residual_correlation`, what `--adapt-pd auto` measures on held-out crops) and, for
comparison, of the true noise `noisy - clean`. A clean set gets 8-bit noisy images with `--noise`
(seeded). Prints one JSON line: mean, min and max over the images of both."""

import argparse
import json

import numpy as np
import torch

from noise2noise.config import NoiseConfig
from noise2noise.data.evalsets import open_evalset
from noise2noise.images import to_float, to_uint8
from noise2noise.noise.synthetic import add_noise
from noise2noise.training.selfsup import residual_correlation
from noise2noise.weights import load_weights, resolve

ap = argparse.ArgumentParser()
ap.add_argument("--set", required=True)
ap.add_argument("--noise", help="for a clean set: the noise to add (8-bit after it)")
ap.add_argument("--model")
ap.add_argument("--count", type=int, default=12)
ap.add_argument("--crop", type=int, default=256)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
net = load_weights(resolve(model=a.model)).model.float().eval()
rng = np.random.default_rng(a.seed)
es = open_evalset(a.set, real=a.noise is None)
residual, true = [], []
for i, (_name, clean, noisy) in enumerate(es):
    if i == a.count:
        break
    clean = to_float(clean)[: a.crop, : a.crop]
    if a.noise:
        noisy = to_float(to_uint8(add_noise(clean, NoiseConfig.parse(a.noise), rng)[0]))
    else:
        noisy = to_float(noisy)[: a.crop, : a.crop]
    y = torch.from_numpy(np.ascontiguousarray(noisy.transpose(2, 0, 1)))[None]
    residual.append(residual_correlation(net, y))
    true.append(
        residual_correlation(
            torch.zeros_like, y - torch.from_numpy(np.ascontiguousarray(clean.transpose(2, 0, 1)))[None]
        )
    )


def stats(v: list[float]) -> dict:
    return {"mean": round(float(np.mean(v)), 3), "min": round(min(v), 3), "max": round(max(v), 3)}


row = {"set": a.set, "noise": a.noise or "real", "model": a.model or "default", "images": len(residual)}
print(json.dumps({**row, "residual": stats(residual), "true_noise": stats(true)}))
