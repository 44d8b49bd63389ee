"""``n2n denoise INPUT... -o OUT``: denoise files, folders and globs."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ..adapt import adapt
from ..atomic import check_writable
from ..files import denoise_files, plan, shard
from ..inference import DEFAULT_OVERLAP
from ..weights import load_checkpoint, save_weights
from ._common import add_ensemble_arg, add_model_args, load_denoiser, non_negative, size_arg

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
        help="tiles of at most TILE x TILE pixels for larger images (default: 1536; 0 = never tile)",
    )
    p.add_argument(
        "--overlap",
        type=non_negative,
        default=DEFAULT_OVERLAP,
        help="least tile overlap in pixels (default: %(default)s)",
    )
    p.add_argument(
        "--streams",
        type=non_negative,
        default=1,
        help="OpenVINO, two or more files: images denoised at once, each on its share of the cores "
        "(0 = OpenVINO's choice; faster on a folder, opt-in; default: %(default)s, all cores on one image)",
    )
    p.add_argument("--resize", type=size_arg, help="WxH: the reference card's fixed-shape path (output has this size)")
    p.add_argument(
        "--strength",
        type=float,
        default=1.0,
        help="blend of output and input: 1 = fully denoised, 0 = the input, 0.7 keeps some grain (default: %(default)s)",
    )
    add_ensemble_arg(p)
    p.add_argument("--overwrite", action="store_true", help="allow writing over an input file")
    p.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave outputs that already exist (resume a killed run); on by default under torchrun, "
        "where each process takes every N-th file",
    )
    g = p.add_argument_group("adapting to these images (self-supervised, Neighbor2Neighbor)")
    g.add_argument(
        "--adapt",
        type=non_negative,
        default=0,
        metavar="STEPS",
        help="fine-tune on the inputs first (0 = off; default: %(default)s)",
    )
    g.add_argument("--save-adapted", metavar="FILE", help="keep the adapted weights (.safetensors)")
    g.add_argument(
        "--adapt-lr", type=float, default=1e-4, help="learning rate of the adaptation (default: %(default)s)"
    )
    g.add_argument(
        "--adapt-pd",
        type=_stride,
        default="auto",
        help="pixel-shuffle stride for correlated real noise, 1 = off; auto: 2 when the noise the model "
        "removes is correlated between neighbouring pixels (camera noise), else 1 (default: %(default)s)",
    )
    g.add_argument(
        "--seed", type=int, default=0, help="seed of the adaptation's crops and sub-sampling (default: %(default)s)"
    )
    g.add_argument(
        "--adapt-force",
        action="store_true",
        help="use the adapted model even when the held-out self-supervised check finds it no better",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _stride(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a stride >= 1, got {text!r}")
    return v


def _adapted(args: argparse.Namespace, jobs, tmp: str) -> None:
    """Fine-tune the chosen model on the inputs; point ``args.weights`` at the adapted weights."""
    if args.weights and str(args.weights).endswith((".onnx", ".xml")):
        raise ValueError("--adapt needs a checkpoint (.safetensors or .pt), not an exported file")
    ck = load_checkpoint(args.weights, args.model, args.arch)
    srcs = [j.src for j in jobs]
    adapted = adapt(
        ck,
        srcs,
        args.adapt,
        args.seed,
        args.adapt_lr,
        pd=args.adapt_pd,
        progress=not args.quiet,
        force=args.adapt_force,
    )
    kept = adapted.meta["adapted"]["kept"]  # the original model then denoises by its usual path (int8, say)
    dest = args.save_adapted or str(Path(tmp) / "adapted.safetensors")
    if args.save_adapted or not kept:
        save_weights(dest, adapted.model, adapted.config, adapted.meta)
    if not kept:
        args.weights, args.model, args.arch = dest, None, None


def run(args: argparse.Namespace) -> int:
    jobs = plan(args.inputs, args.out, args.overwrite)  # every path checked before any work
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    jobs = shard(jobs, rank, world, args.skip_existing or world > 1)
    label = f"denoise [rank {rank} of {world}]" if world > 1 else "denoise"
    if args.save_adapted:
        check_writable(args.save_adapted)
    with tempfile.TemporaryDirectory(prefix="n2n-adapt-") as tmp:
        if args.adapt:
            _adapted(args, jobs, tmp)
        streams = args.streams if len(jobs) > 1 and world == 1 else 1
        den = load_denoiser(
            args,
            tile=args.tile,
            overlap=args.overlap,
            resize=args.resize,
            strength=args.strength,
            streams=streams,
            ensemble=args.ensemble,
        )
        failures = denoise_files(
            jobs, den, not args.quiet, lambda m: print(f"n2n: error: {m}", file=sys.stderr), label=label
        )
    return 1 if failures else 0
