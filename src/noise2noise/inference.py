"""Inference over a runner: padding to a multiple of 32, and tiling with blended seams.

The network runs on ``1xCxHxW`` float32 RGB in [0, 1] (``images.preprocess``). Inputs are
reflect-padded at the bottom/right to a multiple of 32 (edge-padded when the image is too small to
reflect) and the output is cropped back. Large images are cut into overlapping tiles; in the
overlaps the tiles are blended with linear ramps, so seams do not show and memory stays bounded.
A runner (``runners.Runner``) is eager PyTorch, ONNX Runtime or OpenVINO; this module does not care.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .model import MULTIPLE

__all__ = ["AUTO_TILE_PIXELS", "DEFAULT_OVERLAP", "DEFAULT_TILE", "MULTIPLE", "pad", "run_padded", "run_tiled"]
from .runners import Runner

AUTO_TILE_PIXELS = 1024 * 1024  # above this many pixels, tile by default
DEFAULT_TILE = 512
DEFAULT_OVERLAP = 96


def pad_amounts(h: int, w: int, multiple: int = MULTIPLE) -> tuple[int, int]:
    return (-h) % multiple, (-w) % multiple


def pad(x: np.ndarray, multiple: int = MULTIPLE) -> np.ndarray:
    """Reflect-pad an ``NCHW`` array at the bottom/right to a multiple of ``multiple``."""
    h, w = x.shape[-2:]
    ph, pw = pad_amounts(h, w, multiple)
    if not ph and not pw:
        return x
    mode = "reflect" if ph < h and pw < w else "edge"
    return np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)), mode=mode)


def run_padded(runner: Runner, x: np.ndarray) -> np.ndarray:
    """Pad, run, crop back: ``1xCxHxW`` in, ``1xC'xHxW`` out, any H, W >= 1."""
    h, w = x.shape[-2:]
    return runner(pad(x))[..., :h, :w]


def _ramp(n: int, overlap: int, first: bool, last: bool) -> np.ndarray:
    """1-D blending weight of a tile of length ``n``: linear ramps over ``overlap`` at inner edges."""
    wgt = np.ones(n, np.float32)
    k = min(overlap, n)
    if k > 0:
        ramp = (np.arange(k, dtype=np.float32) + 0.5) / k
        if not first:
            wgt[:k] = ramp
        if not last:
            wgt[n - k :] = np.minimum(wgt[n - k :], ramp[::-1])
    return wgt


def tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of the tiles along one axis (the last tile ends at the border)."""
    if size <= tile:
        return [0]
    step = tile - overlap
    return sorted(set(range(0, size - tile, step)) | {size - tile})


def run_tiled(
    runner: Runner,
    x: np.ndarray,
    tile: int = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Run on overlapping ``tile`` x ``tile`` windows and blend; ``1xCxHxW`` in and out."""
    if tile < MULTIPLE or overlap < 0 or overlap >= tile:
        raise ValueError(f"need tile >= {MULTIPLE} and 0 <= overlap < tile, got tile={tile}, overlap={overlap}")
    h, w = x.shape[-2:]
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    acc: np.ndarray | None = None
    norm = np.zeros((h, w), np.float32)
    for iy, y0 in enumerate(ys):
        for ix, x0 in enumerate(xs):
            part = x[..., y0 : y0 + tile, x0 : x0 + tile]
            out = run_padded(runner, part)
            th, tw = out.shape[-2:]
            wy = _ramp(th, overlap, iy == 0, iy == len(ys) - 1)
            wx = _ramp(tw, overlap, ix == 0, ix == len(xs) - 1)
            wgt = wy[:, None] * wx[None, :]
            if acc is None:
                acc = np.zeros((1, out.shape[1], h, w), np.float32)
            acc[..., y0 : y0 + th, x0 : x0 + tw] += out * wgt
            norm[y0 : y0 + th, x0 : x0 + tw] += wgt
            if progress:
                progress(1)
    assert acc is not None
    return acc / norm
