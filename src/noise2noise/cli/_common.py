"""What the subcommands share: argument types, the model options, options generated from a config's
fields, and writing a report to a file or stdout."""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from typing import Any

from ..atomic import write_text
from ..auto import AutoDenoiser
from ..config import DenoiseConfig, check_device
from ..denoiser import Denoiser

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


# the parsers a config field may name in its metadata (``parser=...``): checked as it is typed
PARSERS = {
    "size": size_arg,
    "device": device_arg,
    "count": non_negative,
    "positive_number": positive_float,
}

MODEL_FIELDS = ("weights", "model")  # which model (DenoiseConfig's fields)
RUNTIME_FIELDS = ("arch", "device", "backend", "precision", "compile")  # how it runs (deploy.choose's policy)
TILING_FIELDS = ("tile", "overlap", "streams", "resize")  # how images are cut, batched and sized for it


def add_model_args(p: argparse.ArgumentParser, runtime: bool = True) -> None:
    """``--weights``/``--model`` and, unless ``runtime`` is False (the caller then lists them with
    ``add_runtime_args`` in a group of its own), ``--arch`` and the runtime options: the fields of
    ``config.DenoiseConfig``, help and checks there."""
    g = p.add_argument_group("model")
    add_fields(g, DenoiseConfig, only=MODEL_FIELDS)
    if runtime:
        add_runtime_args(g)


def add_runtime_args(a: argparse._ArgumentGroup) -> None:
    """``--arch``, ``--device``, ``--backend``, ``--precision``, ``--compile`` (the policy of ``deploy.choose``)."""
    add_fields(a, DenoiseConfig, only=RUNTIME_FIELDS)


def load_denoiser(args: argparse.Namespace, **options: Any) -> Denoiser | AutoDenoiser:
    """The Denoiser of the parsed options (with ``options`` over them): the same call a Python user makes."""
    return Denoiser.from_config(config_from(DenoiseConfig, args, **options))


def add_ensemble_arg(p: argparse.ArgumentParser) -> None:
    add_fields(p, DenoiseConfig, only=("ensemble",))


def add_fields(
    p: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    everyday: tuple[str, ...] | None = None,
    only: tuple[str, ...] | None = None,
) -> None:
    """One option per field of the dataclass ``cls`` (or of its fields named in ``only``):
    ``--field-name``, typed by the annotation or by the metadata's ``parser`` (``PARSERS``), help and
    choices from the field's metadata (``config.option``), default from the field. With ``everyday``,
    the other fields' options are listed apart, under "advanced"."""
    advanced = p.add_argument_group("advanced") if everyday is not None else p
    for f in dataclasses.fields(cls):
        if only is not None and f.name not in only:
            continue
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
        parser = meta.pop("parser", None)
        kind = PARSERS[parser] if parser else _TYPES[base[5:-1] if base.startswith("list[") else base]
        names = [short, "--" + f.name.replace("_", "-")] if short else ["--" + f.name.replace("_", "-")]
        suffix = "" if meta.get("required") or default in (None, []) else " (default: %(default)s)"
        g.add_argument(*names, dest=f.name, type=kind, default=default, help=help_text + suffix, **meta)


def config_from(cls: type, args: argparse.Namespace, **overrides: Any) -> Any:
    """An instance of the dataclass ``cls`` from the parsed options of ``add_fields`` (a field the
    command has no option for keeps its default), with ``overrides`` over them."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    return cls(**{**values, **overrides})


def write_report(dest: str, text: str) -> None:
    """``text`` to the file ``dest`` (atomically) or, for ``-``, to stdout."""
    if dest == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        write_text(dest, text if text.endswith("\n") else text + "\n")
