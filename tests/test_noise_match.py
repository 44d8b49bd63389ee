"""noise.match: which of a model's training noises an image holds, read as the image's own noise is."""

import numpy as np
import pytest

from noise2noise.config import NoiseConfig, parse_noise_mix
from noise2noise.noise.match import Draw, distance, match, read
from noise2noise.noise.profile import profile
from noise2noise.noise.synthetic import add_noise, rawphone_params


def scene(size: int = 256) -> np.ndarray:
    """A smooth colour scene with a few edges, HWC float32 in [0, 1]."""
    yy, xx = np.mgrid[:size, :size] / size
    x = np.stack([0.2 + 0.6 * xx, 0.3 + 0.4 * yy, 0.5 + 0.3 * np.sin(6 * xx * yy)], axis=-1)
    x[size // 3 : size // 2, size // 4 : size // 2] *= 0.5
    return x.astype(np.float32)


def test_a_gaussian_level_is_read_within_a_tenth():
    clean = scene()
    rng = np.random.default_rng(0)
    noisy = np.clip(add_noise(clean, NoiseConfig.parse("gaussian:25"), rng)[0], 0, 1)
    best = match(noisy, clean, parse_noise_mix("gaussian:0-50"), np.random.default_rng(1), candidates=24, keep=3)
    assert [d.kind for d, _ in best] == ["gaussian"] * 3
    assert abs(best[0][0].params - 25) < 2.5
    assert [x for _, x in best] == sorted(x for _, x in best)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["rawphone", "phone"])
def test_the_nearest_draw_is_of_the_kind_the_image_holds(kind):
    """A phone's plain development leaves noise nearly white between neighbours and shared by the channels;
    its processed photo, noise smoothed over a few pixels: the figures tell them apart."""
    clean = scene(512)
    rng = np.random.default_rng(2)
    noisy = np.clip(add_noise(clean, NoiseConfig.parse(f"{kind}:32"), rng)[0], 0, 1)
    mix = parse_noise_mix("phone@0.4,rawphone@0.3,gaussian:0-50@0.3")
    best = match(noisy, clean, mix, np.random.default_rng(3), keep=4)
    assert best[0][0].kind == kind, [(d.describe(), round(x, 2)) for d, x in best]
    assert best[0][1] < 3.0  # within three scatters of the reading on every figure together


def test_scaling_a_draw_scales_its_noise():
    clean = scene(128)
    rng = np.random.default_rng(4)
    d = Draw("rawphone", rawphone_params(NoiseConfig.parse("rawphone:16"), rng))
    s1 = profile(d.apply(clean, np.random.default_rng(5)).transpose(2, 0, 1)).sigma
    s2 = profile(d.scaled(2.0).apply(clean, np.random.default_rng(5)).transpose(2, 0, 1)).sigma
    assert 1.7 < s2 / s1 < 2.3
    g = Draw("gaussian", 20.0).scaled(1.5)
    assert g.params == pytest.approx(30.0)
    assert distance(profile(clean.transpose(2, 0, 1)), profile(clean.transpose(2, 0, 1))) == 0.0


def test_the_coarse_share_tells_noise_smoothed_over_pixels_from_white_noise():
    """Averaging 2x2 pixels halves white noise and keeps noise shared by the four: the share the
    matching reads beside the finest-scale figures."""
    import cv2

    clean = scene(256)
    rng = np.random.default_rng(6)
    white = rng.normal(0, 0.04, clean.shape).astype(np.float32)
    smooth = cv2.GaussianBlur(rng.normal(0, 0.12, clean.shape).astype(np.float32), (0, 0), 1.5)
    w, s = read((clean + white).transpose(2, 0, 1)), read((clean + smooth).transpose(2, 0, 1))
    assert 0.4 < w.coarse < 0.6
    assert s.coarse > 0.75
    assert distance(w, s) > distance(w.profile, s.profile)  # the coarse share adds to the distance
