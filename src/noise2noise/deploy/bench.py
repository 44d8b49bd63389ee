"""``n2n bench``: latency of each backend and precision, in the same run as eager fp32 PyTorch.

Each configuration runs in its own subprocess so its peak RSS is its own. Per configuration:
warm-up runs, then ``repeats`` timed runs; median and p90 latency, images/s, megapixels/s,
effective GFLOP/s (the FLOPs counted by ``info.model_info`` divided by the median latency).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from ..config import BENCH_CONFIGS, PRECISIONS, RUNTIMES


def parse_shapes(text: str) -> list[tuple[int, int, int, int]]:
    out = []
    for s in text.split(","):
        try:
            parts = [int(v) for v in s.lower().split("x")]
        except ValueError:
            parts = []
        if len(parts) == 3:
            parts = [1] + parts
        if len(parts) != 4 or min(parts) < 1:
            raise ValueError(
                f"--shape takes NxCxHxW (or CxHxW) sizes >= 1, comma-separated, e.g. 1x3x512x768; got {s!r}"
            )
        out.append(tuple(parts))  # type: ignore[arg-type]
    return out


def cpu_name() -> str:
    """The CPU model and the vector/matrix extensions that decide the fast paths (from /proc/cpuinfo)."""
    try:
        info = open("/proc/cpuinfo").read()
    except OSError:
        import platform

        return platform.processor() or "unknown CPU"
    model = next(
        (ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), "unknown CPU"
    )
    flags = next((ln.split(":", 1)[1].split() for ln in info.splitlines() if ln.startswith("flags")), [])
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
    name = f"{model} ({', '.join(f for f in wanted if f in flags) or 'no AVX2'})"
    caps = [f"{k}={os.environ[k]}" for k in ("ONEDNN_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY") if os.environ.get(k)]
    return name + (f", kernels capped: {' '.join(caps)}" if caps else "")


def check_configs(configs: list[str], files: dict[str, str], repeats: int, warmup: int) -> None:
    """Refuse, before anything runs, names that are not ``RUNTIME-PRECISION`` (or ``torch-fp32-cl``,
    or a ``files`` name) and counts that would time nothing."""
    valid = (
        {f"{r}-{p}" for r in RUNTIMES for p in PRECISIONS if p != "auto"}
        | {"torch-fp32-cl", "auto-profile"}
        | set(files)
    )
    unknown = [c for c in configs if c not in valid]
    if unknown:
        raise ValueError(f"unknown bench config {unknown[0]!r}; use RUNTIME-PRECISION, e.g. {', '.join(BENCH_CONFIGS)}")
    if not configs:
        raise ValueError("no configuration to time")
    if repeats < 1 or warmup < 0:
        raise ValueError(f"--repeats must be >= 1 and --warmup >= 0, got {repeats} and {warmup}")


def runner_for_config(config: str, weights: str | None, model: str | None, files: dict[str, str]):
    import torch

    from ..runners import runner_for_file
    from ..weights import load_checkpoint
    from .choose import runner_for_checkpoint

    if config == "auto-profile":
        from ..noise.profile import profile

        return profile, None
    if config in files:  # PATH or PATH@BACKEND
        path, _, backend = files[config].partition("@")
        return runner_for_file(path, backend or None), None
    ck = load_checkpoint(weights, model)
    backend, _, precision = config.partition("-")
    if config == "torch-fp32-cl":
        m = ck.model.eval().to(memory_format=torch.channels_last)

        def run(x):
            with torch.inference_mode():
                return m(torch.from_numpy(x).contiguous(memory_format=torch.channels_last)).numpy()

        return run, ck.model
    return runner_for_checkpoint(ck, backend, precision.replace("-cl", ""))[0], ck.model


def bench_one(
    config: str,
    shape: tuple[int, int, int, int],
    weights: str | None,
    model: str | None,
    files: dict[str, str],
    warmup: int = 2,
    repeats: int = 10,
) -> dict:
    """Time one configuration in this process (called in a subprocess by ``bench``)."""
    import resource

    from ..info import model_info

    run, net = runner_for_config(config, weights, model, files)
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    for _ in range(warmup):
        run(x)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - t)
    med, p90 = float(np.median(times)), float(np.percentile(times, 90))
    n, c, h, w = shape
    flops = model_info(net, (c, h, w))["flops"] * n if net is not None else None
    return {
        "config": config,
        "shape": list(shape),
        "median_ms": med * 1e3,
        "p90_ms": p90 * 1e3,
        "images_per_s": n / med,
        "megapixels_per_s": n * h * w / med / 1e6,
        "gflops_per_s": flops / med / 1e9 if flops else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "repeats": repeats,
    }


def bench(
    configs: list[str],
    shapes: list[tuple[int, int, int, int]],
    weights: str | None = None,
    model: str | None = None,
    files: dict[str, str] | None = None,
    warmup: int = 2,
    repeats: int = 10,
    log=None,
) -> list[dict]:
    """Run every configuration x shape in a fresh subprocess; adds ``speedup`` vs torch-fp32, the
    CPU, and ``"default": true`` on the rows of the path ``n2n denoise`` takes by default."""
    from ..weights import load_checkpoint
    from .choose import resolve_backend, shipped_int8

    default = "-".join(resolve_backend(int8=shipped_int8(load_checkpoint(weights, model)) is not None))
    cpu = cpu_name()
    rows = []
    for shape in shapes:
        for cfg in configs:
            job = {"config": cfg, "shape": shape, "weights": weights, "model": model, "files": files or {}}
            args = json.dumps({**job, "warmup": warmup, "repeats": repeats})
            r = subprocess.run([sys.executable, "-m", "noise2noise.deploy.bench", args], capture_output=True, text=True)
            if r.returncode != 0:
                msg = (r.stderr.strip().splitlines() or ["failed"])[-1]
                row = {"config": cfg, "shape": list(shape), "error": msg[:300]}
            else:
                row = json.loads(r.stdout.strip().splitlines()[-1])
            row.update(default=cfg == default, cpu=cpu)
            rows.append(row)
            if log:
                log(row)
        base = next(
            (r for r in rows if r["config"] == "torch-fp32" and r["shape"] == list(shape) and "error" not in r), None
        )
        for r in rows:
            if base and r["shape"] == list(shape) and "error" not in r and r["config"] != "auto-profile":
                r["speedup_vs_torch_fp32"] = base["median_ms"] / r["median_ms"]
        net = next((r for r in rows if r["default"] and r["shape"] == list(shape) and "error" not in r), None)
        for r in rows:
            if net and r["config"] == "auto-profile" and r["shape"] == list(shape) and "error" not in r:
                r["share_of_default_run"] = r["median_ms"] / net["median_ms"]
    return rows


if __name__ == "__main__":
    a = json.loads(sys.argv[1])
    print(
        json.dumps(
            bench_one(a["config"], tuple(a["shape"]), a["weights"], a["model"], a["files"], a["warmup"], a["repeats"])
        )
    )
