"""The ``Denoiser`` API: a checkpoint or exported file, the runner the backend policy chooses for it
(``deploy.choose``), and inference (padding, tiling) with the card's pre/post-processing.

    den = Denoiser.from_weights()                 # the shipped default model, backend "auto"
    out = den(cv2.imread("photo.png"))            # same shape and dtype, BGR as OpenCV reads it

``n2n denoise`` builds its Denoiser with this same call and the same defaults.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from torch import nn

from .auto import AutoDenoiser, Choice
from .config import DenoiseConfig, with_feeding
from .deploy.choose import EXPORTED_SUFFIXES, runner_for_checkpoint, runner_for_exported
from .ensemble import self_ensemble, view_shapes
from .images import Image, check_array, join_array, postprocess, preprocess, split_array
from .inference import AUTO_TILE_PIXELS, DEFAULT_TILE, run_padded, run_tiled, tile_grid
from .runners import Runner
from .weights import Checkpoint, load_checkpoint


def _streams(runner: Runner) -> int:
    return int(getattr(runner, "streams", 1))


@dataclass
class Denoiser:
    """Denoise OpenCV-style arrays (HWC BGR or HW grey, uint8 or uint16) with any runner.

    Its options are its ``config`` (``config.DenoiseConfig``: defined and validated there); the
    tiling ones: ``tile=None`` tiles automatically above ``AUTO_TILE_PIXELS``; ``tile=0`` never tiles;
    ``tile=N`` tiles images of more than N x N pixels into tiles of at most that many
    (``inference.run_tiled``)."""

    runner: Runner
    in_channels: int = 3
    config: DenoiseConfig = field(default_factory=DenoiseConfig)
    meta: dict | None = None
    model: nn.Module | None = None  # the source network when built from a checkpoint (for info)
    streams: int = 1  # images the runner takes at once, from as many threads (``files.denoise_files``)

    def __post_init__(self) -> None:
        if self.in_channels not in (1, 3):
            raise ValueError(f"the model takes {self.in_channels} channels; only 1 (grey) or 3 (RGB) can be denoised")

    # the options that shape each run, read from the config
    tile = property(lambda self: self.config.tile)
    overlap = property(lambda self: self.config.overlap)
    resize = property(lambda self: self.config.resize)
    strength = property(lambda self: self.config.strength)  # 1 = the network's output, 0 = the input
    ensemble = property(lambda self: self.config.ensemble)  # views averaged (``ensemble.py``)

    def with_options(self, **changes) -> Denoiser:
        """This denoiser, sharing its runner, with some of the options that do not change the model
        changed (``config.FEEDING``: ``strength``, ``ensemble``, ``tile``, ...)."""
        return dataclasses.replace(self, config=with_feeding(self.config, **changes))

    @classmethod
    def from_config(cls, config: DenoiseConfig) -> Denoiser | AutoDenoiser:
        """The denoiser of ``config``: from its checkpoint file (ours or a legacy ``.pt``), its exported
        ``.onnx``/``.xml`` file, or its shipped model. ``backend``/``precision`` follow the one policy of
        ``deploy.choose`` (``auto``: OpenVINO when installed, else eager torch; on a GPU, fp16 autocast).

        With neither a file nor a model (or ``model="auto"``) the result is an ``AutoDenoiser``: the
        same calls, with the shipped model chosen per image from its noise (``auto.py``)."""
        if config.auto:
            return AutoDenoiser(lambda name: cls.from_config(dataclasses.replace(config, model=name)), config)
        path = config.weights
        if path is not None and str(path).endswith(EXPORTED_SUFFIXES):
            runner, backend, precision = runner_for_exported(path, config.backend, config.precision, config.streams)
            meta = {"name": Path(path).stem, "backend": backend, "precision": precision}
            return cls(runner, 3, config, meta, streams=_streams(runner))
        ckpt = load_checkpoint(path, config.model, config.arch)
        return cls.from_checkpoint(ckpt, config, name=config.model)

    @classmethod
    def from_weights(
        cls,
        path: str | os.PathLike | None = None,
        *,
        model: str | None = None,
        config: DenoiseConfig | None = None,
        **options,
    ) -> Denoiser | AutoDenoiser:
        """The short path: a file or a shipped model's name, other options by keyword (the fields of
        ``DenoiseConfig``: ``tile``, ``backend``, ``strength``, ...) over ``config`` (default: the
        defaults). No file and no model: the ``auto`` model."""
        base = config or DenoiseConfig()
        weights = str(path) if path is not None else base.weights
        return cls.from_config(dataclasses.replace(base, weights=weights, model=model or base.model, **options))

    @classmethod
    def from_checkpoint(
        cls, ckpt: Checkpoint, config: DenoiseConfig | None = None, *, name: str | None = None
    ) -> Denoiser:
        """From a loaded checkpoint, with the runtime and feeding options of ``config`` (its file and
        model options are not read). A checkpoint with no file (a model fine-tuned in memory:
        ``--adapt``, bursts) is converted for its backend in memory: no temporary file, and nothing
        added to the model cache."""
        c = config or DenoiseConfig()
        runner, backend, precision = runner_for_checkpoint(ckpt, c.backend, c.precision, c.device, c.compile, c.streams)
        name = name or (Path(ckpt.path).stem if ckpt.path else "adapted")
        meta = {**ckpt.meta, "name": name, "backend": backend, "precision": precision}
        return cls(runner, ckpt.config.in_channels, c, meta, ckpt.model, _streams(runner))

    def tiles_for(self, h: int, w: int) -> int:
        """Network runs for an HxW image (tiles, times the ensemble's views): the progress total."""
        if self.resize:
            w, h = self.resize
        return sum(self._tiles(vh, vw) for vh, vw in view_shapes(h, w, self.ensemble))

    def _tiles(self, h: int, w: int) -> int:
        tile = self.effective_tile(h, w)
        if not tile:
            return 1
        ys, _, xs, _ = tile_grid(h, w, tile, self.overlap)
        return len(ys) * len(xs)

    def effective_tile(self, h: int, w: int) -> int:
        if self.tile is None:
            return DEFAULT_TILE if h * w > AUTO_TILE_PIXELS else 0
        return self.tile if self.tile and h * w > self.tile * self.tile else 0

    def run_array(self, x: np.ndarray, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """``1xCxHxW`` float in [0, 1] -> ``1xC'xHxW`` float (unclipped), tiling and ensemble as configured."""
        c = x.shape[1]
        if c != self.in_channels:  # grey image through an RGB model, or RGB through a grey model
            x = np.repeat(x, self.in_channels, axis=1) if c == 1 else x.mean(axis=1, keepdims=True)
        y = self_ensemble(lambda v: self._run_view(v, progress), x, self.ensemble)
        if not np.isfinite(y).all():
            raise ValueError("the model produced NaN or infinite values: its weights are broken; nothing was written")
        if y.shape[1] != c:
            y = y.mean(axis=1, keepdims=True) if c == 1 else np.repeat(y, c, axis=1)
        return y

    def _run_view(self, x: np.ndarray, progress: Callable[[int], None] | None) -> np.ndarray:
        tile = self.effective_tile(*x.shape[-2:])
        y = run_tiled(self.runner, x, tile, self.overlap, progress) if tile else run_padded(self.runner, x)
        if progress and not tile:
            progress(1)
        return y

    @staticmethod
    def check_pixels(pixels: np.ndarray) -> np.ndarray:
        return check_array(pixels)

    def __call__(self, pixels: np.ndarray, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Denoise an OpenCV array (HxW, HxWx1, HxWx3 BGR or HxWx4 BGRA; uint8/uint16); returns the
        same shape and dtype (alpha passed through)."""
        colour, alpha, one_channel = split_array(pixels)
        out = self.denoise_array(preprocess(colour, self.resize), colour.dtype.type, progress)
        return join_array(out, self.resized_alpha(alpha), one_channel)

    def choose(self, x: np.ndarray) -> tuple[Denoiser, Choice | None]:
        """The ``Denoiser`` that runs ``x`` and the automatic choice behind it: this one and None,
        where the model is fixed (``AutoDenoiser.choose`` picks per image)."""
        return self, None

    def denoise(
        self, pixels: np.ndarray, progress: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, Choice | None]:
        """``self(pixels)`` and the automatic choice behind it: None here, where the model is fixed
        (``AutoDenoiser.denoise`` returns its choice)."""
        return self(pixels, progress), None

    def denoise_array(self, x: np.ndarray, dtype: type, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """The preprocessed ``x`` (``preprocess``) denoised, blended by ``strength`` and post-processed to ``dtype``."""
        if self.strength == 0:  # the input, exactly: no network run
            if progress:
                progress(self.tiles_for(*x.shape[-2:]))
            return postprocess(x, dtype)
        y = self.run_array(x, progress)
        if self.strength != 1:
            y = x + np.float32(self.strength) * (np.clip(y, 0, 1) - x)  # blend the pictures, not the raw output
        return postprocess(y, dtype)

    def resized_alpha(self, alpha: np.ndarray | None) -> np.ndarray | None:
        if alpha is not None and self.resize is not None:
            alpha = cv2.resize(alpha, self.resize, interpolation=cv2.INTER_NEAREST)
        return alpha

    def denoise_image(self, image: Image, progress: Callable[[int], None] | None = None) -> Image:
        """Denoise a decoded file; alpha is passed through untouched (resized with ``resize``). The
        output's ``meta`` names the model."""
        name = (self.meta or {}).get("name")
        return Image(self(image.pixels, progress), self.resized_alpha(image.alpha), {"model": name})
