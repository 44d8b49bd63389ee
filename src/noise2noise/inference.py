"""Inference over a runner: padding to a multiple of 32, and tiling with blended seams.

The network runs on ``1xCxHxW`` float32 RGB in [0, 1] (``images.preprocess``). Inputs are
reflect-padded at the bottom/right to a multiple of 32 (edge-padded when the image is too small to
reflect) and the output is cropped back. Large images are cut into overlapping tiles so memory
stays bounded; tiling is built to give the whole-image result (within one 8-bit grey level at the
defaults, ``benchmarks/tile_cost.py``) for little extra compute:

- the image is padded *once*, as for whole-image inference, and every tile starts at a multiple of
  32 in it, so each tile sees the same pixels on the same pooling grid as the whole-image run
  (a tile off that grid changes the U-Net's output everywhere, not only near its border);
- tiles are evenly spaced and sized to cover the image with the fewest pixels (no last tile
  pushed flush against the border), at most ``tile * tile`` pixels each;
- neighbours overlap by at least ``overlap`` pixels and each output pixel comes from the tile in
  which it lies deepest: the seam is the middle of the overlap, softened by a linear ramp of
  ``overlap // 3`` pixels, so every pixel keeps about ``overlap / 3`` pixels of context.

A runner (``runners.Runner``) is eager PyTorch, ONNX Runtime or OpenVINO; this module does not care.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .config import DEFAULT_OVERLAP
from .model import MULTIPLE

__all__ = [
    "AUTO_TILE_PIXELS",
    "DEFAULT_OVERLAP",
    "DEFAULT_TILE",
    "MULTIPLE",
    "pad",
    "run_padded",
    "run_tiled",
    "tile_grid",
]
from .runners import Runner

DEFAULT_TILE = 1536  # tiles of at most 1536 x 1536 pixels (about 1.5 GB with the default backend)
AUTO_TILE_PIXELS = DEFAULT_TILE * DEFAULT_TILE  # above this many pixels, tile by default


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


def _axis(size: int, n: int, overlap: int) -> tuple[list[int], int] | None:
    """``n`` evenly spaced tiles over ``size`` (a multiple of 32): starts on multiples of 32, one
    length (a multiple of 32), neighbours overlapping by >= ``overlap``; None if ``n`` cannot."""
    if n == 1:
        return [0], size
    length = MULTIPLE * math.ceil((size + (n - 1) * overlap) / n / MULTIPLE)
    while length < size:
        starts = [MULTIPLE * round(i * (size - length) / (n - 1) / MULTIPLE) for i in range(n)]
        if all(a + length - b >= overlap for a, b in zip(starts, starts[1:])):
            return starts, length
        length += MULTIPLE
    return None


def tile_grid(h: int, w: int, tile: int, overlap: int) -> tuple[list[int], int, list[int], int]:
    """The tiles of an ``h`` x ``w`` image (sizes after padding to a multiple of 32): row starts,
    tile height, column starts, tile width. Of the grids whose tiles hold at most ``tile * tile``
    pixels, the one computing the fewest pixels in all (then the fewest tiles)."""
    ph, pw = pad_amounts(h, w)
    axes = []
    for size in (h + ph, w + pw):
        axes.append([(n, a) for n in range(1, size // MULTIPLE + 1) if (a := _axis(size, n, overlap))])
    best = None
    for ny, (ys, th) in axes[0]:
        for nx, (xs, tw) in axes[1]:
            fits = th * tw <= tile * tile
            key = (not fits, ny * th * nx * tw if fits else th * tw, ny * nx)
            if best is None or key < best[0]:
                best = (key, ys, th, xs, tw)
    assert best is not None
    return best[1], best[2], best[3], best[4]


def _weights(starts: list[int], length: int, size: int, blend: int) -> list[np.ndarray]:
    """Per tile, its 1-D blending weight over its own span: 1 where it is the deepest tile, 0 where
    a neighbour is, and a linear ramp of ``blend`` pixels centred on the middle of each overlap.
    The weights of all tiles add up to 1 at every pixel."""
    pos = np.arange(size, dtype=np.float32) + 0.5
    cuts = [(b + a + length) // 2 for a, b in zip(starts, starts[1:])]
    out = []
    for i, s in enumerate(starts):
        wgt = np.ones(size, np.float32)
        sides = ([(cuts[i - 1], 1.0)] if i > 0 else []) + ([(cuts[i], -1.0)] if i < len(cuts) else [])
        for c, sign in sides:
            d = sign * (pos - c)  # > 0 on this tile's side of the cut
            wgt = np.minimum(wgt, np.clip(d / blend + 0.5, 0, 1) if blend else (d > 0).astype(np.float32))
        out.append(wgt[s : s + length])
    return out


def run_tiled(
    runner: Runner,
    x: np.ndarray,
    tile: int = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Run on overlapping tiles of at most ``tile`` x ``tile`` pixels and blend; ``1xCxHxW`` in and out."""
    if tile < MULTIPLE or overlap < 0 or overlap >= tile:
        raise ValueError(f"need tile >= {MULTIPLE} and 0 <= overlap < tile, got tile={tile}, overlap={overlap}")
    h, w = x.shape[-2:]
    xp = pad(x)
    H, W = xp.shape[-2:]
    ys, th, xs, tw = tile_grid(h, w, tile, overlap)
    wys, wxs = _weights(ys, th, H, overlap // 3), _weights(xs, tw, W, overlap // 3)
    acc: np.ndarray | None = None
    for y0, wy in zip(ys, wys):
        for x0, wx in zip(xs, wxs):
            out = runner(np.ascontiguousarray(xp[..., y0 : y0 + th, x0 : x0 + tw]))
            if acc is None:
                acc = np.zeros((1, out.shape[1], H, W), np.float32)
            acc[..., y0 : y0 + th, x0 : x0 + tw] += out * (wy[:, None] * wx[None, :])
            if progress:
                progress(1)
    assert acc is not None
    return acc[..., :h, :w]
