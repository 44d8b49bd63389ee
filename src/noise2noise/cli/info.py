"""``n2n info``: parameters and FLOPs of an architecture or checkpoint; the shipped models."""

from __future__ import annotations

import argparse

from ..auto import AUTO, CANDIDATES
from ..config import ARCHS
from ..info import arch_info, model_info, parse_shape
from ..reports import dumps
from ..weights import PURPOSE, REGISTRY, available_models, load_weights

HELP = "Parameters and FLOPs of an architecture or checkpoint."
EXAMPLE = "n2n info --arch unet-compact --shape 3x256x256 --json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", choices=ARCHS, default=None, help="architecture (default: all)")
    p.add_argument("--weights", help="describe this checkpoint instead")
    p.add_argument("--shape", default="3x256x256", help="input CxHxW (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--models", action="store_true", help="list the shipped models")


def run(args: argparse.Namespace) -> int:
    if args.models:
        have = available_models()
        print(f"{AUTO + ' (default)':<24}per image, the model its noise calls for: {', '.join(CANDIDATES)}")
        for n in REGISTRY:
            tag = f"{n}{'' if n in have else ' [not installed]'}"
            print(f"{tag:<24}{PURPOSE[n]}")
        return 0
    shape = parse_shape(args.shape)
    if args.weights:
        ck = load_weights(args.weights, arch=args.arch)
        rows = [{"arch": ck.config.arch, "weights": args.weights, **model_info(ck.model, shape), "meta": ck.meta}]
    else:
        rows = [arch_info(a, shape) for a in ([args.arch] if args.arch else ARCHS)]
    if args.json:
        print(dumps(rows[0] if len(rows) == 1 else rows))
        return 0
    print(f"{'arch':<14}{'params':>12}{'params(M)':>11}{'GMACs':>10}{'GFLOPs':>10}  shape")
    for r in rows:
        numbers = f"{r['params']:>12,}{r['params'] / 1e6:>11.3f}{r['macs'] / 1e9:>10.3f}{r['flops'] / 1e9:>10.3f}"
        print(f"{r['arch']:<14}{numbers}  {'x'.join(map(str, r['shape']))}")
    print(f"({rows[0]['convention']})")
    return 0
