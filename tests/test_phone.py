"""The phone noise model: zero-mean, as strong as a low-light phone photo, correlated as its processing makes it."""

from dataclasses import replace

import numpy as np
import pytest

from noise2noise.config import NoiseConfig
from noise2noise.data.trainsets import SyntheticPairs
from noise2noise.noise import phone as P
from noise2noise.noise.synthetic import PIPELINES, add_noise


def params(gain=30.0, seed=0, **fixed):
    p = P.PhoneParams.sample(np.random.default_rng(seed), gain, gain)
    return P.PhoneParams(**{**p.__dict__, **fixed})


def neighbour_correlation(n):
    n = n - n.mean(axis=(0, 1))
    return float(((n[:, 1:] * n[:, :-1]).mean() + (n[1:] * n[:-1]).mean()) / 2 / (n * n).mean())


def test_the_noise_is_zero_mean_and_stronger_in_the_shadows_than_white_noise_of_its_level():
    rng = np.random.default_rng(0)
    for level in (0.05, 0.4, 0.8):
        x = np.full((128, 128, 3), level, np.float32)
        n = np.stack([P.apply(x, params(binning=1, jpeg_quality=None), rng) - x for _ in range(8)])
        assert abs(float(n.mean())) < 5 * float(n.std()) / np.sqrt(n.size / 64)  # correlated: fewer effective samples
    dark = np.full((64, 64, 3), 0.1, np.float32)
    bright = np.full((64, 64, 3), 0.7, np.float32)
    p = params(jpeg_quality=None)
    assert (P.apply(bright, p, rng) - bright).std() > (
        P.apply(dark, p, rng) - dark
    ).std() * 0.5  # signal-dependent, bounded


def test_the_gain_sets_the_level_from_mild_to_the_darkest_phone_photos():
    x = np.random.default_rng(1).uniform(0.05, 0.95, (128, 128, 3)).astype(np.float32)
    psnrs = []
    for gain in (3, 30, 200):
        n = np.clip(P.apply(x, params(gain, jpeg_quality=None), np.random.default_rng(2)), 0, 1)
        psnrs.append(10 * np.log10(1 / np.mean((n - x) ** 2)))
    assert psnrs[0] > psnrs[1] > psnrs[2]
    assert psnrs[0] > 30 and psnrs[2] < 20


def test_processing_sets_the_correlation_between_neighbours():
    x = np.full((256, 256, 3), 0.4, np.float32)
    rng = np.random.default_rng(3)
    raw_like = neighbour_correlation(P.apply(x, params(luma_nr=0, chroma_nr=0, sharpen=0, binning=2), rng) - x)
    smoothed = neighbour_correlation(P.apply(x, params(luma_nr=0.8, demosaic="bilinear", binning=1), rng) - x)
    sharpened = neighbour_correlation(P.apply(x, params(luma_nr=0, sharpen=1.5, binning=1), rng) - x)
    assert raw_like < 0.3 < smoothed
    assert sharpened < smoothed


@pytest.mark.parametrize("method", ["bilinear", "mhc"])
def test_demosaicing_keeps_a_flat_colour_and_is_linear(method):
    rng = np.random.default_rng(4)
    mosaic = np.full((16, 16), 0.5)
    assert np.allclose(P.demosaic(mosaic, method)[2:-2, 2:-2], 0.5, atol=1e-6)
    a, b = rng.random((16, 16)), rng.random((16, 16))
    assert np.allclose(P.demosaic(a + 2 * b, method), P.demosaic(a, method) + 2 * P.demosaic(b, method), atol=1e-5)


@pytest.mark.parametrize("kind", ["phone", "isp", "rawphone"])  # isp.py: a nonlinear processor; rawphone: none
def test_odd_sizes_grey_and_the_generator_decides_everything(kind):
    for shape in [(33, 47, 3), (31, 20)]:
        x = np.full(shape, 0.5, np.float32)
        a = add_noise(x, NoiseConfig.parse(kind), np.random.default_rng(5))[0]
        b = add_noise(x, NoiseConfig.parse(kind), np.random.default_rng(5))[0]
        assert a.shape == shape and a.dtype == np.float32 and np.array_equal(a, b)
    assert NoiseConfig.parse(kind) == NoiseConfig(kind, 3.0, 200.0)


def test_rawphone_is_the_phone_sensor_without_the_phones_processing():
    x = np.full((128, 128, 3), 0.4, np.float32)
    cfg = NoiseConfig.parse("rawphone:40")
    p = phone_params_for(cfg, 7)
    assert (p.luma_nr, p.chroma_nr, p.sharpen, p.jpeg_quality) == (0.0, 0.0, 0.0, None)
    processed = phone_params_for(NoiseConfig.parse("phone:40"), 7)
    same = (p.cam.shot, p.cam.read, p.demosaic, p.binning) == (
        processed.cam.shot,
        processed.cam.read,
        processed.demosaic,
        processed.binning,
    )
    assert same and np.array_equal(p.cam.rgb2cam, processed.cam.rgb2cam)  # one sensor and exposure
    y = add_noise(x, cfg, np.random.default_rng(7))[0]
    assert len(np.unique(y)) > 1000  # not saved as an 8-bit JPEG
    n = (y - x)[4:-4, 4:-4]
    # noise reduction removes noise: the plain photo keeps more of it than the processed one at the same gain
    blurred = P.apply(x, replace(processed, jpeg_quality=None, sharpen=0.0), np.random.default_rng(8)) - x
    assert n.std() > blurred[4:-4, 4:-4].std()
    assert abs(n.mean()) < 0.05 * n.std()  # zero-mean


def phone_params_for(cfg, seed):
    return PIPELINES[cfg.kind][0](cfg, np.random.default_rng(seed))


def test_a_training_pair_is_one_phone_shot_twice():
    img = (np.random.default_rng(6).random((96, 96, 3)) * 255).astype(np.uint8)
    ds = SyntheticPairs([img], NoiseConfig.parse("phone:60"), target="noisy", crop=64, seed=0)
    s = ds[0]
    clean = SyntheticPairs([img], NoiseConfig.parse("phone:60"), target="clean", crop=64, seed=0)[0].target.numpy()
    n_in, n_tgt = s.inp.numpy() - clean, s.target.numpy() - clean
    assert s.inp.shape == s.target.shape == (3, 64, 64)
    assert n_in.std() > 0.02 and n_tgt.std() > 0.02
    assert abs(np.corrcoef(n_in.ravel(), n_tgt.ravel())[0, 1]) < 0.2  # the same scene, independent noise
