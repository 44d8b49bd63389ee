"""Conversion of a torch model to ONNX (fp32 / fp16) and of an fp32 ONNX file to OpenVINO IR.

* ONNX: opset 17, dynamic batch/height/width (multiples of 32; inference pads), fp32 or fp16
  (fp16 weights and arithmetic inside, fp32 input and output).
* OpenVINO IR: converted from the fp32 ONNX; an IR is two files (``.xml`` + ``.bin``), written
  under temporary names and renamed (the ``.bin`` first), so a reader never sees half of one.
"""

from __future__ import annotations

import copy
import io
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from ..atomic import replacing


class _Half(nn.Module):
    """fp16 inside, fp32 at the edges (for runtimes that feed fp32)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model.half()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.half()).float()


def in_channels(model: nn.Module) -> int:
    """Channels the network takes: those of its first convolution."""
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d)).in_channels


def _to_onnx(model: nn.Module, f, precision: str, opset: int) -> None:
    """``torch.onnx.export`` of ``model`` into ``f`` (a path or a binary file object)."""
    if precision not in ("fp32", "fp16"):
        raise ValueError(f"ONNX export takes fp32 or fp16, got {precision!r}")
    m = copy.deepcopy(model).float().eval()
    m = _Half(m) if precision == "fp16" else m
    dyn = {0: "batch", 2: "height", 3: "width"}
    x = torch.zeros(1, in_channels(model), 64, 64)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on dynamic shapes
        torch.onnx.export(
            m,
            (x,),
            f,
            opset_version=opset,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": dyn, "output": dyn},
            dynamo=False,
        )


def export_onnx(model: nn.Module, path: str | os.PathLike, precision: str = "fp32", opset: int = 17) -> Path:
    """Write ``model`` as ONNX (atomically)."""
    with replacing(path, ".onnx") as tmp:
        _to_onnx(model, str(tmp), precision, opset)
    return Path(path)


def onnx_bytes(model: nn.Module, precision: str = "fp32", opset: int = 17) -> bytes:
    """``model`` as ONNX in memory: the bytes ``export_onnx`` writes, for a model that has no file
    (fine-tuned on the user's images) and so is never written to disk or to the model cache."""
    buf = io.BytesIO()
    _to_onnx(model, buf, precision, opset)
    return buf.getvalue()


def save_ir(model, path: str | os.PathLike, compress_to_fp16: bool = False) -> Path:
    """Save an ``openvino.Model`` as ``path`` (.xml) and its ``.bin``, each atomically."""
    import openvino as ov

    p = Path(path)
    with replacing(p, ".xml") as tmp_xml:  # on failure it removes the .bin beside the .xml too
        ov.save_model(model, str(tmp_xml), compress_to_fp16=compress_to_fp16)
        os.replace(tmp_xml.with_suffix(".bin"), p.with_suffix(".bin"))
    return p


def export_openvino(onnx_fp32: str | os.PathLike, path: str | os.PathLike, fp16_weights: bool = False) -> Path:
    import openvino as ov

    return save_ir(ov.convert_model(str(onnx_fp32)), path, compress_to_fp16=fp16_weights)
