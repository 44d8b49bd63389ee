"""How well a denoiser does on noisy images without their clean versions, for noise that is not white:
Stein's unbiased risk estimate (SURE) with the noise's covariance, estimated Monte Carlo style.

For ``y = x + n`` with zero-mean Gaussian ``n`` of covariance ``S`` (any correlation between
neighbours and channels, a level that varies over the image), and a denoiser ``f``,

    E ||f(y) - x||^2 = E ||y - f(y)||^2 - tr(S) + 2 tr(S J_f(y))

(generalised SURE; Eldar, IEEE TSP 2009). The divergence term is read with noise ``u`` of the same
covariance: ``tr(S J) = E_u[u . J u]`` ~ ``u . (f(y + eps u) - f(y)) / eps`` (Monte Carlo SURE,
Ramani et al., IEEE TIP 2008). Where the pixel-masked check of ``selfsup.masked_score`` is biased
as soon as the hidden pixel's noise reaches the pixels the network sees, this score only needs draws
of noise with the right covariance: ``noise.estimate`` reads them from the image. Two models scored
with the same draws (the same ``seed``) compare fairly; a wrong covariance biases the comparison by
``2 tr((S' - S)(J_1 - J_0))``, so a model that keeps more noise is favoured when the level reads low.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..noise.estimate import NoiseModel

EPS = 1e-2  # the finite difference, as a share of a draw of the noise


def sure_scores(
    net: nn.Module, y: torch.Tensor, noise: NoiseModel, reference: torch.Tensor, seed: int, draws: int = 2
) -> np.ndarray:
    """The estimated mean squared error of ``net`` on each noisy crop of ``y`` (``N x C x H x W``); the
    noise is drawn at the brightness of ``reference`` (the same for every model compared), from
    generators seeded from ``seed`` and the crop's index."""
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(len(y)):
            yi, ref = y[i : i + 1], reference[i : i + 1]
            g = torch.Generator().manual_seed(seed * 7919 + i)
            fy = net(yi).float()
            data = float(((yi - fy) ** 2).mean())
            div, trace = 0.0, 0.0
            for _ in range(draws):
                u = noise.sample(ref, g)
                div += float((u * (net(yi + EPS * u).float() - fy)).mean()) / EPS
                trace += float((u * u).mean())
            out.append(data + (2 * div - trace) / draws)
    return np.asarray(out)


def sure_loss(net: nn.Module, y: torch.Tensor, noise: NoiseModel, generator: torch.Generator) -> torch.Tensor:
    """The SURE score of ``net`` on the noisy batch ``y`` as a training loss (one draw of the noise per
    step, at the brightness of ``y`` itself; the constant ``tr(S)`` left out): minimising it minimises
    the expected error to the clean images, for the noise the model describes."""
    u = noise.sample(y, generator).to(y.device)
    fy = net(y).float()
    div = (u * (net(y + EPS * u).float() - fy)).mean() / EPS
    return ((y - fy) ** 2).mean() + 2 * div


def renoise_loss(
    net: nn.Module, y: torch.Tensor, original: nn.Module, noise: NoiseModel, generator: torch.Generator
) -> torch.Tensor:
    """``original``'s output on the noisy batch ``y`` as the clean images, fresh noise of the model
    ``noise`` drawn on them (clipped and rounded as an 8-bit file is): the squared error of ``net``'s
    output to that clean image. It teaches the content of these images, not their noise, so it
    needs a noise reading near the truth, and a denoiser ``original`` to start from."""
    with torch.no_grad():
        d = original(y).float().clamp(0, 1)
    z = ((d + noise.sample(d, generator)).clamp(0, 1) * 255).round() / 255
    return ((net(z).float() - d) ** 2).mean()
