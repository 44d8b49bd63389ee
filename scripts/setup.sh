#!/usr/bin/env bash
# One-command set-up on a fresh machine: a virtual environment in .venv with the CPU build of
# PyTorch (installed first, pinned, so that the package's `torch>=2.3` does not pull a CUDA build),
# the package in editable mode, the deployment runtimes, the web server, Ray, HEIC support and the test tools; and,
# where apt-get can be used, Debian's chromium + chromium-driver for the browser test of `n2n serve`
# (without them that one test is skipped, with the reason).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } \
      || echo "setup: could not install chromium/chromium-driver; the browser test will be skipped"
  else
    echo "setup: chromium/chromedriver not installed (needs root and apt-get); the browser test will be skipped"
  fi
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e '.[dev,deploy,serve,scale,heif]'
.venv/bin/n2n --version
