"""Per-image PSNR of int8 files against eager fp32 at low noise, on 8-bit noisy images.

    python benchmarks/int8_per_image.py --file shipped=src/noise2noise/weights/unet-gaussian-n2n.int8.onnx \
        --file before=OLD.int8.onnx --file all-int8=ALL.int8.onnx [--sigmas 1,3] [--json F]

Each Kodak24 image named by ``--images`` (whole, and its top-left 256x384 crop, the crop
``tests/test_int8.py`` uses) gets Gaussian noise (seed 0) and is rounded to 8 bits; each file runs on
OpenVINO (f32 hint) and its PSNR is printed as the difference from eager fp32 torch of ``--model``.
The per-image table of ``docs/lab/int8.md`` ("Activation equalization before int8").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from noise2noise.denoiser import Denoiser
from noise2noise.evaluation.metrics import psnr
from noise2noise.images import postprocess, preprocess
from noise2noise.inference import run_padded
from noise2noise.runners import openvino_runner


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", action="append", required=True, help="NAME=PATH of an int8 .onnx")
    ap.add_argument("--model", default="n2n-gaussian")
    ap.add_argument("--set", default="../shared/data/test/Kodak24")
    ap.add_argument("--images", default="kodim03,kodim01,kodim23")
    ap.add_argument("--sigmas", default="1,3")
    ap.add_argument("--json")
    a = ap.parse_args()
    runners = {name: openvino_runner(path) for name, path in (f.split("=", 1) for f in a.file)}
    exact = Denoiser.from_weights(model=a.model, backend="torch", precision="fp32")
    rows = []
    for name in a.images.split(","):
        full = cv2.imread(str(Path(a.set) / f"{name}.png"))
        for crop, clean in (("crop", full[:256, :384]), ("whole", full)):
            for sigma in (float(s) for s in a.sigmas.split(",")):
                noise = np.random.default_rng(0).normal(0, sigma, clean.shape)
                noisy = np.clip(clean + noise, 0, 255).astype(np.uint8)
                ref = psnr(exact(noisy), clean)
                x = preprocess(noisy)
                row = {"image": name, "part": crop, "sigma": sigma, "fp32": round(ref, 3)}
                for k, run in runners.items():
                    row[k] = round(psnr(postprocess(run_padded(run, x)), clean) - ref, 3)
                rows.append(row)
                print(json.dumps(row), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
