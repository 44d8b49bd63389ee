"""The prepared GPU training script runs end to end on the CPU with a tiny setting, so GPU time is
never spent debugging it (scripts/device_train.sh)."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from noise2noise.weights import load_weights

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_device_train_script_on_cpu(tmp_path):
    from test_train import make_images

    data = make_images(tmp_path / "data", 10)
    env = {
        **os.environ,
        "OUT": str(tmp_path / "out"),
        "DEVICE": "cpu",
        "PROBE": "4",
        "MAX_ITER": "8",
        "BATCH": "2",
        "CROP": "32",
        "CAM_WORKERS": "0",
        "TOTAL_SECONDS": "400",
        "BENCH": "--device cpu --configs fp32 --count 2 --repeats 1",
        "DATA": str(data),
        "PYTHON": sys.executable,
        "OMP_NUM_THREADS": "1",
    }
    r = subprocess.run(
        ["bash", str(ROOT / "scripts" / "device_train.sh")], env=env, capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "out"
    files = sorted(p.name for p in out.rglob("*") if p.is_file())
    runs = ["n2c-camera", "n2c-gaussian", "n2n-camera", "n2n-gaussian", "n2n-gaussian-bf16"]
    assert files == sorted([f"{n}.tar" for n in runs] + ["device_train.log", "gpu_infer.json"])  # <= 8 come back
    assert json.loads((out / "gpu_infer.json").read_text())["rows"][0]["config"] == "fp32"
    for name in runs:
        with tarfile.open(out / f"{name}.tar") as tar:
            tar.extractall(tmp_path / name, filter="data")
        ck = load_weights(tmp_path / name / "latest.safetensors")
        cfg = json.loads((tmp_path / name / "config.json").read_text())
        # the probe's 4 steps, then resumed to the length its speed allowed (capped at 4 + 8 here)
        assert ck.meta["training"]["step"] == cfg["iterations"] == 12, name
        assert cfg["resumes"][0]["step"] == 4 and cfg["resumes"][0]["changed"]["iterations"] == [4, 12]
        assert ck.meta["training"]["target"] == ("noisy" if name.startswith("n2n") else "clean")
        assert ("camera" in ck.meta["noise"]) == ("camera" in name)
        assert cfg["precision"] == ("bf16" if name.endswith("bf16") else "fp32")
