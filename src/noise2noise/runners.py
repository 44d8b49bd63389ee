"""The runtimes behind one small interface: a *runner* is ``f(x) -> y`` with ``x`` a float32
``ndarray[N, C, H, W]`` (H, W multiples of 32) and ``y`` a float32 ``ndarray[N, C', H, W]``.

Eager PyTorch, ONNX Runtime and OpenVINO each give one; ``inference`` pads and tiles over any of
them, so every backend shares the same pre/post-processing and tiling code. Heavy runtimes are
imported inside the functions that need them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

Runner = Callable[[np.ndarray], np.ndarray]


def torch_runner(model, device: str = "cpu", precision: str = "fp32", compile: bool = False) -> Runner:
    """Eager PyTorch runner: fp32 (the reference implementation's way) or, on a GPU, fp16/bf16 autocast
    with channels_last; ``compile`` wraps the model in ``torch.compile`` (one compilation per input shape)."""
    import torch

    model = model.to(device).eval()
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
    if dtype is not None:
        model = model.to(memory_format=torch.channels_last)
    net = torch.compile(model) if compile else model
    kind = torch.device(device).type

    def run(x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(x)).to(device)
        if dtype is not None:
            t = t.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), torch.autocast(kind, dtype=dtype or torch.float32, enabled=dtype is not None):
            return net(t).float().cpu().numpy()

    return run


class ModelFileError(ValueError):
    """An exported model file that its runtime cannot load (garbage, truncated, a missing .bin)."""


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[-1][:160] if text else type(e).__name__


def env_threads() -> int | None:
    """Threads asked for by ``OMP_NUM_THREADS`` (as PyTorch obeys it), for the runtimes that do not
    read it themselves; None when unset or not a positive number."""
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        return None
    return n if n > 0 else None


def onnxruntime_runner(path: str | os.PathLike | bytes, threads: int | None = None) -> Runner:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    threads = threads or env_threads()
    if threads:
        opts.intra_op_num_threads = threads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        source = path if isinstance(path, bytes) else str(path)
        sess = ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own types for garbage or truncated files
        what = "the model in memory" if isinstance(path, bytes) else path
        raise ModelFileError(f"{what}: not a loadable ONNX model ({_first_line(e)})") from None
    name = sess.get_inputs()[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return sess.run(None, {name: np.ascontiguousarray(x, np.float32)})[0]

    return run


# oneDNN instruction-set caps (the ONEDNN_MAX_CPU_ISA environment variable, which OpenVINO's and
# PyTorch's kernels obey) below AVX512-BF16: OpenVINO still lists BF16 among the CPU's capabilities
# there, but has no bf16 kernels left (compiling fails), so the float layers must run fp32.
NO_BF16_ISAS = {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI"}


def isa_cap() -> str | None:
    """The oneDNN instruction-set cap in effect (e.g. ``AVX2``), or None."""
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    return cap if cap and cap != "ALL" else None


def openvino_precision_supported(precision: str) -> bool:
    """Whether this CPU computes ``precision`` natively in OpenVINO (bf16 needs AVX512-BF16/AMX,
    and no ``ONEDNN_MAX_CPU_ISA`` cap below it)."""
    import openvino as ov

    if precision == "bf16" and isa_cap() in NO_BF16_ISAS:
        return False
    caps = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return {"fp32": "FP32", "bf16": "BF16", "fp16": "FP16", "int8": "INT8"}[precision] in caps


def openvino_runner(
    path: str | os.PathLike | bytes, precision: str = "fp32", threads: int | None = None, streams: int = 1
) -> Runner:
    """Compile an OpenVINO IR (or ONNX) file, or ONNX bytes (a model held in memory only). ``precision`` is the inference precision hint:
    ``fp32`` exact, ``bf16`` where the CPU has it (an error elsewhere, rather than a silent fp32).

    ``streams=1``: one image at a time on every core (latency). ``streams`` > 1, or 0 for
    OpenVINO's choice: that many images at once, each on its share of the cores (throughput, for
    folders: no waiting of the cores for one another within a layer); the runner is then safe to
    call from that many threads, and its ``streams`` attribute says how many."""
    import queue

    import openvino as ov

    core = ov.Core()
    cfg: dict = {"PERFORMANCE_HINT": "LATENCY"}
    if streams != 1:
        cfg = {"PERFORMANCE_HINT": "THROUGHPUT"} | ({"NUM_STREAMS": streams} if streams > 1 else {})
    threads = threads or env_threads()
    if threads:
        cfg["INFERENCE_NUM_THREADS"] = threads
    if precision in ("bf16", "fp16"):
        if not openvino_precision_supported(precision):
            caps = ", ".join(core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
            raise ValueError(f"this CPU has no native {precision} in OpenVINO (capabilities: {caps})")
        cfg["INFERENCE_PRECISION_HINT"] = precision
    else:
        cfg["INFERENCE_PRECISION_HINT"] = "f32"
    try:
        model = core.read_model(io.BytesIO(path)) if isinstance(path, bytes) else core.read_model(str(path))
        compiled = core.compile_model(model, "CPU", cfg)
    except Exception as e:  # a garbage .xml, or an .xml whose .bin is missing or truncated
        what = "the model in memory" if isinstance(path, bytes) else path
        raise ModelFileError(f"{what}: not a loadable OpenVINO model ({_first_line(e)})") from None
    n = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")) if streams != 1 else 1
    requests: queue.SimpleQueue = queue.SimpleQueue()
    for _ in range(n):
        requests.put(compiled.create_infer_request())

    def run(x: np.ndarray) -> np.ndarray:
        request = requests.get()  # one request per concurrent call
        try:
            request.set_input_tensor(ov.Tensor(np.ascontiguousarray(x, np.float32)))  # no reshape of its own tensor
            request.infer()
            return request.get_output_tensor(0).data.copy()
        finally:
            requests.put(request)

    run.streams = n  # type: ignore[attr-defined]
    return run


def runner_for_file(
    path: str | os.PathLike, backend: str | None = None, precision: str = "fp32", streams: int = 1
) -> Runner:
    """A runner for an exported file, the backend chosen by its suffix unless given; ``streams``
    (OpenVINO): images at once (``openvino_runner``)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such model file")
    backend = backend or ("openvino" if p.suffix == ".xml" else "onnxruntime")
    if backend == "onnxruntime":
        return onnxruntime_runner(p)
    if backend == "openvino":
        return openvino_runner(p, precision, streams=streams)
    raise ValueError(f"backend {backend!r} needs a checkpoint, not an exported file")
