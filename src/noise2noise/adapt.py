"""Adapting a model to the user's own photos: a few steps of Neighbor2Neighbor (``selfsup``) on
random crops of the very images that are about to be denoised, then denoise them with the result.

A safeguard: before and after, both models are scored on held-out crops of the same images with
the self-supervised check of ``selfsup.masked_score`` (after the same pixel-shuffle as training);
when the adapted model does not score better, the original is kept (the adaptation's ``kept``
says so). A model that already matches white noise is so left as it was. On correlated (camera)
noise the check is biased towards models that keep some of the noise and is no guard: it accepted a
1.6 dB loss on mild synthetic camera noise (docs/experiments.md).

The pixel-shuffle stride (``pd``) is chosen from the noise itself by default (``"auto"``): the
residual the model removes from the held-out crops is measured for correlation between adjacent
pixels (``selfsup.residual_correlation``); white noise keeps stride 1, camera noise correlated by
demosaicing gets stride 2. Stride 2 on white noise is what fools the check: the model learns the
shuffled half-resolution images, the check is scored on them, and the photos lose (-1.2 dB measured
on Kodak24, ``docs/experiments.md``).

Memory stays bounded: each image is decoded once, a fixed number of random crops is kept from it
and the image is dropped, so a folder of large photos costs ``steps x batch`` crops, not the
photos. Deterministic: every random choice comes from ``seed``.
"""

from __future__ import annotations

import copy
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

from .data.folders import load_rgb
from .data.trainsets import random_crop
from .images import to_float
from .selfsup import masked_score, ne2ne_loss, pixel_shuffle_down, residual_correlation
from .weights import Checkpoint


def crop_pool(paths: list[Path], count: int, crop: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random ``crop`` x ``crop`` RGB float crops, spread evenly over ``paths``."""
    per = max(1, math.ceil(count / len(paths)))
    crops = []
    for p in paths:
        img = load_rgb(p)
        crops += [to_float(random_crop([img], crop, rng)[0]) for _ in range(per)]
    return np.stack(crops)


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
) -> Checkpoint:
    """Fine-tune a copy of ``ckpt``'s model on ``paths`` with the self-supervised loss; returns it, or
    the original when the held-out check finds it no better (unless ``force``)."""
    if steps < 1:
        raise ValueError(f"--adapt takes a number of steps >= 1, got {steps}")
    if pd != "auto" and (not isinstance(pd, int) or pd < 1):
        raise ValueError(f"--adapt-pd takes a stride >= 1 or 'auto', got {pd!r}")
    least = 64 * (1 if pd == "auto" else pd)
    if crop % least:
        raise ValueError(f"adaptation crops must be a multiple of 64 x pd = {least}, got {crop}")
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    crops = crop_pool([Path(p) for p in paths], steps * batch + HELD_OUT, crop, rng)  # each image decoded once
    order = rng.permutation(len(crops))
    pool, held = crops[order[HELD_OUT:]], _channels(crops[order[:HELD_OUT]], ckpt.config.in_channels)
    correlation = residual_correlation(ckpt.model.eval(), held)
    if pd == "auto":  # stride 2 only for correlated noise, and only where the crop allows it
        pd = 2 if correlation > PD_CORRELATION and crop % (64 * 2) == 0 else 1
    model = copy.deepcopy(ckpt.model).float().train()
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99), eps=1e-8)
    from tqdm import tqdm

    losses = []
    for _ in tqdm(range(steps), desc="adapt", unit="step", disable=not progress, dynamic_ncols=True):
        pick = rng.choice(len(pool), size=batch, replace=len(pool) < batch)
        y = _channels(pool[pick], ckpt.config.in_channels)
        loss = ne2ne_loss(model, y, g, gamma, pd)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    before, after = (_score(m, held, pd, seed) for m in (ckpt.model, model.eval()))
    kept = not force and not after < before
    info = {
        "steps": steps,
        "images": len(paths),
        "seed": seed,
        "lr": lr,
        "pd": pd,
        "residual_correlation": correlation,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "held_out_score_before": before,
        "held_out_score_after": after,
        "kept": kept,
    }
    if progress:
        verdict = "kept the original (adapting did not help)" if kept else "using the adapted model"
        print(
            f"adapt: noise correlation {correlation:.2f} -> pixel-shuffle stride {pd}; "
            f"held-out self-supervised error {before:.3e} -> {after:.3e}: {verdict}",
            file=sys.stderr,
        )
    final = ckpt.model if kept else model
    return Checkpoint(final.eval(), ckpt.config, {**ckpt.meta, "adapted": info}, "")


HELD_OUT = 32  # crops kept apart to score the model before and after adapting
# Residual correlation above which ``pd="auto"`` shuffles with stride 2, midway between what the
# shipped n2n-gaussian and n2n-photo leave on 256x256 crops of 12 images each
# (``benchmarks/noise_correlation.py``, docs/results/noise-correlation.jsonl): white noise (Gaussian
# sigma 5-50, Poisson) -0.11 to 0.01 per image; synthetic camera noise 0.24 to 0.71; PolyU 0.39 to 0.81.
PD_CORRELATION = 0.12


def _channels(crops: np.ndarray, channels: int) -> torch.Tensor:
    y = torch.from_numpy(np.ascontiguousarray(crops.transpose(0, 3, 1, 2)))
    return y.mean(dim=1, keepdim=True) if channels == 1 else y


def _score(model: torch.nn.Module, held: torch.Tensor, pd: int, seed: int) -> float:
    """The held-out check, in the pixel-shuffled domain the adaptation trained in; same masks for every model."""
    model.eval()
    g = torch.Generator().manual_seed(seed + 1)
    sub = pixel_shuffle_down(held, pd)
    return sum(masked_score(model, sub[i : i + 8], g) for i in range(0, len(sub), 8)) / math.ceil(len(sub) / 8)
