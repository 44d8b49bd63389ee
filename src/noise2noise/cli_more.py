"""Subcommands added by the evaluation and deployment modules (eval, export, bench)."""

from __future__ import annotations

HANDLERS: dict = {}


def add_commands(sub, make, add_model_args) -> None:
    pass
