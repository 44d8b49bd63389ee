"""Phone noise on darker scenes: the test images with their linear light scaled down (a low-light
scene, the darkened image the clean reference), then noise, then every shipped model, ``auto`` and the
wavelet baselines. Rows in ``phone_eval.py``'s format, so its ``table`` prints them.

    python benchmarks/dark_scenes.py --kind rawphone --scale 0.2 --gain 32 --out docs/results/phone-dark-scenes.jsonl
    python benchmarks/dark_scenes.py --kind rawphone --scale 0.1 --gain 16 --out docs/results/phone-dark-scenes.jsonl
    python benchmarks/phone_eval.py table docs/results/phone-dark-scenes.jsonl

The darkened images are saved as 8-bit files and measured as ``phone_eval.py`` measures a set
(``n2n eval --protocol uint8``'s noise, seeds and 8-bit inputs)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phone_eval import DATA, SETS, measure, write_rows  # noqa: E402

from noise2noise.auto import AUTO, CANDIDATES  # noqa: E402
from noise2noise.data.evalsets import open_evalset  # noqa: E402
from noise2noise.images import Image, to_uint8, write_image  # noqa: E402
from noise2noise.noise.camera import linear_to_srgb, srgb_to_linear  # noqa: E402


def darken(rgb8: np.ndarray, scale: float) -> np.ndarray:
    """An 8-bit sRGB image with its linear light times ``scale``, as an 8-bit sRGB image."""
    lin = srgb_to_linear(rgb8.astype(np.float64) / 255.0) * scale
    return to_uint8(linear_to_srgb(lin).astype(np.float32))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--sets", nargs="+", default=["Kodak24", "McMaster"], choices=[s for s in SETS if s != "PolyU"])
    ap.add_argument("--kind", default="rawphone", choices=("phone", "isp", "rawphone"))
    ap.add_argument("--gain", type=float, default=32.0)
    ap.add_argument("--scale", type=float, default=0.2, help="the scene's linear light times this (0 < scale <= 1)")
    ap.add_argument("--out", required=True, help="JSON lines file (phone_eval.py's format) to add the rows to")
    a = ap.parse_args()
    if not 0 < a.scale <= 1:
        ap.error(f"--scale must be in (0, 1], got {a.scale}")
    noise = f"{a.kind}:{a.gain:g}"
    for set_name in a.sets:
        with tempfile.TemporaryDirectory() as d:  # the darkened scenes, the clean set measure() reads
            for name, clean8, _ in open_evalset(str(Path(a.data) / SETS[set_name])):
                write_image(Path(d) / Path(name).with_suffix(".png").name, Image(darken(clean8, a.scale)[..., ::-1]))
            by = measure(d, noise, [AUTO, *CANDIDATES], ["noisy", "wavelet", "wavelet-visu"], quiet=True)
        label = f"{noise} x{a.scale:g}"
        write_rows(Path(a.out), [{"set": set_name, "noise": label, "method": m, "images": i} for m, i in by.items()])
        print(f"{set_name} {label}: done", flush=True)


if __name__ == "__main__":
    main()
