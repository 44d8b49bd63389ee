"""Real noisy photographs without ground truth (RNI15): noisy | each model, side by side, with a
centre crop enlarged below; one JPEG (quality 95) per image.

    python benchmarks/real_montage.py --out docs/figures

Models run through the default path (`Denoiser.from_weights(model=NAME)`), as `n2n denoise --model NAME`."""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2

from noise2noise.denoiser import Denoiser
from noise2noise.evaluation.montage import montage
from noise2noise.images import Image, read_image, write_image

ap = argparse.ArgumentParser()
ap.add_argument("--data", default="../shared/data/real/RNI15")
ap.add_argument("--images", nargs="+", default=["Dog.png", "Frog.png"])
ap.add_argument("--models", nargs="+", default=["n2n-gaussian", "n2n-photo", "n2n-phone"])
ap.add_argument("--out", default="docs/figures")
a = ap.parse_args()

dens = [Denoiser.from_weights(model=m) for m in a.models]
for name in a.images:
    bgr = read_image(Path(a.data) / name).pixels
    rgb = [cv2.cvtColor(x, cv2.COLOR_BGR2RGB) for x in [bgr, *(d(bgr) for d in dens)]]
    pic = montage(rgb[0], rgb[1:], None, ["noisy (no ground truth)", *a.models])
    out = Path(a.out) / f"rni15_{Path(name).stem}.jpg"  # JPEG 95: a tenth of the PNG's size
    write_image(out, Image(cv2.cvtColor(pic, cv2.COLOR_RGB2BGR)), jpeg_quality=95)
    print(out)
