"""``n2n denoise INPUT... -o OUT``: denoise files, folders and globs."""

from __future__ import annotations

import argparse
import sys

from ..files import denoise_files, plan
from ._common import add_model_args, load_denoiser, non_negative, size_arg

HELP = "Denoise image files (same name, format, size and bit depth out)."
EXAMPLE = """n2n denoise photo.png -o out/          # the shipped default model
  n2n denoise 'shots/*.jpg' -o out/ --weights my.safetensors"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", help="files, folders or glob patterns")
    p.add_argument("-o", "--out", required=True, help="output folder (created if missing)")
    add_model_args(p)
    p.add_argument(
        "--tile",
        type=non_negative,
        default=None,
        help="tile size in pixels (default: 512 above 1 MP, else whole image; 0 = never)",
    )
    p.add_argument("--overlap", type=non_negative, default=96, help="tile overlap in pixels (default: %(default)s)")
    p.add_argument("--resize", type=size_arg, help="WxH: the reference card's fixed-shape path (output has this size)")
    p.add_argument(
        "--strength",
        type=float,
        default=1.0,
        help="blend of output and input: 1 = fully denoised, 0 = the input, 0.7 keeps some grain (default: %(default)s)",
    )
    p.add_argument("--overwrite", action="store_true", help="allow writing over an input file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    jobs = plan(args.inputs, args.out, args.overwrite)  # every path checked before any work
    den = load_denoiser(args, tile=args.tile, overlap=args.overlap, resize=args.resize, strength=args.strength)
    failures = denoise_files(
        jobs, den, progress=not args.quiet, on_error=lambda m: print(f"n2n: error: {m}", file=sys.stderr)
    )
    return 1 if failures else 0
