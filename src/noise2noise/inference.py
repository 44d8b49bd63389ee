"""Inference: padding to a multiple of 32, tiling with blended seams, and the ``Denoiser`` API.

The network runs on ``1xCxHxW`` float32 RGB in [0, 1] (``images.preprocess``). Inputs are
reflect-padded at the bottom/right to a multiple of 32 (edge-padded when the image is too small to
reflect) and the output is cropped back. Large images are cut into overlapping tiles; in the
overlaps the tiles are blended with linear ramps, so seams do not show and memory stays bounded.

A *runner* is any callable ``f(x: ndarray[1,C,H,W] float32) -> ndarray[1,C',H,W]`` with H, W
multiples of 32: eager PyTorch here, ONNX Runtime / OpenVINO in ``backends``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .images import Image, postprocess, preprocess
from .model import MULTIPLE

Runner = Callable[[np.ndarray], np.ndarray]
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


def _starts(size: int, tile: int, overlap: int) -> list[int]:
    if size <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, size - tile, step)) + [size - tile]
    return sorted(set(starts))


def run_tiled(runner: Runner, x: np.ndarray, tile: int = DEFAULT_TILE, overlap: int = DEFAULT_OVERLAP,
              progress: Callable[[int], None] | None = None) -> np.ndarray:  # fmt: skip
    """Run on overlapping ``tile`` x ``tile`` windows and blend; ``1xCxHxW`` in and out."""
    if tile < MULTIPLE or overlap < 0 or overlap >= tile:
        raise ValueError(f"need tile >= {MULTIPLE} and 0 <= overlap < tile, got tile={tile}, overlap={overlap}")
    h, w = x.shape[-2:]
    ys, xs = _starts(h, tile, overlap), _starts(w, tile, overlap)
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


def torch_runner(model: nn.Module, device: str | torch.device = "cpu") -> Runner:
    """Eager PyTorch fp32 runner (the reference implementation's way)."""
    model = model.to(device).eval()

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(np.ascontiguousarray(x)).to(device)).float().cpu().numpy()

    return run


@dataclass
class Denoiser:
    """Denoise OpenCV-style arrays (HWC BGR or HW grey, uint8 or uint16) with any runner.

    ``tile=None`` tiles automatically above ``AUTO_TILE_PIXELS``; ``tile=0`` never tiles."""

    runner: Runner
    in_channels: int = 3
    tile: int | None = None
    overlap: int = DEFAULT_OVERLAP
    meta: dict | None = None
    resize: tuple[int, int] | None = None  # (W, H): the card's fixed-shape path; output has this size
    model: nn.Module | None = None  # the source network when built from a checkpoint (for info)

    @classmethod
    def from_weights(cls, path: str | None = None, *, model: str | None = None, arch: str | None = None,
                     device: str = "cpu", tile: int | None = None, overlap: int = DEFAULT_OVERLAP,
                     backend: str = "torch", precision: str = "fp32") -> Denoiser:  # fmt: skip
        """From a checkpoint file (ours or a legacy ``.pt``), an exported ``.onnx``/``.xml`` file, or
        a shipped model name (default). ``backend='auto'`` picks the fast CPU path (``deploy``)."""
        from .weights import DEFAULT_MODEL, load_weights, registry_path

        if path is not None and str(path).endswith((".onnx", ".xml")):
            from .backends import runner_for_file

            be = None if backend in ("auto", "torch") else backend
            return cls(runner_for_file(path, be, "fp32" if precision == "auto" else precision), 3, tile, overlap,
                       {"backend": be or ("openvino" if str(path).endswith(".xml") else "onnxruntime")})  # fmt: skip
        ckpt = load_weights(path if path is not None else registry_path(model or DEFAULT_MODEL), arch=arch)
        if backend == "torch" and precision in ("fp32", "auto"):
            runner, backend, precision = torch_runner(ckpt.model, device), "torch", "fp32"
        else:
            from .deploy import runner_for_checkpoint

            runner, backend, precision = runner_for_checkpoint(ckpt, backend, precision, device)
        meta = {**ckpt.meta, "backend": backend, "precision": precision}
        return cls(runner, ckpt.config.in_channels, tile, overlap, meta, model=ckpt.model)

    def tiles_for(self, h: int, w: int) -> int:
        if self.resize:
            w, h = self.resize
        tile = self.effective_tile(h, w)
        return 1 if not tile else len(_starts(h, tile, self.overlap)) * len(_starts(w, tile, self.overlap))

    def effective_tile(self, h: int, w: int) -> int:
        if self.tile is None:
            return DEFAULT_TILE if h * w > AUTO_TILE_PIXELS else 0
        return self.tile if self.tile and max(h, w) > self.tile else 0

    def run_array(self, x: np.ndarray, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """``1xCxHxW`` float in [0, 1] -> ``1xC'xHxW`` float (unclipped), tiling as configured."""
        h, w = x.shape[-2:]
        c = x.shape[1]
        if c != self.in_channels:  # grey image through an RGB model, or RGB through a grey model
            x = np.repeat(x, self.in_channels, axis=1) if c == 1 else x.mean(axis=1, keepdims=True)
        tile = self.effective_tile(h, w)
        y = run_tiled(self.runner, x, tile, self.overlap, progress) if tile else run_padded(self.runner, x)
        if progress and not tile:
            progress(1)
        if y.shape[1] != c:
            y = y.mean(axis=1, keepdims=True) if c == 1 else np.repeat(y, c, axis=1)
        return y

    def __call__(self, pixels: np.ndarray, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Denoise an OpenCV array; returns the same shape and dtype."""
        if pixels.dtype not in (np.uint8, np.uint16) or pixels.ndim not in (2, 3):
            raise ValueError(f"expected an HxW or HxWx3 uint8/uint16 array, got {pixels.dtype} {pixels.shape}")
        return postprocess(self.run_array(preprocess(pixels, self.resize), progress), pixels.dtype.type)

    def denoise_image(self, image: Image, progress: Callable[[int], None] | None = None) -> Image:
        """Denoise a decoded file; alpha is passed through untouched."""
        return Image(self(image.pixels, progress), image.alpha)
