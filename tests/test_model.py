import numpy as np
import pytest
import torch

from conftest import REF
from noise2noise.model import ModelConfig, UNet, UNetCompact, build_model, count_params
from noise2noise.weights import load_weights


def test_parameter_counts_match_the_paper_and_the_card():
    assert count_params(UNet(3, 3)) == 991_203  # Noise2Noise appendix Table 2
    assert count_params(UNetCompact(3, 3)) == 700_611  # reference model card


@pytest.mark.parametrize("arch", ["unet", "unet-compact"])
def test_shapes_and_grey(arch):
    m = build_model(ModelConfig(arch, 1, 1)).eval()
    with torch.no_grad():
        assert m(torch.rand(2, 1, 64, 96)).shape == (2, 1, 64, 96)


def test_paper_unet_layers():
    m = UNet()
    # linear output: the last conv is not followed by an activation
    x = torch.full((1, 3, 32, 32), 0.5)
    m.dec_conv1c.bias.data.fill_(-10.0)
    with torch.no_grad():
        assert m(x).max() < -5  # a LeakyReLU/ReLU output could not go this negative
    assert isinstance(m.up, torch.nn.Upsample) and m.up.mode == "nearest"
    assert m.act.negative_slope == pytest.approx(0.1)


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown architecture"):
        ModelConfig("resnet")  # type: ignore[arg-type]


@pytest.mark.shared(REF)
def test_reference_checkpoint_loads_strictly(ref_ckpt):
    sd = torch.load(ref_ckpt, map_location="cpu", weights_only=True)
    m = UNetCompact()
    m.load_state_dict(sd, strict=True)
    ck = load_weights(ref_ckpt)  # architecture guessed from the key names
    assert ck.config.arch == "unet-compact"
    for k, v in sd.items():
        assert torch.equal(ck.model.state_dict()[k], v.float())
    assert np.isfinite(sum(float(v.sum()) for v in sd.values()))
