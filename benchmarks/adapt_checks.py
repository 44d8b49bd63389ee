"""Variants of `--adapt`'s held-out check, scored for a base and an adapted model on the same crops.

    n2n denoise NOISY_DIR -o /tmp/o --adapt 500 --adapt-lr 3e-4 --adapt-force --save-adapted adapted.safetensors
    python benchmarks/adapt_checks.py NOISY_DIR adapted.safetensors [--model n2n-gaussian]

Two random 128x128 crops from each of the first 16 images (seed 5). Checks: the masked score
(`selfsup.masked_score`, one hidden pixel per 4x4 cell) after pixel-shuffle stride 2 (what `--adapt`
uses with stride 2) and at full resolution; and a k x k hole (k = 3, 5, 7) around one scored pixel
per cell, filled with the mean of the ring just outside it, scored at its centre; and re-noised
pseudo-pairs: one model's output as the pseudo-clean image, its residual shifted by (37, 53) pixels
(same correlation, away from its signal) added back, scored by the error to that pseudo-clean image
(`renoise_from_base`, `renoise_from_adapted`). Prints one JSON line:
each check's score for both models and the relative change (negative: the check prefers the adapted
model). Compare with the PSNR change `benchmarks/adapt_gain.py` measures with clean images."""

import argparse
import glob
import json

import numpy as np
import torch
import torch.nn.functional as F

from noise2noise.data.folders import load_rgb
from noise2noise.images import to_float
from noise2noise.training.selfsup import masked_score, pixel_shuffle_down
from noise2noise.weights import load_weights, resolve


def batched(net: torch.nn.Module, y: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([net(y[i : i + 8]).float() for i in range(0, len(y), 8)])


def masked(net: torch.nn.Module, y: torch.Tensor) -> float:
    g = torch.Generator().manual_seed(1)
    return sum(masked_score(net, y[i : i + 8], g) for i in range(0, len(y), 8)) / ((len(y) + 7) // 8)


def hole_score(net: torch.nn.Module, y: torch.Tensor, k: int, spacing: int, seed: int = 3) -> float:
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = y.shape
    oy, ox = torch.randint(spacing, (2,), generator=g).tolist()
    centre = torch.zeros(h, w, dtype=torch.bool)
    centre[oy::spacing, ox::spacing] = True
    ring = torch.ones(1, 1, k + 2, k + 2)
    ring[..., 1:-1, 1:-1] = 0
    padded = F.pad(y, ((k + 2) // 2,) * 4, mode="reflect").reshape(n * c, 1, h + k + 1, w + k + 1)
    around = F.conv2d(padded, ring / ring.sum()).reshape(n, c, h, w)
    cy, cx = torch.nonzero(centre, as_tuple=True)
    filled = y.clone()
    for dy in range(-(k // 2), k // 2 + 1):
        for dx in range(-(k // 2), k // 2 + 1):
            filled[..., (cy + dy).clamp(0, h - 1), (cx + dx).clamp(0, w - 1)] = around[..., cy, cx]
    return float(((batched(net, filled) - y)[..., centre] ** 2).mean())


ap = argparse.ArgumentParser()
ap.add_argument("noisy", help="folder of the noisy images adapted on")
ap.add_argument("adapted", help="weights saved by --save-adapted")
ap.add_argument("--model", help="the base model (default: the shipped default)")
a = ap.parse_args()
torch.set_num_threads(1)
models = {"base": load_weights(resolve(model=a.model)), "adapted": load_weights(a.adapted)}
models = {k: v.model.float().eval() for k, v in models.items()}
rng = np.random.default_rng(5)
crops = []
for f in sorted(glob.glob(a.noisy + "/*"))[:16]:
    im = to_float(load_rgb(f))
    h, w = im.shape[:2]
    for _ in range(2):
        y0, x0 = rng.integers(0, h - 128), rng.integers(0, w - 128)
        crops.append(im[y0 : y0 + 128, x0 : x0 + 128])
y = torch.from_numpy(np.stack(crops).transpose(0, 3, 1, 2).copy())


def renoise(net: torch.nn.Module, source: torch.nn.Module) -> float:
    clean = batched(source, y)
    noisy = clean + torch.roll(y - clean, (37, 53), (2, 3))
    return float(((batched(net, noisy) - clean) ** 2).mean())


checks = {
    "masked_pd2": lambda net: masked(net, pixel_shuffle_down(y, 2)),
    "masked_full": lambda net: masked(net, y),
    **{f"hole{k}": (lambda net, k=k, s=s: hole_score(net, y, k, s)) for k, s in ((3, 8), (5, 8), (7, 16))},
    "renoise_from_base": lambda net: renoise(net, models["base"]),
    "renoise_from_adapted": lambda net: renoise(net, models["adapted"]),
}
row = {}
for name, check in checks.items():
    base, adapted = check(models["base"]), check(models["adapted"])
    row[name] = {"base": round(base, 7), "adapted": round(adapted, 7), "change": round(adapted / base - 1, 4)}
print(json.dumps({"noisy": a.noisy, "adapted": a.adapted, **row}))
