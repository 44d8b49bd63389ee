"""Geometric self-ensemble: denoise flipped and rotated copies of the image and average.

A denoiser's errors depend on the orientation of the image it sees, the signal does not; so the
mean of its outputs over the eight flips and quarter turns of the input (each output turned back)
is on average closer to the clean image than one output (Timofte et al., CVPR 2016, "Seven ways
to improve example-based single image super resolution"; Lim et al. 2017, EDSR's "+"): +0.13 dB
for ``n2n-gaussian`` on Kodak24 at sigma 25 (``benchmarks/ensemble_gain.py``). It costs one
network run per view. Views are taken in this order, so that up to 4 need no transpose: identity,
horizontal flip, half turn, vertical flip, then the four transposed views.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .config import ENSEMBLE_VIEWS

CHOICES = ENSEMBLE_VIEWS
# (quarter turns, flip of the last axis afterwards) per view, in the order they are added
VIEWS = ((0, False), (0, True), (2, False), (2, True), (1, False), (1, True), (3, False), (3, True))


def check_views(n: int) -> None:
    if n not in CHOICES:
        raise ValueError(f"--ensemble must be one of {', '.join(map(str, CHOICES))} (views averaged), got {n}")


def view(x: np.ndarray, k: int) -> np.ndarray:
    """View ``k`` of an ``...xHxW`` array (contiguous)."""
    turns, flip = VIEWS[k]
    y = np.rot90(x, turns, axes=(-2, -1))
    return np.ascontiguousarray(y[..., ::-1] if flip else y)


def unview(y: np.ndarray, k: int) -> np.ndarray:
    """The inverse of ``view(., k)``."""
    turns, flip = VIEWS[k]
    y = y[..., ::-1] if flip else y
    return np.rot90(y, -turns, axes=(-2, -1))


def view_shapes(h: int, w: int, n: int) -> list[tuple[int, int]]:
    """(H, W) of each of the first ``n`` views of an HxW image."""
    return [(w, h) if VIEWS[k][0] % 2 else (h, w) for k in range(n)]


def self_ensemble(run: Callable[[np.ndarray], np.ndarray], x: np.ndarray, n: int) -> np.ndarray:
    """The mean of ``run`` over the first ``n`` views of ``x`` (``...xHxW``), each turned back."""
    check_views(n)
    if n == 1:
        return run(x)
    acc = None
    for k in range(n):
        y = unview(run(view(x, k)), k)
        acc = y.astype(np.float32, copy=True) if acc is None else acc + y
    assert acc is not None
    return acc / np.float32(n)
