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
from .inference import ImageMethods, Progress
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
class AutoDenoiser(ImageMethods):
    """A denoiser (``inference.ImageDenoiser``) that picks, per image, the shipped model its noise
    calls for, and runs that model's denoiser.

    ``build(name)`` returns the denoiser of a shipped model with the shared options (``config``);
    each is built once, on first use, and shared by copies made with ``with_options`` (the server
    changes ``strength``/``ensemble`` per request that way)."""

    build: Callable[[str], Any]
    config: Any  # the DenoiseConfig shared by every candidate
    _built: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        first = self.get(PHOTO)  # built now, so bad options fail before any image is read
        self.base, self.streams = first.base, first.streams  # every candidate: one architecture, one runtime
        keep = ("backend", "precision")
        self.meta = {"name": AUTO, "models": list(CANDIDATES), **{k: first.meta[k] for k in keep if k in first.meta}}

    def get(self, name: str) -> Any:
        """The denoiser of ``name`` with this one's options (strength, ensemble, ...)."""
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

    def choose(self, x: np.ndarray) -> tuple[Any, Choice]:
        """The chosen model's denoiser for the preprocessed ``x`` (``1xCxHxW``), and the choice."""
        c = pick(x)
        return self.get(c.model), c

    def run_and_choose(self, x: np.ndarray, progress: Progress = None) -> tuple[np.ndarray, Choice]:
        den, c = self.choose(x)
        return den.run_array(x, progress), c

    def run_array(self, x: np.ndarray, progress: Progress = None) -> np.ndarray:
        return self.run_and_choose(x, progress)[0]

    def steps(self, h: int, w: int) -> int:
        return self.get(PHOTO).steps(h, w)  # every candidate has the same architecture and tiling
