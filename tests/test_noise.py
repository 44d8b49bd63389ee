import numpy as np
import pytest

from noise2noise.images import quantize
from noise2noise.noise.synthetic import NoiseConfig, add_noise, bernoulli, gaussian, impulse, poisson, text


def flat(v=0.5, shape=(256, 256, 3)):
    return np.full(shape, v, np.float32)


def test_gaussian_is_zero_mean_unclipped_with_the_right_std():
    x = flat(0.02)  # near black: clipping would bias the mean upwards
    n = gaussian(x, 25, np.random.default_rng(0)) - x
    assert abs(n.mean()) < 1e-3 and abs(n.std() * 255 - 25) < 0.2
    assert (x + n).min() < 0  # never clipped
    ref = x + np.random.default_rng(3).normal(0, 25, x.shape) / 255
    assert np.allclose(gaussian(x, 25, np.random.default_rng(3)), ref, atol=1e-6)


def test_poisson_mean_and_variance():
    x = flat(0.4)
    y = poisson(x, 30, np.random.default_rng(0))
    assert abs(y.mean() - 0.4) < 2e-3 and abs(y.var() - 0.4 / 30) < 5e-4


@pytest.mark.parametrize("p", [0.0, 0.3, 0.9])
def test_dropout_and_impulse_rates(p):
    x = flat(0.5)
    y, keep = bernoulli(x, p, np.random.default_rng(1))
    assert abs((y[..., 0] == 0).mean() - p) < 0.01 and abs((1 - keep.mean()) - p) < 0.01
    z = impulse(x, p, np.random.default_rng(2))
    assert abs((z != 0.5).any(axis=2).mean() - p) < 0.01


@pytest.mark.parametrize("p", [0.1, 0.25, 0.5])
def test_text_occupancy_near_p(p):
    x = flat(0.5)
    y = text(x, p, np.random.default_rng(4))
    occ = (y != 0.5).any(axis=2).mean()
    assert p - 0.02 <= occ <= p + 0.15, occ


def test_same_seed_same_noise_and_seed_zero_is_a_seed():
    x = flat()
    for spec in ("gaussian:0-50", "poisson:30", "bernoulli:0.5", "impulse:0.3", "text:0.2"):
        cfg = NoiseConfig.parse(spec)
        a, _ = add_noise(x, cfg, np.random.default_rng(0))
        b, _ = add_noise(x, cfg, np.random.default_rng(0))
        c, _ = add_noise(x, cfg, np.random.default_rng(1))
        assert np.array_equal(a, b) and not np.array_equal(a, c), spec


def test_ranges_are_sampled_per_image_and_specs_validate():
    cfg = NoiseConfig.parse("gaussian:0-50")
    sig = [cfg.sample_param(np.random.default_rng(i)) for i in range(200)]
    assert 0 <= min(sig) < 5 and 45 < max(sig) <= 50
    assert str(cfg) == "gaussian:0-50" and str(NoiseConfig.parse("poisson:30")) == "poisson:30"
    for bad in ("gaussian", "gauss:25", "bernoulli:1.5", "gaussian:50-10", "gaussian:x"):
        with pytest.raises(ValueError):
            NoiseConfig.parse(bad)


def test_quantize_is_what_an_8bit_file_does():
    y = quantize(np.array([-0.1, 0.5004, 1.3], np.float32))
    assert np.allclose(y, [0, 128 / 255, 1])
