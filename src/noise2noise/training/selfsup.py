"""Training from single noisy images: Neighbor2Neighbor (Huang et al., CVPR 2021).

A random neighbour sub-sampler takes, from every 2x2 cell of a noisy image ``y``, two different
pixels that are 4-neighbours into two half-size images ``g1(y)`` and ``g2(y)``: nearly the same
signal with independent noise (when the noise is pixel-independent), so ``g2(y)`` is a
Noise2Noise target for ``f(g1(y))``. The regulariser corrects for the half-pixel gap between the
two (paper, eq. 6, with ``f(y)`` computed without gradient):

    L = ||f(g1(y)) - g2(y)||^2 + gamma ||f(g1(y)) - g2(y) - (g1(f(y)) - g2(f(y)))||^2

``gamma`` grows linearly from 0 to its value over the run, as in the authors' code (2 in the
paper). Real sRGB noise is spatially correlated (demosaicing, JPEG), which breaks the
independence; pixel-shuffle downsampling (``pd_stride`` s >= 2, as in PD denoising and AP-BSN)
first splits the image into s*s sub-images of every s-th pixel, whose neighbours are s pixels
apart in the photo and so far less correlated.
"""

from __future__ import annotations

import torch
from torch import nn

# the 4-neighbours of each pixel of a 2x2 cell, numbered 0 = (0, 0), 1 = (0, 1), 2 = (1, 0), 3 = (1, 1)
NEIGHBOURS = torch.tensor([[1, 2], [0, 3], [0, 3], [1, 2]])


def cells(x: torch.Tensor) -> torch.Tensor:
    """``[N, C, H, W]`` (H, W even) -> ``[N, C, H/2, W/2, 4]``: the four pixels of each 2x2 cell."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)


def neighbour_indices(n: int, h: int, w: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """For every 2x2 cell of ``n`` images of ``h`` x ``w``: a random pixel and a random 4-neighbour of it."""
    first = torch.randint(0, 4, (n, h // 2, w // 2), generator=generator)
    second = NEIGHBOURS[first, torch.randint(0, 2, first.shape, generator=generator)]
    return first, second


def subsample(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """The half-size image of the pixels ``idx`` (``[N, H/2, W/2]``, values 0-3) of each cell."""
    c = x.shape[1]
    index = idx.to(x.device)[:, None, :, :, None].expand(-1, c, -1, -1, 1)
    return torch.gather(cells(x), 4, index)[..., 0]


def pixel_shuffle_down(x: torch.Tensor, stride: int) -> torch.Tensor:
    """``[N, C, H, W]`` -> ``[N*s*s, C, H/s, W/s]``: the s*s sub-images of every s-th pixel."""
    if stride <= 1:
        return x
    n, c, h, w = x.shape
    h, w = h // stride * stride, w // stride * stride
    x = x[..., :h, :w].reshape(n, c, h // stride, stride, w // stride, stride)
    return x.permute(0, 3, 5, 1, 2, 4).reshape(n * stride * stride, c, h // stride, w // stride)


def ne2ne_loss(
    net: nn.Module, y: torch.Tensor, generator: torch.Generator, gamma: float, pd_stride: int = 1, swap: bool = False
) -> torch.Tensor:
    """The Neighbor2Neighbor loss of ``net`` on the noisy batch ``y`` (sides divisible by 64 * pd_stride
    keep the sub-images a multiple of 32). ``swap`` also trains the swapped pair (``g2(y)`` -> ``g1(y)``,
    whose gap is the negated one) in the same step: twice the sub-images for one full-size forward."""
    y = pixel_shuffle_down(y, pd_stride)
    n, _, h, w = y.shape
    i1, i2 = neighbour_indices(n, h, w, generator)
    g1, g2 = subsample(y, i1), subsample(y, i2)
    inp, tgt = (torch.cat([g1, g2]), torch.cat([g2, g1])) if swap else (g1, g2)
    out = net(inp).float()
    loss = ((out - tgt) ** 2).mean()
    if gamma:
        with torch.no_grad():
            full = net(y).float()
        gap = subsample(full, i1) - subsample(full, i2)
        if swap:
            gap = torch.cat([gap, -gap])
        loss = loss + gamma * ((out - tgt - gap) ** 2).mean()
    return loss


def masked_score(net: nn.Module, y: torch.Tensor, generator: torch.Generator, spacing: int = 4) -> float:
    """How well ``net`` denoises the noisy batch ``y``, without a clean image (Noise2Self's
    self-supervised check, Batson & Royer, ICML 2019): one pixel of every ``spacing`` x ``spacing``
    cell is hidden (replaced by the mean of its 4 neighbours), and the output there is compared with
    the hidden noisy value. Where the noise is pixel-independent the hidden noise is independent of
    everything the network sees, so the expected score is the error to the clean image plus the
    noise variance: lower is better, and two models scored on the same ``y`` and ``generator`` seed
    compare fairly. Sides must be multiples of 32."""
    _, c, h, w = y.shape
    oy, ox = torch.randint(spacing, (2,), generator=generator).tolist()
    mask = torch.zeros(h, w, dtype=torch.bool)
    mask[oy::spacing, ox::spacing] = True
    kernel = torch.tensor([[0.0, 0.25, 0.0], [0.25, 0.0, 0.25], [0.0, 0.25, 0.0]]).expand(c, 1, 3, 3)
    around = torch.nn.functional.conv2d(torch.nn.functional.pad(y, (1, 1, 1, 1), mode="reflect"), kernel, groups=c)
    with torch.no_grad():
        out = net(torch.where(mask, around, y)).float()
    return float(((out - y)[..., mask] ** 2).mean())


def residual_correlation(net: nn.Module, y: torch.Tensor, batch: int = 8) -> float:
    """How spatially correlated the noise ``net`` removes from ``y`` is: the correlation between
    horizontally and vertically adjacent pixels of the residual ``y - net(y)`` (each crop and channel
    centred, pooled over the batch). Near 0 (slightly below) for pixel-independent noise, which a
    denoiser leaves white; camera noise after demosaicing gives 0.2-0.8, which breaks the
    sub-sampler's assumption that neighbouring pixels carry independent noise."""
    with torch.no_grad():
        r = torch.cat([y[i : i + batch] - net(y[i : i + batch]).float() for i in range(0, len(y), batch)])
    r = r - r.mean(dim=(2, 3), keepdim=True)
    across = (r[..., :, 1:] * r[..., :, :-1]).mean() + (r[..., 1:, :] * r[..., :-1, :]).mean()
    return float(across / 2 / (r * r).mean().clamp_min(1e-12))
