"""`n2n denoise --adapt`: fine-tuning on the very images being denoised, deterministic, any backend."""

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from noise2noise.adapt import crop_pool
from noise2noise.cli import main


@pytest.fixture
def noisy_dir(tmp_path, photo):
    d = tmp_path / "in"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        img = np.tile(photo, (2, 3, 1)).astype(np.float32) + rng.normal(0, 20, (96, 120, 3))
        cv2.imwrite(str(d / f"n{i}.png"), np.clip(img, 0, 255).astype(np.uint8))
    return d


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_adapt_is_deterministic_and_works_with_every_backend(tmp_path, tiny_weights, noisy_dir, backend, capsys):
    pytest.importorskip(backend)
    saved = []
    for k in range(2):
        f = tmp_path / f"adapted{k}.safetensors"
        argv = ["denoise", noisy_dir, "-o", tmp_path / f"out{k}", "--weights", tiny_weights, "--adapt", "3"]
        argv += ["--save-adapted", f, "--seed", "7", "--backend", backend, "--quiet", "--adapt-force"]
        assert main([str(a) for a in argv]) == 0, capsys.readouterr().err
        saved.append(load_file(str(f)))
    assert all(np.array_equal(saved[0][k].numpy(), saved[1][k].numpy()) for k in saved[0])
    start = load_file(str(tiny_weights))
    assert any(not np.array_equal(saved[0][k].numpy(), start[k].numpy()) for k in start)  # it did learn something
    assert sorted(p.name for p in (tmp_path / "out0").iterdir()) == ["n0.png", "n1.png"]
    assert (tmp_path / "out0" / "n0.png").read_bytes() == (tmp_path / "out1" / "n0.png").read_bytes()


def test_the_crop_pool_is_bounded_by_steps_not_by_the_photos(tmp_path, noisy_dir):
    paths = sorted(noisy_dir.iterdir())
    pool = crop_pool(paths, count=6, crop=64, rng=np.random.default_rng(0))
    assert pool.shape == (6, 64, 64, 3) and pool.dtype == np.uint8  # kept in the images' own type


def test_memory_stays_bounded_whatever_the_step_count(noisy_dir, tiny_weights, monkeypatch):
    """--adapt 100000 once kept every crop of every step (about 78 GB): the pool is capped."""
    from noise2noise import adapt as adapt_module

    asked = []

    def fake_pool(paths, count, crop, rng):
        asked.append(count)
        raise RuntimeError("stop here")

    monkeypatch.setattr(adapt_module, "crop_pool", fake_pool)
    from noise2noise.weights import load_checkpoint

    ck = load_checkpoint(str(tiny_weights))
    with pytest.raises(RuntimeError, match="stop here"):
        adapt_module.adapt(ck, sorted(noisy_dir.iterdir()), steps=100_000, progress=False)
    assert asked == [adapt_module.POOL + adapt_module.HELD_OUT]


@pytest.mark.slow
def test_a_diverging_adaptation_says_so_and_names_no_temp_file(noisy_dir, tmp_path, tiny_weights, capsys):
    argv = ["denoise", str(noisy_dir), "-o", str(tmp_path / "o"), "--weights", str(tiny_weights), "--quiet"]
    assert main(argv + ["--adapt", "20", "--adapt-lr", "1e6", "--adapt-force"]) != 0
    err = capsys.readouterr().err
    assert "adapting diverged at step" in err and "lower --adapt-lr" in err and "safetensors" not in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    for bad in ("nan", "-1", "inf"):
        with pytest.raises(SystemExit) as e:
            main(argv + ["--adapt", "2", "--adapt-lr", bad])
        assert e.value.code == 2 and "--adapt-lr" in capsys.readouterr().err


def test_adapt_needs_a_checkpoint(tmp_path, noisy_dir, capsys):
    (tmp_path / "m.onnx").write_bytes(b"x")
    code = main(
        ["denoise", str(noisy_dir), "-o", str(tmp_path / "o"), "--weights", str(tmp_path / "m.onnx"), "--adapt", "2"]
    )
    assert code != 0 and "needs a checkpoint" in capsys.readouterr().err


@pytest.mark.slow
def test_the_held_out_check_keeps_the_original_unless_adapting_helps(tmp_path, photo, tiny_weights):
    from noise2noise.adapt import adapt
    from noise2noise.weights import load_checkpoint

    ck = load_checkpoint(str(tiny_weights))
    rng = np.random.default_rng(0)  # white noise that no pixel clips: what the check can judge
    for i in range(2):
        img = 60 + np.tile(photo, (2, 3, 1)).astype(np.float32) / 2 + rng.normal(0, 12, (96, 120, 3))
        cv2.imwrite(str(tmp_path / f"n{i}.png"), np.clip(img, 0, 255).astype(np.uint8))
    paths = sorted(tmp_path.glob("n*.png"))
    same = adapt(ck, paths, steps=2, lr=0.0, crop=64, progress=False)  # no change: nothing to gain
    info = same.meta["adapted"]
    assert info["kept"] and info["held_out_score_after"] == info["held_out_score_before"]
    assert all(torch.equal(a, b) for a, b in zip(same.model.state_dict().values(), ck.model.state_dict().values()))
    forced = adapt(ck, paths, steps=2, lr=0.0, crop=64, progress=False, force=True)
    assert not forced.meta["adapted"]["kept"]
    # an untrained net gains from a few steps on the noisy images themselves: the adapted one is used
    better = adapt(ck, paths, steps=30, lr=1e-3, crop=64, progress=False)
    info = better.meta["adapted"]
    assert info["held_out_score_after"] < info["held_out_score_before"] and not info["kept"]
    assert info["white_noise"]


@pytest.mark.slow
def test_on_correlated_noise_the_sure_check_decides_as_the_clean_image_would(tmp_path, tiny_weights):
    """Noise shared by neighbours fools the masked check; there the loss and the check are SURE with the
    noise read from the held-out crops (both readings), and the verdict agrees with the clean image."""
    from noise2noise.adapt import adapt
    from noise2noise.weights import load_checkpoint

    rng = np.random.default_rng(0)
    noise = rng.normal(0, 20, (257, 257, 3))
    noise = (noise[1:, 1:] + noise[:-1, 1:] + noise[1:, :-1] + noise[:-1, :-1]) / 2  # neighbours share noise
    yy, xx = np.mgrid[:256, :256]
    clean = np.stack([60 + 0.5 * xx, 80 + 0.4 * yy, 100 + 0.2 * (xx + yy)], axis=-1)
    cv2.imwrite(str(tmp_path / "c.png"), np.clip(clean + noise[:256, :256], 0, 255).astype(np.uint8))
    ck = load_checkpoint(str(tiny_weights))
    adapted = adapt(ck, [tmp_path / "c.png"], steps=30, lr=1e-3, crop=128, progress=False, force=True, loss="ne2ne")
    info = adapted.meta["adapted"]
    assert not info["white_noise"] and info["check"] == "sure"
    noisy = torch.from_numpy(cv2.imread(str(tmp_path / "c.png"))[..., ::-1].astype(np.float32) / 255)
    x = torch.from_numpy(clean.astype(np.float32) / 255).permute(2, 0, 1)[None]
    with torch.no_grad():
        err = [float(((m.eval()(noisy.permute(2, 0, 1)[None]) - x) ** 2).mean()) for m in (ck.model, adapted.model)]
    taken = info["held_out_significance"] > 3
    assert taken == (err[1] < err[0]), (info["held_out_significance"], err)


@pytest.mark.slow
def test_a_model_trained_on_the_noise_readings_is_not_taken_on_their_word(tmp_path, tiny_weights):
    """SURE as the loss and as the check share the noise readings: an untrained net taught by it scores
    far better under them, and is still not used without --adapt-force."""
    from noise2noise.adapt import _verdict, adapt
    from noise2noise.weights import load_checkpoint

    rng = np.random.default_rng(0)
    noise = rng.normal(0, 20, (257, 257, 3))
    noise = (noise[1:, 1:] + noise[:-1, 1:] + noise[1:, :-1] + noise[:-1, :-1]) / 2
    yy, xx = np.mgrid[:256, :256]
    clean = np.stack([60 + 0.5 * xx, 80 + 0.4 * yy, 100 + 0.2 * (xx + yy)], axis=-1)
    cv2.imwrite(str(tmp_path / "c.png"), np.clip(clean + noise[:256, :256], 0, 255).astype(np.uint8))
    ck = load_checkpoint(str(tiny_weights))
    adapted = adapt(ck, [tmp_path / "c.png"], steps=30, lr=1e-3, crop=128, progress=False, loss="sure")
    info = adapted.meta["adapted"]
    assert info["loss"] == "sure" and info["held_out_significance"] > 3
    assert info["kept"] and adapted.model is ck.model
    assert "not judged by them" in _verdict(info, better=True)


@pytest.mark.slow
def test_auto_pixel_shuffle_follows_the_noise_correlation(tmp_path, tiny_weights):
    from noise2noise.adapt import adapt
    from noise2noise.weights import load_checkpoint

    ck = load_checkpoint(str(tiny_weights))
    for p in ck.model.parameters():  # a net that removes everything: its residual is the image
        torch.nn.init.zeros_(p)
    rng = np.random.default_rng(0)
    picked = {}
    for kind in ("white", "camera-like"):
        noise = rng.normal(0, 20, (257, 257, 3))
        if kind != "white":  # neighbouring pixels share noise, as after demosaicing
            noise = (noise[1:, 1:] + noise[:-1, 1:] + noise[1:, :-1] + noise[:-1, :-1]) / 2
        f = tmp_path / f"{kind}.png"
        cv2.imwrite(str(f), np.clip(128 + noise[:256, :256], 0, 255).astype(np.uint8))
        picked[kind] = [
            adapt(ck, [f], steps=1, crop=c, pd=pd, progress=False).meta["adapted"]
            for c, pd in ((128, "auto"), (64, "auto"), (128, 1))
        ]
    white, camera = picked["white"], picked["camera-like"]
    assert white[0]["residual_correlation"] < 0.05 < 0.4 < camera[0]["residual_correlation"]
    assert [w["pd"] for w in white] == [1, 1, 1]
    assert [c["pd"] for c in camera] == [2, 1, 1]  # a 64-pixel crop cannot take stride 2; an explicit stride wins
    with pytest.raises(ValueError, match="stride"):
        adapt(ck, [tmp_path / "white.png"], steps=1, pd=0, progress=False)


@pytest.mark.slow
def test_when_the_check_keeps_the_original_the_usual_path_denoises(tmp_path, photo, capsys):
    """A kept original denoises exactly as without --adapt (for a shipped model: its int8 file, not a float copy)."""
    d = tmp_path / "in"
    d.mkdir()
    rng = np.random.default_rng(1)
    img = np.tile(photo, (5, 5, 1)).astype(np.float32)[:128, :160] + rng.normal(0, 20, (128, 160, 3))
    cv2.imwrite(str(d / "a.png"), np.clip(img, 0, 255).astype(np.uint8))
    plain = ["denoise", str(d), "-o", str(tmp_path / "plain"), "--quiet"]
    assert main(plain) == 0, capsys.readouterr().err
    kept = ["denoise", str(d), "-o", str(tmp_path / "kept"), "--adapt", "2", "--adapt-lr", "0"]
    assert main(kept + ["--save-adapted", str(tmp_path / "k.safetensors")]) == 0
    assert "kept the original" in capsys.readouterr().err
    assert (tmp_path / "plain" / "a.png").read_bytes() == (tmp_path / "kept" / "a.png").read_bytes()
    assert (tmp_path / "k.safetensors").stat().st_size > 0


@pytest.mark.slow
def test_clipped_noise_is_not_taken_at_the_checks_word(tmp_path, photo, tiny_weights):
    """8-bit files of heavy noise clip a large share of pixels: the noise is no longer zero-mean,
    which the self-supervised loss and its check both assume (the check once accepted a 1.3 dB loss there)."""
    from noise2noise.adapt import MAX_CLIPPED, adapt
    from noise2noise.weights import load_checkpoint

    rng = np.random.default_rng(0)
    img = np.tile(photo, (2, 3, 1)).astype(np.float32) + rng.normal(0, 90, (96, 120, 3))
    cv2.imwrite(str(tmp_path / "c.png"), np.clip(img, 0, 255).astype(np.uint8))
    ck = load_checkpoint(str(tiny_weights))
    info = adapt(ck, [tmp_path / "c.png"], steps=5, lr=1e-3, crop=64, progress=False, loss="ne2ne").meta["adapted"]
    assert info["clipped_share"] > MAX_CLIPPED and not info["white_noise"] and info["kept"]


@pytest.mark.slow
def test_noise_that_is_not_white_adapts_on_pseudo_pairs_of_the_noise_it_holds(tmp_path):
    """The default on a colour photo with a phone's noise: pseudo-pairs (the model's output re-noised by
    the nearest of its own training noises), judged on held-out pseudo-pairs with SURE's veto;
    deterministic; a grey model has no colour noise to draw and keeps Neighbor2Neighbor."""
    from noise2noise.adapt import adapt
    from noise2noise.config import NoiseConfig
    from noise2noise.model import ModelConfig, build_model
    from noise2noise.noise.synthetic import add_noise
    from noise2noise.weights import Checkpoint, load_weights, resolve

    yy, xx = np.mgrid[:256, :256] / 256
    clean = np.stack([0.2 + 0.6 * xx, 0.3 + 0.4 * yy, 0.5 + 0.3 * np.sin(9 * xx * yy)], axis=-1).astype(np.float32)
    noisy = np.clip(add_noise(clean, NoiseConfig.parse("rawphone:32"), np.random.default_rng(0))[0], 0, 1)
    cv2.imwrite(str(tmp_path / "p.png"), (noisy[..., ::-1] * 255).round().astype(np.uint8))
    ck = load_weights(resolve(model="n2n-phone"))
    runs = [adapt(ck, [tmp_path / "p.png"], steps=2, crop=128, progress=False, force=True) for _ in range(2)]
    info = runs[0].meta["adapted"]
    assert info["loss"] == "pseudo" and info["check"] == "pseudo" and not info["white_noise"]
    nearest = info["pseudo_noise"]
    assert [n["distance"] for n in nearest] == sorted(n["distance"] for n in nearest)
    assert "sure_veto_significance" in info and np.isfinite(info["held_out_significance"])
    a, b = (r.model.state_dict() for r in runs)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], v) for k, v in ck.model.state_dict().items())  # it learnt something
    grey_cfg = ModelConfig("unet-compact", in_channels=1, out_channels=1)
    grey = Checkpoint(build_model(grey_cfg), grey_cfg, {"noise": "gaussian:25"}, "")
    assert adapt(grey, [tmp_path / "p.png"], steps=1, crop=128, progress=False).meta["adapted"]["loss"] == "ne2ne"
    with pytest.raises(ValueError, match="colour"):
        adapt(grey, [tmp_path / "p.png"], steps=1, crop=128, progress=False, loss="pseudo")


@pytest.mark.parametrize(
    "veto, nearest, used", [(-3.5, 0.5, False), (-2.5, 0.5, True), (0.5, 0.5, True), (0.5, 1.5, False)]
)
def test_a_pseudo_pair_adaptation_needs_matched_noise_and_no_sure_veto(
    tmp_path, tiny_weights, monkeypatch, capsys, veto, nearest, used
):
    """The held-out pseudo-pairs cannot see the original's own bias, which the pseudo-pairs carry: a model
    they find far better is still not used where SURE on the real crops finds it worse by more than
    three standard errors (a mere lean is allowed: both readings run low on strong phone noise), nor
    where no noise of the model's training reads like the photos' (the nearest draw farther than
    MAX_DISTANCE), which the line printed says."""
    import noise2noise.adapt as A
    from noise2noise.noise.match import Draw
    from noise2noise.weights import load_checkpoint

    rng = np.random.default_rng(0)
    noise = rng.normal(0, 20, (129, 129, 3))
    noise = (noise[1:, 1:] + noise[:-1, 1:] + noise[1:, :-1] + noise[:-1, :-1]) / 2  # neighbours share noise
    cv2.imwrite(str(tmp_path / "c.png"), np.clip(120 + noise, 0, 255).astype(np.uint8))
    monkeypatch.setattr(A, "_judge_pseudo", lambda *a: (1.0, 0.5, 10.0, veto, {"plane": veto}))
    monkeypatch.setattr(A, "_pseudo_noise", lambda *a: [(Draw("gaussian", 20.0), nearest)])
    info = A.adapt(load_checkpoint(str(tiny_weights)), [tmp_path / "c.png"], 1, crop=64, progress=True)
    info = info.meta["adapted"]
    assert info["check"] == "pseudo" and info["sure_veto_significance"] == veto
    assert info["kept"] is not used
    assert ("reads like these photos'" in capsys.readouterr().err) is (nearest > A.MAX_DISTANCE)
