"""Adapting a model to the user's own photos: a few steps of a loss that needs no clean image, on random
crops of the very images that are about to be denoised, then denoise them with the result.

A safeguard: before and after, both models are scored on held-out crops of the same images; when
the adapted model does not score better by more than three standard errors of the per-crop
differences (the check's own scatter), the original is kept (the adaptation's ``kept`` says so).
Loss and check depend on the noise, profiled first on a mosaic of the held-out crops
(``noise.profile.profile``):

* **white noise**: Neighbor2Neighbor trains and the masked self-supervised check
  (``selfsup.masked_score``, after the same pixel-shuffle as training) scores. It is sound only where
  the hidden pixel's noise is independent of what the network sees: on correlated (camera) noise it
  favours models that keep part of the noise (it accepted a 1.6 dB loss on mild synthetic camera
  noise, and every variant tried was fooled or blind: docs/lab/adapt.md).
* **any other noise** (correlated between neighbours or channels, changing with brightness; colour
  models), by default (``loss="auto"``): **pseudo-pairs** (``training.pseudo``). The original's output
  is the clean image; noise of the images' own kind is put on it: draws of the model's own training
  mixture whose figures read as the held-out crops' do (``noise.match``). The adapted model learns the
  images' content at their noise. Only where the nearest draw reads like the photos' noise
  (``MAX_DISTANCE``) are the pseudo-pairs taken to stand for them. The check: both models on held-out
  pseudo-pairs (the held-out crops' outputs, re-noised with their own seed), and a veto from SURE
  with the noise's covariance (``training.sure``), read from the held-out crops in two ways that
  bracket it (``noise.estimate``): where SURE under either reading finds the adapted model worse by more than
  three standard errors (``SURE_VETO``), the original is kept. A veto, not a guarantee: SURE cannot
  confirm gains under about 1 dB on 32 crops, and both readings run low on strong phone noise, where
  SURE then favours a model that keeps noise, so a veto on any lean towards worse refused every
  gain (docs/lab/adapt.md). SURE is also recorded under the matched draws' own noise, read exactly
  off the held-out pseudo-pairs (``matched``): not part of the veto, since it favoured adaptations
  that lost 0.2-0.4 dB where the noise is weak (PolyU, a camera at gain 2).
  Neighbor2Neighbor (``"ne2ne"``, with the stride below) and two losses built on the noise
  readings (``"sure"``, SURE itself, and ``"renoise"``, the original's output re-noised as read) can
  train instead, judged by SURE under both readings; none gained where measured, and a model trained
  on the readings is never taken on their word (only with ``force``): one trained on SURE that lost
  1.0 dB on phone noise scored better than the original under the readings.

Where more than ``MAX_CLIPPED`` of the held-out pixels sit at the file's limits (clipped noise is not
zero-mean: on 8-bit files with Gaussian sigma 50 the masked check accepted a 1.3 dB loss), a
self-supervised adaptation is never taken on the check's word: the original is kept unless ``force``.
Pseudo-pairs clip their noise as the files do and are exempt.

Neighbor2Neighbor's pixel-shuffle stride (``pd``) is chosen from the noise itself by default (``"auto"``): the
residual the model removes from the held-out crops is measured for correlation between adjacent
pixels (``selfsup.residual_correlation``); white noise keeps stride 1, camera noise correlated by
demosaicing gets stride 2. Stride 2 on white noise is what fools the check: the model learns the
shuffled half-resolution images, the check is scored on them, and the photos lose (-1.2 dB measured
on Kodak24, ``docs/lab/self-supervised.md``).

Memory stays bounded whatever the step count: each image is decoded once, a fixed number of random
crops is kept from it in its own integer type (at most ``POOL`` crops in all) and the image is
dropped; each step draws its batch from that pool. Deterministic: every random choice comes from
``seed``.
"""

from __future__ import annotations

import copy
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

from .config import parse_noise_mix
from .data.folders import load_rgb
from .data.trainsets import random_crop
from .images import to_float
from .noise.estimate import READINGS, bracket
from .noise.estimate import estimate as read_noise
from .noise.match import match
from .noise.profile import is_white, profile
from .training.fit import fit
from .training.pseudo import pseudo_loss, pseudo_scores, renoised
from .training.selfsup import masked_score, ne2ne_loss, pixel_shuffle_down, residual_correlation
from .training.sure import renoise_loss, sure_loss, sure_scores
from .weights import Checkpoint


def crop_pool(paths: list[Path], count: int, crop: int, rng: np.random.Generator) -> np.ndarray:
    """About ``count`` random ``crop`` x ``crop`` RGB crops (at least one per image), spread evenly
    over ``paths``, in the images' integer type (``to_float`` converts)."""
    per = max(1, math.ceil(count / len(paths)))
    crops = []
    for p in paths:
        img = load_rgb(p)
        crops += [random_crop([img], crop, rng)[0] for _ in range(per)]
    return np.stack(crops)


def mosaic(crops: np.ndarray, columns: int = 8) -> np.ndarray:
    """``N x H x W x C`` crops side by side (rows of ``columns``; missing ones black) -> ``C x H' x W'``."""
    n, h, w, c = crops.shape
    rows = math.ceil(n / columns)
    grid = np.zeros((rows * columns, h, w, c), crops.dtype)
    grid[:n] = crops
    return grid.reshape(rows, columns, h, w, c).transpose(4, 0, 2, 1, 3).reshape(c, rows * h, columns * w)


def adapt(
    ckpt: Checkpoint,
    paths: list[str | os.PathLike],
    steps: int,
    seed: int = 0,
    lr: float = 1e-4,
    batch: int = 4,
    crop: int = 128,
    gamma: float = 2.0,
    pd: int | str = "auto",
    progress: bool = True,
    force: bool = False,
    loss: str = "auto",
) -> Checkpoint:
    """Fine-tune a copy of ``ckpt``'s model on ``paths`` with the self-supervised loss; returns it, or
    the original when the held-out check finds it no better (unless ``force``)."""
    _check_arguments(steps, lr, crop, pd, loss)
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    count = min(steps * batch, POOL) + HELD_OUT
    crops = crop_pool([Path(p) for p in paths], count, crop, rng)  # each image decoded once
    order = rng.permutation(len(crops))
    pool, held_crops = crops[order[HELD_OUT:]], to_float(crops[order[:HELD_OUT]])
    held = _channels(held_crops, ckpt.config.in_channels)
    noise = profile(mosaic(held_crops))
    clipped = float(((held_crops <= 0) | (held_crops >= 1)).any(axis=-1).mean())
    white = is_white(noise) and clipped <= MAX_CLIPPED  # zero-mean white noise: what the check can judge
    correlation = residual_correlation(ckpt.model.eval(), held)
    if pd == "auto":  # stride 2 only for correlated noise, and only where the crop allows it
        pd = 2 if correlation > PD_CORRELATION and crop % (64 * 2) == 0 else 1
    sure = not is_white(noise)  # white noise: Neighbor2Neighbor and the masked check
    trained = _loss(loss, sure, ckpt.config.in_channels)
    check = "pseudo" if trained == "pseudo" else "sure" if sure else "masked"
    estimate = readings = draws = None
    if sure:  # two readings that bracket the noise (noise.estimate)
        with torch.no_grad():
            out = ckpt.model.eval()(held).float()
        readings, estimate = bracket(held, out), out.clamp(0, 1)  # pseudo-pairs: the output as a file holds it
    if trained == "pseudo":
        draws = _pseudo_noise(ckpt, held_crops, estimate, rng)
    model = copy.deepcopy(ckpt.model).float().train()

    def step_batch() -> torch.Tensor:  # a batch drawn from the pool, as the model's channels
        pick = rng.choice(len(pool), size=batch, replace=len(pool) < batch)
        return _channels(to_float(pool[pick]), ckpt.config.in_channels)

    objective = _objective(trained, ckpt.model, readings or [], [d for d, _ in draws or []], g, rng, gamma, pd)
    losses = fit(
        model, step_batch, objective, steps, lr, desc="adapting", hint="try a lower --adapt-lr", progress=progress
    )
    judged = (held, estimate, draws, readings, seed) if draws else (held, readings, pd, seed)
    before, after, z, veto, sure_z = (_judge_pseudo if draws else _judge)(ckpt.model, model.eval(), *judged)
    matched = not draws or draws[0][1] <= MAX_DISTANCE  # pseudo-pairs: noise that reads as the photos'
    better = matched and z > MIN_SIGNIFICANCE and not (veto is not None and veto < SURE_VETO)
    kept = not force and not (better and _sound(clipped, check, trained))
    info = {
        **{"steps": steps, "images": len(paths), "seed": seed, "lr": lr, "pd": pd},
        "residual_correlation": correlation,
        "noise": noise.as_dict(),
        "white_noise": white,
        "loss": trained,
        "check": check,
        **({"noise_readings": {r: n.as_dict() for r, n in zip(READINGS, readings)}} if readings else {}),
        **({"pseudo_noise": [{"noise": d.describe(), "distance": round(x, 3)} for d, x in draws]} if draws else {}),
        **({"sure_veto_significance": veto, "sure_significance": sure_z} if veto is not None else {}),
        "clipped_share": clipped,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "held_out_score_before": before,
        "held_out_score_after": after,
        "held_out_significance": z,
        "kept": kept,
    }
    if progress:
        print(_verdict(info, better), file=sys.stderr)
    final = ckpt.model if kept else model
    return Checkpoint(final.eval(), ckpt.config, {**ckpt.meta, "adapted": info}, "")


def _pseudo_noise(ckpt: Checkpoint, held_crops: np.ndarray, estimate: torch.Tensor, rng) -> list:
    """Draws of the model's own training mixture whose noise reads as the held-out crops' (``noise.match``,
    on mosaics of the crops and of the original's output on them), with their distances."""
    mix = parse_noise_mix(ckpt.meta.get("noise") or DEFAULT_MIX)
    hwc = lambda m: np.ascontiguousarray(m.transpose(1, 2, 0))  # noqa: E731
    return match(hwc(mosaic(held_crops)), hwc(mosaic(estimate.numpy().transpose(0, 2, 3, 1))), mix, rng)


def _loss(loss: str, sure: bool, channels: int) -> str:
    """The loss trained: ``auto`` is pseudo-pairs on noise that is not white (colour models), else
    Neighbor2Neighbor; white noise always trains Neighbor2Neighbor (what the masked check judges)."""
    if not sure:
        return "ne2ne"
    if loss == "auto":
        return "pseudo" if channels == 3 else "ne2ne"
    if loss == "pseudo" and channels != 3:
        raise ValueError("the pseudo-pair adaptation draws colour noise: it adapts colour models only")
    return loss


def _objective(loss: str, original, readings: list, draws: list, g: torch.Generator, rng, gamma: float, pd: int):
    """The adaptation's loss as ``fit`` calls it; ``sure`` and ``renoise`` alternate between the two noise
    readings step by step."""
    if loss == "pseudo":
        frozen = copy.deepcopy(original).float().eval()
        return lambda net, y, step: pseudo_loss(net, y, frozen, draws, rng)
    if loss == "sure":
        return lambda net, y, step: sure_loss(net, y, readings[step % 2], g)
    if loss == "renoise":
        frozen = copy.deepcopy(original).float().eval()
        return lambda net, y, step: renoise_loss(net, y, frozen, readings[step % 2], g)
    return lambda net, y, step: ne2ne_loss(net, y, g, gamma, pd)


def _check_arguments(steps: int, lr: float, crop: int, pd: int | str, loss: str) -> None:
    if steps < 1:
        raise ValueError(f"--adapt takes a number of steps >= 1, got {steps}")
    if loss not in LOSSES:
        raise ValueError(f"the adaptation's loss is one of {', '.join(LOSSES)}, got {loss!r}")
    if pd != "auto" and (not isinstance(pd, int) or pd < 1):
        raise ValueError(f"--adapt-pd takes a stride >= 1 or 'auto', got {pd!r}")
    least = 64 * (1 if pd == "auto" else pd)
    if crop % least:
        raise ValueError(f"adaptation crops must be a multiple of 64 x pd = {least}, got {crop}")
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"--adapt-lr must be a finite number >= 0, got {lr}")


def _judge(
    original, adapted, held: torch.Tensor, readings, pd: int, seed: int
) -> tuple[float, float, float, None, dict]:
    """The held-out check of both models: mean score before, after, and the adapted model's advantage in
    standard errors. With ``readings`` (noise that is not white; ``noise.estimate.bracket``): SURE under
    each, the least favourable kept (SURE's comparison is linear in the covariance, so better under both
    readings is better under any covariance between them); without: the masked check after the
    pixel-shuffle. No veto and no SURE by reading (the fourth and fifth values)."""
    if readings is not None:
        pairs = [[sure_scores(m, held, n, held, seed) for m in (original, adapted)] for n in readings]
        z, (b, a) = min(((significance(*p), p) for p in pairs), key=lambda t: t[0])
    else:
        b, a = (_scores(m, held, pd, seed) for m in (original, adapted))
        z = significance(b, a)
    return float(b.mean()), float(a.mean()), z, None, {}


def _judge_pseudo(original, adapted, held, estimate, draws, readings, seed: int):
    """The held-out check of a pseudo-pair adaptation: both models on held-out pseudo-pairs (the
    original's output on the held-out crops, re-noised by the matched draws with their own seed),
    mean error before, after, the adapted model's advantage in standard errors; and SURE's
    significance on the real held-out crops under each noise model (the two readings of the crops'
    noise, ``READINGS``, and ``matched``, the drawn noise itself, read exactly off the held-out
    pseudo-pairs; recorded only), the veto the least of those that ``VETO_READINGS`` names."""
    noisy = renoised(estimate, [d for d, _ in draws], np.random.default_rng(seed + 7))
    b, a = (pseudo_scores(m, noisy, estimate) for m in (original, adapted))
    models = dict(zip(READINGS, readings or []))
    models["matched"] = read_noise(noisy, estimate, "residual")  # y - d is the drawn noise exactly
    z = {
        k: significance(*[sure_scores(m, held, n, held, seed) for m in (original, adapted)]) for k, n in models.items()
    }
    veto = min(z[k] for k in VETO_READINGS if k in z)
    return float(b.mean()), float(a.mean()), significance(b, a), veto, z


def _sound(clipped: float, check: str, loss: str) -> bool:
    """Whether the check's word can be taken: both checks rest on zero-mean noise (little clipped), and a
    model trained on the noise readings (sure, renoise) is not judged by them: trained to look good under
    them, one that lost 1.0 dB looked better (docs/lab/adapt.md). Pseudo-pairs clip their noise as the
    files do, so their check does not rest on zero-mean noise."""
    if check == "pseudo":
        return True
    return clipped <= MAX_CLIPPED and not (check == "sure" and loss != "ne2ne")


def _verdict(info: dict, better: bool) -> str:
    if not info["kept"]:
        sound = _sound(info["clipped_share"], info["check"], info["loss"])
        verdict = "using the adapted model" + ("" if better and sound else " (forced)")
    elif not better and info["check"] == "pseudo" and info["pseudo_noise"][0]["distance"] > MAX_DISTANCE:
        verdict = (
            f"kept the original (no noise the model was trained on reads like these photos': the nearest at "
            f"distance {info['pseudo_noise'][0]['distance']:.2f} > {MAX_DISTANCE}; --adapt-force overrides)"
        )
    elif not better:
        verdict = "kept the original (adapting did not help)"
    elif info["clipped_share"] > MAX_CLIPPED:
        verdict = (
            "kept the original (too much of the noise is clipped at the file's limits for the check to tell; "
            "--adapt-force overrides)"
        )
    else:
        verdict = (
            f"kept the original (trained on the noise readings, the {info['loss']} loss is not judged by them; "
            "--adapt-force overrides)"
        )
    if info["check"] == "pseudo":
        nearest = info["pseudo_noise"][0]
        how = f"noise not white, read as {nearest['noise']} (distance {nearest['distance']:.2f}) -> pseudo-pairs; "
    elif info["check"] == "sure":
        lo, hi = (np.mean(r["sigma_255"]) for r in (info["noise_readings"][k] for k in ("residual", "plane")))
        how = f"noise not white, read as sigma {lo:.1f}-{hi:.1f}/255 -> SURE; "
    else:
        how = f"noise correlation {info['residual_correlation']:.2f} -> pixel-shuffle stride {info['pd']}; "
    return (
        f"adapt: {how}"
        f"held-out self-supervised error {info['held_out_score_before']:.3e} -> {info['held_out_score_after']:.3e} "
        f"({info['held_out_significance']:+.1f} standard errors): "
        f"{verdict}"
    )


LOSSES = (
    "auto",
    "ne2ne",
    "sure",
    "renoise",
    "pseudo",
)  # renoise: the original's output re-noised as read (training/sure.py)
# the noise drawn for pseudo-pairs when the weights do not say what they were trained on: the shipped
# phone model's mixture, the widest of the shipped models'
DEFAULT_MIX = "phone@0.35,rawphone@0.2,isp@0.15,camera@0.15,gaussian:0-50@0.15"
HELD_OUT = 32  # crops kept apart to score the model before and after adapting
# Share of held-out pixels clipped at 0 or 1 above which the noise is far from zero-mean: the loss and
# the check both rest on zero-mean noise (8-bit files of Gaussian sigma 50 clip a quarter of Kodak24's
# pixels, and the check then accepted a 1.3 dB loss; docs/lab/adapt.md)
MAX_CLIPPED = 0.05
# SURE's least favourable significance below which a pseudo-pair adaptation is not used: worse by three
# standard errors under either reading (the pseudo check cannot see the original's own bias, which the
# pseudo-pairs carry into the adapted model; a lean towards worse is not enough, since both readings run
# low on strong phone noise and SURE then leans against a model that removes more: docs/lab/adapt.md)
SURE_VETO = -3.0
# The farthest the nearest matched draw may read from the photos' noise (``noise.match.distance``: about one
# scatter of the readings over all five figures) for pseudo-pairs to stand for them: farther, the model's
# training noise does not describe these photos: of the adaptations measured, all that lost 0.15-1.2 dB but
# one had their nearest draw at 1.1-2.3, the four that gained 0.2-0.46 dB and were used at 0.7-0.95 (two
# more gains, at 1.38 and 1.89, are refused by it: docs/lab/adapt.md)
MAX_DISTANCE = 1.0
VETO_READINGS = ("plane", "residual")  # the noise models SURE's veto is read under (see _judge_pseudo)
MIN_SIGNIFICANCE = 3.0  # the held-out improvement, in standard errors of its per-crop differences
POOL = 1024  # at most this many training crops are kept (128 x 128 x 3 bytes each for 8-bit images: 48 MiB)
# Residual correlation above which ``pd="auto"`` shuffles with stride 2, midway between what the
# shipped n2n-gaussian and n2n-photo leave on 256x256 crops of 12 images each
# (``benchmarks/noise_correlation.py``, docs/results/adapt-noise-correlation.jsonl): white noise (Gaussian
# sigma 5-50, Poisson) -0.11 to 0.01 per image; synthetic camera noise 0.24 to 0.71; PolyU 0.39 to 0.81.
PD_CORRELATION = 0.12


def _channels(crops: np.ndarray, channels: int) -> torch.Tensor:
    y = torch.from_numpy(np.ascontiguousarray(crops.transpose(0, 3, 1, 2)))
    return y.mean(dim=1, keepdim=True) if channels == 1 else y


def _scores(model: torch.nn.Module, held: torch.Tensor, pd: int, seed: int) -> np.ndarray:
    """The held-out check per crop, in the pixel-shuffled domain the adaptation trained in; the same
    masks for every model (each crop's from its own seeded generator)."""
    model.eval()
    sub = pixel_shuffle_down(held, pd)
    per = len(sub) // len(held)  # sub-images of one crop
    s = [masked_score(model, sub[i : i + 1], torch.Generator().manual_seed(seed + 1 + i)) for i in range(len(sub))]
    return np.asarray(s).reshape(len(held), per).mean(axis=1)


def significance(before: np.ndarray, after: np.ndarray) -> float:
    """How many standard errors the per-crop improvement ``before - after`` is above 0."""
    d = before - after
    se = d.std(ddof=1) / math.sqrt(len(d)) if len(d) > 1 else 0.0
    return float(d.mean() / se) if se > 0 else (math.inf if d.mean() > 0 else 0.0)
