"""Split PolyU's pairs by scene into two halves, as symlinks: ``OUT/train`` (the noisy images of
one half, for self-supervised training: no clean image) and ``OUT/test/{noisy,clean}`` (the other
half's pairs, for evaluation). Scenes (camera, settings and subject: the name without its crop
number) alternate between the halves in sorted order, so no scene is in both.

    python scripts/split_polyu.py [--pairs ../shared/data/pairs/PolyU] [--out runs/polyu-split]
"""

import argparse
import re
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("--pairs", default="../shared/data/pairs/PolyU")
ap.add_argument("--out", default="runs/polyu-split")
a = ap.parse_args()
src, out = Path(a.pairs).resolve(), Path(a.out)
files = sorted(p.name for p in (src / "noisy").iterdir())


def scene(f: str) -> str:
    return re.sub(r"_\d+\.\w+$", "", f).rstrip("_")  # "plant_" and "plant" are one scene


scenes = sorted({scene(f) for f in files})
half = {s: i % 2 for i, s in enumerate(scenes)}
for d in ("train", "test/noisy", "test/clean"):
    (out / d).mkdir(parents=True, exist_ok=True)
counts = [0, 0]
for f in files:
    h = half[scene(f)]
    counts[h] += 1
    links = (
        [(out / "train" / f, src / "noisy" / f)]
        if h == 0
        else [
            (out / "test" / "noisy" / f, src / "noisy" / f),
            (out / "test" / "clean" / f, src / "clean" / f),
        ]
    )
    for link, target in links:
        if not link.exists():
            link.symlink_to(target)
print(f"{len(scenes)} scenes: {counts[0]} noisy images to train on, {counts[1]} pairs to test on")
