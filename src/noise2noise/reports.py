"""Reports as standard JSON: a NaN or infinite number (a PSNR of identical images, a validation
score before the first validation) is written as ``null``, since ``NaN``/``Infinity`` are not JSON
and many parsers refuse them. The typed results of the commands (``FileResult``, ``BurstResult``,
``RunReport``) give their JSON with ``as_dict``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None (recursively through dicts, lists, tuples)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def dumps(obj: Any, indent: int | None = 2) -> str:
    return json.dumps(json_safe(obj), indent=indent, allow_nan=False)


# ---- typed results: one per input of a command, and the whole run's -----------------------------


@dataclass
class FileResult:
    """What became of one input of ``n2n denoise``: its ``output`` (None when it failed), the model
    that ran and, for ``auto``, why (``meta``: ``model``, ``reason``, ``noise``), ``seconds`` from
    decoding to written, and the ``error`` (None when it worked)."""

    input: str
    output: str | None = None
    meta: dict = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    def as_dict(self) -> dict:
        return {"input": self.input, "output": self.output, **self.meta, "seconds": self.seconds, "error": self.error}

    @classmethod
    def from_dict(cls, d: dict) -> FileResult:
        meta = {k: v for k, v in d.items() if k not in ("input", "output", "seconds", "error")}
        return cls(d["input"], d.get("output"), meta, d.get("seconds", 0.0), d.get("error"))


@dataclass
class BurstResult:
    """What became of one burst of ``n2n burst``: ``output``, its ``frames``, what the merge reports
    (``merge``: frames used, alignment per frame, model, method, stage times), ``seconds``, the
    ``error`` (None when it worked), and whether it was ``skipped`` (its output existed)."""

    name: str
    output: str
    frames: list[str]
    merge: dict = field(default_factory=dict)
    seconds: float | None = None
    error: str | None = None
    skipped: bool = False

    def as_dict(self) -> dict:
        head = {"name": self.name, "output": self.output, "frames": self.frames}
        if self.skipped:
            return {**head, "skipped": True, "error": None}
        return {**head, **self.merge, "error": self.error, "seconds": self.seconds}


@dataclass
class RunReport:
    """A command's results, one per input, and the count of those that failed: the exit code's
    rule for every command (0 all done, 1 some inputs failed, 2 bad usage) reads ``failures``."""

    results: list[FileResult] | list[BurstResult]
    options: dict | None = None  # a burst run's options (its report shows them)
    kind: str = "files"  # "files" (n2n denoise) or "bursts" (n2n burst)

    @property
    def failures(self) -> int:
        return sum(r.error is not None for r in self.results)

    def as_dict(self) -> dict:
        """The report's JSON: ``files`` (n2n denoise) or ``bursts`` and ``options`` (n2n burst), and
        ``failures`` (``failed`` too for bursts, the key it first had)."""
        rows = [r.as_dict() for r in self.results]
        if self.kind == "bursts":
            return {"options": self.options, "bursts": rows, "failed": self.failures, "failures": self.failures}
        return {"files": rows, "failures": self.failures}
