"""Export as one library call: ``export(out="m.onnx", precision="int8", calib=...)`` -> a report.

The steps: check the options and read the check image (before anything is written); convert in a
temporary folder beside the output (fp32/fp16 ONNX, OpenVINO IR, or int8 by our calibration or
NNCF); run the result against eager fp32 torch on the check image; only then move it into place
with its ``.json`` report. When the fp32 check fails, nothing is left at the output path.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from torch import nn

from ..atomic import check_writable, disk_full, write_text
from ..config import ExportConfig
from ..data.folders import find_images, load_rgb
from ..images import preprocess, read_image, to_float
from ..inference import run_padded
from ..model import UNet
from ..reports import dumps
from ..runners import Runner, onnxruntime_runner, openvino_precision_supported, openvino_runner, torch_runner
from ..weights import Checkpoint, file_sha256, load_checkpoint
from .convert import export_onnx, export_openvino
from .int8 import calibration_batches, export_int8_nncf
from .quant import quantize_onnx
from .split import int8_graph

FP32_TOLERANCE = 1e-4  # max |difference| from eager torch accepted for an fp32 export


def check_against_torch(model: nn.Module, runner: Runner, image: np.ndarray) -> float:
    """Max absolute difference between ``runner`` and eager fp32 torch on ``image`` (1xCxHxW)."""
    ref = run_padded(torch_runner(model), image)
    return float(np.abs(run_padded(runner, image) - ref).max())


def check_input(cfg: ExportConfig, size: int = 256) -> np.ndarray:
    """The ``1x3xSxS`` image the export is checked on: ``check_image``, else the first calibration
    image, else a synthetic gradient with noise."""
    path = cfg.check_image
    if path is None and cfg.calib:
        path = str(find_images([cfg.calib])[0])
    if path:
        x = preprocess(read_image(path).pixels)
        if x.shape[1] == 1:
            x = np.repeat(x, 3, axis=1)
        return np.ascontiguousarray(x[..., :size, :size])
    y, xx = np.mgrid[0:size, 0:size] / size
    img = np.stack([xx, y, (xx + y) / 2])[None].astype(np.float32)
    return img + np.random.default_rng(0).normal(0, 0.1, img.shape).astype(np.float32)


def _calibration(ck: Checkpoint, cfg: ExportConfig) -> tuple[str, list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The calibration noise, noisy crops, their clean targets and the probe's noisy crops."""
    noise = cfg.calib_noise or ck.meta.get("noise") or "gaussian:25"
    imgs = [to_float(load_rgb(p)) for p in find_images([cfg.calib])[: cfg.calib_count]]  # type: ignore[list-item]
    batches, clean = calibration_batches(imgs, noise, cfg.calib_count)
    probe, _ = calibration_batches(imgs, cfg.probe_noise, cfg.calib_count)
    return noise, batches, clean, probe


def _int8(ck: Checkpoint, cfg: ExportConfig, work: Path, staged: Path, log: Callable[[str], None] | None) -> dict:
    """Calibrate and write the int8 model at ``staged``; returns the report's int8 fields."""
    noise, batches, clean, probe = _calibration(ck, cfg)
    report: dict = {"method": cfg.method, "calibration_images": len(batches), "calibration_noise": noise}
    # the same function, its image path apart (deploy/split.py), its channel ranges evened (deploy/equalize.py)
    fp32_onnx = work / "fp32.onnx"
    graph = int8_graph(ck.model, batches if cfg.equalize else None)
    export_onnx(graph, fp32_onnx, "fp32")
    report["equalized"] = cfg.equalize and isinstance(ck.model, UNet)
    if cfg.method == "nncf":
        export_int8_nncf(fp32_onnx, staged, batches)
        return report
    target = staged if cfg.resolved_format == "onnx" else staged.with_name("int8.onnx")
    q = quantize_onnx(
        fp32_onnx, target, batches, cfg.method, clean=clean, max_drop_db=cfg.max_drop, log=log, probe=probe
    )
    report.update(
        probe_noise=cfg.probe_noise,
        float_inputs=q["float_inputs"],
        calibration_drop_db=q.get("calibration_drop_db"),
        quantized_inputs=len(q["ranges"]),
    )
    if cfg.resolved_format == "openvino":
        export_openvino(target, staged)
    return report


def _convert(ck: Checkpoint, cfg: ExportConfig, work: Path, staged: Path, log) -> dict:
    if cfg.precision == "int8":
        return _int8(ck, cfg, work, staged, log)
    fp32_onnx = work / "fp32.onnx"
    export_onnx(ck.model, fp32_onnx, "fp32")
    if cfg.resolved_format == "onnx":
        export_onnx(ck.model, staged, cfg.precision)
    else:
        export_openvino(fp32_onnx, staged, fp16_weights=cfg.precision == "fp16")
    return {}


def _move_into_place(staged: Path, out: Path) -> None:
    if staged.suffix == ".xml":
        os.replace(staged.with_suffix(".bin"), out.with_suffix(".bin"))
    os.replace(staged, out)


@contextmanager
def _failures_named_for(out: Path, work: Path):
    """A failure of the conversion's writes (into the temporary folder ``work``) is reported for the
    user's ``out``: a full disk said to be one, never the temporary folder's name."""
    try:
        yield
    except Exception as e:
        if disk_full(e, out.parent):
            raise OSError(errno.ENOSPC, "no space left on the disk; nothing was written", str(out)) from e
        if isinstance(e, OSError) and e.filename and str(work) in str(e.filename):
            raise OSError(e.errno, f"cannot write ({e.strerror or e}); nothing was written", str(out)) from e
        raise


def export(config: ExportConfig | None = None, *, log: Callable[[str], None] | None = None, **options) -> dict:
    """Export a checkpoint (``weights``, or a shipped ``model``; the default model when neither is
    given) to ``out`` (.onnx or .xml) and check it against torch. ``options`` are the fields of
    ``ExportConfig``. Returns the report that is also written to ``out + '.json'``."""
    cfg = config or ExportConfig(**options)
    fmt = cfg.resolved_format
    if cfg.precision == "bf16" and not openvino_precision_supported("bf16"):
        raise ValueError("this CPU has no native bf16 (AVX512-BF16/AMX), so a bf16 export would silently run fp32")
    out = Path(cfg.out)
    check_writable(out)
    ck = load_checkpoint(cfg.weights, cfg.model, cfg.arch)
    check = check_input(cfg)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work_dir = tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent)
    except OSError as e:
        raise ValueError(f"{out}: cannot write there ({e.strerror or e})") from None
    report: dict = {
        "source": Path(ck.path).name if ck.path else None,  # the file name: no path of the machine it was made on
        "weights_sha256": file_sha256(ck.path) if ck.path else None,
        "format": fmt,
        "precision": cfg.precision,
    }
    with work_dir as work, _failures_named_for(out, Path(work)):
        staged = Path(work) / f"model{out.suffix}"
        report.update(_convert(ck, cfg, Path(work), staged, log))
        hint = "bf16" if cfg.precision == "bf16" else "fp32"
        runner = openvino_runner(staged, hint) if fmt == "openvino" else onnxruntime_runner(staged)
        diff = check_against_torch(ck.model, runner, check)
        report["max_abs_diff_vs_torch"] = diff
        if cfg.precision == "fp32" and diff > FP32_TOLERANCE:
            raise ValueError(f"{out}: fp32 export differs from torch by {diff:.2e} (> {FP32_TOLERANCE:g}); not written")
        _move_into_place(staged, out)
    write_text(str(out) + ".json", dumps(report) + "\n")
    return report
