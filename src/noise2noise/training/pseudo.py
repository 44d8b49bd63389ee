"""Pseudo-pairs for adapting a model to images without a clean version: the original model's output
as the clean image, and noise of the images' own kind (``noise.match``: draws of the model's training
noise whose figures read as the images' do) put on it as the noisy one.

The adapted model learns the images' content (saturated colours, textures the training photographs
lack) at the noise they hold, with no assumption on the noise (neither independence between
neighbours, which Neighbor2Neighbor and the masked check need, nor a level read from the images,
which SURE needs and which was read 15-25% low on phone noise: docs/lab/adapt.md). Its bias is the
original's: where the original smooths a texture away, the pseudo-clean image has none to learn.
"""

from __future__ import annotations

import numpy as np
import torch

from ..noise.match import Draw


def renoised(x: torch.Tensor, draws: list[Draw], rng: np.random.Generator) -> torch.Tensor:
    """``x`` (N x 3 x H x W in [0, 1]) with noise of a random one of ``draws`` on each image, clipped to
    [0, 1] as a file is."""
    out = []
    for xi in x.detach().cpu().numpy():
        d = draws[int(rng.integers(len(draws)))]
        out.append(np.clip(d.apply(np.ascontiguousarray(xi.transpose(1, 2, 0)), rng), 0, 1).transpose(2, 0, 1))
    return torch.from_numpy(np.ascontiguousarray(np.stack(out), np.float32))


def pseudo_loss(
    net: torch.nn.Module, y: torch.Tensor, original: torch.nn.Module, draws: list[Draw], rng: np.random.Generator
) -> torch.Tensor:
    """Mean squared error of ``net`` on a pseudo-pair of each crop of ``y``: ``original(y)`` re-noised
    by ``draws``, against ``original(y)``."""
    with torch.no_grad():
        x = original(y).float().clamp(0, 1)
    return ((net(renoised(x, draws, rng)) - x) ** 2).mean()


def pseudo_scores(model: torch.nn.Module, noisy: torch.Tensor, target: torch.Tensor, chunk: int = 8) -> np.ndarray:
    """Per-crop mean squared error of ``model(noisy)`` against ``target`` (held-out pseudo-pairs)."""
    model.eval()
    errors = []
    with torch.no_grad():
        for i in range(0, len(noisy), chunk):
            out = model(noisy[i : i + chunk]).float()
            errors.append(((out - target[i : i + chunk]) ** 2).mean(dim=(1, 2, 3)).numpy())
    return np.concatenate(errors)
