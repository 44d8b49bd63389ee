"""Where does the float-vs-uint8 gap come from? PSNR of a model in both protocols, split by the
clean pixel's intensity: mid-tones (all channels in [0.2, 0.8], where sigma-25 noise is rarely
clipped) against the rest (near black or white, where clipping to 8 bits removes information and
biases the input).

    python benchmarks/clip_gap.py --set ../shared/data/test/Kodak24 --sigma 25 [--weights W | --model M]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from noise2noise.config import NoiseConfig
from noise2noise.data.evalsets import open_evalset
from noise2noise.denoiser import Denoiser
from noise2noise.evaluation.core import noisy_inputs
from noise2noise.images import to_uint8 as to_u8

ap = argparse.ArgumentParser()
ap.add_argument("--set", default="../shared/data/test/Kodak24")
ap.add_argument("--sigma", type=float, default=25)
ap.add_argument("--weights")
ap.add_argument("--model")
a = ap.parse_args()
den = Denoiser.from_weights(a.weights, model=a.model, tile=0, backend="auto", precision="auto")
noise = NoiseConfig("gaussian", a.sigma, a.sigma)
acc = {p: {"mid": [0.0, 0], "ext": [0.0, 0], "all": [0.0, 0]} for p in ("float", "uint8")}
for i, (_name, clean, _) in enumerate(open_evalset(a.set, real=False)):
    c = clean.astype(np.float64)
    mid = ((clean >= 0.2 * 255) & (clean <= 0.8 * 255)).all(axis=2)
    for proto in acc:
        x = noisy_inputs(clean, None, noise, proto, i, 0)
        y = to_u8(den.run_array(np.ascontiguousarray(x.transpose(2, 0, 1))[None])[0].transpose(1, 2, 0)).astype(
            np.float64
        )
        se = ((y - c) ** 2).sum(axis=2)
        for k, m in (("mid", mid), ("ext", ~mid), ("all", np.ones_like(mid))):
            acc[proto][k][0] += float(se[m].sum())
            acc[proto][k][1] += int(m.sum()) * 3
out = {p: {k: 10 * np.log10(255**2 / (s / max(n, 1))) for k, (s, n) in d.items()} for p, d in acc.items()}
out["fraction_extreme_pixels"] = acc["float"]["ext"][1] / acc["float"]["all"][1]
print(json.dumps(out, indent=2))
