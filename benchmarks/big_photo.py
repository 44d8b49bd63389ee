"""Peak memory of `n2n denoise` on a 6000x4000 photo (the default tiled path).

python benchmarks/big_photo.py [--weights W]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--weights")
a = ap.parse_args()
tmp = Path(tempfile.mkdtemp())
y, x = np.mgrid[0:4000, 0:6000]
img = np.stack([(x // 7) % 256, (y // 5) % 256, ((x + y) // 9) % 256], 2).astype(np.uint8)
img = np.clip(img + np.random.default_rng(0).normal(0, 20, img.shape), 0, 255).astype(np.uint8)
cv2.imwrite(str(tmp / "big.jpg"), img)
del img, x, y
cmd = ["n2n", "denoise", str(tmp / "big.jpg"), "-o", str(tmp / "out"), "--quiet"] + (
    ["--weights", a.weights] if a.weights else []
)
t = time.time()
r = subprocess.run(cmd, capture_output=True, text=True)
print(
    f"exit {r.returncode}, {time.time() - t:.1f} s, peak RSS {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB"
)
