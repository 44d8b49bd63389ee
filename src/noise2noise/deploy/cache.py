"""The cache of converted models: ONNX and OpenVINO IR files made from a checkpoint, kept under
``$N2N_CACHE`` (else ``~/.cache/noise2noise``) and keyed by the weights' SHA-256, the precision
and the runtimes' versions, so a second run does not pay the conversion."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..runners import ModelFileError
from ..weights import Checkpoint, file_sha256
from .convert import export_onnx, export_openvino

T = TypeVar("T")


def cache_dir() -> Path:
    """Where converted models are kept (``$N2N_CACHE``, else ``~/.cache/noise2noise``)."""
    d = Path(os.environ.get("N2N_CACHE", Path.home() / ".cache" / "noise2noise"))
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(
            f"{d}: cannot use it as the model cache ({e.strerror or e}); set N2N_CACHE to a folder"
        ) from None
    return d


def _in_cache(make: Callable[[], Path]) -> Path:
    """``make()``, with a full disk reported as the cache's (the user may not know it is written)."""
    try:
        return make()
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise ValueError(
                f"{cache_dir()}: the disk of the model cache is full; free some space or set N2N_CACHE "
                "to a folder on another disk (nothing was left behind)"
            ) from None
        raise


def healed(make: Callable[[bool], Path], load: Callable[[Path], T]) -> T:
    """``load(make(False))``; if the cached file does not load (truncated, damaged), rebuild it
    once (``make(True)``) and load again, so a bad cache entry never fails every later run."""
    try:
        return load(make(False))
    except ModelFileError:
        return load(make(True))


def cached_onnx(ckpt: Checkpoint, precision: str, rebuild: bool = False) -> Path:
    import onnxruntime
    import torch

    key = f"{file_sha256(ckpt.path)[:16]}-{precision}-torch{torch.__version__}-ort{onnxruntime.__version__}"
    path = cache_dir() / f"{key}.onnx"
    if rebuild or not path.exists():
        _in_cache(lambda: export_onnx(ckpt.model, path, precision))
    return path


def cached_ir(ckpt: Checkpoint, rebuild: bool = False) -> Path:
    import openvino

    onnx_path = cached_onnx(ckpt, "fp32", rebuild)
    path = onnx_path.with_name(f"{onnx_path.stem}-ov{openvino.__version__.split('-')[0]}.xml")
    if rebuild or not path.exists() or not path.with_suffix(".bin").exists():
        _in_cache(lambda: export_openvino(onnx_path, path))
    return path
