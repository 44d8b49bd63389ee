"""The camera noise model: its statistics behave like a sensor's and a camera pipeline's."""

import numpy as np
import pytest

from noise2noise.config import NoiseConfig
from noise2noise.data.trainsets import SyntheticPairs
from noise2noise.noise import camera as C
from noise2noise.noise.synthetic import add_noise


def params(gain=30.0, seed=0):
    return C.CameraParams.sample(np.random.default_rng(seed), gain, gain)


def test_raw_noise_is_zero_mean_and_its_variance_grows_with_intensity():
    p = params()
    rng = np.random.default_rng(1)
    variances = []
    for level in (0.05, 0.3, 0.9):
        raw = np.full((256, 256), level)
        noise = C.add_raw_noise(raw, p, rng) - raw
        assert abs(noise.mean()) < 4 * noise.std() / 256  # zero-mean before clipping (4 standard errors)
        assert noise.var() == pytest.approx(p.shot * level + p.read, rel=0.05)
        variances.append(noise.var())
    assert variances[0] < variances[1] < variances[2]


def test_neighbours_are_correlated_after_demosaicing_and_not_before():
    p = params(60)
    rng = np.random.default_rng(2)
    img = np.full((128, 128, 3), 0.4, np.float32)
    raw = C.unprocess(img, p)
    raw_noise = C.add_raw_noise(raw, p, rng) - raw

    def neighbour_corr(n):
        return np.corrcoef(n[:, :-1].ravel(), n[:, 1:].ravel())[0, 1]

    assert abs(neighbour_corr(raw_noise)) < 0.05
    rgb_noise = C.process(raw + raw_noise, p) - C.process(raw, p)
    assert neighbour_corr(rgb_noise[..., 1]) > 0.3


def test_unprocess_then_process_returns_the_image_up_to_demosaicing():
    p = params()
    y, x = np.mgrid[0:64, 0:64] / 64
    img = np.stack([0.2 + 0.6 * x, 0.3 + 0.4 * y, 0.5 + 0.2 * x * y], 2).astype(np.float32)
    back = C.process(C.unprocess(img, p), p)
    assert np.abs(back - img)[2:-2, 2:-2].max() < 0.01  # smooth image: bilinear demosaicing is near exact


def test_the_gain_sets_the_noise_level_and_the_generator_everything():
    img = np.full((64, 64, 3), 0.5, np.float32)
    stds = [(C.apply(img, params(g), np.random.default_rng(0)) - img).std() for g in (1, 10, 100)]
    assert stds[0] < stds[1] < stds[2]
    cfg = NoiseConfig.parse("camera")
    assert (cfg.kind, cfg.low, cfg.high) == ("camera", 1.0, 120.0) and str(
        NoiseConfig.parse("camera:4-8")
    ) == "camera:4-8"
    a, _ = add_noise(img, cfg, np.random.default_rng(5))
    b, _ = add_noise(img, cfg, np.random.default_rng(5))
    assert np.array_equal(a, b) and a.shape == img.shape and a.dtype == np.float32


def test_odd_sizes_and_grey():
    rng = np.random.default_rng(0)
    assert C.apply(np.full((33, 17, 3), 0.5, np.float32), params(), rng).shape == (33, 17, 3)
    assert C.apply(np.full((33, 17), 0.5, np.float32), params(), rng).shape == (33, 17)


def test_a_training_pair_is_one_camera_shot_twice():
    y, x = np.mgrid[0:80, 0:80] / 80
    img = (np.stack([x, y, (x + y) / 2], 2) * 200 + 20).astype(np.uint8)  # smooth: JPEG leaves it be
    ds = SyntheticPairs([img], NoiseConfig.parse("camera:20-20"), "noisy", crop=64, seed=0)
    s = ds[3]
    assert not np.array_equal(s.inp, s.target)  # independent noise draws ...
    clean = SyntheticPairs([img], NoiseConfig.parse("camera:20-20"), "clean", crop=64, seed=0)[3].target
    noise_a, noise_b = (s.inp - clean).numpy(), (s.target - clean).numpy()
    assert abs(np.corrcoef(noise_a.ravel(), noise_b.ravel())[0, 1]) < 0.1  # ... of the same crop
    assert noise_b.std() == pytest.approx(noise_a.std(), rel=0.5)  # with the same camera settings
