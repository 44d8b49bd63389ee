"""Failures a user can cause: one line on stderr naming the file or option, a non-zero exit, no
traceback, nothing half-written, bounded memory. Every case builds its own small files."""

import errno
import json
import os
import struct

import cv2
import numpy as np
import pytest
import torch

from noise2noise import atomic
from noise2noise.cli import main
from noise2noise.config import ModelConfig
from noise2noise.images import Image, read_image, write_image
from noise2noise.model import build_model
from noise2noise.weights import save_weights


def fails(capsys, *argv, match=""):
    """Run ``n2n argv``: it must fail with exactly one line, ``n2n: error: ...``, containing ``match``."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0, (argv, err)
    assert len(lines) == 1 and lines[0].startswith("n2n: error:") and "Traceback" not in err, err
    assert match in lines[0], (match, lines[0])
    return lines[0]


@pytest.fixture
def image(tmp_path, photo):
    cv2.imwrite(str(tmp_path / "a.png"), photo)
    return tmp_path / "a.png"


def denoise(tmp_path, tiny_weights, *inputs, extra=()):
    return ["denoise", *inputs, "-o", tmp_path / "out", "--weights", tiny_weights, "--quiet", *extra]


# ---- 1. decompression bombs in every format, multi-page files, devices ---------------------------


def test_a_tiff_bomb_is_refused_from_its_header(tmp_path, tiny_weights, capsys):
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "bomb.tif"
    tifffile.imwrite(path, np.zeros((64, 64), np.uint8), tile=(32, 32))
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as t:
        for tag in t.pages[0].tags.values():
            if tag.name in ("ImageWidth", "ImageLength"):  # declare 40960 x 40960
                data[tag.valueoffset : tag.valueoffset + 4] = struct.pack("<I", 40960)
    path.write_bytes(bytes(data))
    fails(capsys, *denoise(tmp_path, tiny_weights, path), match="40960x40960 is too large")


def test_multi_frame_files_and_devices_are_refused(tmp_path, tiny_weights, capsys, photo):
    from PIL import Image as PILImage

    from noise2noise.images import ImageError

    frames = [PILImage.fromarray(np.roll(photo, k, axis=0)) for k in range(3)]
    frames[0].save(tmp_path / "pages.tif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    fails(capsys, *denoise(tmp_path, tiny_weights, tmp_path / "pages.tif"), match="3 frames")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    with pytest.raises(ImageError, match="3 frames"):
        read_image(tmp_path / "anim.gif")
    if os.path.exists("/dev/zero"):
        with pytest.raises(ImageError, match="not a regular file"):
            read_image("/dev/zero")


# ---- 2. output paths checked before the work --------------------------------------------------------


def test_unusable_output_paths_fail_before_any_work(tmp_path, tiny_weights, image, capsys):
    (tmp_path / "file").write_text("x")
    under = tmp_path / "file" / "r.json"
    base = ["eval", tmp_path, "--weights", tiny_weights, "--noise", "gaussian:25", "--quiet"]
    for opt in ("--json", "--csv", "--table"):
        fails(capsys, *base, opt, under, match="is a file, not a folder")
    fails(capsys, *base, "--json", tmp_path, match="is a folder")
    fails(capsys, *base, "--montage", tmp_path / "file", match="not a folder")
    train = ["train", "--data", tmp_path, "--iterations", "1", "--quiet"]
    fails(capsys, *train, "--out", tmp_path / "file", match="not a folder")
    fails(capsys, *train, "--out", tmp_path / "file" / "run", match="is a file, not a folder")
    fails(capsys, "export", "--weights", tiny_weights, "-o", tmp_path, match="is a folder")
    fails(capsys, "export", "--weights", tiny_weights, "-o", under.with_suffix(".onnx"), match="not a folder")


def test_a_cache_under_a_file_is_one_line(tmp_path, tiny_weights, image, capsys, monkeypatch):
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("N2N_CACHE", str(tmp_path / "file" / "cache"))
    fails(capsys, *denoise(tmp_path, tiny_weights, image, extra=["--backend", "openvino"]), match="N2N_CACHE")


# ---- 3. nothing half-written -------------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    atomic.write_text(tmp_path / "r.json", "old")

    def full_disk(tmp):
        tmp.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError), atomic.replacing(tmp_path / "r.json") as tmp:
        full_disk(tmp)
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"] and (tmp_path / "r.json").read_text() == "old"


def test_a_long_file_name_can_be_written(tmp_path, photo):
    name = "x" * 245 + ".png"  # 249 characters: the temporary name must not pass 255
    write_image(tmp_path / name, Image(photo))
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_the_log_never_records_a_step_the_checkpoint_missed(tmp_path, monkeypatch):
    from noise2noise.training import runfolder
    from noise2noise.training.loop import train
    from test_train import make_images

    data = make_images(tmp_path / "d", 2)
    real_save = torch.save

    def save(obj, f, *a, **k):
        if isinstance(obj, dict) and obj.get("step") == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(runfolder.torch, "save", save)
    kw = dict(data=[str(data)], arch="unet-compact", batch=1, crop=32, val_every=100, val_count=0, workers=0)
    with pytest.raises(OSError):
        train(out=str(tmp_path / "run"), iterations=6, ckpt_every=2, progress=False, **kw)
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in log] == ["step", "2"]
    assert torch.load(tmp_path / "run" / "state.pt", weights_only=True)["step"] == 2
    assert not [p for p in (tmp_path / "run").iterdir() if ".tmp" in p.name]


# ---- 4-6. broken model files, metadata, training state -------------------------------------------------


def test_broken_model_files_are_one_line(tmp_path, tiny_weights, image, capsys):
    (tmp_path / "g.onnx").write_bytes(b"garbage" * 9)
    (tmp_path / "g.xml").write_text("<net")
    (tmp_path / "t.pt").write_text("just some text\n")
    fails(capsys, *denoise(tmp_path, tiny_weights, image)[:-3], "--weights", tmp_path / "g.onnx", match="ONNX")
    fails(capsys, *denoise(tmp_path, tiny_weights, image)[:-3], "--weights", tmp_path / "g.xml", match="OpenVINO")
    fails(capsys, *denoise(tmp_path, tiny_weights, image)[:-3], "--weights", tmp_path / "t.pt", match="not a PyTorch")
    five = ModelConfig("unet-compact", 5, 5)
    save_weights(tmp_path / "five.safetensors", build_model(five), five)
    fails(
        capsys,
        *denoise(tmp_path, tiny_weights, image)[:-3],
        "--weights",
        tmp_path / "five.safetensors",
        match="5 channels",
    )


def test_a_truncated_cache_entry_is_rebuilt(tmp_path, tiny_weights, image, capsys, monkeypatch):
    monkeypatch.setenv("N2N_CACHE", str(tmp_path / "cache"))
    args = denoise(tmp_path, tiny_weights, image, extra=["--backend", "openvino", "--precision", "fp32"])
    assert main([str(a) for a in args]) == 0
    first = (tmp_path / "out" / "a.png").read_bytes()
    for b in (tmp_path / "cache").glob("*.bin"):
        b.write_bytes(b.read_bytes()[:100])  # a damaged cache entry
    assert main([str(a) for a in args]) == 0, capsys.readouterr().err
    assert (tmp_path / "out" / "a.png").read_bytes() == first


def test_non_finite_weights_are_refused(tmp_path, image, capsys):
    cfg = ModelConfig("unet-compact")
    model = build_model(cfg)
    with torch.no_grad():
        next(model.parameters())[0] = float("nan")
    save_weights(tmp_path / "nan.safetensors", model, cfg)
    fails(capsys, *denoise(tmp_path, tmp_path / "nan.safetensors", image), match="NaN")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_bad_training_state_names_the_file_and_how_to_start_over(tmp_path, capsys):
    from test_train import make_images

    data = make_images(tmp_path / "d", 2)
    run = tmp_path / "run"
    base = ["train", "--data", data, "--out", run, "--iterations", "2", "--batch", "1", "--crop", "32"]
    base += ["--val-count", "0", "--workers", "0", "--quiet", "--arch", "unet-compact"]
    assert main([str(a) for a in base]) == 0
    capsys.readouterr()
    fails(capsys, *base[:-1], "unet", match="--arch")
    good = (run / "state.pt").read_bytes()
    for bad in (good[: len(good) // 2], b"", b"\x80\x04junk"):
        (run / "state.pt").write_bytes(bad)
        line = fails(capsys, *base, match="state.pt")
        assert "start over" in line


def test_pairs_train_outside_the_repository(tmp_path, capsys, monkeypatch):
    from test_train import _pairs_and_scenes

    pairs, _ = _pairs_and_scenes(tmp_path)
    monkeypatch.chdir(tmp_path)  # the default --data ../shared/data/train does not exist here
    argv = ["train", "--pairs", pairs, "--out", tmp_path / "run", "--iterations", "2", "--batch", "1"]
    assert main([str(a) for a in [*argv, "--crop", "32", "--workers", "0", "--quiet"]]) == 0


# ---- 8-11. devices, export inputs, info, bench ---------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_one_line(tmp_path, tiny_weights, image, capsys):
    fails(capsys, *denoise(tmp_path, tiny_weights, image, extra=["--device", "cuda"]), match="no CUDA")
    fails(capsys, "train", "--data", tmp_path, "--out", tmp_path / "r", "--device", "cuda", "--quiet", match="no CUDA")


def test_tiny_calibration_images_are_one_line(tmp_path, tiny_weights, capsys):
    (tmp_path / "c").mkdir()
    cv2.imwrite(str(tmp_path / "c" / "t.png"), np.zeros((8, 8, 3), np.uint8))
    argv = [
        "export",
        "--weights",
        tiny_weights,
        "-o",
        tmp_path / "q.onnx",
        "--precision",
        "int8",
        "--calib",
        tmp_path / "c",
    ]
    fails(capsys, *argv, match="at least 32x32")
    assert not (tmp_path / "q.onnx").exists()


def test_info_is_instant_for_huge_shapes_and_checks_channels(tmp_path, capsys):
    assert main(["info", "--arch", "unet", "--shape", "3x6000x4000", "--json"]) == 0  # meta device: no memory
    assert json.loads(capsys.readouterr().out)["flops"] > 8e12
    grey = ModelConfig("unet", 1, 1)
    save_weights(tmp_path / "g.safetensors", build_model(grey), grey)
    fails(capsys, "info", "--weights", tmp_path / "g.safetensors", "--shape", "3x64x64", match="--shape 1x64x64")


def test_bench_fails_when_nothing_can_run(tmp_path, tiny_weights, capsys):
    fails(capsys, "bench", "--weights", tmp_path / "none.safetensors", match="no such checkpoint")
    fails(capsys, "bench", "--weights", tiny_weights, "--repeats", "0", match="--repeats")
    fails(capsys, "bench", "--weights", tiny_weights, "--configs", "warp-fp32", match="unknown bench config")


# ---- 12. images ------------------------------------------------------------------------------------


def test_grey_with_alpha_stays_grey(tmp_path, tiny_weights, photo, capsys):
    ga = tmp_path / "ga.png"
    write_image(ga, Image(photo[..., 0], np.full(photo.shape[:2], 90, np.uint8)))
    assert main([str(a) for a in denoise(tmp_path, tiny_weights, ga)]) == 0
    out = read_image(tmp_path / "out" / "ga.png")
    assert out.pixels.ndim == 2 and (out.alpha == 90).all()
    from PIL import Image as PILImage

    assert PILImage.open(tmp_path / "out" / "ga.png").mode == "LA"


def test_odd_names_options_and_alpha_with_resize(tmp_path, tiny_weights, photo, capsys):
    (tmp_path / "in").mkdir()
    ok, png = cv2.imencode(".png", photo)
    (tmp_path / "in" / "p.xyz").write_bytes(png.tobytes())
    fails(capsys, *denoise(tmp_path, tiny_weights, tmp_path / "in" / "p.xyz"), match="cannot write .xyz")
    cv2.imwrite(str(tmp_path / "in" / "a.png"), photo)
    a = tmp_path / "in" / "a.png"
    fails(capsys, *denoise(tmp_path, tiny_weights, a, extra=["--tile", "64", "--overlap", "64"]), match="--overlap")
    fails(capsys, *denoise(tmp_path, tiny_weights, a, extra=["--resize", "100000x100000"]), match="--resize")
    cv2.imwrite(str(tmp_path / "in" / "rgba.png"), np.dstack([photo, np.full(photo.shape[:2], 5, np.uint8)]))
    rgba = tmp_path / "in" / "rgba.png"
    assert main([str(x) for x in denoise(tmp_path, tiny_weights, rgba, extra=["--resize", "64x32"])]) == 0
    assert cv2.imread(str(tmp_path / "out" / "rgba.png"), cv2.IMREAD_UNCHANGED).shape == (32, 64, 4)


# ---- 13-14. JSON and help -----------------------------------------------------------------------------


def test_json_is_standard_and_eval_options_are_checked(tmp_path, photo, capsys):
    (tmp_path / "set").mkdir()
    cv2.imwrite(str(tmp_path / "set" / "a.png"), photo)
    base = ["eval", tmp_path / "set", "--method", "noisy", "--noise", "gaussian:0", "--quiet"]
    assert main([str(a) for a in [*base, "--json", tmp_path / "r.json"]]) == 0  # noisy == clean: PSNR inf
    text = (tmp_path / "r.json").read_text()
    assert "Infinity" not in text and json.loads(text)["summary"]["psnr"] is None
    fails(capsys, *base, "--limit", "-1", match="--limit")
    fails(capsys, *base, "--montage", tmp_path / "m", "--montage-images", "nope.png", match="nope.png")


def test_every_option_of_every_command_has_help():
    from noise2noise.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "cmd")
    missing = [
        f"{name} {'/'.join(a.option_strings) or a.dest}"
        for name, p in sub.choices.items()
        for a in p._actions
        if a.dest != "help" and not a.help
    ]
    assert not missing, missing


def test_an_unexpected_failure_is_one_line_unless_debugging(tmp_path, capsys, monkeypatch):
    from noise2noise.cli import COMMANDS

    def boom(args):
        raise RuntimeError("something deep")

    monkeypatch.setattr(COMMANDS["info"], "run", boom)
    fails(capsys, "info", match="unexpected RuntimeError: something deep")
    monkeypatch.setenv("N2N_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["info"])


# ---- 6. the second round of the bad-input probe --------------------------------------------------


@pytest.mark.parametrize("flag", ["--json", "--csv", "--table"])
def test_a_report_in_a_missing_folder_is_refused_before_any_work(tmp_path, image, tiny_weights, capsys, flag):
    dest = tmp_path / "nodir" / "r.out"
    argv = ["eval", image.parent, "--noise", "gaussian:25", "--weights", tiny_weights, "--quiet", flag, dest]
    line = fails(capsys, *argv, match=str(dest))
    assert "does not exist" in line and ".tmp" not in line and "eval" not in capsys.readouterr().out
    fails(capsys, "bench", "--configs", "torch-fp32", "--json", dest, match="does not exist")


def test_a_failed_write_names_the_users_path_never_the_temp_file(tmp_path):
    with pytest.raises(OSError) as e, atomic.replacing(tmp_path / "gone" / "r.json"):
        pass
    assert str(tmp_path / "gone" / "r.json") in str(e.value) and ".tmp" not in str(e.value)


def test_a_float_tiff_is_refused_for_its_sample_type(tmp_path, tiny_weights, capsys):
    tifffile = pytest.importorskip("tifffile")
    for order in ("<", ">"):
        path = tmp_path / f"f{order == '>'}.tif"
        tifffile.imwrite(path, np.random.default_rng(0).random((40, 50, 3)).astype(np.float32), byteorder=order)
        fails(capsys, *denoise(tmp_path, tiny_weights, path), match="50x40 TIFF of 32-bit floating-point samples")
    assert not (tmp_path / "out").exists()


def test_a_full_disk_in_the_model_cache_is_said_and_leaves_nothing(tmp_path, image, monkeypatch, capsys):
    """OpenVINO writing the cache on a full disk: no hidden .tmp.bin left, and the message names the
    cache folder and says its disk is full."""
    ov = pytest.importorskip("openvino")
    cache = tmp_path / "cache"
    monkeypatch.setenv("N2N_CACHE", str(cache))

    def save_model(model, path, compress_to_fp16=False):
        (tmp_path / "cache" / (os.path.basename(path)[:-4] + ".bin")).write_bytes(b"half")
        raise RuntimeError("Exception from src/core/src/pass/serialize.cpp: Failed to write")

    monkeypatch.setattr(ov, "save_model", save_model)
    real_usage = atomic.shutil.disk_usage
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda p: real_usage(p)._replace(free=1 << 20))
    argv = ["denoise", image, "-o", tmp_path / "out", "--model", "n2n-gaussian", "--precision", "bf16"]
    argv += ["--backend", "openvino", "--quiet"]
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    if "bf16" in err and "native" in err:  # a CPU without bf16: take fp32 through OpenVINO instead
        pytest.skip("no native bf16 here")
    assert code == 2 and f"{cache}: the disk of the model cache is full" in err, err
    assert [p.name for p in cache.iterdir() if p.suffix in (".bin", ".xml") or ".tmp" in p.name] == []


def test_a_full_disk_while_saving_training_state_says_so(tmp_path, monkeypatch):
    from noise2noise.training import runfolder
    from noise2noise.training.loop import train
    from test_train import make_images

    data = make_images(tmp_path / "d", 2)

    def save(obj, f, *a, **k):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed writing file")

    monkeypatch.setattr(runfolder.torch, "save", save)
    real_usage = atomic.shutil.disk_usage
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda p: real_usage(p)._replace(free=1 << 20))
    kw = dict(data=[str(data)], arch="unet-compact", batch=1, crop=32, val_every=100, val_count=0, workers=0)
    with pytest.raises(OSError, match="no space left on the disk") as e:
        train(out=str(tmp_path / "run"), iterations=2, ckpt_every=1, progress=False, **kw)
    assert e.value.errno == errno.ENOSPC and str(tmp_path / "run" / "state.pt") in str(e.value)
    assert not [p for p in (tmp_path / "run").iterdir() if ".tmp" in p.name]


def test_bad_shapes_and_devices_name_their_option(tmp_path, image, capsys):
    fails(capsys, "bench", "--shape", "bogus", match="--shape takes NxCxHxW")
    for argv in (["denoise", image, "-o", tmp_path / "o"], ["eval", image.parent, "--noise", "gaussian:5"]):
        with pytest.raises(SystemExit) as e:
            main([str(a) for a in argv] + ["--device", "bogus"])
        assert e.value.code == 2 and "--device" in capsys.readouterr().err
    fails(capsys, "train", "--data", image.parent, "--out", tmp_path / "r", "--device", "bogus", match="--device")


def test_training_images_smaller_than_the_crop_are_refused(tmp_path, capsys):
    d = tmp_path / "tiny"
    d.mkdir()
    for i in range(3):
        cv2.imwrite(str(d / f"{i}.png"), np.full((1, 1, 3), 100 + i, np.uint8))
    argv = ["train", "--data", d, "--out", tmp_path / "r", "--target", "self", "--iterations", "1", "--workers", "0"]
    fails(capsys, *argv, "--crop", "64", match="smaller than 33x33 pixels")


def test_nothing_written_leaves_no_output_folder(tmp_path, tiny_weights, capsys):
    (tmp_path / "junk.png").write_bytes(b"not an image")
    code = main([str(a) for a in denoise(tmp_path, tiny_weights, tmp_path / "junk.png")])
    assert code != 0 and "junk.png" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_training_without_data_is_a_clear_error_not_a_default_folder(tmp_path, capsys):
    fails(capsys, "train", "--out", tmp_path / "r", "--iterations", "1", match="no training images: give --data")


# ---- the library's front door: the auto model checks its input as a fixed model does -------------


@pytest.fixture(scope="module")
def auto_and_fixed():
    from noise2noise import Denoiser

    return Denoiser.from_weights(), Denoiser.from_weights(model="n2n-photo")


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (None, TypeError, "cv2.imread returns None"),
        ([[1, 2], [3, 4]], TypeError, "got a list"),
        (np.zeros((32, 32, 3), np.float64), ValueError, "float64"),
        (np.zeros((32, 32, 3), np.float32), ValueError, "float32"),
        (np.zeros((32, 32), np.int32), ValueError, "int32"),
        (np.zeros((32, 32), bool), ValueError, "bool"),
        (np.zeros((1, 32, 32, 3), np.uint8), ValueError, "shape (1, 32, 32, 3)"),
        (np.zeros((32, 32, 2), np.uint8), ValueError, "shape (32, 32, 2)"),
        (np.zeros((0, 0), np.uint8), ValueError, "empty"),
        (np.zeros((0, 5, 3), np.uint8), ValueError, "empty"),
    ],
)
def test_auto_and_fixed_models_refuse_what_they_cannot_denoise_with_the_same_clear_error(
    auto_and_fixed, bad, error, words
):
    for den in auto_and_fixed:
        with pytest.raises(error) as e:
            den(bad)
        assert words in str(e.value)


def test_shape_in_is_shape_out_alpha_and_one_channel_kept(auto_and_fixed, photo):
    bgra = np.dstack([photo, np.arange(photo.size // 3, dtype=np.uint8).reshape(photo.shape[:2])])
    one = photo[..., :1].copy()
    for den in auto_and_fixed:
        out = den(bgra)
        assert out.shape == bgra.shape and out.dtype == np.uint8
        assert np.array_equal(out[..., 3], bgra[..., 3])  # alpha passed through
        assert np.array_equal(out[..., :3], den(photo))  # the picture denoised as without alpha
        o1 = den(one)
        assert o1.shape == one.shape and np.array_equal(o1[..., 0], den(one[..., 0]))
        o16 = den(bgra.astype(np.uint16) * 257)
        assert o16.dtype == np.uint16 and o16.shape == bgra.shape


def test_the_job_takes_one_path_as_a_string_and_an_empty_burst_says_so(tmp_path, photo, tiny_weights):
    from noise2noise import burst, denoise
    from noise2noise.job import DenoiseOptions

    cv2.imwrite(str(tmp_path / "photo.png"), photo)
    report = denoise(
        str(tmp_path / "photo.png"), tmp_path / "out", DenoiseOptions(weights=str(tiny_weights)), progress=False
    )
    assert report["failures"] == 0 and (tmp_path / "out" / "photo.png").exists()
    with pytest.raises(ValueError, match="no such file or folder") as e:
        denoise(str(tmp_path / "missing.png"), tmp_path / "out2", progress=False)
    assert "missing.png" in str(e.value)
    with pytest.raises(ValueError, match="no frames"):
        burst([], tmp_path / "merged.png", progress=False)


@pytest.mark.parametrize("fmt", ["model.onnx", "model.xml"])
def test_a_full_disk_during_export_names_the_users_path(tmp_path, tiny_weights, monkeypatch, capsys, fmt):
    from noise2noise.deploy import export as ex

    real = ex.export_onnx

    def full(model, path, *a, **k):
        real(model, path, *a, **k)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(ex, "export_onnx", full)
    out = tmp_path / "o" / fmt
    (tmp_path / "o").mkdir()
    line = fails(capsys, "export", "--weights", tiny_weights, "-o", out, match=str(out))
    assert "no space left on the disk" in line and ".onnx." not in line.replace(str(out), "")
    assert list((tmp_path / "o").iterdir()) == []  # the temporary folder is gone


def test_the_auto_models_noise_profile_reads_a_bounded_sample_not_full_size_copies():
    import tracemalloc

    from noise2noise.noise.profile import MAX_BLOCKS, profile

    x = np.random.default_rng(0).random((1, 3, 4000, 4000), dtype=np.float32)  # 192 MB
    tracemalloc.start()
    try:
        p = profile(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert p.blocks > 0 and peak < 100e6, peak  # the blocks read (at most MAX_BLOCKS), not a copy of the image
    assert MAX_BLOCKS * 3 * 20 * 20 * 4 < 100e6
