"""The cache of converted models: ONNX and OpenVINO IR files made from a checkpoint, kept under
``$N2N_CACHE`` (else ``~/.cache/noise2noise``) and keyed by the weights' SHA-256, the precision
and the runtimes' versions, so a second run does not pay the conversion."""

from __future__ import annotations

import os
from pathlib import Path

from ..weights import Checkpoint, file_sha256
from .convert import export_onnx, export_openvino


def cache_dir() -> Path:
    """Where converted models are kept (``$N2N_CACHE``, else ``~/.cache/noise2noise``)."""
    d = Path(os.environ.get("N2N_CACHE", Path.home() / ".cache" / "noise2noise"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def cached_onnx(ckpt: Checkpoint, precision: str) -> Path:
    import onnxruntime
    import torch

    key = f"{file_sha256(ckpt.path)[:16]}-{precision}-torch{torch.__version__}-ort{onnxruntime.__version__}"
    path = cache_dir() / f"{key}.onnx"
    if not path.exists():
        export_onnx(ckpt.model, path, precision)
    return path


def cached_ir(ckpt: Checkpoint) -> Path:
    import openvino

    onnx_path = cached_onnx(ckpt, "fp32")
    path = onnx_path.with_name(f"{onnx_path.stem}-ov{openvino.__version__.split('-')[0]}.xml")
    if not path.exists() or not path.with_suffix(".bin").exists():
        export_openvino(onnx_path, path)
    return path
