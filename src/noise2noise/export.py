"""``n2n export``: ONNX and OpenVINO files in fp32 / fp16 / bf16 / int8, checked after export.

* ONNX: opset 17, dynamic batch/height/width (multiples of 32; inference pads), fp32 or fp16
  (fp16 weights and arithmetic inside, fp32 input and output).
* OpenVINO IR: converted from the fp32 ONNX; ``bf16`` is the fp32 IR compiled with a bf16
  inference hint, available only where the CPU has AVX512-BF16/AMX.
* int8: ``kl`` / ``minmax`` / ``percentile`` calibration of our own (``quant``) written as a QDQ
  ONNX model, or ``nncf`` (OpenVINO's post-training quantization) as an IR.

Every export is run right away against torch on a real (or synthetic) image and the maximum
absolute difference is reported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from .inference import run_padded, torch_runner
from .noise import NoiseConfig, add_noise

PRECISIONS = ("fp32", "fp16", "bf16", "int8")
INT8_METHODS = ("kl", "minmax", "percentile", "nncf")


class _Half(nn.Module):
    """fp16 inside, fp32 at the edges (for runtimes that feed fp32)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model.half()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.half()).float()


def export_onnx(model: nn.Module, path: str | Path, precision: str = "fp32", opset: int = 17) -> Path:
    import copy
    import warnings

    if precision not in ("fp32", "fp16"):
        raise ValueError(f"ONNX export takes fp32 or fp16, got {precision!r}")
    m = copy.deepcopy(model).float().eval()
    m = _Half(m) if precision == "fp16" else m
    dyn = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(m, (torch.zeros(1, 3 if not hasattr(model, "enc_conv0") else model.enc_conv0.in_channels, 64, 64),),
                          str(path), opset_version=opset, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": dyn, "output": dyn}, dynamo=False)  # fmt: skip
    return Path(path)


def export_openvino(onnx_fp32: str | Path, path: str | Path, fp16_weights: bool = False) -> Path:
    import openvino as ov

    ov.save_model(ov.convert_model(str(onnx_fp32)), str(path), compress_to_fp16=fp16_weights)
    return Path(path)


def calibration_batches(
    images: list[np.ndarray], noise: str, count: int = 16, size: int = 256, seed: int = 0
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Noisy ``1x3xSxS`` inputs for calibration and their clean ``1x3xSxS`` targets: centre crops of
    clean RGB float images with the model's noise (a range is sampled per image, as in training)."""
    cfg = NoiseConfig.parse(noise)
    out, clean = [], []
    for i, img in enumerate(images[:count]):
        h, w = img.shape[:2]
        s = min(size, h, w) // 32 * 32
        y, x = (h - s) // 2, (w - s) // 2
        crop = img[y : y + s, x : x + s]
        noisy, _ = add_noise(crop, cfg, np.random.default_rng(seed * 1_000_000 + i))
        out.append(np.ascontiguousarray(noisy.transpose(2, 0, 1)[None], np.float32))
        clean.append(np.ascontiguousarray(crop.transpose(2, 0, 1)[None], np.float32))
    if not out:
        raise ValueError("no calibration images")
    return out, clean


def export_int8_nncf(onnx_fp32: str | Path, path: str | Path, batches: list[np.ndarray]) -> Path:
    try:
        import nncf
    except ImportError:
        raise ValueError("int8 with nncf needs the nncf package: pip install nncf") from None
    import onnx
    import openvino as ov

    from .quant import output_conv_names

    keep = output_conv_names(onnx.load(str(onnx_fp32)))
    model = ov.convert_model(str(onnx_fp32))
    ov_names = [op.get_friendly_name() for op in model.get_ops() if op.get_type_name() == "Convolution"]
    ignored = [n for n in ov_names if any(n == k or n.startswith(k) for k in keep)]
    q = nncf.quantize(model, nncf.Dataset(batches), subset_size=len(batches),
                      ignored_scope=nncf.IgnoredScope(names=ignored, validate=False))  # fmt: skip
    ov.save_model(q, str(path))
    return Path(path)


def check_against_torch(model: nn.Module, runner, image: np.ndarray) -> float:
    """Max absolute difference between ``runner`` and eager fp32 torch on ``image`` (1xCxHxW)."""
    ref = run_padded(torch_runner(model), image)
    return float(np.abs(run_padded(runner, image) - ref).max())
