"""Does a model leave coarse noise that another estimate of the coarse band removes? The model's output
with its coarse band (a Gaussian blur of ``--blur`` px) replaced by that of another estimate:

- ``half``: the same model run on a 2x2-averaged copy of the input (the noise there is weaker and
  whiter), enlarged back;
- ``visu``: VisuShrink wavelet shrinkage of the input (scikit-image, the noise level estimated).

    python benchmarks/coarse_band.py --set ../shared/data/pairs/PolyU --model n2n-photo
    python benchmarks/coarse_band.py --set ../shared/data/test/McMaster --noise phone:32 --model n2n-phone

Inputs as ``n2n eval --protocol uint8`` makes them. Prints, per variant and blur, the mean PSNR / SSIM
and the change per image against the model alone (mean, worst, best), one JSON line each.
"""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np

from noise2noise.denoiser import Denoiser
from noise2noise.evaluation.core import MethodSpec, evaluate, wavelet_float
from noise2noise.images import to_uint8


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", required=True)
    ap.add_argument("--noise")
    ap.add_argument("--model", required=True)
    ap.add_argument("--blur", nargs="+", type=float, default=[2.0, 6.0])
    ap.add_argument("--limit", type=int)
    a = ap.parse_args()
    den = Denoiser.from_weights(model=a.model, tile=0)
    memo: dict = {}

    def net(x: np.ndarray) -> np.ndarray:
        chw = np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32)[None]
        return den.run_array(chw)[0].transpose(1, 2, 0)

    def half(x: np.ndarray) -> np.ndarray:
        h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
        s = x[:h, :w]
        small = net(0.25 * (s[0::2, 0::2] + s[1::2, 0::2] + s[0::2, 1::2] + s[1::2, 1::2]))
        big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        return cv2.copyMakeBorder(big, 0, x.shape[0] - h, 0, x.shape[1] - w, cv2.BORDER_REPLICATE)

    def outputs(x: np.ndarray) -> dict:
        key = (x.shape, x[::7, ::7].tobytes())
        if memo.get("key") != key:  # every variant of one image reuses the three estimates
            memo.clear()
            memo.update(
                key=key, net=net(x), half=half(x), visu=wavelet_float(x, shrink="VisuShrink").astype(np.float32)
            )
        return memo

    def variant(other: str | None, blur: float):
        def run(x: np.ndarray) -> np.ndarray:
            o = outputs(x)
            d = o["net"] if other is None else o["net"] + cv2.GaussianBlur(o[other] - o["net"], (0, 0), blur)
            return to_uint8(np.clip(d, 0, 1))

        return run

    specs = [MethodSpec("model", variant(None, 0))]
    specs += [MethodSpec(f"{o} {b:g}", variant(o, b)) for o in ("half", "visu") for b in a.blur]
    results, _ = evaluate(a.set, specs, noise=a.noise, protocol="uint8", limit=a.limit, progress=False)
    base = {im["name"]: im["psnr"] for im in results[0].images}
    for r in results:
        d = np.array([im["psnr"] - base[im["name"]] for im in r.images])
        s = r.summary()
        print(
            json.dumps(
                {
                    "set": a.set.rstrip("/").split("/")[-1],
                    "noise": a.noise or "real",
                    "model": a.model,
                    "variant": r.method,
                    "psnr": s["psnr"],
                    "ssim": s["ssim"],
                    "change": {"mean": float(d.mean()), "worst": float(d.min()), "best": float(d.max())},
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
