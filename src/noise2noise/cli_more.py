"""Subcommands beyond the foundation: ``eval`` (and, from the deployment module, ``export``/``bench``)."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

EVAL_EXAMPLE = ("n2n eval ../shared/data/test/Kodak24 --noise gaussian:25 --protocol float --json k.json\n"
                "  n2n eval ../shared/data/pairs/PolyU --method model --method nlm --table")  # fmt: skip


def add_commands(sub, make, add_model_args) -> None:
    p = sub.add_parser("eval", help="PSNR/SSIM of a model and baselines on a data set.",
                       description="PSNR/SSIM of a model and baselines on a data set: a folder of clean images "
                       "(with --noise), a noisy/ + clean/ pairs folder, SIDD .mat blocks or the SIDD-Medium layout.",
                       epilog="examples:\n  " + EVAL_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("data", help="folder, pairs folder, SIDD .mat file or folder")
    add_model_args(p)
    p.add_argument(
        "--noise", help="synthetic noise, e.g. gaussian:25, poisson:30, bernoulli:0.5, impulse:0.7, text:0.25"
    )
    p.add_argument(
        "--protocol",
        default="float",
        choices=["float", "uint8"],
        help="float: unclipped noisy input (paper); uint8: as an 8-bit file (default: %(default)s)",
    )
    p.add_argument(
        "--preset",
        choices=["card"],
        help="card: SIDD validation GT blocks + gaussian:25, float protocol, 3x256x256 (the reference card)",
    )
    p.add_argument("--seed", type=int, default=0, help="noise seed (default: %(default)s)")
    p.add_argument(
        "--method", action="append", choices=["model", "noisy", "nlm", "bm3d"], help="repeatable (default: model)"
    )
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
    p.add_argument("--quiet", action="store_true")


def _methods(args):
    from .evaluate import MethodSpec, bm3d_method, model_method, nlm_method, noisy_method
    from .info import model_info
    from .noise import NoiseConfig

    sigma = None
    if args.noise:
        n = NoiseConfig.parse(args.noise)
        sigma = n.low if n.kind == "gaussian" else None
    specs = []
    for m in args.method or ["model"]:
        if m == "model":
            from .cli import load_denoiser

            args.tile = 0  # whole images, padded as inference pads them
            den = load_denoiser(args)
            name = Path(args.weights).stem if args.weights else (args.model or "default")
            params = flops = None
            if den.model is not None:  # exported files carry no torch model to count
                info = model_info(den.model, (3, 256, 256))
                params, flops = info["params"], info["flops"]
            label = f"{name} [{den.meta.get('backend', 'torch')} {den.meta.get('precision', '')}]".replace(" ]", "]")
            specs.append(MethodSpec(label, model_method(den), params, flops))
        elif m == "noisy":
            specs.append(MethodSpec("noisy", noisy_method))
        elif m == "nlm":
            specs.append(MethodSpec("nlm", nlm_method(sigma)))
        else:
            specs.append(MethodSpec("bm3d", bm3d_method(sigma)))
    return specs


def cmd_eval(args) -> int:
    from .evaluate import evaluate, table_rows, to_json

    if args.preset == "card":
        args.noise, args.protocol = args.noise or "gaussian:25", "float"
    specs = _methods(args)
    results, config = evaluate(args.data, specs, args.noise, args.protocol, args.seed, args.limit, not args.quiet,
                               args.montage, args.montage_images, args.fid_model)  # fmt: skip
    report = to_json(results, config, args.timing)
    print(
        f"{'method':<22}{'PSNR':>9}{'SSIM':>8}{'noisy PSNR':>12}{'noisy SSIM':>12}{'s/img':>8}   ({config['images']} images, {config['noise']}, {config['protocol']})"
    )
    for r in results:
        s = r.summary()
        fid = f"   FID {s['fid']:.3f}" if "fid" in s else ""
        print(
            f"{r.method:<22}{s['psnr']:>9.3f}{s['ssim']:>8.4f}{s['noisy_psnr']:>12.3f}{s['noisy_ssim']:>12.4f}{s['seconds_per_image']:>8.3f}{fid}"
        )
    if args.table:
        shape = "3x256x256" if config["kind"] == "sidd-blocks" else "whole image"
        rows = table_rows(results, specs, shape)
        print("\n".join(rows))
        if args.table != "-":
            Path(args.table).write_text("\n".join(rows) + "\n")
    if args.json_out:
        text = json.dumps(report, indent=2)
        if args.json_out == "-":
            print(text)
        else:
            Path(args.json_out).write_text(text + "\n")
    if args.csv_out:
        with open(args.csv_out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["method", "name", "psnr", "ssim", "noisy_psnr", "noisy_ssim", "seconds"])
            for r in results:
                for im in r.images:
                    w.writerow(
                        [
                            r.method,
                            im["name"],
                            f"{im['psnr']:.4f}",
                            f"{im['ssim']:.5f}",
                            f"{im['noisy_psnr']:.4f}",
                            f"{im['noisy_ssim']:.5f}",
                            f"{im['seconds']:.4f}",
                        ]
                    )
    return 0


HANDLERS = {"eval": cmd_eval}
