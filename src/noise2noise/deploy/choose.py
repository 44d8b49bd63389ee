"""The one backend policy, for Python and the CLI alike, and the runner it leads to.

``backend='auto'`` (the default everywhere) is the fast path on a CPU: OpenVINO when the
``openvino`` package is installed (its fp32 outputs equal eager fp32 torch to ~1e-6, tested), with
bf16 where the CPU computes it natively (AVX512-BF16/AMX) and ``precision='auto'``; eager PyTorch
otherwise. Where the weights have a shipped int8 model (``NAME.int8.onnx``, made by ``n2n export
--precision int8``: within 0.02 dB of fp32 on Kodak24/CBSD68 sigma 25, and faster), ``auto`` on
OpenVINO runs it, its float layers in bf16 where native. Asking for ``precision='fp32'`` alone picks eager PyTorch: fp32 torch is the exact
reference path. A device other than the CPU runs PyTorch, with fp16 autocast and channels_last
under ``precision='auto'`` (measured on an H200: +0.0003 dB against fp32, where bf16 lost 0.009).
Exported files (``.onnx``/``.xml``) run in the runtime their suffix names unless a runtime is given.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from ..config import BACKENDS, PRECISIONS, check_choice
from ..runners import (
    Runner,
    onnxruntime_runner,
    openvino_precision_supported,
    openvino_runner,
    runner_for_file,
    torch_runner,
)
from ..weights import Checkpoint, file_sha256
from .cache import cached_ir, cached_onnx, healed
from .convert import onnx_bytes

EXPORTED_SUFFIXES = (".onnx", ".xml")
GPU_PRECISION = "fp16"  # --device cuda with --precision auto: fp16 autocast, channels_last


def shipped_int8(ckpt: Checkpoint) -> Path | None:
    """The int8 model shipped beside ``ckpt``'s weights (``NAME.int8.onnx``), if there is one and its
    export report names these very weights (SHA-256); else ``None``."""
    if not ckpt.path:
        return None
    p = Path(ckpt.path)
    q = p.with_name(p.stem + ".int8.onnx")
    try:
        report = json.loads(q.with_name(q.name + ".json").read_text())
    except (OSError, ValueError):
        return None
    return q if q.is_file() and report.get("weights_sha256") == file_sha256(p) else None


def resolve_backend(
    backend: str = "auto", precision: str = "auto", device: str = "cpu", int8: bool = False
) -> tuple[str, str]:
    """``auto`` -> a concrete ``(backend, precision)`` for this machine; ``int8``: an int8 model
    exists for the weights (``shipped_int8``), which ``auto`` then takes on OpenVINO."""
    check_choice("backend", backend, BACKENDS)
    check_choice("precision", precision, PRECISIONS)
    if backend == "auto":
        exact = precision == "fp32" or device != "cpu"
        backend = "torch" if exact or importlib.util.find_spec("openvino") is None else "openvino"
    if precision == "auto" and device != "cpu":
        precision = GPU_PRECISION  # the fast path of a GPU (benchmarks/gpu_infer.py measured it)
    elif precision == "auto" and int8 and backend == "openvino":
        precision = "int8"  # within 0.02 dB of fp32 and faster (README "Deployment")
    elif precision == "auto":
        precision = "bf16" if backend == "openvino" and openvino_precision_supported("bf16") else "fp32"
    if device != "cpu" and backend != "torch":
        raise ValueError(f"--device {device} runs on the torch backend, not {backend}")
    return backend, precision


def runner_for_checkpoint(
    ckpt: Checkpoint,
    backend: str = "auto",
    precision: str = "auto",
    device: str = "cpu",
    compile: bool = False,
    streams: int = 1,
) -> tuple[Runner, str, str]:
    """A runner for ``ckpt``; returns it with the backend and precision actually used. ``compile``
    (torch backend) wraps the model in ``torch.compile``; ``streams`` (OpenVINO) images at once,
    0 = OpenVINO's choice (``runners.openvino_runner``)."""
    wants_int8 = precision in ("auto", "int8") and backend in ("auto", "openvino") and device == "cpu"
    int8 = shipped_int8(ckpt) if wants_int8 else None  # hashes the weights: only where it can matter
    backend, precision = resolve_backend(backend, precision, device, int8 is not None)
    if precision == "int8":
        if backend != "openvino" or int8 is None:
            raise ValueError(
                "--precision int8 runs a shipped int8 model on openvino; for other weights use "
                "`n2n export --precision int8 --calib DIR` and pass --weights FILE.onnx"
            )
        hint = "bf16" if openvino_precision_supported("bf16") else "fp32"  # for the layers kept float
        return runner_for_file(int8, "openvino", hint, streams), backend, precision
    if backend == "torch":
        if precision != "fp32" and device == "cpu":
            raise ValueError(
                f"the torch backend runs fp32 on the CPU (asked: {precision}); use --backend openvino/onnxruntime"
            )
        _check_device(device)
        return torch_runner(ckpt.model, device, precision, compile), backend, precision
    if not ckpt.path:  # a model in memory only (fine-tuned on the user's images): converted in memory, never cached
        if backend == "onnxruntime" and precision not in ("fp32", "fp16"):
            raise ValueError(f"onnxruntime takes fp32 or fp16 here, got {precision}")
        if backend == "openvino" and precision not in ("fp32", "bf16"):
            raise ValueError(f"openvino takes fp32 or bf16 here, got {precision}")
        if backend == "onnxruntime":
            return onnxruntime_runner(onnx_bytes(ckpt.model, precision)), backend, precision
        return openvino_runner(onnx_bytes(ckpt.model), precision, streams=streams), backend, precision
    if backend == "onnxruntime":
        if precision not in ("fp32", "fp16"):
            raise ValueError(
                f"onnxruntime takes fp32 or fp16 here (int8: use `n2n export` and --weights FILE.onnx), got {precision}"
            )
        make = lambda rebuild: cached_onnx(ckpt, precision, rebuild)  # noqa: E731
        return healed(make, lambda p: runner_for_file(p, "onnxruntime")), backend, precision
    if precision not in ("fp32", "bf16"):
        raise ValueError(
            f"openvino takes fp32 or bf16 here (int8: use `n2n export` and --weights FILE.xml), got {precision}"
        )
    runner = healed(
        lambda rebuild: cached_ir(ckpt, rebuild), lambda p: runner_for_file(p, "openvino", precision, streams)
    )
    return runner, backend, precision


def runner_for_exported(
    path: str | os.PathLike, backend: str = "auto", precision: str = "auto", streams: int = 1
) -> tuple[Runner, str, str]:
    """A runner for an exported ``.onnx``/``.xml`` file (their own weights' precision; ``bf16`` is
    an OpenVINO compile hint); returns it with the backend and the precision asked of the runtime
    ("" when the file's own precision is used)."""
    check_choice("backend", backend, BACKENDS)
    check_choice("precision", precision, PRECISIONS)
    runtime = "openvino" if str(path).endswith(".xml") else "onnxruntime"
    if backend not in ("auto", "torch"):
        runtime = backend
    if precision == "fp16":
        raise ValueError("an exported file runs in the precision it was exported in; export with --precision fp16")
    if precision == "bf16" and runtime != "openvino":
        raise ValueError("bf16 is an OpenVINO inference precision: add --backend openvino")
    hint = "bf16" if precision == "bf16" else "fp32"
    return runner_for_file(path, runtime, hint, streams), runtime, "bf16" if hint == "bf16" else ""


def _check_device(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(f"--device {device}: this machine has no CUDA device (torch {torch.__version__})")
