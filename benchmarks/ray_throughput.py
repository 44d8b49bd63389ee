"""`n2n denoise --ray` against the single-process `n2n denoise` of the same folder, in one run.

    python benchmarks/ray_throughput.py [--set ../shared/data/test/Kodak24] [--copies 2] [--actors 2]
    python benchmarks/ray_throughput.py --small 100 --size 128          # many small images

Each path denoises the same files into a fresh folder, as a subprocess (so start-up is counted:
Ray's cluster and actors, the model loads), best of `--repeats` runs each (the single-process runs first, so that their peak RSS is theirs). Throughput
is images per second of wall time. Memory: the single process's peak RSS, and the largest peak RSS
of one Ray actor process (VmHWM read from /proc while the job runs). Prints one JSON line with the
CPU named."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from noise2noise.deploy.bench import cpu_name


def make_inputs(a: argparse.Namespace, folder: Path) -> int:
    folder.mkdir(parents=True)
    if a.small:
        rng = np.random.default_rng(0)
        for i in range(a.small):
            img = rng.normal(128, 30, (a.size, a.size, 3))
            cv2.imwrite(str(folder / f"s{i:04d}.png"), np.clip(img, 0, 255).astype(np.uint8))
        return a.small
    srcs = sorted(Path(a.set).glob("*.png"))
    for k in range(a.copies):
        for p in srcs:
            clean = cv2.imread(str(p)).astype(np.float32)
            noisy = clean + np.random.default_rng(k).normal(0, 25, clean.shape)
            cv2.imwrite(str(folder / f"{k}-{p.name}"), np.clip(np.round(noisy), 0, 255).astype(np.uint8))
    return a.copies * len(srcs)


def actor_peak(stop: threading.Event, peaks: list[float]) -> None:
    while not stop.is_set():
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                if b"DenoiseActor" not in (d / "cmdline").read_bytes():
                    continue
                status = (d / "status").read_text()
            except OSError:
                continue
            hwm = next((line for line in status.splitlines() if line.startswith("VmHWM")), None)
            if hwm:
                peaks.append(int(hwm.split()[1]) / 1024)
        time.sleep(0.2)


def run(cmd: list[str], watch: bool) -> tuple[float, float]:
    stop, peaks = threading.Event(), [0.0]
    watcher = threading.Thread(target=actor_peak, args=(stop, peaks), daemon=True)
    if watch:
        watcher.start()
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    stop.set()
    assert r.returncode == 0, r.stderr[-2000:]
    return seconds, max(peaks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="../shared/data/test/Kodak24")
    ap.add_argument("--copies", type=int, default=2, help="noisy copies of each image of --set (default: 2)")
    ap.add_argument("--small", type=int, default=0, help="instead: this many synthetic noisy images of --size")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--actors", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    n = make_inputs(a, tmp / "in")
    n2n = [sys.executable, "-m", "noise2noise.cli", "denoise", str(tmp / "in"), "--quiet"]
    one = [run([*n2n, "-o", str(tmp / f"one{k}")], False)[0] for k in range(a.repeats)]
    single_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the single runs' peak
    ray, peak = [], 0.0
    for k in range(a.repeats):
        s, p = run([*n2n, "-o", str(tmp / f"ray{k}"), "--ray-actors", str(a.actors), "--ray"], True)
        ray.append(s)
        peak = max(peak, p)
    row = {
        "images": n,
        "input": f"{a.small} synthetic {a.size}x{a.size}" if a.small else f"{a.set} x{a.copies}",
        "single_images_per_s": round(n / min(one), 3),
        "ray_images_per_s": round(n / min(ray), 3),
        "ratio": round(min(one) / min(ray), 3),
        "actors": a.actors,
        "single_peak_rss_mb": round(single_rss),
        "actor_peak_rss_mb": round(peak),
        "cpu": cpu_name(),
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
