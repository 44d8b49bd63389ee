"""Score weights files at several noise levels on a run's own held-out validation images (the same
``Validator`` as ``n2n train --val-noise A,B,C``), and optionally show one image's outputs side by side
(``--figure``, which also prints each convolution's largest activation on that image for both).

python benchmarks/val_levels.py src/noise2noise/weights/unet-gaussian-n2n.safetensors \
  runs/cpu7/n2n-gaussian/snapshots/*.safetensors runs/cpu7/n2n-gaussian/latest.safetensors \
  --noise gaussian:5,gaussian:25,gaussian:50 --json docs/results/training-val-levels-cpu7.json \
  --figure docs/figures/blotches_sigma50_cpu7.png --image ../shared/data/test/Kodak24/kodim01.png --sigma 50
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from noise2noise.config import TrainConfig, parse_noise_list
from noise2noise.data.folders import load_rgb
from noise2noise.images import to_float
from noise2noise.training.loop import Validator, split_validation
from noise2noise.weights import load_weights

ap = argparse.ArgumentParser()
ap.add_argument("weights", nargs="+")
ap.add_argument("--noise", default="gaussian:5,gaussian:25,gaussian:50")
ap.add_argument("--data", nargs="+", default=["../shared/data/train"], help="training folders (their held-out split)")
ap.add_argument("--val-count", type=int, default=8)
ap.add_argument("--saturation", type=float, default=1.0, help="score colour-boosted copies (this factor) of the crops")
ap.add_argument("--json", help="write the table here")
ap.add_argument("--figure", help="PNG: the first and last weights' outputs on --image at --sigma, side by side")
ap.add_argument("--image", default="../shared/data/test/Kodak24/kodim01.png")
ap.add_argument("--sigma", type=float, default=50.0)
a = ap.parse_args()

_, val = split_validation(TrainConfig(data=a.data, val_count=a.val_count))
validator = Validator(val, parse_noise_list(a.noise), saturation=a.saturation)
rows = []
for w in a.weights:
    mean = validator(load_weights(w).model)
    rows.append({"weights": w, "mean": round(mean, 3), **{k: round(v, 3) for k, v in validator.levels.items()}})
    print(f"{w}: mean {mean:.3f}  " + "  ".join(f"{k} {v:.3f}" for k, v in validator.levels.items()))
if a.json:
    Path(a.json).write_text(
        json.dumps(
            {"noise": a.noise, "saturation": a.saturation, "validation_images": [str(p) for p in val], "rows": rows},
            indent=1,
        )
    )

if a.figure:
    import cv2

    clean = to_float(load_rgb(a.image))[:256, :384]
    noisy = clean + np.random.default_rng(0).normal(0, a.sigma / 255, clean.shape).astype(np.float32)
    x = torch.from_numpy(noisy.transpose(2, 0, 1)[None].copy())
    panels, peaks = [np.clip(noisy, 0, 1)], []
    for w in (a.weights[0], a.weights[-1]):
        model, peak = load_weights(w).model, {}
        for name, m in model.named_modules():  # the largest |activation| of each convolution on this image
            if isinstance(m, torch.nn.Conv2d):
                m.register_forward_hook(
                    lambda m, i, o, name=name, peak=peak: peak.__setitem__(name, float(o.abs().amax()))
                )
        with torch.inference_mode():
            panels.append(np.clip(model(x)[0].numpy().transpose(1, 2, 0), 0, 1))
        peaks.append(peak)
    print("largest |activation| per convolution, first -> last weights:")
    print("  ".join(f"{k} {peaks[0][k]:.2f}->{peaks[1][k]:.2f}" for k in peaks[0]))
    gap = np.ones((clean.shape[0], 6, 3), np.float32)
    strip = np.concatenate([p for panel in panels for p in (panel, gap)][:-1], 1)
    cv2.imwrite(a.figure, (strip[..., ::-1] * 255).round().astype(np.uint8))
    print(a.figure, "(noisy | first weights | last weights)")
