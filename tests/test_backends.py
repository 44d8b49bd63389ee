"""The one backend policy: Python and the CLI choose the same runtime for the same request."""

import importlib.util

import cv2
import numpy as np
import pytest

from noise2noise.cli import main
from noise2noise.denoiser import Denoiser
from noise2noise.deploy import choose
from noise2noise.deploy.choose import resolve_backend
from noise2noise.runners import openvino_precision_supported

HAS_OPENVINO = importlib.util.find_spec("openvino") is not None


def test_fp32_or_another_device_selects_exact_torch():
    assert resolve_backend("auto", "fp32") == ("torch", "fp32")
    assert resolve_backend("auto", "auto", device="cuda") == ("torch", "fp16")  # a GPU's fast path
    assert resolve_backend("auto", "fp32", device="cuda") == ("torch", "fp32")
    assert resolve_backend("torch", "auto") == ("torch", "fp32")
    with pytest.raises(ValueError, match="torch backend"):
        resolve_backend("openvino", "auto", device="cuda")
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve_backend("tensorrt", "auto")


def test_auto_falls_back_to_torch_without_openvino(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(choose.importlib.util, "find_spec", lambda n, *a: None if n == "openvino" else real(n, *a))
    assert resolve_backend("auto", "auto") == ("torch", "fp32")


@pytest.mark.skipif(not HAS_OPENVINO, reason="openvino is not installed")
def test_auto_is_openvino_with_bf16_only_where_the_cpu_has_it():
    expected = "bf16" if openvino_precision_supported("bf16") else "fp32"
    assert resolve_backend("auto", "auto") == ("openvino", expected)


@pytest.mark.skipif(not HAS_OPENVINO, reason="openvino is not installed")
def test_an_avx2_kernel_cap_means_fp32_float_layers(monkeypatch):
    # OpenVINO keeps listing BF16 under ONEDNN_MAX_CPU_ISA=AVX2 but cannot compile bf16 there
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "avx2")
    assert not openvino_precision_supported("bf16") and openvino_precision_supported("fp32")
    assert resolve_backend("auto", "auto") == ("openvino", "fp32")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "ALL")  # no cap: the CPU decides again
    assert resolve_backend("auto", "auto")[1] == ("bf16" if openvino_precision_supported("bf16") else "fp32")


def test_python_and_the_cli_take_the_same_path(tmp_path, tiny_weights, photo, capsys, monkeypatch):
    monkeypatch.setenv("N2N_CACHE", str(tmp_path / "cache"))
    cv2.imwrite(str(tmp_path / "a.png"), photo)
    assert main(["denoise", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "--weights", str(tiny_weights)]) == 0
    den = Denoiser.from_weights(str(tiny_weights))  # the defaults of the Python API
    assert den.meta["backend"] == resolve_backend()[0]
    assert np.array_equal(cv2.imread(str(tmp_path / "out" / "a.png")), den(photo))


def test_an_exported_file_refuses_a_precision_it_cannot_honour(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"x")
    with pytest.raises(ValueError, match="exported in"):
        Denoiser.from_weights(str(tmp_path / "m.onnx"), precision="fp16")


def test_torch_runner_autocasts_where_asked():
    """The GPU path's plumbing (autocast, channels_last), run here on the CPU in bf16."""
    import numpy as np
    import torch

    from noise2noise.config import ModelConfig
    from noise2noise.deploy.choose import runner_for_checkpoint
    from noise2noise.model import build_model
    from noise2noise.runners import torch_runner
    from noise2noise.weights import load_checkpoint

    torch.manual_seed(0)
    model = build_model(ModelConfig("unet"))
    x = np.random.default_rng(0).random((1, 3, 64, 96), dtype=np.float32)
    exact = torch_runner(model, "cpu")(x)
    fast = torch_runner(model, "cpu", "bf16")(x)
    assert fast.dtype == np.float32 and fast.shape == exact.shape
    assert 0 < np.abs(fast - exact).max() < 0.05  # bf16 differs, a little
    with pytest.raises(ValueError, match="fp32 on the CPU"):
        runner_for_checkpoint(load_checkpoint(None), "torch", "bf16", "cpu")
