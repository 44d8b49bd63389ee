"""Training behaviour: it learns, it resumes after kill -9, and DDP ranks agree."""

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from noise2noise.training.loop import TrainConfig, _Indices, learning_rate, train


def make_images(folder: Path, n: int, size=(80, 96), seed=0) -> Path:
    """Smooth synthetic scenes: gradients, discs and bars (structured, easy to denoise)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        h, w = size
        y, x = np.mgrid[0:h, 0:w] / max(h, w)
        img = np.stack([x, y, 1 - x * y], 2) * rng.uniform(0.3, 1.0, 3)
        for _ in range(3):
            cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(5, 20)
            img[(np.mgrid[0:h, 0:w][0] - cy) ** 2 + (np.mgrid[0:h, 0:w][1] - cx) ** 2 < r * r] = rng.uniform(0, 1, 3)
        cv2.imwrite(str(folder / f"s{i:02d}.png"), (img * 255).astype(np.uint8))
    return folder


def tiny_run(tmp_path, **options) -> dict:
    """``train`` as the training tests run it: the compact net, in-process data, no progress bar."""
    return train(**{"out": str(tmp_path / "run"), "arch": "unet-compact", "workers": 0, "progress": False, **options})


def test_lr_schedule_ramps_down_to_zero():
    cfg = TrainConfig(iterations=1000, lr=1e-3, rampdown=0.3)
    assert learning_rate(cfg, 0) == learning_rate(cfg, 700) == 1e-3
    assert 0 < learning_rate(cfg, 850) < 1e-3 and learning_rate(cfg, 1000) == pytest.approx(0)


def test_ranks_draw_disjoint_samples():
    a = list(_Indices(0, 5, 4, 0, 2))
    b = list(_Indices(0, 5, 4, 1, 2))
    assert len(a) == len(b) == 20 and not set(a) & set(b)
    assert list(_Indices(3, 5, 4, 0, 2)) == a[12:]  # resuming continues the same stream


@pytest.mark.slow
@pytest.mark.parametrize("target", ["noisy", "clean"])
def test_a_few_hundred_steps_raise_validation_psnr(tmp_path, target):
    data = make_images(tmp_path / "train", 6)
    val = make_images(tmp_path / "val", 2, seed=1)
    kw = dict(noise="gaussian:25", target=target, iterations=300, batch=4, crop=32, lr=1e-3, val_every=300)
    s = tiny_run(tmp_path, data=[str(data)], val=[str(val)], ckpt_every=300, **kw)
    assert s["step"] == 300
    assert s["best_val_psnr"] > s["noisy_val_psnr"] + 5, s
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["iterations"] == 300 and cfg["noise"] == "gaussian:25" and cfg["target"] == target
    for f in ("state.pt", "latest.safetensors", "best.safetensors", "log.csv"):
        assert (tmp_path / "run" / f).is_file()


def _state_step(path: Path) -> int:
    """The step in a run's state.pt (written atomically, so a read never sees half a file); -1 if none yet."""
    try:
        return int(torch.load(path, weights_only=True)["step"])
    except (FileNotFoundError, RuntimeError, EOFError):
        return -1


@pytest.mark.slow
def test_resume_after_kill_9(tmp_path):
    """Killed mid-run whatever the machine's speed: the first run is far too long to finish, and is
    killed once it has checkpointed; the same command with a reachable length resumes from there."""
    data = make_images(tmp_path / "train", 4)
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "noise2noise.cli", "train", "--data", str(data), "--out", str(run)]
    cmd += ["--arch", "unet-compact", "--batch", "2", "--crop", "32", "--ckpt-every", "10", "--keep-every", "30"]
    cmd += ["--val-every", "1000", "--val-count", "1", "--workers", "0", "--quiet", "--iterations"]
    p = subprocess.Popen([*cmd, "1000000"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 180
    while time.time() < deadline and _state_step(run / "state.pt") < 10 and p.poll() is None:
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    killed_at = _state_step(run / "state.pt")
    assert killed_at >= 10 and killed_at % 10 == 0, p.stderr.read().decode()
    target = killed_at + 30
    r = subprocess.run([*cmd, str(target)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["step"] == target
    assert _state_step(run / "state.pt") == target
    steps = [int(line.split(",")[0]) for line in (run / "log.csv").read_text().splitlines()[1:]]
    assert steps == sorted(steps) and steps[-1] == target
    kept = sorted(p.name for p in (run / "snapshots").iterdir())
    assert kept == [f"step-{k:07d}.safetensors" for k in range(30, target + 1, 30)]
    resumed = [{"step": killed_at, "changed": {"iterations": [1000000, target]}}]
    assert json.loads((run / "config.json").read_text())["resumes"] == resumed
    # The same command again changes nothing; a longer run continues and records what changed, and when.
    assert subprocess.run([*cmd, str(target)], capture_output=True, timeout=300).returncode == 0
    assert json.loads((run / "config.json").read_text())["resumes"] == resumed
    r = subprocess.run([*cmd, str(target + 10)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["iterations"] == target + 10
    assert cfg["resumes"] == [*resumed, {"step": target, "changed": {"iterations": [target, target + 10]}}]
    assert _state_step(run / "state.pt") == target + 10


DDP_SCRIPT = textwrap.dedent(
    """
    import hashlib, os, sys, torch
    torch.set_num_threads(1)
    from noise2noise.training.loop import train
    import noise2noise.training.loop as T
    seen = []
    orig = T._Indices.__iter__
    def spy(self):
        for i in orig(self):
            seen.append(i)
            yield i
    T._Indices.__iter__ = spy
    captured = {}
    orig_ddp = torch.nn.parallel.DistributedDataParallel
    def ddp(m, *a, **k):
        captured["m"] = m
        return orig_ddp(m, *a, **k)
    torch.nn.parallel.DistributedDataParallel = ddp
    train(data=[sys.argv[1]], out=sys.argv[2], arch="unet-compact", iterations=4, batch=2, crop=32, val_every=1000,
          ckpt_every=1000, val_count=1, workers=0, progress=False)
    h = hashlib.sha256(b"".join(v.numpy().tobytes() for v in captured["m"].state_dict().values())).hexdigest()
    rank = os.environ["RANK"]
    open(os.path.join(sys.argv[2], f"rank{rank}.txt"), "w").write(h + "\\n" + ",".join(map(str, seen)))
    """
)


@pytest.mark.slow
def test_torchrun_two_processes_agree_and_split_the_data(tmp_path):
    data = make_images(tmp_path / "train", 4)
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc-per-node",
            "2",
            "--master-port",
            "29577",
            str(script),
            str(data),
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    h0, s0 = (tmp_path / "run" / "rank0.txt").read_text().splitlines()
    h1, s1 = (tmp_path / "run" / "rank1.txt").read_text().splitlines()
    assert h0 == h1  # identical weights after the all-reduced steps
    assert s0 and s1 and not set(s0.split(",")) & set(s1.split(","))  # each rank its own samples


def test_loss_masks_and_variants():
    from noise2noise.training.losses import loss_fn

    out = torch.tensor([[[[0.5, 1.0]]]])
    tgt = torch.tensor([[[[0.0, 0.0]]]])
    mask = torch.tensor([[[[1.0, 0.0]]]])  # the second pixel was dropped in the target
    assert float(loss_fn("l2", out, tgt, mask, 0.0)) == pytest.approx(0.25)
    assert float(loss_fn("l1", out, tgt, mask, 0.0)) == pytest.approx(0.5)
    assert float(loss_fn("l0", out, tgt, mask, 0.0)) == pytest.approx(0.25, rel=1e-4)  # gamma = 2 at the start
    assert float(loss_fn("l0", out, tgt, mask, 0.5)) == pytest.approx(0.5, rel=1e-4)  # gamma = 1 halfway
    assert float(loss_fn("hdr", out, tgt, mask, 0.0)) == pytest.approx(0.25 / 0.51**2)


def _pairs_and_scenes(tmp_path):
    rng = np.random.default_rng(0)
    pairs = tmp_path / "pairs"
    (pairs / "noisy").mkdir(parents=True)
    (pairs / "clean").mkdir()
    scenes = tmp_path / "scenes"
    for i in range(3):
        clean = (rng.random((40, 48, 3)) * 255).astype(np.uint8)
        noisy = np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(pairs / "clean" / f"{i}.png"), clean)
        cv2.imwrite(str(pairs / "noisy" / f"{i}.png"), noisy)
        (scenes / f"scene{i}").mkdir(parents=True)
        for k in range(3):
            cap = np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
            cv2.imwrite(str(scenes / f"scene{i}" / f"cap{k}.png"), cap)
    return pairs, scenes


@pytest.mark.parametrize(
    "kind,loss,noise",
    [
        ("pairs", "l2", None),
        ("scenes", "l1", None),
        ("synthetic", "l0", "impulse:0-0.5"),
        ("synthetic", "hdr", "poisson:5-50"),
        ("synthetic", "l2", "bernoulli:0-0.9"),
        ("synthetic", "l1", "text:0-0.3"),
        ("synthetic", "l2", "camera:1-60"),
    ],
)
def test_every_data_source_and_loss_trains(tmp_path, kind, loss, noise):
    pairs, scenes = _pairs_and_scenes(tmp_path)
    data = make_images(tmp_path / "train", 3)
    kw = {"pairs": str(pairs)} if kind == "pairs" else {"scenes": str(scenes)} if kind == "scenes" else {"noise": noise}
    s = train(
        data=[str(data)],
        out=str(tmp_path / "run"),
        arch="unet-compact",
        loss=loss,
        iterations=4,
        batch=2,
        crop=32,
        val_every=4,
        ckpt_every=4,
        val_count=1,
        workers=0,
        progress=False,
        **kw,
    )
    assert s["step"] == 4 and np.isfinite(s["best_val_psnr"])


def test_init_from_weights_and_a_moving_average(tmp_path, tiny_weights):
    from noise2noise.weights import load_weights

    data = make_images(tmp_path / "train", 2)
    kw = dict(data=[str(data)], arch="unet-compact", batch=1, crop=32, val_count=0, workers=0, progress=False)
    train(out=str(tmp_path / "run"), iterations=3, ckpt_every=3, val_every=3, init=str(tiny_weights), ema=0.9, **kw)
    st = torch.load(tmp_path / "run" / "state.pt", weights_only=True)
    start = load_weights(tiny_weights).model.state_dict()
    latest = load_weights(tmp_path / "run" / "latest.safetensors").model.state_dict()
    k = "_block1.0.weight"
    # three steps of ema <- 0.9 ema + 0.1 model, from the initial weights: the average sits between
    assert torch.equal(latest[k], st["ema"][k].float()) and not torch.equal(st["ema"][k], st["model"][k])
    d_ema, d_model = (latest[k] - start[k]).abs().sum(), (st["model"][k].float() - start[k]).abs().sum()
    assert 0 < d_ema < d_model
    with pytest.raises(ValueError, match="unet-compact"):
        train(out=str(tmp_path / "r2"), iterations=1, init=str(tiny_weights), **{**kw, "arch": "unet"})


@pytest.mark.slow
def test_training_from_single_noisy_images_raises_psnr(tmp_path):
    """--target self: the data is a folder of noisy photos, and no clean image is seen in training."""
    clean = make_images(tmp_path / "clean", 6, size=(128, 128))
    noisy = tmp_path / "noisy"
    noisy.mkdir()
    rng = np.random.default_rng(0)
    for p in sorted(clean.iterdir()):
        img = cv2.imread(str(p)).astype(np.float32) + rng.normal(0, 25, (128, 128, 3))
        cv2.imwrite(str(noisy / p.name), np.clip(img, 0, 255).astype(np.uint8))
    val = make_images(tmp_path / "val", 2, seed=1)
    kw = dict(noise="none", target="self", iterations=300, batch=4, crop=64, lr=1e-3, val_every=300)
    s = tiny_run(tmp_path, data=[str(noisy)], val=[str(val)], ckpt_every=300, **kw)
    assert s["best_val_psnr"] > s["noisy_val_psnr"] + 3, s


def test_validation_at_several_noise_levels(tmp_path):
    """--val-noise A,B: each level is scored on its own, the kept best is their mean, and the log
    says each level, so a break at one noise level cannot hide behind the others."""
    from noise2noise.config import NoiseConfig, parse_noise_list
    from noise2noise.training.loop import Validator

    paths = sorted(make_images(tmp_path / "val", 2).iterdir())
    both = Validator(paths, parse_noise_list("gaussian:5,gaussian:50"))
    alone = Validator(paths, NoiseConfig.parse("gaussian:5"))
    assert [str(n) for n in both.noises] == ["gaussian:5", "gaussian:50"] and len(both.items) == 4
    assert np.array_equal(both.items[0][1], alone.items[0][1])  # the first level keeps its seeds
    identity = torch.nn.Identity()
    mean = both(identity)
    assert set(both.levels) == {"gaussian:5", "gaussian:50"}
    assert both.levels["gaussian:5"] == pytest.approx(alone(identity))
    assert both.levels["gaussian:5"] > both.levels["gaussian:50"] + 15  # the identity "breaks" at 50
    assert mean == pytest.approx((both.levels["gaussian:5"] + both.levels["gaussian:50"]) / 2)
    boosted = Validator(paths, NoiseConfig.parse("gaussian:5"), saturation=2.0)  # colour-boosted crops
    for (_, _, plain), (_, _, vivid) in zip(alone.items, boosted.items):
        assert vivid.min() >= 0 and vivid.max() <= 1
        assert (
            np.abs(vivid - vivid.mean(2, keepdims=True)).mean()
            > 1.3 * np.abs(plain - plain.mean(2, keepdims=True)).mean()
        )
    with pytest.raises(ValueError, match="twice"):
        TrainConfig(val_noise="gaussian:25,gaussian:25")
    with pytest.raises(ValueError, match="gaussian"):
        TrainConfig(val_noise="gaussian:25,gaussian:500")

    data = make_images(tmp_path / "train", 2)
    s = tiny_run(
        tmp_path, data=[str(data)], val=[str(tmp_path / "val")], val_noise="gaussian:5,gaussian:50",
        iterations=2, batch=1, crop=32, val_every=2, ckpt_every=2,
    )  # fmt: skip
    rows = list(csv.DictReader(open(tmp_path / "run" / "log.csv")))
    levels = dict(item.split("=") for item in rows[-1]["val_levels"].split())
    assert set(levels) == {"gaussian:5", "gaussian:50"}
    assert float(rows[-1]["val_psnr"]) == pytest.approx(np.mean([float(v) for v in levels.values()]), abs=1e-3)
    assert s["best_val_psnr"] == pytest.approx(float(rows[-1]["val_psnr"]), abs=1e-3)


def test_clip_grad_bounds_the_step_and_the_log_records_the_norm(tmp_path):
    """--clip-grad N: the gradient Adam sees has total norm N at most; the norm before clipping is what
    the training's step (``fit``) hands on and what log.csv records (mean and max over the steps of each row)."""
    from noise2noise.model import ModelConfig, build_model
    from noise2noise.training.fit import fit
    from noise2noise.training.loop import _batch_loss

    def grads_after(clip: float) -> tuple[float, float]:
        torch.manual_seed(0)
        net = build_model(ModelConfig("unet-compact"))
        opt = torch.optim.Adam(net.parameters(), lr=0.0)
        g = torch.Generator().manual_seed(1)
        x, y = torch.rand(2, 3, 32, 32, generator=g), torch.rand(2, 3, 32, 32, generator=g)
        cfg = TrainConfig(arch="unet-compact", clip_grad=clip, channels_last=False, precision="fp32")
        norms = []
        batch = (x, y, torch.ones(2, 1, 32, 32))
        after = lambda step, loss, norm, bar: norms.append(norm)  # noqa: E731
        fit(
            net,
            lambda: batch,
            _batch_loss(cfg, False, 0),
            1,
            0.0,
            optimizer=opt,
            clip_grad=clip,
            after_step=after,
            progress=False,
        )
        norm = norms[0]
        seen = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in net.parameters()]))
        return float(norm), float(seen)

    before, seen = grads_after(0.0)
    assert before == pytest.approx(seen, rel=1e-5) and before > 1e-2  # off: the norm is the gradient's
    clipped_before, clipped = grads_after(1e-3)
    assert clipped_before == pytest.approx(before, rel=1e-5) and clipped == pytest.approx(1e-3, rel=1e-3)
    with pytest.raises(ValueError):
        TrainConfig(clip_grad=-1.0)

    data = make_images(tmp_path / "train", 2)
    tiny_run(tmp_path, data=[str(data)], val=[str(data)], iterations=4, batch=1, crop=32, val_every=4, ckpt_every=2)
    rows = list(csv.DictReader(open(tmp_path / "run" / "log.csv")))
    assert [r["step"] for r in rows] == ["2", "4"]
    assert all(0 < float(r["grad_norm"]) <= float(r["grad_norm_max"]) for r in rows)


def test_a_log_begun_by_an_older_version_keeps_its_columns(tmp_path):
    from noise2noise.training.runfolder import RunFolder

    run = RunFolder(tmp_path / "run")
    old = "step,loss,val_psnr,lr,elapsed_s,img_per_s\n1,0.1,nan,0.001,1.0,5.0\n"
    (tmp_path / "run" / "log.csv").write_text(old)
    run.log({"step": 2, "loss": "0.1", "val_psnr": "30.0", "lr": "0.001", "elapsed_s": "2.0", "img_per_s": "5.0"})
    rows = list(csv.reader(open(tmp_path / "run" / "log.csv")))
    assert rows[0] == old.splitlines()[0].split(",") and rows[-1] == ["2", "0.1", "30.0", "0.001", "2.0", "5.0"]
