"""Geometric self-ensemble: denoise flipped and rotated copies of the image and average.

A denoiser's errors depend on the orientation of the image it sees, the signal does not; so the
mean of its outputs over the eight flips and quarter turns of the input (each output turned back)
is on average closer to the clean image than one output (Timofte et al., CVPR 2016, "Seven ways
to improve example-based single image super resolution"; Lim et al. 2017, EDSR's "+"): +0.13 dB
for ``n2n-gaussian`` on Kodak24 at sigma 25 (``benchmarks/ensemble_gain.py``). It costs one
network run per view. Views are taken in this order, so that up to 4 need no transpose: identity,
horizontal flip, half turn, vertical flip, then the four transposed views.

``Ensemble`` and ``Strength`` wrap any denoiser (``inference.ImageDenoiser``) in what a config's
``ensemble`` and ``strength`` ask for; ``wrap`` applies both to a model's ``Denoiser``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import ENSEMBLE_VIEWS, check_views
from .inference import ImageMethods, Progress, match_channels

CHOICES = ENSEMBLE_VIEWS
# (quarter turns, flip of the last axis afterwards) per view, in the order they are added
VIEWS = ((0, False), (0, True), (2, False), (2, True), (1, False), (1, True), (3, False), (3, True))


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


# ---- the wrappers: what a config's ensemble and strength add around any denoiser --------------------


@dataclass
class Wrapper(ImageMethods):
    """A denoiser around ``inner``: the same model (``base``), meta and streams; a change of options
    rebuilds the wrappers from the model."""

    inner: Any
    config: Any

    def __post_init__(self) -> None:
        self.meta, self.streams, self.base = self.inner.meta, self.inner.streams, self.inner.base

    def with_options(self, **changes: Any) -> Any:
        return self.base.with_options(**changes)


class Ensemble(Wrapper):
    """``inner``'s output averaged over ``config.ensemble`` views (``self_ensemble``): one network run per view."""

    def run_array(self, x: np.ndarray, progress: Progress = None) -> np.ndarray:
        # the views of the image as the model takes it (a grey image in three channels for an RGB
        # model), averaged before it goes back: the same sums whatever the channels
        y = self_ensemble(
            lambda v: self.inner.run_array(v, progress), match_channels(x, self.base.in_channels), self.config.ensemble
        )
        return match_channels(y, x.shape[1])

    def steps(self, h: int, w: int) -> int:
        return sum(self.inner.steps(vh, vw) for vh, vw in view_shapes(h, w, self.config.ensemble))


class Strength(Wrapper):
    """A blend of ``inner``'s output and its input: ``x + s * (clip(inner(x)) - x)`` with ``s =
    config.strength`` (1: the output, 0: the input exactly, with no network run; between: some grain
    kept). The pictures are blended, not the raw output."""

    def run_array(self, x: np.ndarray, progress: Progress = None) -> np.ndarray:
        s = self.config.strength
        if s == 0:
            if progress:
                progress(self.inner.steps(*x.shape[-2:]))
            return x
        return x + np.float32(s) * (np.clip(self.inner.run_array(x, progress), 0, 1) - x)

    def steps(self, h: int, w: int) -> int:
        return self.inner.steps(h, w)  # the same runs (none at strength 0, counted as run)


def wrap(den: Any) -> Any:
    """``den`` (a model's ``Denoiser``) in the wrappers its config asks for: the ensemble, then the blend."""
    if den.config.ensemble > 1:
        den = Ensemble(den, den.config)
    if den.config.strength != 1:
        den = Strength(den, den.config)
    return den
