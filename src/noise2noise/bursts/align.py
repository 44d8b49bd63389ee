"""Aligning the frames of a burst to a reference frame: handheld motion as a rotation plus a shift.

``estimate`` finds the Euclidean warp (rotation + translation) that maps a frame onto the reference
with OpenCV's ECC (Evangelidis & Psarakis 2008: it maximises the correlation coefficient, so
exposure differences do not matter), coarse to fine: phase correlation of blurred, downscaled grey
images gives the starting shift (shifts of tens of pixels), then ECC refines on a pyramid. The
correlation it reaches says whether the frame shows the same scene at all. ``warp`` resamples a
frame onto the reference's grid and says which pixels came from inside the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WORK_SIDE = 1024  # alignment runs on a copy at most this many pixels on its longer side
MIN_CORRELATION = 0.5  # below this the frame is taken for another scene and left out


@dataclass(frozen=True)
class Alignment:
    """``matrix``: 2x3, maps reference pixel coordinates to the frame's (``cv2.WARP_INVERSE_MAP``)."""

    matrix: np.ndarray
    correlation: float

    @property
    def ok(self) -> bool:
        return self.correlation >= MIN_CORRELATION

    @property
    def shift(self) -> tuple[float, float]:
        return float(self.matrix[0, 2]), float(self.matrix[1, 2])

    @property
    def degrees(self) -> float:
        return float(np.degrees(np.arctan2(self.matrix[1, 0], self.matrix[0, 0])))


def grey(x: np.ndarray) -> np.ndarray:
    """HxWxC or HxW float -> HxW float32 grey."""
    return (x.mean(axis=2) if x.ndim == 3 else x).astype(np.float32)


def sharpness(x: np.ndarray) -> float:
    """How sharp a frame is: the variance of the Laplacian of its half-size, lightly blurred grey
    (the blur and the downscale keep the noise from passing for detail)."""
    g = cv2.resize(grey(x), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(cv2.GaussianBlur(g, (0, 0), 1.0), cv2.CV_32F).var())


def _pyramid(g: np.ndarray, scale: float) -> np.ndarray:
    small = cv2.resize(g, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else g
    return cv2.GaussianBlur(small, (0, 0), 1.5)


def estimate(reference: np.ndarray, frame: np.ndarray) -> Alignment:
    """The Euclidean warp of ``frame`` onto ``reference`` (both HxW[xC] float, same size)."""
    ref, img = grey(reference), grey(frame)
    h, w = ref.shape
    base = min(1.0, WORK_SIDE / max(h, w))
    scales = [s for s in (base / 4, base / 2) if s * min(h, w) >= 64] + [base]  # coarse to fine
    start = np.eye(2, 3, dtype=np.float32)
    a, b = _pyramid(ref, scales[0]).astype(np.float64), _pyramid(img, scales[0]).astype(np.float64)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, cv2.createHanningWindow(a.shape[::-1], cv2.CV_64F))
    if max(abs(dx), abs(dy)) < min(a.shape) / 4:  # a larger peak is the window's edge, not motion
        start[:, 2] = (dx / scales[0], dy / scales[0])
    best = _refine(ref, img, start, scales)
    if not best.ok and start[:, 2].any():  # the shift misled it: from no motion instead
        best = max(best, _refine(ref, img, np.eye(2, 3, dtype=np.float32), scales), key=lambda al: al.correlation)
    return best


def _refine(ref: np.ndarray, img: np.ndarray, matrix: np.ndarray, scales: list[float]) -> Alignment:
    """ECC from ``matrix`` through the pyramid ``scales`` (coarse to fine)."""
    correlation = -1.0
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
    for s in scales:
        m = matrix.copy()
        m[:, 2] *= s
        try:
            correlation, m = cv2.findTransformECC(
                _pyramid(ref, s), _pyramid(img, s), m, cv2.MOTION_EUCLIDEAN, criteria, None, 1
            )
        except cv2.error:  # no convergence: not the same scene, or nothing to align on
            return Alignment(matrix, -1.0)
        m[:, 2] /= s
        matrix = m.astype(np.float32)
    return Alignment(matrix, float(correlation))


def warp(frame: np.ndarray, alignment: Alignment) -> tuple[np.ndarray, np.ndarray]:
    """``frame`` (HxW[xC], any dtype) resampled onto the reference's grid, and the HxW bool mask of
    the pixels that came from inside the frame (the rest are filled by reflection)."""
    h, w = frame.shape[:2]
    flags = cv2.INTER_LANCZOS4 | cv2.WARP_INVERSE_MAP  # Lanczos: cubic softens detail (4 dB more error)
    out = cv2.warpAffine(frame, alignment.matrix, (w, h), flags=flags, borderMode=cv2.BORDER_REFLECT)
    near = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    inside = cv2.warpAffine(np.ones((h, w), np.uint8), alignment.matrix, (w, h), flags=near, borderValue=0)
    return out, cv2.erode(inside, np.ones((3, 3), np.uint8)).astype(bool)
