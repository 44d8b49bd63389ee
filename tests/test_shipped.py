"""The models shipped inside the package: present, loadable offline, and the default of `n2n denoise`."""

import json

import cv2
import numpy as np
import pytest

from conftest import DATA
from noise2noise.cli import main
from noise2noise.evaluation.metrics import psnr
from noise2noise.noise.profile import GAUSSIAN
from noise2noise.weights import (
    PURPOSE,
    REGISTRY,
    available_models,
    file_sha256,
    load_weights,
    registry_path,
)


def test_every_registry_entry_is_shipped_with_its_config():
    assert set(available_models()) == set(REGISTRY)
    for name in REGISTRY:
        ck = load_weights(registry_path(name))
        noise = {
            "photo": "camera@0.6,gaussian:0-50@0.4",
            "phone": "phone@0.35,rawphone@0.2,isp@0.15,camera@0.15,gaussian:0-50@0.15",
        }.get(name.split("-")[1], "gaussian:0-50")
        assert ck.config.arch == "unet" and ck.meta["noise"] == noise
        assert ck.meta["training"]["target"] == ("noisy" if name.startswith("n2n") else "clean")
        card = json.loads(registry_path(name).with_suffix(".json").read_text())
        assert card["sha256"] == file_sha256(registry_path(name))
        assert name in PURPOSE


@pytest.mark.shared("data/test/CBSD68")
def test_denoise_without_weights_uses_the_shipped_model_offline(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("N2N_CACHE", str(tmp_path / "cache"))
    clean = cv2.imread(str(sorted((DATA / "test" / "CBSD68").glob("*.png"))[0]))[:128, :160]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "n.png"), noisy)
    assert main(["denoise", str(tmp_path / "n.png"), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    out = cv2.imread(str(tmp_path / "out" / "n.png"))
    assert psnr(out, clean) > psnr(noisy, clean) + 6
    # ... and that is the model auto chose for white noise: naming it gives the same file.
    assert (
        main(["denoise", str(tmp_path / "n.png"), "-o", str(tmp_path / "named"), "--model", GAUSSIAN, "--quiet"]) == 0
    )
    assert np.array_equal(cv2.imread(str(tmp_path / "named" / "n.png")), out)
    capsys.readouterr()
    assert main(["info", "--models"]) == 0
    assert "auto (default)" in capsys.readouterr().out


@pytest.mark.shared("data/test/Kodak24/kodim03.png")
@pytest.mark.parametrize("name", list(REGISTRY))
@pytest.mark.parametrize(("sigma", "gain"), [(3, -1.0), (50, 13.0)])
def test_light_and_heavy_noise_stay_in_hand(name, sigma, gain):
    """Two models validated only at sigma 25 broke elsewhere: one scored 20.9 dB on inputs at 38.6
    (sigma 3; a nearly clean image must stay within 1 dB of its input), another fell from 28.4 to 21.8
    dB on Kodak24 at sigma 50 (a CPU continuation, docs/lab/training.md; on this crop the shipped models gain 14.0-14.7 dB over the
    input at 14.7, the broken one 10.8; at least 13 is asked). Guard both."""
    from noise2noise.denoiser import Denoiser

    clean = cv2.imread(str(DATA / "test" / "Kodak24" / "kodim03.png"))[:256, :384]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, sigma, clean.shape), 0, 255).astype(np.uint8)
    out = Denoiser.from_weights(model=name, backend="torch", precision="fp32")(noisy)
    assert psnr(out, clean) > psnr(noisy, clean) + gain
