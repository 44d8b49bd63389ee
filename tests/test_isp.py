"""The nonlinear phone processor (``isp:G``): the picture kept, the noise processed, the generator deciding."""

import dataclasses

import numpy as np

from noise2noise.config import NoiseConfig
from noise2noise.noise import isp as I
from noise2noise.noise.synthetic import add_noise


def params(gain=30.0, seed=0, **fixed):
    p = I.IspParams.sample(np.random.default_rng(seed), gain, gain)
    return dataclasses.replace(p, **fixed)


def psnr(a, b):
    return 10 * np.log10(1 / max(np.mean((np.clip(a, 0, 1) - b) ** 2), 1e-12))


def smooth(h, w):
    yy, xx = np.mgrid[0:h, 0:w] / float(w)
    return np.stack([0.1 + 0.8 * xx, 0.2 + 0.6 * yy, 0.5 + 0.3 * np.sin(6 * xx)], axis=2).astype(np.float32)


def test_without_noise_the_picture_comes_back_through_the_processor():
    x = smooth(64, 96)
    p = params(jpeg_quality=95)
    silent = dataclasses.replace(p, cam=dataclasses.replace(p.cam, shot=0.0, read=0.0))
    assert psnr(I.apply(x, silent, np.random.default_rng(2), compress=False), x) > 60  # only the difference is added
    assert psnr(I.apply(x, silent, np.random.default_rng(2)), x) > 30  # then the JPEG's own loss


def test_the_gain_sets_the_level_from_mild_to_the_darkest_phone_photos():
    x = smooth(128, 128)
    levels = [psnr(I.apply(x, params(g, jpeg_quality=95), np.random.default_rng(3)), x) for g in (3, 30, 200)]
    assert levels[0] > levels[1] > levels[2]
    assert levels[0] > 30 and levels[2] < 22


def test_the_noise_reduction_smooths_the_noise_and_sharpening_lifts_it():
    x = np.full((128, 128, 3), 0.4, np.float32)
    bare = dict(luma_blend=0.0, chroma_blend=0.0, sharpen=0.0)
    raw = np.std(I.apply(x, params(**bare), np.random.default_rng(4), compress=False) - x)
    for luma_filter in ("bilateral", "nlm"):
        reduced = params(luma_filter=luma_filter, luma_blend=1.0, luma_strength=1.5, chroma_blend=1.0, sharpen=0.0)
        smoothed = np.std(I.apply(x, reduced, np.random.default_rng(4), compress=False) - x)
        assert smoothed < 0.8 * raw, luma_filter
    sharpened = np.std(I.apply(x, params(**{**bare, "sharpen": 1.5}), np.random.default_rng(4), compress=False) - x)
    assert sharpened > raw


def test_the_photo_is_written_clipped_and_noisy_at_odd_sizes_and_in_grey():
    # sizes, grey and the generator's say: tests/test_phone.py, for both pipelines
    for shape in [(33, 47, 3), (31, 20), (1, 1, 3)]:
        a = add_noise(np.full(shape, 0.5, np.float32), NoiseConfig.parse("isp:40"), np.random.default_rng(5))[0]
        assert a.shape == shape and 0.0 <= a.min() and a.max() <= 1.0
        assert a.size == 3 or a.std() > 0.01
