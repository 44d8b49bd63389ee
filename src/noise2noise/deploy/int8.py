"""int8 inputs and the NNCF path: calibration batches made from clean images with the model's noise,
and OpenVINO's post-training quantization (NNCF) with the output and image-reading convolutions
kept in float."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..config import draw_noise, parse_noise_mix
from ..noise.synthetic import add_noise
from .convert import save_ir


def calibration_batches(
    images: list[np.ndarray], noise: str, count: int = 16, size: int = 256, seed: int = 0
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Noisy ``1x3xSxS`` inputs for calibration and their clean ``1x3xSxS`` targets: centre crops of
    clean RGB float images with the model's noise (a range is sampled per image, as in training; for
    a mixture such as ``camera@0.6,gaussian:0-50@0.4``, one of its noises per image by weight)."""
    mix = parse_noise_mix(noise)
    out, clean = [], []
    for i, img in enumerate(images[:count]):
        h, w = img.shape[:2]
        s = min(size, h, w) // 32 * 32
        if s < 32:
            raise ValueError(f"calibration image {i} is {w}x{h}: at least 32x32 is needed")
        y, x = (h - s) // 2, (w - s) // 2
        crop = img[y : y + s, x : x + s]
        rng = np.random.default_rng(seed * 1_000_000 + i)
        noisy, _ = add_noise(crop, draw_noise(mix, rng), rng)
        out.append(np.ascontiguousarray(noisy.transpose(2, 0, 1)[None], np.float32))
        clean.append(np.ascontiguousarray(crop.transpose(2, 0, 1)[None], np.float32))
    if not out:
        raise ValueError("no calibration images")
    return out, clean


def export_int8_nncf(onnx_fp32: str | os.PathLike, path: str | os.PathLike, batches: list[np.ndarray]) -> Path:
    try:
        import nncf
    except ImportError:
        raise ValueError("int8 with nncf needs the nncf package: pip install nncf") from None
    import onnx
    import openvino as ov

    from .quant import default_float

    keep = default_float(onnx.load(str(onnx_fp32)))
    model = ov.convert_model(str(onnx_fp32))
    ov_names = [op.get_friendly_name() for op in model.get_ops() if op.get_type_name() == "Convolution"]
    ignored = [n for n in ov_names if any(n == k or n.startswith(k) for k in keep)]
    scope = nncf.IgnoredScope(names=ignored, validate=False)
    q = nncf.quantize(model, nncf.Dataset(batches), subset_size=len(batches), ignored_scope=scope)
    return save_ir(q, path)
