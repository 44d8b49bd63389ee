"""Shared fixtures. Data from ``../shared`` (beside the repository) is used when present; tests that
need it skip with a clear reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("N2N_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"
REF_CKPT = SHARED / "reference" / "gaussian" / "n2n-gaussian.pt"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (shared data not laid beside the repository)")
    return path


@pytest.fixture
def ref_ckpt() -> Path:
    return need(REF_CKPT)


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
