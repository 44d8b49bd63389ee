"""Choosing a runner for a checkpoint: backend, precision, and the conversion cache.

``backend='auto'`` is the fast default on a CPU: OpenVINO fp32 when the ``openvino`` package is
installed (its outputs equal eager fp32 torch to ~1e-6, tested), bf16 where the CPU computes it
natively and ``precision='auto'``, else eager PyTorch. ``precision='fp32'`` with ``backend='torch'``
is the exact reference path. Conversions are cached under ``backends.cache_dir()``, keyed by the
weights' SHA-256, the precision and the runtime's version, so a second run does not pay them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from .backends import cache_dir, onnxruntime_runner, openvino_precision_supported, openvino_runner
from .inference import Runner, torch_runner
from .weights import Checkpoint, file_sha256


def resolve_backend(backend: str, precision: str) -> tuple[str, str]:
    """``auto`` -> a concrete (backend, precision) for this machine."""
    if backend == "auto":
        if importlib.util.find_spec("openvino") is None:
            return "torch", "fp32"
        backend = "openvino"
    if precision == "auto":
        precision = "bf16" if backend == "openvino" and openvino_precision_supported("bf16") else "fp32"
    return backend, precision


def _cached_onnx(ckpt: Checkpoint, precision: str) -> Path:
    import onnxruntime
    import torch

    from .export import export_onnx

    key = f"{file_sha256(ckpt.path)[:16]}-{precision}-torch{torch.__version__}-ort{onnxruntime.__version__}"
    path = cache_dir() / f"{key}.onnx"
    if not path.exists():
        tmp = path.with_name(f".{path.name}.tmp")
        export_onnx(ckpt.model, tmp, precision)
        tmp.replace(path)
    return path


def _cached_ir(ckpt: Checkpoint) -> Path:
    import openvino

    from .export import export_openvino

    onnx_path = _cached_onnx(ckpt, "fp32")
    path = onnx_path.with_name(f"{onnx_path.stem}-ov{openvino.__version__.split('-')[0]}.xml")
    if not path.exists():
        tmp = path.with_name(f".{path.stem}.tmp.xml")
        export_openvino(onnx_path, tmp)
        tmp.with_suffix(".bin").replace(path.with_suffix(".bin"))
        tmp.replace(path)
    return path


def runner_for_checkpoint(
    ckpt: Checkpoint, backend: str = "auto", precision: str = "auto", device: str = "cpu"
) -> tuple[Runner, str, str]:
    """A runner for ``ckpt``; returns it with the backend and precision actually used."""
    backend, precision = resolve_backend(backend, precision)
    if backend == "torch":
        if precision != "fp32":
            raise ValueError(f"the torch backend runs fp32 (asked: {precision}); use --backend openvino/onnxruntime")
        return torch_runner(ckpt.model, device), backend, precision
    if not ckpt.path:
        raise ValueError("exported backends need a checkpoint file")
    if backend == "onnxruntime":
        if precision not in ("fp32", "fp16"):
            raise ValueError(
                f"onnxruntime takes fp32 or fp16 here (int8: use `n2n export` and --weights FILE.onnx), got {precision}"
            )
        return onnxruntime_runner(_cached_onnx(ckpt, precision)), backend, precision
    if backend == "openvino":
        if precision not in ("fp32", "bf16"):
            raise ValueError(
                f"openvino takes fp32 or bf16 here (int8: use `n2n export` and --weights FILE.xml), got {precision}"
            )
        return openvino_runner(_cached_ir(ckpt), precision), backend, precision
    raise ValueError(f"unknown backend {backend!r}; choose auto, torch, onnxruntime or openvino")
