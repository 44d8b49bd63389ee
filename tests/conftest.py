"""Shared fixtures. Data from ``../shared`` (beside the repository) is used when present: a test that
needs it carries ``@pytest.mark.shared("test/Kodak24", ...)`` (paths under ``../shared``) and is
skipped, with the missing path as the reason, when one is absent."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("N2N_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"
REF_CKPT = SHARED / "reference" / "gaussian" / "n2n-gaussian.pt"


REF = "reference/gaussian/n2n-gaussian.pt"  # the marker's path of REF_CKPT

# helpers shared with the benchmarks (synthetic bursts) live in benchmarks/, outside the library
sys.path.insert(0, str(ROOT / "benchmarks"))


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "shared(*paths): needs these paths under ../shared; skipped when one is absent")


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        for mark in item.iter_markers("shared"):
            missing = [SHARED / p for p in mark.args or (".",) if not (SHARED / p).exists()]
            if missing:
                reason = f"{missing[0]} is absent (shared data not laid beside the repository)"
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def ref_ckpt(request) -> Path:
    """The public compact checkpoint; the test must be marked ``@pytest.mark.shared(REF, ...)``."""
    mark = request.node.get_closest_marker("shared")
    if mark is None or REF not in mark.args:
        pytest.fail(f"a test that uses ref_ckpt needs @pytest.mark.shared({REF!r})")
    return REF_CKPT


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """A randomly initialised compact net saved in our format (fast to run)."""
    from noise2noise.model import ModelConfig, build_model
    from noise2noise.weights import save_weights

    torch.manual_seed(0)
    cfg = ModelConfig("unet-compact")
    path = tmp_path_factory.mktemp("w") / "tiny.safetensors"
    save_weights(path, build_model(cfg), cfg, {"noise": "gaussian:25"})
    return path


@pytest.fixture
def photo() -> np.ndarray:
    """A smooth synthetic BGR uint8 'photo' with some edges, 48x40."""
    y, x = np.mgrid[0:48, 0:40]
    img = np.stack([x * 5, y * 4, (x + y) * 3], axis=2) % 256
    img[10:20, 5:30] = 200
    return img.astype(np.uint8)
