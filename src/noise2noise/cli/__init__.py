"""The ``n2n`` command: one module per subcommand, each a thin shell that parses options, builds a
config, calls one library function and prints.

Every error the user can cause is printed as one line on stderr with a non-zero exit code."""

from __future__ import annotations

import argparse
import os
import sys

from .._version import __version__
from ..images import ImageError
from ..weights import WeightsError
from . import bench, burst, denoise, eval, export, info, serve, train

COMMANDS = {
    "denoise": denoise,
    "burst": burst,
    "info": info,
    "train": train,
    "eval": eval,
    "export": export,
    "bench": bench,
    "serve": serve,
}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="n2n", description="Noise2Noise: train denoisers without clean data, and run them."
    )
    ap.add_argument("--version", action="version", version=f"noise2noise {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, mod in COMMANDS.items():
        p = sub.add_parser(
            name,
            help=mod.HELP,
            description=getattr(mod, "DESCRIPTION", mod.HELP),
            epilog="example:\n  " + mod.EXAMPLE,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
    return ap


def _one_line(e: BaseException) -> str:
    if isinstance(e, OSError) and not isinstance(e, FileNotFoundError) and e.filename:
        return f"{e.filename}: {e.strerror or e}"
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.cmd].run(args)
    except ConnectionError as e:  # a cluster or service that does not answer: the run failed, its usage is fine
        if os.environ.get("N2N_DEBUG") == "1":
            raise
        print(f"n2n: error: {_one_line(e)}", file=sys.stderr)
        return 1
    except (ImageError, WeightsError, ValueError, OSError) as e:
        if os.environ.get("N2N_DEBUG") == "1":
            raise
        print(f"n2n: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("n2n: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug or an unforeseen failure: one line, the traceback on request
        if os.environ.get("N2N_DEBUG") == "1":
            raise
        print(
            f"n2n: error: unexpected {type(e).__name__}: {_one_line(e)} (N2N_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1
