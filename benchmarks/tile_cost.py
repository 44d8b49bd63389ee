"""Tiling: extra compute against seams. For tile sizes and overlaps, the largest difference from
whole-image inference (8-bit output, grey levels) and the compute it costs (padded tile pixels over
padded image pixels: what the network actually processes), on noisy Kodak images enlarged
(``--scale``, default 3: 2304x1536).

    python benchmarks/tile_cost.py [--images 6] [--backend openvino --precision fp32]

Prints a table and the cheapest setting within 1 grey level of whole-image inference."""

import argparse
import json

import cv2
import numpy as np

from noise2noise.denoiser import Denoiser
from noise2noise.inference import pad_amounts, tile_grid

ap = argparse.ArgumentParser()
ap.add_argument("--images", type=int, default=6)
ap.add_argument("--scale", type=float, default=3)
ap.add_argument("--backend", default="torch")
ap.add_argument("--precision", default="fp32")
ap.add_argument("--tiles", default="512,1024,1536")
ap.add_argument("--overlaps", default="64,128,160,192,256")
a = ap.parse_args()


def compute_ratio(h: int, w: int, tile: int, overlap: int) -> float:
    ys, th, xs, tw = tile_grid(h, w, tile, overlap)
    ph, pw = pad_amounts(h, w)
    return len(ys) * th * len(xs) * tw / ((h + ph) * (w + pw))


imgs = []
for i in range(a.images):
    clean = cv2.imread(f"../shared/data/test/Kodak24/kodim{4 * i + 1:02d}.png")  # every 4th: varied scenes
    big = cv2.resize(clean, None, fx=a.scale, fy=a.scale, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    imgs.append(np.clip(big + np.random.default_rng(i).normal(0, 25, big.shape), 0, 255).astype(np.uint8))
whole = [Denoiser.from_weights(tile=0, backend=a.backend, precision=a.precision)(im).astype(int) for im in imgs]
rows = []
for tile in map(int, a.tiles.split(",")):
    for overlap in map(int, a.overlaps.split(",")):
        if overlap >= tile:
            continue
        den = Denoiser.from_weights(tile=tile, overlap=overlap, backend=a.backend, precision=a.precision)
        h, w = imgs[0].shape[:2]
        if den.tiles_for(h, w) < 2:
            continue
        diff = max(int(np.abs(den(im).astype(int) - w).max()) for im, w in zip(imgs, whole))
        rows.append(
            {
                "tile": tile,
                "overlap": overlap,
                "tiles": den.tiles_for(h, w),
                "max_diff": diff,
                "compute": round(compute_ratio(h, w, tile, overlap), 3),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
ok = [r for r in rows if r["max_diff"] <= 1]
best = min(ok, key=lambda r: (r["compute"], -r["tile"])) if ok else None
print(f"image {imgs[0].shape[1]}x{imgs[0].shape[0]}; cheapest within 1 grey level: {json.dumps(best)}")
