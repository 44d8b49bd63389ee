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

The contract every denoiser honours (``ImageDenoiser``: one array method, one image method) is here
too, with ``ImageMethods``, the image methods any denoiser gets from its array method.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from .config import DEFAULT_OVERLAP
from .images import Image, check_array, join_array, postprocess, preprocess, split_array
from .model import MULTIPLE

__all__ = [
    "AUTO_TILE_PIXELS",
    "DEFAULT_OVERLAP",
    "DEFAULT_TILE",
    "MULTIPLE",
    "ImageDenoiser",
    "ImageMethods",
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


def match_channels(x: np.ndarray, n: int) -> np.ndarray:
    """``1xCxHxW`` with ``n`` channels: a grey image repeated for an RGB model, or an RGB image
    averaged for a grey one (and back, for the output)."""
    c = x.shape[1]
    if c == n:
        return x
    return np.repeat(x, n, axis=1) if c == 1 else x.mean(axis=1, keepdims=True)


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


# ---- the denoiser contract ------------------------------------------------------------------------

Progress = Callable[[int], None] | None


@runtime_checkable
class ImageDenoiser(Protocol):
    """What every denoiser honours (a model's ``Denoiser``, ``auto``, the ensemble and strength wrappers):

    * ``run_array(x, progress)``: ``1xCxHxW`` float32 in [0, 1] -> ``1xCxHxW`` float32, unclipped;
    * ``denoise_image(image, progress)``: a decoded file -> its denoised ``Image``: same shape and
      dtype, alpha passed through, ``meta`` naming the model (and for ``auto``, why);
    * ``config`` (its ``DenoiseConfig``), ``meta`` (name, backend, precision), ``streams`` (images it
      takes at once), ``base`` (the model's ``Denoiser`` at its core, for the network's size) and
      ``tiles_for(h, w)`` (network runs for an HxW image: the progress total).

    ``progress(n)`` is called as network runs finish. ``ImageMethods`` gives a class the image
    methods from its ``run_array``."""

    config: Any
    meta: dict
    streams: int

    def run_array(self, x: np.ndarray, progress: Progress = None) -> np.ndarray: ...

    def denoise_image(self, image: Image, progress: Progress = None) -> Image: ...

    def tiles_for(self, h: int, w: int) -> int: ...


class ImageMethods:
    """The image methods of a denoiser, from its ``run_array`` (``run_and_choose`` where it picks
    its model per image), ``steps``, ``config`` and ``meta``: the card's pre- and post-processing
    around the array, alpha passed through, the input's shape and dtype kept."""

    config: Any
    meta: dict

    def run_array(self, x: np.ndarray, progress: Progress = None) -> np.ndarray:
        raise NotImplementedError

    def steps(self, h: int, w: int) -> int:
        """Network runs for an ``h`` x ``w`` array as ``run_array`` receives it."""
        raise NotImplementedError

    def run_and_choose(self, x: np.ndarray, progress: Progress = None) -> tuple[np.ndarray, Any]:
        """``run_array(x)`` and the automatic choice behind it: None where the model is fixed."""
        return self.run_array(x, progress), None

    def tiles_for(self, h: int, w: int) -> int:
        """Network runs for an HxW image (after ``resize``): the progress total."""
        if self.config.resize:
            w, h = self.config.resize
        return self.steps(h, w)

    def denoise(self, pixels: np.ndarray, progress: Progress = None) -> tuple[np.ndarray, Any]:
        """An OpenCV array (HxW, HxWx1, HxWx3 BGR or HxWx4 BGRA; uint8/uint16) denoised, in its own
        shape and dtype (alpha passed through), and the automatic choice behind it (or None)."""
        colour, alpha, one_channel = split_array(pixels)
        x = preprocess(colour, self.config.resize)
        y, choice = self.run_and_choose(x, progress)
        return join_array(postprocess(y, colour.dtype.type), self.resized_alpha(alpha), one_channel), choice

    def __call__(self, pixels: np.ndarray, progress: Progress = None) -> np.ndarray:
        """``denoise(pixels)`` without the choice: same shape and dtype, BGR as OpenCV reads it."""
        return self.denoise(pixels, progress)[0]

    def denoise_image(self, image: Image, progress: Progress = None) -> Image:
        """A decoded file denoised; alpha passed through (resized with ``resize``); the output's
        ``meta`` names the model, and for an automatic choice the figures it was made on."""
        out, choice = self.denoise(check_array(image.pixels), progress)
        meta = choice.as_dict() if choice is not None else {"model": (self.meta or {}).get("name")}
        return Image(out, self.resized_alpha(image.alpha), meta, image.colour)

    def resized_alpha(self, alpha: np.ndarray | None) -> np.ndarray | None:
        if alpha is not None and self.config.resize is not None:
            alpha = cv2.resize(alpha, self.config.resize, interpolation=cv2.INTER_NEAREST)
        return alpha
