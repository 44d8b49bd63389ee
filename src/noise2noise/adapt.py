"""Adapting a model to the user's own photos: a few steps of Neighbor2Neighbor (``selfsup``) on
random crops of the very images that are about to be denoised, then denoise them with the result.

Memory stays bounded: each image is decoded once, a fixed number of random crops is kept from it
and the image is dropped, so a folder of large photos costs ``steps x batch`` crops, not the
photos. Deterministic: every random choice comes from ``seed``.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path

import numpy as np
import torch

from .data.folders import load_rgb
from .data.trainsets import random_crop
from .images import to_float
from .selfsup import ne2ne_loss
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
    pd: int = 1,
    progress: bool = True,
) -> Checkpoint:
    """Fine-tune a copy of ``ckpt``'s model on ``paths`` with the self-supervised loss; returns it."""
    if steps < 1:
        raise ValueError(f"--adapt takes a number of steps >= 1, got {steps}")
    if crop % (64 * pd):
        raise ValueError(f"adaptation crops must be a multiple of 64 x pd = {64 * pd}, got {crop}")
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    pool = crop_pool([Path(p) for p in paths], steps * batch, crop, rng)
    model = copy.deepcopy(ckpt.model).float().train()
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99), eps=1e-8)
    from tqdm import tqdm

    losses = []
    for _ in tqdm(range(steps), desc="adapt", unit="step", disable=not progress, dynamic_ncols=True):
        pick = rng.choice(len(pool), size=batch, replace=len(pool) < batch)
        y = torch.from_numpy(np.ascontiguousarray(pool[pick].transpose(0, 3, 1, 2)))
        if ckpt.config.in_channels == 1:
            y = y.mean(dim=1, keepdim=True)
        loss = ne2ne_loss(model, y, g, gamma, pd)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    info = {
        "steps": steps,
        "images": len(paths),
        "seed": seed,
        "lr": lr,
        "first_loss": losses[0],
        "last_loss": losses[-1],
    }
    return Checkpoint(model.eval(), ckpt.config, {**ckpt.meta, "adapted": info}, "")
