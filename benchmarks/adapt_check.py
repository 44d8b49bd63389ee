"""Whether the adaptation's held-out checks tell the truth: a model adapted to a set's noisy images
(``--adapt-force``, so it is always made) against the original, scored by each check on held-out crops
and by the clean images.

    python benchmarks/adapt_check.py --set ../shared/data/test/McMaster --noise phone:8 --steps 200
    python benchmarks/adapt_check.py --set ../shared/data/pairs/PolyU --steps 200 --limit 40

Prints one JSON line: the set's PSNR (fp32, whole images) before and after, and per check (``sure``:
the SURE score with the noise model read from the crops, ``masked``: the pixel-masked score, ``true``:
the error to the clean crops) the mean per-crop change and its significance in standard errors
(positive: the adapted model is better). The model is the one ``auto`` chooses for most images."""

import argparse
import copy
import json
import math
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from noise2noise.adapt import adapt, significance
from noise2noise.config import draw_noise, parse_noise_mix
from noise2noise.data.evalsets import open_evalset
from noise2noise.evaluation.core import noisy_inputs
from noise2noise.images import Image, to_uint8, write_image
from noise2noise.noise.estimate import READINGS, bracket
from noise2noise.noise.profile import choose, profile
from noise2noise.noise.synthetic import NoiseConfig, add_noise
from noise2noise.training.fit import fit
from noise2noise.training.selfsup import masked_score
from noise2noise.training.sure import sure_scores
from noise2noise.weights import load_weights, resolve

ap = argparse.ArgumentParser()
ap.add_argument("--set", required=True)
ap.add_argument("--noise")
ap.add_argument("--steps", type=int, default=200)
ap.add_argument("--lr", type=float, default=1e-4)
ap.add_argument("--pd", default="auto")
ap.add_argument("--limit", type=int)
ap.add_argument("--crops", type=int, default=32)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--model")
ap.add_argument(
    "--pseudo-noise", default="model"
)  # --loss pseudo: the noise drawn on the original model's outputs (model: its training noise)
ap.add_argument(
    "--loss", default="ne2ne", choices=("ne2ne", "sure", "renoise", "clean", "pseudo")
)  # clean: the bound, from clean targets
a = ap.parse_args()
torch.set_num_threads(2)


def run(net, x: np.ndarray) -> np.ndarray:
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]
    h, w = t.shape[-2:]
    t = F.pad(t, (0, -w % 32, 0, -h % 32), mode="reflect")
    with torch.no_grad():
        return net(t)[0, :, :h, :w].clamp(0, 1).numpy().transpose(1, 2, 0)


def psnr(x: np.ndarray, y: np.ndarray) -> float:
    return 10 * math.log10(1 / float(((x - y) ** 2).mean()))


t0 = time.time()
es = open_evalset(a.set, real=a.noise is None)
cfg = NoiseConfig.parse(a.noise) if a.noise else None
pairs = []
for i, (name, clean, real) in enumerate(es):
    if a.limit and i >= a.limit:
        break
    noisy = noisy_inputs(clean, real, cfg, "uint8", i, 0)
    pairs.append((name, clean.astype(np.float32) / 255, noisy))
model = a.model or Counter(choose(profile(n.transpose(2, 0, 1)))[0] for _, _, n in pairs).most_common(1)[0][0]
ck = load_weights(resolve(model=model))
with tempfile.TemporaryDirectory() as d:
    paths = []
    for name, _, noisy in pairs:
        p = Path(d) / Path(name).with_suffix(".png").name
        write_image(p, Image(np.ascontiguousarray(to_uint8(noisy)[..., ::-1])))
        paths.append(p)
    pd = a.pd if a.pd == "auto" else int(a.pd)
    loss = "sure" if a.loss in ("clean", "pseudo") else a.loss  # one step for the run's record, weights replaced below
    steps = 1 if a.loss in ("clean", "pseudo") else a.steps
    adapted = adapt(ck, paths, steps, a.seed, a.lr, pd=pd, progress=False, force=True, loss=loss)
# with --loss clean: what the same steps reach with the clean images as targets, the bound of any self-supervised loss
if a.loss in ("clean", "pseudo"):
    mix = parse_noise_mix(ck.meta["noise"] if a.pseudo_noise == "model" else a.pseudo_noise)
    outs = [run(ck.model.eval().float(), n) for _, _, n in pairs] if a.loss == "pseudo" else None
    tuned = copy.deepcopy(ck.model).float().train()
    crng = np.random.default_rng(a.seed)

    def batch():
        ys, xs = [], []
        for _ in range(4):
            k = crng.integers(len(pairs))
            _, c, n = pairs[k]
            i, j = crng.integers(0, c.shape[0] - 128 + 1), crng.integers(0, c.shape[1] - 128 + 1)
            yc, xc = n[i : i + 128, j : j + 128], c[i : i + 128, j : j + 128]
            if a.loss == "pseudo":  # the original model's output as the clean image, noise of the model's kind on it
                xc = outs[k][i : i + 128, j : j + 128]
                yc = add_noise(xc, draw_noise(mix, crng), crng)[0]
            ys.append(np.ascontiguousarray(yc.transpose(2, 0, 1), np.float32))
            xs.append(np.ascontiguousarray(xc.transpose(2, 0, 1), np.float32))
        return torch.from_numpy(np.stack(ys)), torch.from_numpy(np.stack(xs))

    fit(tuned, batch, lambda net, b, step: ((net(b[0]) - b[1]) ** 2).mean(), a.steps, a.lr, progress=False)
    adapted = replace(adapted, model=tuned)
net0, net1 = ck.model.eval().float(), adapted.model.eval().float()
before = [psnr(run(net0, n), c) for _, c, n in pairs]
after = [psnr(run(net1, n), c) for _, c, n in pairs]

# held-out crops (other draws than the adaptation's), with their clean versions
rng = np.random.default_rng(a.seed + 99)
ys, xs = [], []
for k in range(a.crops):
    _, c, n = pairs[k % len(pairs)]
    i, j = rng.integers(0, c.shape[0] - 128 + 1), rng.integers(0, c.shape[1] - 128 + 1)
    ys.append(n[i : i + 128, j : j + 128].transpose(2, 0, 1))
    xs.append(c[i : i + 128, j : j + 128].transpose(2, 0, 1))
y, x = torch.from_numpy(np.stack(ys)), torch.from_numpy(np.stack(xs))
with torch.no_grad():
    d0, d1 = net0(y).float(), net1(y).float()
readings = dict(zip(READINGS, bracket(y, d0)))
true0, true1 = ((d0 - x) ** 2).mean(dim=(1, 2, 3)).numpy(), ((d1 - x) ** 2).mean(dim=(1, 2, 3)).numpy()
sure = {r: [sure_scores(m, y, n, y, a.seed) for m in (net0, net1)] for r, n in readings.items()}
mask0, mask1 = (
    np.array([masked_score(m, y[i : i + 1], torch.Generator().manual_seed(a.seed + 1 + i)) for i in range(len(y))])
    for m in (net0, net1)
)
true_noise = (y - x).numpy()


def change(b, c):
    return {"before": round(float(b.mean()), 7), "after": round(float(c.mean()), 7), "z": round(significance(b, c), 2)}


row = {
    "set": Path(a.set).name,
    "noise": a.noise or "real",
    "model": model,
    "steps": a.steps,
    "loss": a.loss,
    "lr": a.lr,
    **({"pseudo_noise": a.pseudo_noise} if a.loss == "pseudo" else {}),
    "pd": adapted.meta["adapted"]["pd"],
    "images": len(pairs),
    "psnr_before": round(float(np.mean(before)), 3),
    "psnr_after": round(float(np.mean(after)), 3),
    "gain_db": round(float(np.mean(after) - np.mean(before)), 3),
    "true": change(true0, true1),
    **{f"sure_{r}": change(*s) for r, s in sure.items()},
    "masked": change(mask0, mask1),
    "check": adapted.meta["adapted"].get("check"),
    "lower_reading": "original model only",  # the residual reading: y less the original model's output
    "accepted_by_check": None
    if a.loss in ("clean", "pseudo")
    else adapted.meta["adapted"]["held_out_significance"] > 3,
    "noise_sigma_255_read_vs_true": {
        **{r: round(float(n.level(y).pow(2).mean().sqrt()) * 255, 2) for r, n in readings.items()},
        "y - x": round(float(np.sqrt((true_noise**2).mean())) * 255, 2),
    },
    "noise_model": {r: n.as_dict() for r, n in readings.items()},
    "seconds": round(time.time() - t0),
}
print(json.dumps(row), flush=True)
sys.exit(0)
