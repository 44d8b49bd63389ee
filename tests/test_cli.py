"""End-to-end `n2n` behaviour: outputs, and one-line errors with nothing half-written."""

import importlib.util
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import REF
from noise2noise.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("openvino") is None, reason="openvino is not installed")
def test_a_folder_in_two_streams_writes_what_one_stream_writes(tmp_path, tiny_weights, photo, capsys):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(5):
        cv2.imwrite(str(src / f"{i}.png"), np.roll(photo, 7 * i, axis=1))
    (src / "bad.png").write_bytes(b"not a picture")
    outs = {}
    for streams in ("1", "2"):
        r = subprocess.run(  # a subprocess with a timeout: a hang fails the test instead of stalling the suite
            [sys.executable, "-m", "noise2noise.cli", "denoise", src, "-o", tmp_path / streams, "--weights",
             tiny_weights, "--backend", "openvino", "--precision", "fp32", "--streams", streams, "--quiet"],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        code, err = r.returncode, r.stderr
        assert code == 1 and err.count("bad.png") == 1 and err.count("\n") == 1  # reported, the others done
        outs[streams] = {p.name: cv2.imread(str(p)) for p in (tmp_path / streams).iterdir()}
    assert sorted(outs["2"]) == [f"{i}.png" for i in range(5)]
    diffs = [np.abs(outs["1"][n].astype(int) - outs["2"][n]) for n in outs["1"]]
    # one thread per image instead of two sums in another order: the same up to a rare rounding flip
    assert max(d.max() for d in diffs) <= 1 and np.mean([(d > 0).mean() for d in diffs]) < 1e-3
    from noise2noise.denoiser import Denoiser

    assert Denoiser.from_weights(str(tiny_weights), backend="openvino", precision="fp32", streams=2).streams == 2
    assert Denoiser.from_weights(str(tiny_weights), backend="torch", precision="fp32", streams=2).streams == 1


def test_denoise_keeps_name_format_size_depth_grey_and_alpha(tmp_path, tiny_weights, photo, capsys):
    src = tmp_path / "in"
    src.mkdir()
    cv2.imwrite(str(src / "a.png"), photo)
    cv2.imwrite(str(src / "b.jpg"), photo)
    cv2.imwrite(str(src / "c.png"), photo[..., 0])
    cv2.imwrite(str(src / "d.png"), photo.astype(np.uint16) * 257)
    cv2.imwrite(str(src / "e.png"), np.dstack([photo, np.full(photo.shape[:2], 77, np.uint8)]))
    code, _, err = run(capsys, "denoise", src, "-o", tmp_path / "out", "--weights", tiny_weights, "--quiet")
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["a.png", "b.jpg", "c.png", "d.png", "e.png"]
    read = lambda n: cv2.imread(str(tmp_path / "out" / n), cv2.IMREAD_UNCHANGED)  # noqa: E731
    assert read("a.png").shape == photo.shape and read("a.png").dtype == np.uint8
    assert read("c.png").shape == photo.shape[:2]
    assert read("d.png").dtype == np.uint16
    e = read("e.png")
    assert e.shape == photo.shape[:2] + (4,) and (e[..., 3] == 77).all()


def test_glob_and_resize(tmp_path, tiny_weights, photo, capsys):
    cv2.imwrite(str(tmp_path / "x1.png"), photo)
    cv2.imwrite(str(tmp_path / "x2.png"), photo)
    code, _, err = run(
        capsys,
        "denoise",
        tmp_path / "x*.png",
        "-o",
        tmp_path / "o",
        "--weights",
        tiny_weights,
        "--resize",
        "64x32",
        "--quiet",
    )
    assert code == 0, err
    assert cv2.imread(str(tmp_path / "o" / "x1.png")).shape == (32, 64, 3)


def test_never_overwrites_the_input_unless_asked(tmp_path, tiny_weights, photo, capsys):
    cv2.imwrite(str(tmp_path / "a.png"), photo)
    before = (tmp_path / "a.png").read_bytes()
    code, _, err = run(capsys, "denoise", tmp_path / "a.png", "-o", tmp_path, "--weights", tiny_weights)
    assert code != 0 and "overwrite" in err and (tmp_path / "a.png").read_bytes() == before
    code, _, err = run(capsys, "denoise", tmp_path / "a.png", "-o", tmp_path, "--weights", tiny_weights, "--overwrite")
    assert code == 0, err


def _bad_inputs(tmp_path, photo):
    (tmp_path / "empty").mkdir()
    (tmp_path / "zero.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    ok, png = cv2.imencode(".png", np.tile(photo, (6, 6, 1)))
    (tmp_path / "trunc.png").write_bytes(png.tobytes()[:500])
    ok, jpg = cv2.imencode(".jpg", np.tile(photo, (6, 6, 1)))
    (tmp_path / "trunc.jpg").write_bytes(jpg.tobytes()[: len(jpg) // 2])
    bomb = bytearray(png.tobytes())
    bomb[16:24] = (60000).to_bytes(4, "big") * 2
    (tmp_path / "bomb.png").write_bytes(bytes(bomb))
    return {
        "missing": tmp_path / "nope.png",
        "empty folder": tmp_path / "empty",
        "0-byte": tmp_path / "zero.png",
        "text as png": tmp_path / "text.png",
        "truncated png": tmp_path / "trunc.png",
        "truncated jpeg": tmp_path / "trunc.jpg",
        "too large": tmp_path / "bomb.png",
    }


def test_bad_inputs_give_one_line_and_write_nothing(tmp_path, tiny_weights, photo, capsys):
    for label, path in _bad_inputs(tmp_path, photo).items():
        out = tmp_path / f"out-{label.replace(' ', '_')}"
        code, _, err = run(capsys, "denoise", path, "-o", out, "--weights", tiny_weights, "--quiet")
        assert code != 0, label
        assert len(err.strip().splitlines()) == 1 and err.startswith("n2n: error:"), (label, err)
        assert not out.exists() or not any(out.iterdir()), label


@pytest.mark.shared(REF)
def test_bad_checkpoints_and_outputs(tmp_path, tiny_weights, photo, capsys, ref_ckpt):
    cv2.imwrite(str(tmp_path / "a.png"), photo)
    (tmp_path / "w.pt").write_bytes(b"junk")
    cases = [
        ["--weights", tmp_path / "w.pt"],
        ["--weights", tmp_path / "none.safetensors"],
        ["--weights", ref_ckpt, "--arch", "unet"],  # wrong architecture for the file
        ["--weights", tiny_weights, "--arch", "unet"],
    ]
    for extra in cases:
        code, _, err = run(capsys, "denoise", tmp_path / "a.png", "-o", tmp_path / "o", "--quiet", *extra)
        assert code != 0 and len(err.strip().splitlines()) == 1, (extra, err)
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    (tmp_path / "file").write_text("x")
    code, _, err = run(capsys, "denoise", tmp_path / "a.png", "-o", tmp_path / "file", "--weights", tiny_weights)
    assert code != 0 and "not a folder" in err
    code, _, err = run(
        capsys, "denoise", tmp_path / "a.png", "-o", tmp_path / "file" / "sub", "--weights", tiny_weights
    )
    assert code != 0 and "cannot create output folder" in err
    if os.geteuid() != 0:  # root can write anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        code, _, err = run(capsys, "denoise", tmp_path / "a.png", "-o", ro, "--weights", tiny_weights)
        assert code != 0 and "writable" in err


def test_info_json(capsys):
    code, out, _ = run(capsys, "info", "--arch", "unet-compact", "--shape", "3x256x256", "--json")
    d = json.loads(out)
    assert code == 0 and d["params"] == 700_611 and d["flops"] == 2 * d["macs"] > 0
    code, out, _ = run(capsys, "info", "--arch", "unet", "--json")
    assert json.loads(out)["params"] == 991_203
    code, _, err = run(capsys, "info", "--shape", "3by256")
    assert code != 0 and "CxHxW" in err


def test_the_installed_command_prints_no_traceback(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "noise2noise.cli", "denoise", str(tmp_path / "nope.png"), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1


@pytest.mark.slow
def test_torchrun_splits_a_folder_and_a_rerun_resumes(tmp_path, tiny_weights, photo):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(5):
        cv2.imwrite(str(src / f"p{i}.png"), np.roll(photo, 3 * i, axis=1))
    argv = [
        "denoise",
        str(src),
        "-o",
        str(tmp_path / "one"),
        "--weights",
        str(tiny_weights),
        "--backend",
        "torch",
        "--quiet",
    ]
    assert main(argv) == 0
    run = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29588"]
    cmd = [*run, "-m", "noise2noise.cli", *argv[:3], str(tmp_path / "two"), *argv[4:]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    for i in range(5):  # every file once, the same pixels as one process
        assert (tmp_path / "two" / f"p{i}.png").read_bytes() == (tmp_path / "one" / f"p{i}.png").read_bytes()
    (tmp_path / "two" / "p3.png").unlink()
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "two").iterdir()}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "two").iterdir()}
    assert sorted(after) == [f"p{i}.png" for i in range(5)]
    assert all(after[n] == t for n, t in before.items())  # the others were left as they were
