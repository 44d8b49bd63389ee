"""`n2n denoise --ray`: on a local Ray with two actors the bytes equal the single-process path's, a
corrupt file is reported by name while the others finish, a killed actor's files are run again, and
a rerun leaves what exists. Slow (a Ray cluster starts); Ray is optional."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from noise2noise.cli import main
from noise2noise.job import denoise

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'noise2noise[scale]'")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def photos(folder: Path, n: int, size: int = 96) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(n):
        img = np.stack([(xx * (i + 1)) % 256, (yy * 3) % 256, ((xx + yy) * 2) % 256], 2).astype(np.float32)
        img += rng.normal(0, 20, img.shape)
        cv2.imwrite(str(folder / f"p{i:02d}.png"), np.clip(img, 0, 255).astype(np.uint8))
    return folder


def test_same_bytes_as_one_process_and_a_corrupt_file_is_reported(tmp_path, local_ray, capsys):
    src = photos(tmp_path / "in", 4)
    (src / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert main(["denoise", str(src), "-o", str(tmp_path / "one"), "--quiet"]) == 1  # the bad file fails
    capsys.readouterr()
    code = main(
        ["denoise", str(src), "-o", str(tmp_path / "ray"), "--ray", "--quiet", "--json", str(tmp_path / "r.json")]
    )
    err = capsys.readouterr().err
    assert code == 1 and "bad.png" in err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["failures"] == 1 and [Path(f["input"]).name for f in report["files"]][-1] == "p03.png"
    good = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert good == [f"p{i:02d}.png" for i in range(4)] == sorted(p.name for p in (tmp_path / "ray").iterdir())
    for name in good:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "ray" / name).read_bytes()
    assert all(f["model"] for f in report["files"] if not f["error"])


def test_a_rerun_does_only_what_is_missing(tmp_path, local_ray):
    src = photos(tmp_path / "in", 3)
    first = denoise([str(src)], tmp_path / "out", ray=True, progress=False)
    assert first["failures"] == 0 and len(first["files"]) == 3
    (tmp_path / "out" / "p01.png").unlink()
    again = denoise([str(src)], tmp_path / "out", ray=True, progress=False)
    assert [Path(f["input"]).name for f in again["files"]] == ["p01.png"]


def _actor_pids() -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "MapWorker" in cmd and "DenoiseActor" in cmd:
                pids.append(int(d.name))
    return pids


def test_a_killed_actor_does_not_lose_files(tmp_path, local_ray):
    src = photos(tmp_path / "in", 12, size=256)
    out = tmp_path / "out"
    result = {}
    job = threading.Thread(target=lambda: result.update(r=denoise([str(src)], out, ray=True, progress=False)))
    job.start()
    deadline = time.time() + 300
    while time.time() < deadline and not (out.exists() and any(out.iterdir())):
        time.sleep(0.05)
    done_at_kill = len(list(out.iterdir())) if out.exists() else 0
    pids = _actor_pids()
    assert pids, "no actor process found"
    os.kill(pids[0], signal.SIGKILL)
    job.join(timeout=600)
    assert not job.is_alive()
    assert done_at_kill < 12, "the job finished before an actor could be killed"
    assert result["r"]["failures"] == 0 and len(result["r"]["files"]) == 12
    assert sorted(p.name for p in out.iterdir()) == [f"p{i:02d}.png" for i in range(12)]


def test_without_ray_the_option_says_what_to_install(tmp_path, monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *a, **k):
        if name == "ray" or name.startswith("ray."):
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    src = photos(tmp_path / "in", 1)
    assert main(["denoise", str(src), "-o", str(tmp_path / "o"), "--ray", "--quiet"]) == 2
    assert "pip install 'noise2noise[scale]'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("address", ["nowhere:1", "ray://127.0.0.1:1"])
def test_an_address_where_no_cluster_answers_is_one_line_and_exit_1(tmp_path, capsys, address):
    src = photos(tmp_path / "in", 1)
    t = time.monotonic()
    assert main(["denoise", str(src), "-o", str(tmp_path / "o"), "--ray", address, "--quiet"]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"n2n: error: --ray {address}: no Ray cluster answers"), lines
    assert time.monotonic() - t < 30 and not (tmp_path / "o").exists()


def test_zero_actors_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["denoise", str(tmp_path), "-o", str(tmp_path / "o"), "--ray", "--ray-actors", "0"])
    assert e.value.code == 2 and "--ray-actors" in capsys.readouterr().err


def test_quiet_hides_rays_own_lines(tmp_path):
    import subprocess
    import sys

    src = photos(tmp_path / "in", 2)
    cmd = [sys.executable, "-m", "noise2noise.cli", "denoise", str(src), "-o", str(tmp_path / "o"), "--ray"]
    r = subprocess.run([*cmd, "--ray-actors", "1", "--quiet"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "" and r.stdout.strip() == "", (r.stdout, r.stderr)
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["p00.png", "p01.png"]
