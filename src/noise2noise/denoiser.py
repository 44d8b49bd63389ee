"""The ``Denoiser`` API: a checkpoint or exported file, the runner the backend policy chooses for it
(``deploy.choose``), and inference (padding, tiling) with the card's pre/post-processing.

    den = Denoiser.from_weights()                 # the shipped default model, backend "auto"
    out = den(cv2.imread("photo.png"))            # same shape and dtype, BGR as OpenCV reads it

``n2n denoise`` builds its Denoiser with this same call and the same defaults.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from torch import nn

from .auto import AutoDenoiser
from .config import DenoiseConfig, with_feeding
from .deploy.choose import EXPORTED_SUFFIXES, runner_for_checkpoint, runner_for_exported
from .ensemble import wrap
from .inference import (
    AUTO_TILE_PIXELS,
    DEFAULT_TILE,
    ImageDenoiser,
    ImageMethods,
    Progress,
    match_channels,
    run_padded,
    run_tiled,
    tile_grid,
)
from .runners import Runner
from .weights import Checkpoint, load_checkpoint


def _streams(runner: Runner) -> int:
    return int(getattr(runner, "streams", 1))


@dataclass
class Denoiser(ImageMethods):
    """A model's denoiser: its network on a runner, with padding and tiling; the image methods
    (``__call__``, ``denoise``, ``denoise_image``) come from ``inference.ImageMethods``.

    Its options are its ``config`` (``config.DenoiseConfig``: defined and validated there). Tiling:
    ``tile=None`` tiles automatically above ``AUTO_TILE_PIXELS``; ``tile=0`` never tiles; ``tile=N``
    tiles images of more than N x N pixels into tiles of at most that many (``inference.run_tiled``).
    The config's ``ensemble`` and ``strength`` are wrappers around it (``ensemble.wrap``), which
    ``from_config`` and ``with_options`` apply."""

    runner: Runner
    in_channels: int = 3
    config: DenoiseConfig = field(default_factory=DenoiseConfig)
    meta: dict | None = None
    model: nn.Module | None = None  # the source network when built from a checkpoint (for info)
    streams: int = 1  # images the runner takes at once, from as many threads (``files.denoise_files``)

    def __post_init__(self) -> None:
        if self.in_channels not in (1, 3):
            raise ValueError(f"the model takes {self.in_channels} channels; only 1 (grey) or 3 (RGB) can be denoised")

    @property
    def base(self) -> Denoiser:
        return self

    def with_options(self, **changes) -> ImageDenoiser:
        """This model's denoiser, sharing its runner, with some of the options that do not change
        the model changed (``config.FEEDING``: ``strength``, ``ensemble``, ``tile``, ...), wrapped as
        they ask."""
        return wrap(dataclasses.replace(self, config=with_feeding(self.config, **changes)))

    @classmethod
    def from_config(cls, config: DenoiseConfig) -> ImageDenoiser:
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
            return wrap(cls(runner, 3, config, meta, streams=_streams(runner)))
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
    ) -> ImageDenoiser:
        """The short path: a file or a shipped model's name, other options by keyword (the fields of
        ``DenoiseConfig``: ``tile``, ``backend``, ``strength``, ...) over ``config`` (default: the
        defaults). No file and no model: the ``auto`` model."""
        base = config or DenoiseConfig()
        weights = str(path) if path is not None else base.weights
        return cls.from_config(dataclasses.replace(base, weights=weights, model=model or base.model, **options))

    @classmethod
    def from_checkpoint(
        cls, ckpt: Checkpoint, config: DenoiseConfig | None = None, *, name: str | None = None
    ) -> ImageDenoiser:
        """From a loaded checkpoint, with the runtime and feeding options of ``config`` (its file and
        model options are not read). A checkpoint with no file (a model fine-tuned in memory:
        ``--adapt``, bursts) is converted for its backend in memory: no temporary file, and nothing
        added to the model cache."""
        c = config or DenoiseConfig()
        runner, backend, precision = runner_for_checkpoint(ckpt, c.backend, c.precision, c.device, c.compile, c.streams)
        name = name or (Path(ckpt.path).stem if ckpt.path else "adapted")
        meta = {**ckpt.meta, "name": name, "backend": backend, "precision": precision}
        return wrap(cls(runner, ckpt.config.in_channels, c, meta, ckpt.model, _streams(runner)))

    def steps(self, h: int, w: int) -> int:
        """Network runs (tiles) for an ``h`` x ``w`` array."""
        tile = self.effective_tile(h, w)
        if not tile:
            return 1
        ys, _, xs, _ = tile_grid(h, w, tile, self.config.overlap)
        return len(ys) * len(xs)

    def effective_tile(self, h: int, w: int) -> int:
        tile = self.config.tile
        if tile is None:
            return DEFAULT_TILE if h * w > AUTO_TILE_PIXELS else 0
        return tile if tile and h * w > tile * tile else 0

    def run_array(self, x: np.ndarray, progress: Progress = None) -> np.ndarray:
        """``1xCxHxW`` float in [0, 1] -> ``1xCxHxW`` float (unclipped), tiled as configured."""
        c = x.shape[1]
        x = match_channels(x, self.in_channels)  # grey image through an RGB model, or RGB through a grey model
        tile = self.effective_tile(*x.shape[-2:])
        y = run_tiled(self.runner, x, tile, self.config.overlap, progress) if tile else run_padded(self.runner, x)
        if progress and not tile:
            progress(1)
        if not np.isfinite(y).all():
            raise ValueError("the model produced NaN or infinite values: its weights are broken; nothing was written")
        return match_channels(y, c)
