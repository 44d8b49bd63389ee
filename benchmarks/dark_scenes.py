"""Phone noise on darker scenes: the test images with their linear light scaled down (a low-light
scene, the darkened image the clean reference), then noise, then every shipped model, ``auto`` and the
wavelet baselines. Rows in ``phone_eval.py``'s format, so its ``table`` prints them.

    python benchmarks/dark_scenes.py --kind rawphone --scale 0.2 --gain 32 --out docs/results/phone-dark-scenes.jsonl
    python benchmarks/dark_scenes.py --kind rawphone --scale 0.1 --gain 16 --out docs/results/phone-dark-scenes.jsonl
    python benchmarks/phone_eval.py table docs/results/phone-dark-scenes.jsonl

The noise of image ``i`` is drawn from ``numpy.random.default_rng(i)`` (``n2n eval``'s seeding), on
the darkened image saved as an 8-bit file; the noisy input is an 8-bit file too."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phone_eval import DATA, SETS, write_rows  # noqa: E402

from noise2noise.auto import CANDIDATES, pick  # noqa: E402
from noise2noise.config import NoiseConfig  # noqa: E402
from noise2noise.data.evalsets import open_evalset  # noqa: E402
from noise2noise.denoiser import Denoiser  # noqa: E402
from noise2noise.evaluation.core import wavelet_float  # noqa: E402
from noise2noise.evaluation.metrics import psnr, ssim  # noqa: E402
from noise2noise.images import to_uint8  # noqa: E402
from noise2noise.noise.synthetic import add_noise  # noqa: E402


def darken(rgb8: np.ndarray, scale: float) -> np.ndarray:
    """An 8-bit sRGB image with its linear light times ``scale``, as an 8-bit sRGB image."""
    x = rgb8.astype(np.float64) / 255.0
    lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4) * scale
    out = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.maximum(lin, 0.0) ** (1 / 2.4) - 0.055)
    return to_uint8(out.astype(np.float32))


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
    noise = NoiseConfig.parse(f"{a.kind}:{a.gain:g}")
    models = {m: Denoiser.from_weights(model=m, tile=0) for m in CANDIDATES}
    for set_name in a.sets:
        by: dict[str, list[dict]] = {}
        for i, (name, clean8, _) in enumerate(open_evalset(str(Path(a.data) / SETS[set_name]))):
            clean = darken(clean8, a.scale)
            noisy = to_uint8(add_noise(clean.astype(np.float32) / 255.0, noise, np.random.default_rng(i))[0])
            x = noisy.astype(np.float32) / 255.0
            chw = np.ascontiguousarray(x.transpose(2, 0, 1))[None]
            choice = pick(chw)
            outs = {"noisy": noisy}
            outs |= {m: to_uint8(d.run_array(chw)[0].transpose(1, 2, 0)) for m, d in models.items()}
            outs["auto"] = outs[choice.model]
            outs["wavelet"] = to_uint8(wavelet_float(x, None, "BayesShrink"))
            outs["wavelet-visu"] = to_uint8(wavelet_float(x, None, "VisuShrink"))
            noisy_psnr = psnr(noisy, clean)
            for m, out in outs.items():
                row = {"name": name, "psnr": psnr(out, clean), "ssim": ssim(out, clean), "noisy_psnr": noisy_psnr}
                by.setdefault(m, []).append(row | ({"model": choice.model} if m == "auto" else {}))
        label = f"{noise} x{a.scale:g}"
        write_rows(
            Path(a.out), [{"set": set_name, "noise": label, "method": m, "images": ims} for m, ims in by.items()]
        )
        print(f"{set_name} {label}: done", flush=True)


if __name__ == "__main__":
    main()
