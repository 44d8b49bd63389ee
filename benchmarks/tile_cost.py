"""Tiling: extra compute against seams. For tile sizes and overlaps, the largest difference from
whole-image inference (8-bit output, grey levels) and the compute it costs (padded tile pixels over
padded image pixels: what the network actually processes), on noisy Kodak images enlarged 2x.

    python benchmarks/tile_cost.py [--images 3] [--backend torch --precision fp32]

Prints a table and the cheapest setting within 1 grey level of whole-image inference."""

import argparse
import json

import cv2
import numpy as np

from noise2noise.denoiser import Denoiser
from noise2noise.inference import MULTIPLE, tile_starts

ap = argparse.ArgumentParser()
ap.add_argument("--images", type=int, default=3)
ap.add_argument("--backend", default="torch")
ap.add_argument("--precision", default="fp32")
ap.add_argument("--tiles", default="256,384,512,768")
ap.add_argument("--overlaps", default="16,32,48,64,96")
a = ap.parse_args()


def padded(n: int) -> int:
    return n + (-n) % MULTIPLE


def compute_ratio(h: int, w: int, tile: int, overlap: int) -> float:
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    area = sum(padded(min(tile, h - y)) * padded(min(tile, w - x)) for y in ys for x in xs)
    return area / (padded(h) * padded(w))


imgs = []
for i in range(a.images):
    clean = cv2.imread(f"../shared/data/test/Kodak24/kodim{i + 1:02d}.png")
    big = cv2.resize(clean, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    imgs.append(np.clip(big + np.random.default_rng(i).normal(0, 25, big.shape), 0, 255).astype(np.uint8))
whole = [Denoiser.from_weights(tile=0, backend=a.backend, precision=a.precision)(im).astype(int) for im in imgs]
rows = []
for tile in map(int, a.tiles.split(",")):
    for overlap in map(int, a.overlaps.split(",")):
        if overlap >= tile:
            continue
        den = Denoiser.from_weights(tile=tile, overlap=overlap, backend=a.backend, precision=a.precision)
        diff = max(int(np.abs(den(im).astype(int) - w).max()) for im, w in zip(imgs, whole))
        h, w = imgs[0].shape[:2]
        rows.append(
            {
                "tile": tile,
                "overlap": overlap,
                "max_diff": diff,
                "compute": round(compute_ratio(h, w, tile, overlap), 3),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
ok = [r for r in rows if r["max_diff"] <= 1]
best = min(ok, key=lambda r: (r["compute"], -r["tile"])) if ok else None
print(f"image {imgs[0].shape[1]}x{imgs[0].shape[0]}; cheapest within 1 grey level: {json.dumps(best)}")
