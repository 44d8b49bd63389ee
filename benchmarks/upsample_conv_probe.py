"""One layer, two exact forms: is ``dec_conv1a``'s upsampled part cheaper as a transposed convolution?

A 3x3 convolution (padding 1) of a nearest-upsampled tensor equals a stride-2 4x4 ConvTranspose
(padding 1) of the small one, with per-axis taps ``[w1, w0 + w1, w-1 + w0, w-1]``: 2.25x fewer
multiply-adds. This times both in OpenVINO at the shipped layer's shape (96 -> 64 channels, 768x512
out), written as QDQ ONNX like our int8 export (uint8 activations, int8 weights per output channel),
and prints each layer's kernel from OpenVINO's counters: which precision it really ran in.

    python benchmarks/upsample_conv_probe.py
    ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/upsample_conv_probe.py     # AVX2 kernels

The weights are random (timing only); ``--check`` first verifies the tap rule in torch.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CIN, COUT, H, W = 96, 64, 256, 384


def check_taps() -> float:
    """Max difference between conv3x3(upsample(x)) and conv_transpose(x) with the folded taps."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    x, w = torch.randn(1, 8, 9, 11, generator=g), torch.randn(5, 8, 3, 3, generator=g)
    ref = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, padding=1)
    m = torch.tensor([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], dtype=x.dtype)  # taps per axis (w-1, w0, w1)
    v = torch.einsum("ai,bj,ocij->coab", m, m, w)
    return float((F.conv_transpose2d(x, v, stride=2, padding=1) - ref).abs().max())


def qdq_layer(kind: str, rng: np.random.Generator) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, CIN, H, W])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    inits = [numpy_helper.from_array(np.array(0.02, np.float32), "s"), numpy_helper.from_array(np.uint8(10), "z")]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
    ]
    if kind == "conv":  # upsample, requantize (as the int8 graph does before the conv), 3x3 conv
        inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"))
        nodes += [
            helper.make_node("Resize", ["d", "", "scales"], ["u"], mode="nearest"),
            helper.make_node("QuantizeLinear", ["u", "s", "z"], ["uq"]),
            helper.make_node("DequantizeLinear", ["uq", "s", "z"], ["ud"]),
        ]
        shape, axis, src, op, attrs = (COUT, CIN, 3, 3), 0, "ud", "Conv", {"pads": [1, 1, 1, 1]}
    else:
        shape, axis, src, op, attrs = (
            (CIN, COUT, 4, 4),
            1,
            "d",
            "ConvTranspose",
            {"strides": [2, 2], "pads": [1, 1, 1, 1]},
        )
    inits += [
        numpy_helper.from_array(rng.integers(-127, 128, shape).astype(np.int8), "w"),
        numpy_helper.from_array(np.full(COUT, 1e-3, np.float32), "ws"),
        numpy_helper.from_array(np.zeros(COUT, np.int8), "wz"),
        numpy_helper.from_array(np.zeros(COUT, np.float32), "b"),
    ]
    nodes += [
        helper.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wd"], axis=axis),
        helper.make_node(op, [src, "wd", "b"], ["y"], **attrs),
    ]
    graph = helper.make_graph(nodes, kind, [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--check", action="store_true", help="first check the tap rule in torch")
    a = ap.parse_args()
    if a.check:
        print(f"tap rule: max |difference| {check_taps():.2e}")
    import openvino as ov

    from noise2noise.deploy.bench import cpu_name

    core, rng = ov.Core(), np.random.default_rng(0)
    x = rng.random((1, CIN, H, W), dtype=np.float32)
    cfg = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32", "PERF_COUNT": True}
    reqs = {}
    with tempfile.TemporaryDirectory() as d:
        for kind in ("conv", "deconv"):
            path = Path(d) / f"{kind}.onnx"
            onnx.save(qdq_layer(kind, rng), str(path))
            reqs[kind] = core.compile_model(core.read_model(str(path)), "CPU", cfg).create_infer_request()
    for r in reqs.values():
        r.infer({0: x})
    for kind, r in reqs.items():  # the main layer's time and kernel, from one run's counters
        r.infer({0: x})
        main_op = next(p for p in r.get_profiling_info() if p.node_type in ("Convolution", "ConvolutionBackpropData"))
        print(
            f"{kind}: {main_op.node_type} ran as {main_op.exec_type}, {main_op.real_time.total_seconds() * 1e3:.1f} ms"
        )
    times: dict[str, list[float]] = {k: [] for k in reqs}
    for _ in range(a.rounds):  # in turn, so a drifting machine hits both alike
        for kind, r in reqs.items():
            t = time.perf_counter()
            r.infer({0: x})
            times[kind].append((time.perf_counter() - t) * 1e3)
    print(
        f"whole graph, median of {a.rounds} on {cpu_name()}: "
        + ", ".join(f"{k} {np.median(v):.0f} ms" for k, v in times.items())
    )


if __name__ == "__main__":
    main()
