"""``n2n serve``: the local web page and HTTP API (``serve.app``) under uvicorn."""

from __future__ import annotations

import argparse

from ..config import DenoiseConfig
from ._common import add_fields, config_from

SERVE_FIELDS = ("device", "backend", "precision", "compile", "tile", "overlap")

HELP = "Serve a local web page and HTTP API for denoising."
EXAMPLE = """n2n serve                      # http://127.0.0.1:8000, the shipped models
  n2n serve --weights my.safetensors --port 8080"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; 0.0.0.0 exposes it to the network (default: %(default)s)",
    )
    p.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--model", help="the default shipped model (default: the default model)")
    g.add_argument("--weights", help="also offer this checkpoint, as the default")
    p.add_argument("--max-upload-mb", type=int, default=64, help="largest upload accepted, MiB (default: %(default)s)")
    p.add_argument(
        "--queue", type=int, default=4, help="requests that may wait for the model; more get 503 (default: %(default)s)"
    )
    # how every offered model runs: the fields of DenoiseConfig (help and checks there)
    add_fields(p.add_argument_group("advanced"), DenoiseConfig, only=SERVE_FIELDS)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..serve.app import create_app
        from ..serve.models import ModelPool
    except ImportError as e:
        raise ValueError(
            f"n2n serve needs the serve extra: pip install 'noise2noise[serve]' ({e.name} is missing)"
        ) from None
    if args.max_upload_mb < 1 or args.queue < 1:
        raise ValueError("--max-upload-mb and --queue must be at least 1")
    config = config_from(DenoiseConfig, args, weights=None, model=None)  # the pool names the model of each request
    app = create_app(ModelPool(args.weights, args.model, config), args.max_upload_mb << 20, args.queue)
    print(f"n2n serve: http://{args.host}:{args.port}  (Ctrl+C stops)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
