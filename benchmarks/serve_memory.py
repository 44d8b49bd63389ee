"""Peak memory of `n2n serve` while it denoises a 24-megapixel JPEG through the API.

    python benchmarks/serve_memory.py [--weights W] [--size 6000x4000]

Starts `n2n serve` in a subprocess on a free local port, posts a synthetic 6000x4000 JPEG (smooth
shapes plus Gaussian noise, sigma 25), checks the answer is a JPEG of the same size, and reads the
server process's peak resident memory (VmHWM in /proc). Prints one JSON line."""

import argparse
import json
import subprocess
import sys
import time

import cv2
import httpx
import numpy as np

sys.path.insert(0, "tests")
from noise2noise.deploy.bench import cpu_name  # noqa: E402
from serve_browser import free_port  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--weights")
ap.add_argument("--size", default="6000x4000")
a = ap.parse_args()
w, h = (int(v) for v in a.size.split("x"))
yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
img = np.stack([xx / w, yy / h, (xx + yy) / (w + h)], 2) * 255
img += np.random.default_rng(0).normal(0, 25, img.shape).astype(np.float32)
ok, jpg = cv2.imencode(".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])
del img, yy, xx
port = free_port()
cmd = [sys.executable, "-m", "noise2noise.cli", "serve", "--port", str(port)] + (
    ["--weights", a.weights] if a.weights else []
)
server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
try:
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    t = time.perf_counter()
    r = httpx.post(f"http://127.0.0.1:{port}/api/denoise", files={"image": ("big.jpg", jpg.tobytes())}, timeout=1800)
    seconds = time.perf_counter() - t
    out = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
    status = open(f"/proc/{server.pid}/status").read()
    peak_mb = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) / 1024
finally:
    server.terminate()
    server.wait()
assert r.status_code == 200 and out.shape == (h, w, 3), (r.status_code, r.text[:200])
row = {
    "size": a.size,
    "upload_mb": round(len(jpg) / 2**20, 1),
    "seconds": round(seconds, 1),
    "peak_rss_mb": round(peak_mb),
    "cpu": cpu_name(),
}
print(json.dumps(row))
