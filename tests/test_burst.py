"""Bursts: alignment recovers handheld motion, frames of another scene are left out, frames that
differ in size are one clear line, a burst of one frame is the frame denoised, and `n2n burst` writes
one image per burst in the frames' format and bit depth (a folder of scenes too)."""

import cv2
import numpy as np
import pytest
from synthetic_bursts import make_burst

from noise2noise.bursts.align import estimate, sharpness, warp
from noise2noise.bursts.merge import BurstOptions, merge_burst
from noise2noise.images import Image, ImageError, to_uint8


def scene(h: int = 256, w: int = 320) -> np.ndarray:
    """Overlapping coloured rectangles and discs on a soft texture: edges to align on."""
    rng = np.random.default_rng(5)
    img = cv2.GaussianBlur(rng.uniform(0.3, 0.7, (h, w, 3)).astype(np.float32), (0, 0), 4)
    for _ in range(12):
        y, x = rng.integers(0, h - 40), rng.integers(0, w - 40)
        color = tuple(float(c) for c in rng.uniform(0, 1, 3))
        if rng.random() < 0.5:
            cv2.rectangle(
                img, (int(x), int(y)), (int(x + rng.integers(20, 80)), int(y + rng.integers(20, 80))), color, -1
            )
        else:
            cv2.circle(img, (int(x + 20), int(y + 20)), int(rng.integers(8, 30)), color, -1)
    return np.clip(img, 0, 1)


def test_alignment_recovers_shifts_and_small_rotations():
    b = make_burst(scene(), 5, gain=4, seed=0)
    for k in range(1, 5):
        a = estimate(b.frames[0], b.frames[k])
        moved, inside = warp(b.clean[k], a)
        assert a.ok and np.abs(moved - b.clean[0])[inside].mean() < 2 / 255, (k, a)


def test_another_scene_does_not_align_and_sharpness_prefers_the_sharp_frame():
    img = scene()
    other = np.ascontiguousarray(np.random.default_rng(9).uniform(0, 1, img.shape).astype(np.float32))
    assert not estimate(img, other).ok
    assert sharpness(img) > sharpness(cv2.GaussianBlur(img, (0, 0), 2))


def frames(b) -> list[Image]:
    return [Image(cv2.cvtColor(to_uint8(f), cv2.COLOR_RGB2BGR)) for f in b.frames]


def test_frames_of_different_sizes_are_one_clear_line():
    b = make_burst(scene(), 2, gain=4, seed=1)
    imgs = frames(b)
    imgs[1] = Image(imgs[1].pixels[:-8])
    with pytest.raises(ImageError, match="a burst's frames must have the same"):
        merge_burst(imgs, ["a.png", "b.png"], progress=False)


def test_one_frame_is_denoised_alone_and_said_so():
    from noise2noise.denoiser import Denoiser

    b = make_burst(scene(), 1, gain=8, seed=2)
    said = []
    out = merge_burst(frames(b), ["only.png"], BurstOptions(steps=10), progress=False, log=said.append)
    assert "denoised alone" in said[0] and out.report["frames_used"] == 1 and out.report["steps"] == 0
    alone = Denoiser.from_weights(model=out.report["model"])(frames(b)[0].pixels)
    assert np.abs(out.image.pixels.astype(int) - alone.astype(int)).max() <= 1


def write_frames(folder, b, ext=".png"):
    folder.mkdir(parents=True, exist_ok=True)
    for k, img in enumerate(frames(b)):
        cv2.imwrite(str(folder / f"f{k}{ext}"), img.pixels)
    return sorted(folder.iterdir())


def test_burst_command_writes_one_image_in_the_frames_format_and_reports(tmp_path):
    import json

    from noise2noise.cli import main

    b = make_burst(scene(), 3, gain=8, seed=3)
    write_frames(tmp_path / "shots", b)
    out = tmp_path / "merged.png"
    rc = main(
        [
            "burst",
            str(tmp_path / "shots"),
            "-o",
            str(out),
            "--steps",
            "2",
            "--quiet",
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert rc == 0 and cv2.imread(str(out)).shape == b.frames[0].shape
    r = json.load(open(tmp_path / "r.json"))["bursts"][0]
    assert r["frames_used"] == 3 and r["steps"] == 2 and len(r["alignment"]) == 3 and r["error"] is None


def test_folder_of_scenes_gives_one_image_per_scene_and_a_bad_scene_does_not_stop_the_others(tmp_path, capsys):
    from noise2noise.cli import main

    b = make_burst(scene(), 2, gain=8, seed=4)
    write_frames(tmp_path / "set" / "a" / "frames", b)
    write_frames(tmp_path / "set" / "b", b)
    bad = write_frames(tmp_path / "set" / "c", b)
    cv2.imwrite(str(bad[1]), cv2.imread(str(bad[1]))[:-8])
    rc = main(["burst", str(tmp_path / "set"), "-o", str(tmp_path / "out"), "--steps", "0", "--quiet"])
    assert rc == 1 and sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
    assert "a burst's frames must have the same" in capsys.readouterr().err


def test_a_frame_of_another_scene_is_left_out_and_said_so(tmp_path):
    b = make_burst(scene(), 3, gain=8, seed=6)
    imgs = frames(b)
    noise = np.random.default_rng(1).integers(0, 256, imgs[2].pixels.shape, dtype=np.uint8)
    imgs[2] = Image(noise)
    said = []
    out = merge_burst(imgs, ["a", "b", "c"], BurstOptions(reference=0, steps=2), progress=False, log=said.append)
    assert out.report["frames_used"] == 2 and any("c does not align" in m for m in said)


def test_sixteen_bit_frames_give_a_sixteen_bit_image(tmp_path):
    from noise2noise.bursts.job import burst

    b = make_burst(scene(), 2, gain=8, seed=7)
    d = tmp_path / "shots"
    d.mkdir()
    for k, f in enumerate(b.frames):
        cv2.imwrite(str(d / f"f{k}.png"), cv2.cvtColor((f * 65535).round().astype(np.uint16), cv2.COLOR_RGB2BGR))
    report = burst([str(d / "*.png")], tmp_path / "o", BurstOptions(steps=0), progress=False)
    out = cv2.imread(report["bursts"][0]["output"], cv2.IMREAD_UNCHANGED)
    assert out.dtype == np.uint16 and out.shape == b.frames[0].shape


def test_learning_from_the_burst_beats_the_reference_denoised_alone():
    from noise2noise.denoiser import Denoiser
    from noise2noise.evaluation.metrics import psnr

    b = make_burst(scene(), 4, gain=8, seed=8)
    clean = cv2.cvtColor(to_uint8(b.clean[0]), cv2.COLOR_RGB2BGR)
    out = merge_burst(frames(b), list("abcd"), BurstOptions(reference=0, steps=30), progress=False)
    alone = Denoiser.from_weights(model=out.report["model"])(frames(b)[0].pixels)
    assert out.report["method"] == "fine-tuned on the burst, merged" and out.report["mask_fraction"] > 0.9
    assert psnr(out.image.pixels, clean) > psnr(alone, clean) + 0.5


def test_a_grey_and_a_colour_frame_say_so_once(tmp_path, capsys):
    from noise2noise.cli import main

    b = make_burst(scene(), 2, gain=8, seed=10)
    f = write_frames(tmp_path / "shots", b)
    cv2.imwrite(str(f[1]), cv2.cvtColor(cv2.imread(str(f[1])), cv2.COLOR_BGR2GRAY))
    assert (
        main(["burst", *map(str, f), "-o", str(tmp_path / "m.png"), "--steps", "0", "--quiet"]) == 1
    )  # an input failed (2 is for bad usage)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "f1.png is 272x208 grey 8-bit but f0.png is 272x208 colour 8-bit" in lines[0], lines


@pytest.mark.parametrize("bad", ["nan", "-1", "0", "inf"])
def test_a_learning_rate_that_makes_no_sense_is_refused_by_the_parser(tmp_path, capsys, bad):
    from noise2noise.cli import main

    with pytest.raises(SystemExit) as e:
        main(["burst", str(tmp_path), "-o", str(tmp_path / "m.png"), "--lr", bad])
    assert e.value.code == 2 and "--lr" in capsys.readouterr().err


def test_the_same_frame_twice_is_refused_naming_it(tmp_path, capsys):
    from noise2noise.cli import main

    b = make_burst(scene(), 2, gain=8, seed=11)
    f = write_frames(tmp_path / "shots", b)
    argv = ["burst", str(f[0]), str(f[1]), str(tmp_path / "shots" / "." / "f0.png"), "-o", str(tmp_path / "m.png")]
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "given twice" in err and "f0.png" in err and not (tmp_path / "m.png").exists()


def test_a_corrupt_frame_is_left_out_with_a_line_while_two_remain(tmp_path, capsys):
    from noise2noise.bursts.job import burst

    b = make_burst(scene(), 3, gain=8, seed=12)
    f = write_frames(tmp_path / "shots", b)
    f[2].write_bytes(f[2].read_bytes()[:200])  # truncated
    said = []
    r = burst([str(p) for p in f], tmp_path / "m.png", BurstOptions(steps=0), progress=False, log=said.append)
    row = r["bursts"][0]
    assert row["error"] is None and row["frames_used"] == 2 and (tmp_path / "m.png").exists()
    assert any("f2.png" in m and "left out" in m for m in said)
    # with one frame left the corrupt frame's error stands
    r = burst([str(f[0]), str(f[2])], tmp_path / "n.png", BurstOptions(steps=0), progress=False, log=said.append)
    assert r["failed"] == 1 and "f2.png" in r["bursts"][0]["error"]


def test_the_fine_tuned_model_is_built_in_memory_no_file_no_cache_entry(tmp_path, monkeypatch):
    import tempfile

    cache, scratch = tmp_path / "cache", tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("N2N_CACHE", str(cache))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    b = make_burst(scene(), 3, gain=8, seed=13)
    out = merge_burst(frames(b), ["a", "b", "c"], BurstOptions(steps=2, backend="openvino"), progress=False)
    assert out.report["steps"] == 2 and out.report["method"].startswith("fine-tuned")
    assert [p.name for p in scratch.iterdir() if p.name.startswith("n2n")] == []  # (torch keeps its own folder there)
    assert not cache.exists() or list(cache.iterdir()) == []


@pytest.mark.parametrize(
    "bad", [{"steps": -1}, {"lr": float("nan")}, {"lr": 0}, {"reference": -2}, {"batch": 0}, {"crop": 8}]
)
def test_burst_options_are_checked_when_made(bad):
    with pytest.raises(ValueError, match="must"):
        BurstOptions(**bad)
    with pytest.raises(TypeError):
        BurstOptions(None, 10)  # keywords only: a reordered field cannot silently take another's value
