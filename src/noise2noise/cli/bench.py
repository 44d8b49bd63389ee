"""``n2n bench``: latency per backend and precision, with eager fp32 torch in the same run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..atomic import check_writable
from ..config import BENCH_CONFIGS
from ..deploy.bench import bench, check_configs, parse_shapes
from ..reports import dumps
from ..weights import resolve
from ._common import write_report

HELP = "Latency per backend and precision, with eager fp32 torch in the same run."
EXAMPLE = "n2n bench --shape 1x3x256x256,1x3x512x768 --json bench.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", help="checkpoint (default: the shipped model)")
    p.add_argument("--model", help="shipped model name")
    p.add_argument("--shape", default="1x3x256x256,1x3x512x768", help="comma-separated NxCxHxW (default: %(default)s)")
    p.add_argument("--configs", default=",".join(BENCH_CONFIGS), help="comma-separated (default: %(default)s)")
    p.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="NAME=PATH[@BACKEND]",
        help="also time an exported file under NAME, optionally in onnxruntime/openvino (repeatable)",
    )
    p.add_argument("--repeats", type=int, default=10, help="timed runs per configuration (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs first (default: %(default)s)")
    p.add_argument("--json", dest="json_out", help="write rows as JSON to FILE ('-' = stdout)")


def _show(r: dict) -> None:
    shape = "x".join(map(str, r["shape"]))
    if "error" in r:
        print(f"{r['config']:<20}{shape:>14}  unavailable: {r['error']}")
        return
    g = f"{r['gflops_per_s']:.1f}" if r.get("gflops_per_s") else "-"
    times = f"{r['median_ms']:>10.1f} ms{r['p90_ms']:>10.1f} ms p90"
    rates = f"{r['images_per_s']:>8.2f} img/s{r['megapixels_per_s']:>8.2f} MP/s{g:>8} GFLOP/s"
    mark = "  <- n2n denoise's default" if r.get("default") else ""
    print(f"{r['config']:<20}{shape:>14}{times}{rates}{r['peak_rss_mb']:>8.0f} MB{mark}")


def run(args: argparse.Namespace) -> int:
    files = {}
    for f in args.file:
        name, sep, path = f.partition("=")
        if not sep or not Path(path.partition("@")[0]).is_file():
            raise ValueError(f"--file takes NAME=PATH[@BACKEND] of an existing file, got {f!r}")
        files[name] = path
    configs = [c for c in args.configs.split(",") if c]
    configs += [f for f in files if f not in configs]  # a --file named in --configs too is timed once
    check_configs(configs, files, args.repeats, args.warmup)
    checkpoint = resolve(args.weights, args.model)  # a missing one is an error now, not a row per config
    if not checkpoint.is_file():
        raise ValueError(f"{checkpoint}: no such checkpoint file")
    if args.json_out not in (None, "-"):
        check_writable(args.json_out)
    rows = bench(
        configs, parse_shapes(args.shape), args.weights, args.model, files, args.warmup, args.repeats, log=_show
    )
    print(f"(measured on {rows[0]['cpu']})")
    for r in rows:
        if "speedup_vs_torch_fp32" in r:
            shape = "x".join(map(str, r["shape"]))
            print(f"{r['config']:<20}{shape:>14}  {r['speedup_vs_torch_fp32']:.2f}x eager torch fp32")
        if "share_of_default_run" in r:
            shape = "x".join(map(str, r["shape"]))
            share = f"{100 * r['share_of_default_run']:.1f}% of one run of the default path"
            print(f"{r['config']:<20}{shape:>14}  the auto model's noise analysis: {share}")
    if args.json_out:
        write_report(args.json_out, dumps(rows))
    if all("error" in r for r in rows):
        print("n2n: error: no configuration ran (see the rows above)", file=sys.stderr)
        return 1
    return 0
