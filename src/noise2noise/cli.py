"""The ``n2n`` command: a thin shell that parses options and calls the library.

Every error the user can cause is printed as one line on stderr with a non-zero exit code."""

from __future__ import annotations

import argparse
import json
import os
import sys

EXAMPLES = {
    "denoise": "n2n denoise photo.png -o out/          # the shipped default model\n"
    "  n2n denoise 'shots/*.jpg' -o out/ --weights my.safetensors",
    "info": "n2n info --arch unet-compact --shape 3x256x256 --json",
    "train": "n2n train --data ../shared/data/train --out runs/n2n --noise gaussian:0-50 --target noisy",
}


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w < 1 or h < 1:
            raise ValueError
        return w, h
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 256x256, got {text!r}") from None


def _positive(text: str) -> int:
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text}")
    return v


def _sub(sub, name: str, help: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=help, epilog="example:\n  " + EXAMPLES.get(name, ""),
                          formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip


def add_model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument("--weights", help="checkpoint: our .safetensors, or a legacy .pt state_dict")
    g.add_argument("--model", help="a shipped model name (default: the default model); see `n2n info --models`")
    g.add_argument(
        "--arch",
        choices=["unet", "unet-compact"],
        help="architecture of a legacy .pt (guessed from its keys if omitted)",
    )
    g.add_argument("--device", default="cpu", help="torch device (default: %(default)s)")
    g.add_argument(
        "--backend",
        default="auto",
        choices=["auto", "torch", "onnxruntime", "openvino"],
        help="auto: OpenVINO when installed (fast, equal to torch fp32 within 1e-5), else torch (default: %(default)s)",
    )
    g.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "fp16", "bf16"],
        help="fp32 with --backend torch is the exact reference path (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="n2n", description="Noise2Noise: train denoisers without clean data, and run them."
    )
    from . import __version__

    ap.add_argument("--version", action="version", version=f"noise2noise {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = _sub(sub, "denoise", "Denoise image files (same name, format, size and bit depth out).")
    p.add_argument("inputs", nargs="+", help="files, folders or glob patterns")
    p.add_argument("-o", "--out", required=True, help="output folder (created if missing)")
    add_model_args(p)
    p.add_argument(
        "--tile",
        type=_positive,
        default=None,
        help="tile size in pixels (default: 512 above 1 MP, else whole image; 0 = never)",
    )
    p.add_argument("--overlap", type=_positive, default=96, help="tile overlap in pixels (default: %(default)s)")
    p.add_argument("--resize", type=_size, help="WxH: the reference card's fixed-shape path (output has this size)")
    p.add_argument("--overwrite", action="store_true", help="allow writing over an input file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = _sub(sub, "info", "Parameters and FLOPs of an architecture or checkpoint.")
    p.add_argument("--arch", choices=["unet", "unet-compact"], default=None, help="architecture (default: both)")
    p.add_argument("--weights", help="describe this checkpoint instead")
    p.add_argument("--shape", default="3x256x256", help="input CxHxW (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--models", action="store_true", help="list the shipped models")

    p = _sub(sub, "train", "Train a denoiser (noisy targets = Noise2Noise). Running it again resumes.")
    from .train import TrainConfig

    d = TrainConfig()
    p.add_argument("--data", nargs="+", default=d.data, help="clean image folders (default: %(default)s)")
    p.add_argument("--pairs", help="folder with noisy/ and clean/: real pairs")
    p.add_argument("--scenes", help="folder of scene folders, two or more noisy captures each")
    p.add_argument("--out", default=d.out, help="run folder (default: %(default)s)")
    p.add_argument("--arch", default=d.arch, choices=["unet", "unet-compact"])
    p.add_argument("--noise", default=d.noise, help="KIND:VALUE or KIND:LOW-HIGH (default: %(default)s)")
    p.add_argument("--target", default=d.target, choices=["noisy", "clean"])
    p.add_argument("--loss", default=d.loss, choices=["l2", "l1", "l0", "hdr"])
    helps = {"ckpt_every": "checkpoint (resumable state + latest.safetensors) every N steps",
             "keep_every": "also keep snapshots/step-N.safetensors at checkpoints that are multiples of N (0 = off)",
             "val_count": "held-out training images for validation when --val is not given",
             "lr": "Adam learning rate", "rampdown": "last fraction of the run on the paper's cosine ramp-down",
             "rampup": "first fraction of the run on a linear warm-up",
             "input_quantize": "probability that a training input is clipped and rounded to 8 bits like a file"}  # fmt: skip
    for name in (
        "iterations",
        "batch",
        "crop",
        "val_every",
        "ckpt_every",
        "keep_every",
        "seed",
        "workers",
        "val_count",
    ):
        p.add_argument(
            "--" + name.replace("_", "-"),
            type=int,
            default=getattr(d, name),
            help=helps.get(name, "") + " (default: %(default)s)",
        )
    for name in ("lr", "rampdown", "rampup", "input_quantize"):
        p.add_argument(
            "--" + name.replace("_", "-"),
            type=float,
            default=getattr(d, name),
            help=helps.get(name, "") + " (default: %(default)s)",
        )
    p.add_argument("--val", nargs="+", help="validation folders (default: held-out training images)")
    p.add_argument("--val-noise", default=d.val_noise)
    p.add_argument("--precision", default=d.precision, choices=["auto", "fp32", "bf16"])
    p.add_argument("--no-channels-last", action="store_true")
    p.add_argument("--device", default=d.device)
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this wall time (resumable)")
    p.add_argument("--quiet", action="store_true")

    from . import cli_deploy, cli_more

    cli_more.add_commands(sub, _sub, add_model_args)
    cli_deploy.add_commands(sub, _sub, add_model_args)
    return ap


def load_denoiser(args: argparse.Namespace):
    from .inference import Denoiser

    tile = getattr(args, "tile", None)
    backend, precision = args.backend, args.precision
    if precision == "fp32" and backend == "auto":
        backend = "torch"  # --precision fp32 alone asks for the exact path
    return Denoiser.from_weights(args.weights, model=args.model, arch=args.arch, device=args.device,
                                 tile=tile, overlap=getattr(args, "overlap", 96), backend=backend, precision=precision)  # fmt: skip


def cmd_denoise(args: argparse.Namespace) -> int:
    from .files import denoise_files, plan

    jobs = plan(args.inputs, args.out, args.overwrite)
    den = load_denoiser(args)
    den.resize = args.resize
    failures = denoise_files(
        jobs, den, progress=not args.quiet, on_error=lambda m: print(f"n2n: error: {m}", file=sys.stderr)
    )
    return 1 if failures else 0


def cmd_info(args: argparse.Namespace) -> int:
    from .info import arch_info, model_info, parse_shape
    from .weights import DEFAULT_MODEL, REGISTRY, available_models, load_weights

    if args.models:
        have = available_models()
        for n in REGISTRY:
            print(f"{n}{' (default)' if n == DEFAULT_MODEL else ''}{'' if n in have else ' [not installed]'}")
        return 0
    shape = parse_shape(args.shape)
    if args.weights:
        ck = load_weights(args.weights, arch=args.arch)
        rows = [{"arch": ck.config.arch, "weights": args.weights, **model_info(ck.model, shape), "meta": ck.meta}]
    else:
        rows = [arch_info(a, shape) for a in ([args.arch] if args.arch else ["unet", "unet-compact"])]
    if args.json:
        print(json.dumps(rows[0] if len(rows) == 1 else rows, indent=2))
        return 0
    print(f"{'arch':<14}{'params':>12}{'params(M)':>11}{'GMACs':>10}{'GFLOPs':>10}  shape")
    for r in rows:
        print(
            f"{r['arch']:<14}{r['params']:>12,}{r['params'] / 1e6:>11.3f}{r['macs'] / 1e9:>10.3f}{r['flops'] / 1e9:>10.3f}  {'x'.join(map(str, r['shape']))}"
        )
    print(f"({rows[0]['convention']})")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .train import TrainConfig, train

    cfg = TrainConfig(data=args.data, pairs=args.pairs, scenes=args.scenes, out=args.out, arch=args.arch, noise=args.noise,
                      target=args.target, loss=args.loss, iterations=args.iterations, batch=args.batch, crop=args.crop,
                      lr=args.lr, rampdown=args.rampdown, rampup=args.rampup, input_quantize=args.input_quantize,
                      val=args.val, val_count=args.val_count, val_noise=args.val_noise, val_every=args.val_every,
                      ckpt_every=args.ckpt_every, keep_every=args.keep_every, seed=args.seed, workers=args.workers, precision=args.precision,
                      channels_last=not args.no_channels_last, device=args.device, max_minutes=args.max_minutes)  # fmt: skip
    summary = train(cfg, progress=not args.quiet)
    if os.environ.get("RANK", "0") == "0":  # under torchrun, one summary (rank 0's)
        print(json.dumps(summary))
    return 0


def main(argv: list[str] | None = None) -> int:
    from .images import ImageError
    from .weights import WeightsError

    args = build_parser().parse_args(argv)
    handlers = {"denoise": cmd_denoise, "info": cmd_info, "train": cmd_train}
    from . import cli_deploy, cli_more

    handlers.update(cli_more.HANDLERS)
    handlers.update(cli_deploy.HANDLERS)
    try:
        return handlers[args.cmd](args)
    except (ImageError, WeightsError, ValueError, FileNotFoundError) as e:
        print(f"n2n: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("n2n: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
