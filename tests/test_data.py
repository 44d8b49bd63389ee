"""Training data: a sample is a function of (seed, index); a pair shares its crop window; the folder
layouts are read in one place."""

import cv2
import numpy as np
import pytest
import torch

from noise2noise.config import NoiseConfig
from noise2noise.data.folders import find_images, pair_paths, scene_paths
from noise2noise.data.trainsets import RealPairs, SyntheticPairs, random_crop
from noise2noise.images import ImageError


def images(n=3, shape=(50, 70, 3), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(n)]


@pytest.mark.parametrize("target", ["noisy", "clean"])
def test_same_seed_and_index_give_the_same_sample(target):
    ds = SyntheticPairs(images(), NoiseConfig.parse("gaussian:0-50"), target, crop=32, seed=3)
    a, b = ds[17], ds[17]
    assert all(np.array_equal(x, y) for x, y in ((a.inp, b.inp), (a.target, b.target), (a.mask, b.mask)))
    other = SyntheticPairs(images(), NoiseConfig.parse("gaussian:0-50"), target, crop=32, seed=4)[17]
    assert not np.array_equal(a.inp, ds[18].inp) and not np.array_equal(a.inp, other.inp)


def test_noisy_targets_are_an_independent_draw_around_the_same_crop():
    ds = SyntheticPairs(images(), NoiseConfig.parse("gaussian:25"), "noisy", crop=32, seed=0)
    clean_ds = SyntheticPairs(images(), NoiseConfig.parse("gaussian:25"), "clean", crop=32, seed=0)
    s, c = ds[5], clean_ds[5]
    assert not np.array_equal(s.inp, s.target)
    # the clean-target dataset draws the same crop: both noisy images scatter around it with sigma 25
    for x in (s.inp, s.target):
        assert abs(float((x - c.target).std()) * 255 - 25) < 3
    assert abs(float(((s.inp - c.target) * (s.target - c.target)).mean())) < 1e-3  # independent noise


def test_a_real_pair_shares_its_crop_window():
    noisy = images(2)
    clean = [np.clip(x.astype(int) + 1, 0, 255).astype(np.uint8) for x in noisy]  # same picture, shifted value
    ds = RealPairs([[n, c] for n, c in zip(noisy, clean)], "pairs", crop=32, seed=0)
    for i in range(20):
        s = ds[i]
        diff = (s.target - s.inp) * 255
        assert np.allclose(diff[s.inp < 254 / 255], 1, atol=1e-4)  # pixel for pixel the same window


def test_random_crop_pads_small_images_and_applies_one_transform_to_all():
    a = np.arange(20 * 10 * 3).reshape(20, 10, 3)
    x, y = random_crop([a, a + 1], 32, np.random.default_rng(0))
    assert x.shape == (32, 32, 3) and np.array_equal(y, x + 1)


def test_folder_layouts(tmp_path):
    for sub in ("noisy", "clean"):
        (tmp_path / "p" / sub).mkdir(parents=True)
        for n in ("a.png", "b.png"):
            cv2.imwrite(str(tmp_path / "p" / sub / n), images(1, (8, 8, 3))[0])
    assert [n for n, _, _ in pair_paths(tmp_path / "p")] == ["a.png", "b.png"]
    assert len(find_images([tmp_path / "p"])) == 4  # recursive
    (tmp_path / "p" / "clean" / "b.png").unlink()
    with pytest.raises(ImageError, match="names differ"):
        pair_paths(tmp_path / "p")
    (tmp_path / "s" / "one").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "s" / "one" / "x.png"), images(1, (8, 8, 3))[0])
    with pytest.raises(ImageError, match="two or more captures"):
        scene_paths(tmp_path / "s")


def test_device_batches_draw_crops_and_noise_where_the_model_trains():
    from noise2noise.data.devicesets import DeviceBatches

    imgs = images(3, (70, 90, 3))
    db = DeviceBatches(imgs, NoiseConfig.parse("gaussian:25"), "clean", crop=32, batch=8, device="cpu", seed=1)
    inp, tgt, mask = db.batch(5)
    assert inp.shape == tgt.shape == (8, 3, 32, 32) and mask.shape == (8, 1, 32, 32)
    assert abs(float((inp - tgt).std()) * 255 - 25) < 2  # gaussian sigma 25 around the clean crop, unclipped
    assert len({bytes((t * 255).round().byte().numpy()) for t in tgt}) == 8  # eight distinct crops
    again = db.batch(5)
    assert all(torch.equal(a, b) for a, b in zip((inp, tgt, mask), again))  # (seed, step) decides everything
    assert not torch.equal(db.batch(6)[0], inp)
    noisy = DeviceBatches(imgs, NoiseConfig.parse("gaussian:25"), "noisy", 32, 8, "cpu").batch(0)
    assert not torch.equal(noisy[0], noisy[1])  # two independent draws for Noise2Noise


def test_training_with_on_device_batches(tmp_path):
    from noise2noise.training.loop import train
    from test_train import make_images, tiny_run

    data = make_images(tmp_path / "d", 3)
    kw = dict(iterations=4, batch=2, crop=32, val_every=4, ckpt_every=4, val_count=1)
    s = tiny_run(tmp_path, data=[str(data)], loader="device", **kw)
    assert s["step"] == 4 and np.isfinite(s["best_val_psnr"])
    with pytest.raises(ValueError, match="loader cpu"):
        train(
            data=[str(data)], out=str(tmp_path / "r2"), noise="text:0.2", loader="device", iterations=1, progress=False
        )


def test_a_noise_mixture_draws_each_kind_by_its_weight():
    from noise2noise.config import parse_noise_mix

    mix = parse_noise_mix("gaussian:0@3,impulse:1")  # no noise 3/4 of the time, all pixels replaced 1/4
    assert [(str(n), w) for n, w in mix] == [("gaussian:0", 0.75), ("impulse:1", 0.25)]
    ds = SyntheticPairs(images(1, (64, 64, 3)), mix, "clean", crop=32, seed=0)
    changed = np.mean([not np.allclose(ds[i].inp, ds[i].target) for i in range(200)])
    assert 0.15 < changed < 0.35
    with pytest.raises(ValueError, match="positive"):
        parse_noise_mix("gaussian:25@0")


def test_saturate_boosts_colour_around_each_pixels_grey_and_leaves_grey_alone():
    from noise2noise.data.trainsets import saturate

    x = np.random.default_rng(0).uniform(0.3, 0.7, (16, 16, 3)).astype(np.float32)
    assert np.allclose(saturate(x, 1.0), x, atol=1e-6)
    y = saturate(x, 1.5)  # 0.3-0.7 stays inside [0, 1] at 1.5x
    assert np.allclose(y.mean(2), x.mean(2), atol=1e-6)
    assert np.allclose(y - y.mean(2, keepdims=True), 1.5 * (x - x.mean(2, keepdims=True)), atol=1e-5)
    grey = np.full((4, 4, 3), 0.4, np.float32)
    assert np.array_equal(saturate(grey, 2.5), grey)
    assert saturate(x, 10.0).min() >= 0 and saturate(x, 10.0).max() <= 1


def test_training_crops_are_colour_boosted_only_as_often_as_asked():
    def chroma(ds, i):
        t = ds[i].target.numpy()
        return float(np.abs(t - t.mean(0, keepdims=True)).mean())

    imgs = images(2, (64, 64, 3))
    imgs = [(im // 4 + 96).astype(np.uint8) for im in imgs]  # muted colours: the boost is not clipped away
    plain = SyntheticPairs(imgs, NoiseConfig.parse("gaussian:0"), "clean", crop=32, seed=1)
    always = SyntheticPairs(imgs, NoiseConfig.parse("gaussian:0"), "clean", crop=32, seed=1, saturate=1.0)
    half = SyntheticPairs(imgs, NoiseConfig.parse("gaussian:0"), "clean", crop=32, seed=1, saturate=0.5)
    off = SyntheticPairs(imgs, NoiseConfig.parse("gaussian:0"), "clean", crop=32, seed=1, saturate=0.0)
    assert all(np.array_equal(plain[i].target, off[i].target) for i in range(5))  # 0: the stream of old runs
    ratios = [chroma(always, i) / chroma(plain, i) for i in range(20)]
    assert min(ratios) > 1.0 and max(ratios) < 2.5 + 1e-3
    boosted = np.mean([chroma(half, i) > chroma(plain, i) * 1.001 for i in range(200)])
    assert 0.35 < boosted < 0.65


def test_saturate_is_a_probability():
    from noise2noise.config import TrainConfig

    with pytest.raises(ValueError, match="saturate is a probability"):
        TrainConfig(saturate=1.5)
