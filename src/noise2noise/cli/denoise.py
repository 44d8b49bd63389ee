"""``n2n denoise INPUT... -o OUT``: denoise files, folders and globs. The model options are the fields
of ``config.DenoiseConfig`` (help and checks there); the rest are the job's."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

from ..atomic import check_writable
from ..config import DenoiseConfig
from ..job import AdaptOptions, denoise
from ..reports import dumps
from ._common import (
    RUNTIME_FIELDS,
    TILING_FIELDS,
    add_fields,
    add_model_args,
    config_from,
    non_negative,
    non_negative_float,
    positive,
    write_report,
)

HELP = "Denoise image files (same name, format, size and bit depth out)."
EXAMPLE = """n2n denoise photo.png -o out/          # the model is chosen per image from its noise
  n2n denoise 'shots/*.jpg' -o out/ --weights my.safetensors"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", help="files, folders or glob patterns")
    p.add_argument("-o", "--out", required=True, help="output folder (created with the first output)")
    add_model_args(p, runtime=False)
    add_fields(p, DenoiseConfig, only=("strength", "ensemble"))
    p.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave outputs that already exist (resume a killed run); on by default under torchrun, "
        "where each process takes every N-th file",
    )
    p.add_argument("--overwrite", action="store_true", help="allow writing over an input file")
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run on Ray: a local Ray on this machine, or the cluster at ADDRESS (or $RAY_ADDRESS); outputs "
        "that exist are left alone (needs: pip install 'noise2noise[scale]')",
    )
    p.add_argument(
        "--ray-actors",
        type=positive,
        default=None,
        metavar="N",
        help="with --ray: denoisers (default: one per CPU)",
    )
    p.add_argument(
        "--json",
        dest="json_out",
        metavar="FILE",
        help="write the report (per file: output, model and why it was chosen, seconds, error) to FILE ('-' = stdout)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar, no per-file model lines")
    _add_adapt_arguments(p)
    adv = p.add_argument_group("advanced")
    add_fields(adv, DenoiseConfig, only=RUNTIME_FIELDS + TILING_FIELDS)


def _add_adapt_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "adapting to these images (no clean image: Neighbor2Neighbor on white noise; on any other, pseudo-pairs, "
        "the model's output with the nearest of its training noises on it)"
    )
    g.add_argument(
        "--adapt",
        type=non_negative,
        default=0,
        metavar="STEPS",
        help="fine-tune on the inputs first (0 = off; default: %(default)s)",
    )
    g.add_argument("--save-adapted", metavar="FILE", help="keep the adapted weights (.safetensors)")
    g.add_argument(
        "--adapt-lr",
        type=non_negative_float,
        default=1e-4,
        help="learning rate of the adaptation (default: %(default)s)",
    )
    g.add_argument(
        "--adapt-pd",
        type=_stride,
        default="auto",
        help="pixel-shuffle stride of the Neighbor2Neighbor loss (white noise, grey models), 1 = off; auto: 2 when "
        "the noise the model removes is correlated between neighbouring pixels, else 1 (default: %(default)s)",
    )
    g.add_argument(
        "--seed", type=int, default=0, help="seed of the adaptation's crops and sub-sampling (default: %(default)s)"
    )
    g.add_argument(
        "--adapt-force",
        action="store_true",
        help="use the adapted model even where the held-out check cannot confirm it helps",
    )


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


def run(args: argparse.Namespace) -> int:
    if args.json_out not in (None, "-"):
        check_writable(args.json_out)
    options = config_from(DenoiseConfig, args)
    adapting = AdaptOptions(
        steps=args.adapt,
        lr=args.adapt_lr,
        pd=args.adapt_pd,
        seed=args.seed,
        force=args.adapt_force,
        save=args.save_adapted,
    )
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    report = denoise(
        args.inputs,
        args.out,
        options,
        adapting,
        overwrite=args.overwrite,
        skip_existing=args.skip_existing,
        rank=rank,
        world=world,
        progress=not args.quiet,
        on_error=lambda m: print(f"n2n: error: {m}", file=sys.stderr),
        ray=args.ray,
        actors=args.ray_actors,
    )
    if not args.quiet:
        _log_models(report["files"])
    if args.json_out:
        write_report(args.json_out, dumps(report))
    return 1 if report["failures"] else 0


def _log_models(files: list[dict]) -> None:
    """Which model denoised each file, with the figures behind an automatic choice (one line per
    file for up to 50 files, else a count per model)."""
    done = [f for f in files if f["output"] and f.get("reason")]
    if len(done) <= 50:
        for f in done:
            print(f"n2n: {Path(f['input']).name}: {f['model']} ({f['reason']})", file=sys.stderr)
    elif done:
        counts = Counter(f["model"] for f in done)
        print(
            "n2n: models chosen: " + ", ".join(f"{m} for {n} files" for m, n in counts.most_common()), file=sys.stderr
        )
