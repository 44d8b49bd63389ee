"""Peak memory (and time) of denoising one large photo by the default tiled path: `n2n denoise` on
a file, or `n2n serve` answering an upload.

    python benchmarks/big_photo.py [--via denoise|serve] [--size 6000x4000] [--weights W]

The photo is synthetic (smooth shapes plus Gaussian noise, sigma 25, JPEG quality 90). `denoise`
runs the command in a subprocess and reads its peak RSS; `serve` starts the server on a free local
port, posts the JPEG, checks the answer is a JPEG of the same size and reads the server's VmHWM.
Prints one JSON line with the CPU named."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from noise2noise.deploy.bench import cpu_name


def synthetic_jpeg(w: int, h: int, sigma: float = 25.0) -> bytes:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([xx / w, yy / h, (xx + yy) / (w + h)], 2) * 255
    img += np.random.default_rng(0).normal(0, sigma, img.shape).astype(np.float32)
    ok, jpg = cv2.imencode(".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return jpg.tobytes()


def via_denoise(jpg: bytes, weights: list[str]) -> dict:
    tmp = Path(tempfile.mkdtemp())
    (tmp / "big.jpg").write_bytes(jpg)
    cmd = [sys.executable, "-m", "noise2noise.cli", "denoise", str(tmp / "big.jpg"), "-o", str(tmp / "out")]
    t = time.perf_counter()
    r = subprocess.run([*cmd, "--quiet", *weights], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": round(time.perf_counter() - t, 1), "peak_rss_mb": round(peak)}


def via_serve(jpg: bytes, weights: list[str], w: int, h: int) -> dict:
    import httpx

    sys.path.insert(0, "tests")
    from serve_browser import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "noise2noise.cli", "serve", "--port", str(port), *weights], stdout=subprocess.DEVNULL
    )
    try:
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        t = time.perf_counter()
        r = httpx.post(f"http://127.0.0.1:{port}/api/denoise", files={"image": ("big.jpg", jpg)}, timeout=1800)
        seconds = time.perf_counter() - t
        status = open(f"/proc/{server.pid}/status").read()
        peak = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024
    finally:
        server.terminate()
        server.wait()
    out = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
    assert r.status_code == 200 and out.shape == (h, w, 3), (r.status_code, r.text[:200])
    return {"seconds": round(seconds, 1), "peak_rss_mb": round(peak), "model": r.headers.get("x-n2n-model")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--via", choices=("denoise", "serve"), default="denoise")
    ap.add_argument("--size", default="6000x4000", help="WxH of the synthetic photo")
    ap.add_argument("--weights", help="a checkpoint instead of the default model")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    jpg = synthetic_jpeg(w, h)
    weights = ["--weights", a.weights] if a.weights else []
    row = via_denoise(jpg, weights) if a.via == "denoise" else via_serve(jpg, weights, w, h)
    print(json.dumps({"via": a.via, "size": a.size, "upload_mb": round(len(jpg) / 2**20, 1), **row, "cpu": cpu_name()}))


if __name__ == "__main__":
    main()
