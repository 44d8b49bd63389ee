"""The ``auto`` model: each image is denoised by the shipped model its own noise calls for.

``noise.profile.profile`` measures the noise of the decoded image (how white it is between
neighbouring pixels, between colour channels and across brightness); ``noise.profile.choose`` names
the model: ``n2n-gaussian`` for white noise of one level, ``n2n-phone`` for strong camera-like noise
(a phone in low light), ``n2n-photo`` for everything else (a camera's noise, or next to no noise). The chosen model then runs by its usual path (its int8 file
on OpenVINO, tiling, ensemble), built once on first use with the options every model shares. The
choice depends on the pixels alone, so the same image always gets the same model.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import FEEDING, with_feeding
from .images import Image, join_array, preprocess, split_array
from .noise.profile import GAUSSIAN, PHONE, PHOTO, NoiseProfile, choose, profile

AUTO = "auto"
CANDIDATES = (GAUSSIAN, PHOTO, PHONE)


@dataclass(frozen=True)
class Choice:
    """The model picked for one image and the figures it was picked on."""

    model: str
    reason: str
    noise: NoiseProfile

    def as_dict(self) -> dict:
        return {"model": self.model, "reason": self.reason, "noise": self.noise.as_dict()}


def pick(x: np.ndarray) -> Choice:
    """The shipped model for ``x`` (``1xCxHxW`` or ``CxHxW`` float in [0, 1])."""
    p = profile(x)
    model, reason = choose(p)
    return Choice(model, reason, p)


@dataclass
class AutoDenoiser:
    """Denoises like a ``Denoiser`` (same call, same arrays), choosing the model per image.

    ``build(name)`` returns the ``Denoiser`` of a shipped model with the shared options (``config``);
    each is built once, on first use, and shared by copies made with ``with_options`` (the server
    changes ``strength``/``ensemble`` per request that way)."""

    build: Callable[[str], Any]
    config: Any  # the DenoiseConfig shared by every candidate
    _built: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.first = self.get(PHOTO)  # built now, so bad options fail before any image is read

    def get(self, name: str) -> Any:
        """The ``Denoiser`` of ``name`` with this one's options (strength, ensemble, ...)."""
        with self._lock:
            if name not in self._built:
                self._built[name] = self.build(name)
        den = self._built[name]
        changed = {k: getattr(self.config, k) for k in FEEDING if getattr(den.config, k) != getattr(self.config, k)}
        return den.with_options(**changed) if changed else den

    def with_options(self, **changes) -> AutoDenoiser:
        """This auto denoiser, sharing its built models, with some of the options that do not change
        the model changed (``config.FEEDING``)."""
        return dataclasses.replace(self, config=with_feeding(self.config, **changes))

    @property
    def strength(self) -> float:
        return self.config.strength

    @property
    def ensemble(self) -> int:
        return self.config.ensemble

    # the attributes callers read from a Denoiser
    @property
    def streams(self) -> int:
        return self.first.streams

    @property
    def resize(self) -> tuple[int, int] | None:
        return self.first.resize

    @property
    def in_channels(self) -> int:
        return self.first.in_channels

    @property
    def model(self) -> Any:
        return self.first.model

    @property
    def meta(self) -> dict:
        keep = ("backend", "precision")
        return {
            "name": AUTO,
            "models": list(CANDIDATES),
            **{k: self.first.meta[k] for k in keep if k in self.first.meta},
        }

    def tiles_for(self, h: int, w: int) -> int:
        return self.first.tiles_for(h, w)  # every candidate has the same architecture and tiling

    def choose(self, x: np.ndarray) -> tuple[Any, Choice]:
        """The chosen model's ``Denoiser`` for the preprocessed ``x`` (``1xCxHxW``), and the choice."""
        c = pick(x)
        return self.get(c.model), c

    def run_array(self, x: np.ndarray, progress: Callable[[int], None] | None = None) -> np.ndarray:
        return self.choose(x)[0].run_array(x, progress)

    def denoise(self, pixels: np.ndarray, progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, Choice]:
        """An OpenCV array denoised (same shape and dtype, checked as a fixed model checks it), and
        the choice made for it."""
        colour, alpha, one_channel = split_array(pixels)
        x = preprocess(colour, self.resize)
        den, c = self.choose(x)
        return join_array(den.denoise_array(x, colour.dtype.type, progress), den.resized_alpha(alpha), one_channel), c

    def __call__(self, pixels: np.ndarray, progress: Callable[[int], None] | None = None) -> np.ndarray:
        return self.denoise(pixels, progress)[0]

    def denoise_image(self, image: Image, progress: Callable[[int], None] | None = None) -> Image:
        """A decoded file denoised; the output's ``meta`` names the model and the figures."""
        den = self.first
        out, c = self.denoise(den.check_pixels(image.pixels), progress)
        return Image(out, den.resized_alpha(image.alpha), c.as_dict())
