"""Where an OpenVINO model's time goes: per-layer counters (``PERF_COUNT``) of one compiled model.

    python benchmarks/ov_profile.py src/noise2noise/weights/unet-gaussian-n2n.int8.onnx
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 python benchmarks/ov_profile.py MODEL --top 15

Prints the median wall time of ``--repeats`` runs at ``--shape`` and, for the run closest to that
median, the layers by time with the kernel OpenVINO chose (``exec_type``), and the time summed by
layer type and by kernel. ``--json`` writes the same.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

import numpy as np


def profile(path: str, shape: tuple[int, ...], repeats: int, hint: str) -> dict:
    import openvino as ov

    core = ov.Core()
    cfg = {"PERFORMANCE_HINT": "LATENCY", "PERF_COUNT": True, "INFERENCE_PRECISION_HINT": hint}
    compiled = core.compile_model(core.read_model(path), "CPU", cfg)
    req = compiled.create_infer_request()
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    runs = []
    for i in range(repeats + 2):
        t = time.perf_counter()
        req.infer({0: x})
        wall = (time.perf_counter() - t) * 1e3
        if i >= 2:  # warm-up
            layers = [
                {
                    "name": p.node_name,
                    "type": p.node_type,
                    "kernel": p.exec_type,
                    "ms": p.real_time.total_seconds() * 1e3,
                }
                for p in req.profiling_info
                if p.status == p.Status.EXECUTED
            ]
            runs.append((wall, layers))
    runs.sort(key=lambda r: r[0])
    wall, layers = runs[len(runs) // 2]
    by_type: dict[str, float] = defaultdict(float)
    by_kernel: dict[str, float] = defaultdict(float)
    for la in layers:
        by_type[la["type"]] += la["ms"]
        by_kernel[la["kernel"]] += la["ms"]
    return {
        "model": path,
        "shape": list(shape),
        "hint": hint,
        "median_wall_ms": wall,
        "layers_ms": sum(la["ms"] for la in layers),
        "layers": sorted(layers, key=lambda la: -la["ms"]),
        "by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
        "by_kernel": dict(sorted(by_kernel.items(), key=lambda kv: -kv[1])),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help=".onnx or .xml")
    ap.add_argument("--shape", default="1x3x512x768")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--hint", default="f32", help="INFERENCE_PRECISION_HINT: f32 or bf16")
    ap.add_argument("--top", type=int, default=12, help="layers to print")
    ap.add_argument("--json", help="write the full profile here")
    a = ap.parse_args()
    r = profile(a.model, tuple(int(s) for s in a.shape.split("x")), a.repeats, a.hint)
    print(f"{a.model}: median {r['median_wall_ms']:.1f} ms wall, {r['layers_ms']:.1f} ms in layers")
    for la in r["layers"][: a.top]:
        print(f"  {la['ms']:7.1f} ms  {la['type']:<16} {la['kernel']:<28} {la['name']}")
    print("by type:   " + ", ".join(f"{k} {v:.1f}" for k, v in r["by_type"].items() if v >= 0.5))
    print("by kernel: " + ", ".join(f"{k} {v:.1f}" for k, v in r["by_kernel"].items() if v >= 0.5))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=2)


if __name__ == "__main__":
    main()
