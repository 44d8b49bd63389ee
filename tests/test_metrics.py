import cv2
import numpy as np
import pytest

from conftest import DATA
from noise2noise.evaluation.metrics import psnr, ssim


def test_psnr_definition():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 10
    assert psnr(a, b) == pytest.approx(10 * np.log10(255**2 / (100 / 48)))
    assert psnr(a, a) == float("inf")


@pytest.mark.shared("data/test/Kodak24")
def test_ssim_equals_skimage_matlab_settings():
    skm = pytest.importorskip("skimage.metrics")
    kodak = DATA / "test" / "Kodak24"
    rng = np.random.default_rng(0)
    for f in sorted(kodak.glob("*.png"))[:3]:
        clean = cv2.imread(str(f))[:200, :300]
        for sigma in (5, 25, 50):
            noisy = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255).astype(np.uint8)
            ref = skm.structural_similarity(
                clean,
                noisy,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                data_range=255,
                channel_axis=-1,
            )
            assert abs(ssim(clean, noisy) - ref) < 1e-4
    g = clean[..., 0]
    ref = skm.structural_similarity(
        g, g // 2, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )
    assert abs(ssim(g, g // 2) - ref) < 1e-4
