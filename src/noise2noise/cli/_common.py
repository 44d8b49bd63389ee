"""What the subcommands share: argument types, the model options, options generated from a config's
fields, and writing a report to a file or stdout."""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from typing import Any

from ..atomic import write_text
from ..auto import AUTO, AutoDenoiser
from ..config import ARCHS, BACKENDS, PRECISIONS, check_device
from ..denoiser import Denoiser
from ..ensemble import CHOICES
from ..inference import DEFAULT_OVERLAP
from ..noise.profile import GAUSSIAN, PHONE, PHOTO

_TYPES = {"int": int, "float": float, "str": str}


def size_arg(text: str) -> tuple[int, int]:
    """``WxH`` -> (W, H)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        if w < 1 or h < 1:
            raise ValueError
        return w, h
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 256x256, got {text!r}") from None


def non_negative(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text}")
    return v


def positive(text: str) -> int:
    """A whole number >= 1."""
    v = non_negative(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return v


def non_negative_float(text: str) -> float:
    """A finite number >= 0 (``nan``, ``inf`` and negatives are refused by the parser)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return v


def positive_float(text: str) -> float:
    """A finite number > 0 (``nan``, ``inf``, zero and negatives are refused by the parser)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return v


def device_arg(text: str) -> str:
    """A torch device name (``config.check_device``)."""
    try:
        check_device(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected cpu, cuda, cuda:N, xpu, xpu:N or mps; got {text!r}") from None
    return text


def add_model_args(p: argparse.ArgumentParser, runtime: bool = True) -> None:
    """``--weights``/``--model`` and, unless ``runtime`` is False (the caller then lists them with
    ``add_runtime_args`` in a group of its own), ``--arch`` and the runtime options."""
    g = p.add_argument_group("model")
    g.add_argument("--weights", help="checkpoint: our .safetensors, a legacy .pt state_dict, or an exported .onnx/.xml")
    g.add_argument(
        "--model",
        help=f"a shipped model; default: {AUTO}, which picks per image from its noise ({GAUSSIAN} for white "
        f"noise, {PHONE} for a phone's in low light, {PHOTO} for other cameras'); `n2n info --models` lists them",
    )
    if runtime:
        add_runtime_args(g)


def add_runtime_args(a: argparse._ArgumentGroup) -> None:
    """``--arch``, ``--device``, ``--backend``, ``--precision``, ``--compile`` (the policy of ``deploy.choose``)."""
    a.add_argument("--arch", choices=ARCHS, help="architecture of a legacy .pt (guessed from its keys if omitted)")
    a.add_argument(
        "--device",
        type=device_arg,
        default="cpu",
        help="torch device; other than cpu runs the torch backend (default: %(default)s)",
    )
    a.add_argument(
        "--backend",
        default="auto",
        choices=BACKENDS,
        help="auto: OpenVINO when installed (bf16 where the CPU has it), else torch (default: %(default)s)",
    )
    a.add_argument(
        "--precision",
        default="auto",
        choices=PRECISIONS,
        help="fp32 alone selects eager torch, the exact reference path; on a CPU auto runs a shipped int8 "
        "model where there is one (OpenVINO), else bf16 where native; on a GPU auto is fp16 (default: %(default)s)",
    )
    a.add_argument(
        "--compile", action="store_true", help="torch backend: torch.compile the model (pays off on a GPU, many images)"
    )


def load_denoiser(
    args: argparse.Namespace,
    tile: int | None = None,
    overlap: int = DEFAULT_OVERLAP,
    resize: tuple[int, int] | None = None,
    strength: float = 1.0,
    streams: int = 1,
    ensemble: int = 1,
) -> Denoiser | AutoDenoiser:
    """The Denoiser of the model options: the same call a Python user makes."""
    return Denoiser.from_weights(
        args.weights,
        model=args.model,
        arch=args.arch,
        device=args.device,
        tile=tile,
        overlap=overlap,
        backend=args.backend,
        precision=args.precision,
        resize=resize,
        strength=strength,
        compile=args.compile,
        streams=streams,
        ensemble=ensemble,
    )


def add_ensemble_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--ensemble",
        type=int,
        default=1,
        choices=CHOICES,
        help="average the outputs of this many flipped/rotated copies of each image: better, and that many "
        "times slower (default: %(default)s)",
    )


def add_fields(p: argparse.ArgumentParser, cls: type, everyday: tuple[str, ...] | None = None) -> None:
    """One option per field of the dataclass ``cls``: ``--field-name``, typed by the annotation, help
    and choices from the field's metadata (``config.option``), default from the field. With
    ``everyday``, the other fields' options are listed apart, under "advanced"."""
    advanced = p.add_argument_group("advanced") if everyday is not None else p
    for f in dataclasses.fields(cls):
        g = p if everyday is None or f.name in everyday else advanced
        meta = dict(f.metadata)
        help_text = meta.pop("help", "")
        flag = meta.pop("flag", None)
        short = meta.pop("short", None)
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if f.type == "bool":  # a switch: --name turns it on, or the metadata's flag turns the default off
            on = flag is None  # metadata ``both``: --name and --no-name
            action = (
                argparse.BooleanOptionalAction if meta.pop("both", False) else "store_true" if on else "store_false"
            )
            g.add_argument(
                flag or "--" + f.name.replace("_", "-"),
                dest=f.name,
                action=action,
                default=default,
                help=help_text if on else help_text + " off",
            )
            continue
        base = str(f.type).replace(" | None", "")
        kind = _TYPES[base[5:-1] if base.startswith("list[") else base]
        names = [short, "--" + f.name.replace("_", "-")] if short else ["--" + f.name.replace("_", "-")]
        suffix = "" if meta.get("required") or default in (None, []) else " (default: %(default)s)"
        g.add_argument(*names, dest=f.name, type=kind, default=default, help=help_text + suffix, **meta)


def config_from(cls: type, args: argparse.Namespace) -> Any:
    """An instance of the dataclass ``cls`` from the parsed options of ``add_fields``."""
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})


def write_report(dest: str, text: str) -> None:
    """``text`` to the file ``dest`` (atomically) or, for ``-``, to stdout."""
    if dest == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_text(dest, text if text.endswith("\n") else text + "\n")
