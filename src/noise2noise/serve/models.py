"""The models a server offers: ``auto`` (the shipped model chosen per image, the default), the
shipped ones and an optional checkpoint file, each loaded on first use with the same call and
defaults as ``n2n denoise`` (so the pixels are the same)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..auto import AUTO, CANDIDATES, AutoDenoiser
from ..config import DenoiseConfig
from ..denoiser import Denoiser
from ..weights import WeightsError, available_models, load_checkpoint


@dataclass
class ModelPool:
    """Named models; ``weights`` (a file) is offered under its file name and becomes the default;
    else ``auto`` is the default when every model it chooses from is installed."""

    weights: str | None = None
    default: str | None = None
    config: DenoiseConfig = field(default_factory=DenoiseConfig)  # how every model runs (its file and model unset)
    _loaded: dict[str, Denoiser] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _description: list[dict] | None = None

    def __post_init__(self) -> None:
        self.files = {Path(self.weights).stem: self.weights} if self.weights else {}
        if self.weights:
            load_checkpoint(self.weights)  # a bad file is an error at start, not on the first request
        self.default = self.default or next(iter(self.names()), None)
        if self.default not in self.names():
            raise WeightsError(f"unknown model {self.default!r}; offered: {', '.join(self.names())}")

    def names(self) -> list[str]:
        shipped = available_models()
        auto = [AUTO] if all(m in shipped for m in CANDIDATES) else []
        return [*self.files, *auto, *shipped]

    def source(self, name: str | None) -> tuple[str | None, str | None]:
        """``(model, weights)`` of ``name`` (default: the pool's default) as ``load_checkpoint`` takes
        them: ``(None, None)`` for auto, a shipped model's name, or the offered file."""
        name = name or self.default
        if name not in self.names():
            raise WeightsError(f"unknown model {name!r}; offered: {', '.join(self.names())}")
        if name in self.files:
            return None, self.files[name]
        return (None if name == AUTO else name), None

    def describe(self) -> list[dict]:
        """What ``GET /api/models`` lists (read from the files once: the offer does not change)."""
        if self._description is None:
            self._description = self._read_description()
        return self._description

    def _read_description(self) -> list[dict]:
        out = []
        for name in self.names():
            if name == AUTO:
                noise = f"per image: {' or '.join(CANDIDATES)}"
                out.append({"name": name, "default": name == self.default, "noise": noise, "target": None})
                continue
            meta = load_checkpoint(self.files.get(name), None if name in self.files else name).meta
            training = meta.get("training", {})
            out.append(
                {
                    "name": name,
                    "default": name == self.default,
                    "noise": meta.get("noise"),
                    "target": training.get("target"),
                }
            )
        return out

    def get(self, name: str | None) -> Denoiser | AutoDenoiser:
        """The Denoiser of ``name`` (default: the pool's default), loaded once."""
        name = name or self.default
        if name not in self.names():
            raise WeightsError(f"unknown model {name!r}; offered: {', '.join(self.names())}")
        with self._lock:
            if name not in self._loaded:
                src = self.files.get(name)
                self._loaded[name] = Denoiser.from_weights(src, model=None if src else name, config=self.config)
            return self._loaded[name]
