"""``n2n train``: every option is a field of ``config.TrainConfig`` (help text there)."""

from __future__ import annotations

import argparse
import os

from ..config import TrainConfig
from ..reports import dumps
from ..training.loop import train
from ._common import add_fields, config_from

HELP = "Train a denoiser (noisy targets = Noise2Noise). Running it again resumes."
EXAMPLE = "n2n train --data photos/ --out runs/n2n --noise gaussian:0-50 --target noisy"


EVERYDAY = (
    "data",
    "pairs",
    "scenes",
    "out",
    "noise",
    "target",
    "iterations",
    "batch",
    "crop",
    "lr",
    "val",
    "device",
    "init",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_fields(p, TrainConfig, EVERYDAY)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    summary = train(config_from(TrainConfig, args), progress=not args.quiet)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one summary (rank 0's)
        print(dumps(summary, indent=None))
    return 0
