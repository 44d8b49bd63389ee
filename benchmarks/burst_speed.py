"""How long `n2n burst` takes on large frames, stage by stage (align, learn, merge).

    python benchmarks/burst_speed.py --size 4000x3000 --frames 4 --out docs/results/burst-speed.jsonl

A Kodak24 image is enlarged (Lanczos) to `--size`, made into a synthetic handheld burst
(`synthetic_bursts.make_burst`, `camera:8`), written as 8-bit PNG frames to a temporary
folder, and merged by `noise2noise.burst` (what `n2n burst FRAMES -o OUT` runs), timed from the
files to the written image. One JSON line, the CPU named."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from synthetic_bursts import make_burst

from noise2noise import burst
from noise2noise.bursts.merge import BurstOptions
from noise2noise.deploy.bench import cpu_name
from noise2noise.images import to_uint8


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", default="../shared/data/test/Kodak24/kodim01.png")
    ap.add_argument("--size", default="4000x3000", help="WxH of the frames")
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--steps", type=int, default=BurstOptions().steps)
    ap.add_argument("--out", required=True, help="JSON lines file to append to")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    m = 2 * 24  # make_burst crops this much from each side
    clean = cv2.resize(cv2.imread(a.image), (w + m, h + m), interpolation=cv2.INTER_LANCZOS4)
    clean = cv2.cvtColor(clean, cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    b = make_burst(clean, a.frames, 8.0, seed=0)
    del clean
    with tempfile.TemporaryDirectory(prefix="n2n-burst-speed-") as tmp:
        for k, f in enumerate(b.frames):
            cv2.imwrite(str(Path(tmp) / f"f{k}.png"), cv2.cvtColor(to_uint8(f), cv2.COLOR_RGB2BGR))
        del b
        t = time.perf_counter()
        report = burst([tmp], Path(tmp) / "out" / "merged.png", BurstOptions(steps=a.steps))
        seconds = time.perf_counter() - t
    r = report["bursts"][0]
    row = {
        "size": f"{w}x{h}",
        "frames": a.frames,
        "steps": a.steps,
        "seconds": round(seconds, 1),
        "stage_seconds": r.get("stage_seconds"),
        "frames_used": r.get("frames_used"),
        "error": r["error"],
        "cpu": cpu_name(),
        "date": time.strftime("%Y-%m-%d"),
    }
    with open(a.out, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
