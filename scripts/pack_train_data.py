"""Pack the training photographs into `.devdata/train` (ignored by git) for a GPU machine,
which gets only the repository (at most 64 MiB; `../shared` does not travel).

    python scripts/pack_train_data.py [--budget-mb 50]

JPEG files are copied as they are and PNGs stored as lossless WebP (the same pixels, smaller), in
sorted order until the budget is reached; `.devdata/train/MANIFEST.txt` lists what was packed and
what was left out, so a model trained on it says exactly what it saw. With today's training set:
all 432 CBSD432 images and the first 194 of ImageNet500 (49.9 MiB); 306 are left out."""

import argparse
import shutil
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
ap = argparse.ArgumentParser()
ap.add_argument("--src", default=str(ROOT.parent / "shared" / "data" / "train"))
ap.add_argument("--dst", default=str(ROOT / ".devdata" / "train"))
ap.add_argument("--budget-mb", type=float, default=50.0)
a = ap.parse_args()
src, dst = Path(a.src), Path(a.dst)
shutil.rmtree(dst, ignore_errors=True)
used, packed, left = 0, [], []
budget = a.budget_mb * 2**20 - 64 * 1024  # room for the manifest
for f in sorted(p for p in src.rglob("*") if p.is_file()):
    rel = f.relative_to(src)
    if f.suffix.lower() == ".png":
        ok, enc = cv2.imencode(".webp", cv2.imread(str(f), cv2.IMREAD_UNCHANGED), [cv2.IMWRITE_WEBP_QUALITY, 101])
        data, rel = enc.tobytes(), rel.with_suffix(".webp")
    elif f.suffix.lower() in (".jpg", ".jpeg"):
        data = f.read_bytes()
    else:
        continue
    if used + len(data) > budget:
        left.append(str(f.relative_to(src)))
        continue
    (dst / rel).parent.mkdir(parents=True, exist_ok=True)
    (dst / rel).write_bytes(data)
    used += len(data)
    packed.append(str(rel))
manifest = [
    f"packed {len(packed)} images, {used / 2**20:.1f} MiB, from {src}",
    *packed,
    f"left out ({len(left)}):",
    *left,
]
(dst / "MANIFEST.txt").write_text("\n".join(manifest) + "\n")
print(manifest[0] + f"; left out {len(left)}")
