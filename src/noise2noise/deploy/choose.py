"""The one backend policy, for Python and the CLI alike, and the runner it leads to.

``backend='auto'`` (the default everywhere) is the fast path on a CPU: OpenVINO when the
``openvino`` package is installed (its fp32 outputs equal eager fp32 torch to ~1e-6, tested), with
bf16 where the CPU computes it natively (AVX512-BF16/AMX) and ``precision='auto'``; eager PyTorch
otherwise. Asking for ``precision='fp32'`` alone picks eager PyTorch: fp32 torch is the exact
reference path. A device other than the CPU runs PyTorch, with fp16 autocast and channels_last
under ``precision='auto'`` (measured on an H200: +0.0003 dB against fp32, where bf16 lost 0.009).
Exported files (``.onnx``/``.xml``) run in the runtime their suffix names unless a runtime is given.
"""

from __future__ import annotations

import importlib.util
import os

from ..config import BACKENDS, PRECISIONS, check_choice
from ..runners import Runner, openvino_precision_supported, runner_for_file, torch_runner
from ..weights import Checkpoint
from .cache import cached_ir, cached_onnx, healed

EXPORTED_SUFFIXES = (".onnx", ".xml")
GPU_PRECISION = "fp16"  # --device cuda with --precision auto: fp16 autocast, channels_last


def resolve_backend(backend: str = "auto", precision: str = "auto", device: str = "cpu") -> tuple[str, str]:
    """``auto`` -> a concrete ``(backend, precision)`` for this machine."""
    check_choice("backend", backend, BACKENDS)
    check_choice("precision", precision, PRECISIONS)
    if backend == "auto":
        exact = precision == "fp32" or device != "cpu"
        backend = "torch" if exact or importlib.util.find_spec("openvino") is None else "openvino"
    if precision == "auto" and device != "cpu":
        precision = GPU_PRECISION  # the fast path of a GPU (benchmarks/gpu_infer.py measured it)
    elif precision == "auto":
        precision = "bf16" if backend == "openvino" and openvino_precision_supported("bf16") else "fp32"
    if device != "cpu" and backend != "torch":
        raise ValueError(f"--device {device} runs on the torch backend, not {backend}")
    return backend, precision


def runner_for_checkpoint(
    ckpt: Checkpoint, backend: str = "auto", precision: str = "auto", device: str = "cpu", compile: bool = False
) -> tuple[Runner, str, str]:
    """A runner for ``ckpt``; returns it with the backend and precision actually used. ``compile``
    (torch backend) wraps the model in ``torch.compile``."""
    backend, precision = resolve_backend(backend, precision, device)
    if backend == "torch":
        if precision != "fp32" and device == "cpu":
            raise ValueError(
                f"the torch backend runs fp32 on the CPU (asked: {precision}); use --backend openvino/onnxruntime"
            )
        _check_device(device)
        return torch_runner(ckpt.model, device, precision, compile), backend, precision
    if not ckpt.path:
        raise ValueError("exported backends need a checkpoint file")
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
    runner = healed(lambda rebuild: cached_ir(ckpt, rebuild), lambda p: runner_for_file(p, "openvino", precision))
    return runner, backend, precision


def runner_for_exported(
    path: str | os.PathLike, backend: str = "auto", precision: str = "auto"
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
    return runner_for_file(path, runtime, hint), runtime, "bf16" if hint == "bf16" else ""


def _check_device(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(f"--device {device}: this machine has no CUDA device (torch {torch.__version__})")
