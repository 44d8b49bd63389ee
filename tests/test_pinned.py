"""Outputs pinned: each shipped model on the exact reference path (eager torch, fp32) turns a fixed
noisy picture into the pinned 8-bit picture, and ``auto`` chooses the pinned model for it. A change
anywhere between the file and the network (pre/post-processing, padding, tiling, options) shows here.

Float results differ in their last bits between CPUs (AVX2, AVX-512, AMX kernels), so a pixel may
round to the neighbouring grey level: at most 1 level, on at most 1% of the pixels. To write the
references again after an intended change: ``python tests/test_pinned.py``."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from noise2noise.auto import pick
from noise2noise.denoiser import Denoiser
from noise2noise.images import preprocess

HERE = Path(__file__).resolve().parent / "data" / "pinned"
# input name -> (the noise added to the scene, the model auto chooses for it)
CASES = {"white": "n2n-gaussian", "camera": "n2n-photo", "phone": "n2n-phone"}
MODELS = ("n2n-gaussian", "n2n-photo", "n2n-phone")


def scene() -> np.ndarray:
    """A 96x128 BGR float picture: colour ramps, a disc, stripes (edges and texture)."""
    yy, xx = np.mgrid[0:96, 0:128].astype(np.float32)
    img = np.stack([0.2 + 0.6 * xx / 128, 0.3 + 0.5 * yy / 96, 0.7 - 0.4 * (xx + yy) / 224], axis=2)
    img[(yy - 48) ** 2 + (xx - 40) ** 2 < 400] = (0.85, 0.35, 0.2)
    img[10:40, 80:120] += 0.1 * np.sin(xx[10:40, 80:120] * 1.3)[..., None]
    return np.clip(img, 0, 1)


def box3(n: np.ndarray, centre: float = 1.0) -> np.ndarray:
    """Each pixel plus ``centre`` times itself over its 3x3 neighbourhood (wrapped), normalised: plain
    float64 sums, so the same bits on every CPU."""
    total = sum(np.roll(n, (dy, dx), axis=(0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    return (total + (centre - 1) * n) / (8 + centre)


def noisy(kind: str) -> np.ndarray:
    """The pinned input: 8-bit BGR, the same on every machine (seeded noise, exact arithmetic)."""
    rng = np.random.default_rng({"white": 1, "camera": 2, "phone": 3}[kind])
    base = scene().astype(np.float64) * 255
    if kind == "white":  # sigma 25, independent per channel and pixel
        n = rng.normal(0, 25, base.shape)
    elif kind == "camera":  # colour noise shared by neighbours (a 3x3 box over white noise), weaker
        n = box3(rng.normal(0, 18, base.shape))
    else:  # luma-only noise, strong, mildly shared by neighbours (a phone's after chroma noise reduction)
        n = np.repeat(box3(rng.normal(0, 30, base.shape[:2]), centre=8.0)[..., None], 3, axis=2)
    return np.clip(np.round(base + n), 0, 255).astype(np.uint8)


def outputs() -> dict[str, np.ndarray]:
    out = {}
    for model in MODELS:
        den = Denoiser.from_weights(model=model, backend="torch", precision="fp32", tile=0)
        for kind in CASES:
            out[f"{kind}-{model}"] = den(noisy(kind))
    return out


@pytest.mark.parametrize("kind", list(CASES))
def test_the_pinned_input_and_the_model_auto_chooses_for_it(kind):
    want = cv2.imread(str(HERE / f"input-{kind}.png"), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(noisy(kind), want)
    assert pick(preprocess(noisy(kind))).model == CASES[kind]


@pytest.mark.slow
def test_every_shipped_model_gives_the_pinned_pictures():
    for name, got in outputs().items():
        want = cv2.imread(str(HERE / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        assert want is not None, f"missing reference {name}.png: python tests/test_pinned.py"
        diff = np.abs(got.astype(int) - want.astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() <= 0.01, (name, int(diff.max()), float((diff > 0).mean()))


if __name__ == "__main__":
    HERE.mkdir(parents=True, exist_ok=True)
    for kind in CASES:
        cv2.imwrite(str(HERE / f"input-{kind}.png"), noisy(kind))
    for name, img in outputs().items():
        cv2.imwrite(str(HERE / f"{name}.png"), img)
    print("written:", sorted(p.name for p in HERE.iterdir()))
