"""``n2n eval DATA``: PSNR/SSIM of a model and baselines; the work is ``evaluate``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..atomic import check_writable
from ..auto import AUTO
from ..config import EVAL_METHODS, EVAL_PRESETS, PROTOCOLS
from ..evaluation.core import apply_preset, build_methods, evaluate, table_rows, to_json, write_csv
from ..reports import dumps
from ._common import add_ensemble_arg, add_model_args, load_denoiser, write_report

HELP = "PSNR/SSIM of a model and baselines on a data set."
DESCRIPTION = (
    "PSNR/SSIM of a model and baselines on a data set: a folder of clean images (with --noise), "
    "a noisy/ + clean/ pairs folder, SIDD .mat blocks or the SIDD-Medium layout."
)
EXAMPLE = """n2n eval ../shared/data/test/Kodak24 --noise gaussian:25 --protocol float --json k.json
  n2n eval ../shared/data/pairs/PolyU --method model --method nlm --table"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="folder, pairs folder, SIDD .mat file or folder")
    add_model_args(p)
    p.add_argument(
        "--noise", help="synthetic noise, e.g. gaussian:25, poisson:30, bernoulli:0.5, impulse:0.7, text:0.25"
    )
    p.add_argument(
        "--protocol",
        default="float",
        choices=PROTOCOLS,
        help="float: unclipped noisy input (paper); uint8: as an 8-bit file (default: %(default)s)",
    )
    p.add_argument(
        "--preset",
        choices=EVAL_PRESETS,
        help="card: SIDD validation GT blocks + gaussian:25, float protocol, 3x256x256 (the reference card)",
    )
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: %(default)s)")
    p.add_argument("--method", action="append", choices=EVAL_METHODS, help="repeatable (default: model)")
    p.add_argument("--limit", type=int, help="only the first N images")
    p.add_argument("--json", dest="json_out", help="write the JSON report to this file ('-' = stdout)")
    p.add_argument("--csv", dest="csv_out", help="write per-image rows to this CSV file")
    p.add_argument("--timing", action="store_true", help="include seconds per image in the JSON (then runs differ)")
    p.add_argument(
        "--table", nargs="?", const="-", help="print the card's Markdown table (and write it to FILE if given)"
    )
    p.add_argument("--montage", help="folder for noisy | denoised | clean pictures")
    p.add_argument("--montage-images", nargs="+", help="image names for --montage (default: the first three)")
    p.add_argument("--fid-model", help="TorchScript Inception feature file (local; enables FID, nothing is downloaded)")
    add_ensemble_arg(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _print_summary(results, config: dict) -> None:
    w = max(22, *(len(r.method) + 2 for r in results))
    head = f"{'method':<{w}}{'PSNR':>9}{'SSIM':>8}{'noisy PSNR':>12}{'noisy SSIM':>12}{'s/img':>8}"
    print(f"{head}   ({config['images']} images, {config['noise']}, {config['protocol']})")
    for r in results:
        s = r.summary()
        fid = f"   FID {s['fid']:.3f}" if "fid" in s else ""
        scores = f"{s['psnr']:>9.3f}{s['ssim']:>8.4f}{s['noisy_psnr']:>12.3f}{s['noisy_ssim']:>12.4f}"
        print(f"{r.method:<{w}}{scores}{s['seconds_per_image']:>8.3f}{fid}")


def run(args: argparse.Namespace) -> int:
    args.noise, args.protocol, args.model = apply_preset(
        args.preset, args.noise, args.protocol, args.model, args.weights
    )
    for dest in (args.json_out, args.csv_out, args.table):
        if dest not in (None, "-"):
            check_writable(dest)
    if args.montage:
        check_writable(args.montage, folder=True)
    label = Path(args.weights).stem if args.weights else (args.model or AUTO)
    specs = build_methods(args.method or ["model"], args.noise, lambda: load_denoiser(args, tile=0), label)
    results, config = evaluate(
        args.data,
        specs,
        args.noise,
        args.protocol,
        args.seed,
        args.limit,
        not args.quiet,
        args.montage,
        args.montage_images,
        args.fid_model,
    )
    _print_summary(results, config)
    if args.table:
        rows = table_rows(results, specs, "3x256x256" if config["kind"] == "sidd-blocks" else "whole image")
        print("\n".join(rows))
        if args.table != "-":
            write_report(args.table, "\n".join(rows))
    if args.json_out:
        write_report(args.json_out, dumps(to_json(results, config, args.timing)))
    if args.csv_out:
        write_csv(results, args.csv_out)
    return 0
