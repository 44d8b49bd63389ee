"""Synthetic bursts from a clean image, for tests and ``benchmarks/burst_eval.py``: handheld
frames (a random sub-pixel shift of up to ``max_shift`` pixels and a rotation of up to ``max_degrees``
each, the first frame unmoved), one camera's noise on every frame (``camera:GAIN``: the same
camera and exposure, independent noise), and optionally a moving object pasted at another place in
each frame. Every random choice comes from the seed."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from noise2noise.config import NoiseConfig
from noise2noise.noise import camera
from noise2noise.noise.synthetic import camera_params

MARGIN = 24  # pixels cropped from every side after moving, so that no frame shows a filled border


@dataclass
class SyntheticBurst:
    """``frames`` and ``clean`` (HxWx3 float RGB in [0, 1], frame k's clean version), ``object_masks``
    (HxW bool per frame, where the moving object is; all False without one)."""

    frames: list[np.ndarray]
    clean: list[np.ndarray]
    object_masks: list[np.ndarray] = field(default_factory=list)


def _moved(img: np.ndarray, dx: float, dy: float, degrees: float) -> np.ndarray:
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    m[:, 2] += (dx, dy)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REFLECT)


def make_burst(
    clean: np.ndarray,
    frames: int,
    gain: float,
    seed: int = 0,
    max_shift: float = 16.0,
    max_degrees: float = 1.0,
    moving_object: bool = False,
) -> SyntheticBurst:
    """A burst of ``frames`` frames of the HxWx3 float image ``clean`` (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    params = camera_params(NoiseConfig.parse(f"camera:{gain}"), rng)
    params = camera.CameraParams(**{**params.__dict__, "jpeg_quality": None})
    h, w = clean.shape[:2]
    size = 48 if min(h, w) < 256 else 96
    patch = np.clip(rng.uniform(0.1, 0.9, 3) + rng.normal(0, 0.08, (size, size, 3)), 0, 1).astype(np.float32)
    out = SyntheticBurst([], [], [])
    for k in range(frames):
        dx, dy = (0.0, 0.0) if k == 0 else rng.uniform(-max_shift, max_shift, 2)
        deg = 0.0 if k == 0 else rng.uniform(-max_degrees, max_degrees)
        c = _moved(clean, dx, dy, deg)[MARGIN : h - MARGIN, MARGIN : w - MARGIN]
        mask = np.zeros(c.shape[:2], bool)
        if moving_object:  # pasted after the camera moved: the object moves on its own
            y = int(rng.integers(0, c.shape[0] - size))
            x = int(rng.integers(0, c.shape[1] - size))
            c = c.copy()
            c[y : y + size, x : x + size] = patch
            mask[y : y + size, x : x + size] = True
        out.clean.append(np.ascontiguousarray(c, dtype=np.float32))
        out.frames.append(camera.apply(out.clean[-1], params, rng, compress=False))
        out.object_masks.append(mask)
    return out
