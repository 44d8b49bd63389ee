#!/usr/bin/env bash
# One-command set-up on a fresh machine: a virtual environment in .venv with the CPU build of
# PyTorch (installed first, pinned, so that the package's `torch>=2.3` does not pull a CUDA build),
# the package in editable mode, the deployment runtimes and the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e '.[dev,deploy]'
.venv/bin/n2n --version
