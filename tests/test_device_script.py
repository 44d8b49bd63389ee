"""The prepared GPU training script runs end to end on the CPU with a tiny setting, so a lent GPU is
never spent debugging it (scripts/device_train.sh)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from noise2noise.weights import load_weights

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_device_train_script_on_cpu(tmp_path):
    from test_train import make_images

    data = make_images(tmp_path / "data", 10)
    env = {
        **os.environ,
        "OUT": str(tmp_path / "out"),
        "DEVICE": "cpu",
        "ITER": "8",
        "BATCH": "2",
        "DATA": str(data),
        "SECONDS_PER_MODEL": "1200",
        "PYTHON": sys.executable,
        "OMP_NUM_THREADS": "2",
    }
    r = subprocess.run(
        ["bash", str(ROOT / "scripts" / "device_train.sh")], env=env, capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stderr[-3000:]
    files = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert len(files) == 6 and len(files) <= 8  # the device tool brings back at most 8 files
    for name, target in (("n2n", "noisy"), ("n2c", "clean")):
        ck = load_weights(tmp_path / "out" / f"{name}-gaussian" / "latest.safetensors")
        assert ck.meta["training"]["step"] == 8 and ck.meta["training"]["target"] == target
        assert json.loads((tmp_path / "out" / f"{name}-gaussian" / "config.json").read_text())["iterations"] == 8
