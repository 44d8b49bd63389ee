"""The int8 path: the split graph computes the same function, the image-reading convolutions stay
float, the shipped int8 model is found only for its own weights, and the default takes it."""

import importlib.util
import json
import shutil

import cv2
import numpy as np
import onnx
import pytest
import torch

from conftest import DATA
from noise2noise.denoiser import Denoiser
from noise2noise.deploy.choose import resolve_backend, shipped_int8
from noise2noise.deploy.convert import export_onnx
from noise2noise.deploy.quant import conv_nodes, default_float, image_conv_names, output_conv_names
from noise2noise.deploy.split import ImageSplitUNet, int8_graph
from noise2noise.evaluation.metrics import psnr
from noise2noise.model import UNet
from noise2noise.weights import DEFAULT_MODEL, load_weights, registry_path

HAS_OPENVINO = importlib.util.find_spec("openvino") is not None


@pytest.mark.parametrize("shape", [(1, 3, 64, 96), (2, 3, 32, 160)])
def test_the_split_graph_is_the_same_function(shape):
    torch.manual_seed(0)
    net = UNet().eval()
    split = int8_graph(net).eval()
    assert isinstance(split, ImageSplitUNet)
    x = torch.rand(shape) * 1.4 - 0.2
    with torch.no_grad():
        assert torch.allclose(split(x), net(x), atol=1e-5)
    assert "dec_conv1a" in dict(net.named_children())  # the original is untouched


def test_image_reading_convs_are_found_and_kept_float(tmp_path):
    net = UNet().eval()
    export_onnx(net, tmp_path / "a.onnx")
    export_onnx(int8_graph(net), tmp_path / "b.onnx")
    a, b = onnx.load(str(tmp_path / "a.onnx")), onnx.load(str(tmp_path / "b.onnx"))
    assert image_conv_names(a) == ["/enc_conv0/Conv"]  # dec_conv1a reads a Concat, not the image
    assert sorted(image_conv_names(b)) == ["/enc_conv0/Conv", "/image/Conv"]
    assert len(conv_nodes(b)) == len(conv_nodes(a)) + 1
    assert default_float(b) == output_conv_names(b) + image_conv_names(b)


def test_int8_is_found_only_for_its_own_weights(tmp_path, tiny_weights):
    ck = load_weights(registry_path(DEFAULT_MODEL))
    assert shipped_int8(ck) is not None
    # the same int8 files beside other weights: not theirs, so not used
    src = registry_path(DEFAULT_MODEL)
    shutil.copy(tiny_weights, tmp_path / src.name)
    for suffix in (".int8.onnx", ".int8.onnx.json"):
        shutil.copy(src.with_name(src.stem + suffix), tmp_path / (src.stem + suffix))
    assert shipped_int8(load_weights(tmp_path / src.name)) is None
    assert shipped_int8(load_weights(tiny_weights)) is None
    if HAS_OPENVINO:
        with pytest.raises(ValueError, match="shipped int8"):
            Denoiser.from_weights(str(tiny_weights), precision="int8")
        assert resolve_backend(int8=True) == ("openvino", "int8")
        assert resolve_backend(int8=False)[1] != "int8"
    assert resolve_backend(precision="fp32", int8=True) == ("torch", "fp32")  # the exact path stays exact


INT8_MODELS = {  # shipped model -> (calibration noise, probe noise) its report must name
    "n2n-gaussian": ("gaussian:0-50", "gaussian:2"),
    "n2n-photo": ("camera@0.6,gaussian:0-50@0.4", "camera:1-8"),
    "n2n-phone": ("phone@0.35,rawphone@0.2,isp@0.15,camera@0.15,gaussian:0-50@0.15", "phone:8-32"),
}


@pytest.mark.skipif(not HAS_OPENVINO, reason="openvino is not installed")
@pytest.mark.shared("data/test/Kodak24/kodim03.png")
@pytest.mark.parametrize("model", sorted(INT8_MODELS))
@pytest.mark.parametrize("sigma", [3, 25])
def test_the_default_runs_int8_close_to_fp32(model, sigma, tmp_path, monkeypatch):
    monkeypatch.setenv("N2N_CACHE", str(tmp_path / "cache"))
    clean = cv2.imread(str(DATA / "test" / "Kodak24" / "kodim03.png"))[:256, :384]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, sigma, clean.shape), 0, 255).astype(np.uint8)
    den = Denoiser.from_weights(model=model)
    assert (den.meta["backend"], den.meta["precision"]) == ("openvino", "int8")
    exact = Denoiser.from_weights(model=model, backend="torch", precision="fp32")(noisy)
    out = den(noisy)
    assert psnr(out, clean) > psnr(exact, clean) - 0.1  # as sets: -0.01 to -0.015 dB (README)
    assert np.abs(out.astype(int) - exact.astype(int)).max() <= 8


@pytest.mark.parametrize("model", sorted(INT8_MODELS))
def test_the_shipped_int8_report_names_the_command_inputs(model):
    src = registry_path(model)
    report = json.loads(src.with_name(src.stem + ".int8.onnx.json").read_text())
    assert report["precision"] == "int8" and report["method"] == "kl"
    assert (report["calibration_noise"], report["probe_noise"]) == INT8_MODELS[model]
    assert shipped_int8(load_weights(src)) is not None  # made from these very weights (their hash)


def _trained_like_unet(seed: int = 0) -> UNet:
    """A U-Net whose channels differ in scale, as a trained one's do (He init alone makes them alike)."""
    g = torch.Generator().manual_seed(seed)
    net = UNet().eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.mul_(torch.rand(m.out_channels, 1, 1, 1, generator=g) * 1.9 + 0.1)
    return net


def test_equalizing_keeps_the_function_and_evens_the_channel_ranges():
    from noise2noise.deploy.equalize import FLOW, channel_maxima, equalize

    net = _trained_like_unet()
    rng = np.random.default_rng(0)
    batches = [rng.random((1, 3, 64, 64), dtype=np.float32) for _ in range(2)]
    w = net.enc_conv1.weight.detach().clone()
    eq = equalize(net, batches)
    for name, consumers in FLOW.items():  # the table matches the network's channel counts
        for consumer, first in consumers:
            assert first + getattr(net, name).out_channels <= getattr(net, consumer).in_channels
    x = torch.from_numpy(rng.random((1, 3, 96, 64), dtype=np.float32))
    with torch.no_grad():
        ref = net(x)
        assert torch.allclose(eq(x), ref, atol=1e-4 * float(ref.abs().max()))
        assert torch.allclose(int8_graph(net, batches)(x), ref, atol=1e-4 * float(ref.abs().max()))
    before, after = channel_maxima(net, batches), channel_maxima(eq, batches)

    def shares(hi):  # each channel's maximum as a share of the whole output's
        return hi.clamp_min(0) / float(hi.max())

    for n in FLOW:  # no output's maximum raised, no channel's share lowered
        hi0, hi1 = before[n], after[n]
        assert float(hi1.max()) <= float(hi0.max()) * (1 + 1e-5)
        assert torch.all(shares(hi1) >= shares(hi0) - 1e-6)
    gain = [float(shares(after[n]).median() / shares(before[n]).median()) for n in FLOW]
    assert np.mean(gain) > 1.3
    assert torch.equal(net.enc_conv1.weight, w)  # the original untouched
