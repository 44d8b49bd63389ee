"""Activation equalization before int8: the same function, with even channel ranges.

int8 activations are quantized per tensor: one uint8 grid over all channels. In the paper's U-Net
the channels of one tensor differ up to 15x in range (the input of ``dec_conv1b``: maxima 0.10 to
1.48 on calibration crops), so a narrow channel gets a few of the 255 steps. LeakyReLU, max-pooling,
nearest upsampling and concatenation all commute with a positive per-channel scale, so a producer
convolution's output channel ``i`` can be multiplied by ``s_i`` (its weights and bias) and every
consumer's input channel ``i`` divided by it: the float network is unchanged (to rounding), the
int8 one sees evener ranges. This is the cross-layer equalization of Nagel et al., "Data-Free
Quantization Through Weight Equalization and Bias Correction" (ICCV 2019), aimed at the activations
(the weights here are quantized per output channel already). Dividing a consumer's input channel
shrinks those weights on their per-output-channel int8 grid, so the scale is a compromise,
``s_i = min(cap, sqrt(max_j m_j / m_i))`` over the producer's channel maxima ``m`` after LeakyReLU
on the calibration inputs (``channel_scales``). On the shipped Gaussian model it took the all-int8
drop at sigma 5 from 0.107 to 0.034 dB on the calibration crops, and at sigma 25 with
``dec_conv1b`` float from 0.011 to 0.005 (docs/lab/int8.md, 2026-11).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np
import torch

from ..model import UNet

# producer conv -> the convs that read its (activated, maybe pooled/upsampled) output: (name, first input channel)
FLOW: dict[str, list[tuple[str, int]]] = {
    "enc_conv0": [("enc_conv1", 0)],
    "enc_conv1": [("enc_conv2", 0), ("dec_conv2a", 96)],  # pool1 -> CONCAT2 after the 96 upsampled
    "enc_conv2": [("enc_conv3", 0), ("dec_conv3a", 96)],
    "enc_conv3": [("enc_conv4", 0), ("dec_conv4a", 96)],
    "enc_conv4": [("enc_conv5", 0), ("dec_conv5a", 48)],
    "enc_conv5": [("enc_conv6", 0)],
    "enc_conv6": [("dec_conv5a", 0)],
    "dec_conv5a": [("dec_conv5b", 0)],
    "dec_conv5b": [("dec_conv4a", 0)],
    "dec_conv4a": [("dec_conv4b", 0)],
    "dec_conv4b": [("dec_conv3a", 0)],
    "dec_conv3a": [("dec_conv3b", 0)],
    "dec_conv3b": [("dec_conv2a", 0)],
    "dec_conv2a": [("dec_conv2b", 0)],
    "dec_conv2b": [("dec_conv1a", 0)],
    "dec_conv1a": [("dec_conv1b", 0)],
}
POWER, CAP = 0.5, 8.0


def channel_maxima(unet: UNet, batches: Iterable[np.ndarray]) -> dict[str, torch.Tensor]:
    """Per output channel, the largest value each producer conv in ``FLOW`` reaches after its
    LeakyReLU on ``batches`` (``1xCxHxW`` float32 arrays)."""
    seen: dict[str, torch.Tensor] = {}

    def hook(name: str):
        def record(_m, _i, out: torch.Tensor) -> None:
            hi = unet.act(out.detach()).transpose(0, 1).reshape(out.shape[1], -1).amax(1)
            seen[name] = torch.maximum(seen[name], hi) if name in seen else hi

        return record

    handles = [getattr(unet, name).register_forward_hook(hook(name)) for name in FLOW]
    try:
        with torch.no_grad():
            for b in batches:
                unet(torch.from_numpy(np.ascontiguousarray(b, np.float32)))
    finally:
        for h in handles:
            h.remove()
    return seen


def channel_scales(hi: torch.Tensor, power: float = POWER, cap: float = CAP) -> torch.Tensor:
    """``clamp((max(hi) / hi_i) ** power, 1, cap)`` from the channels' maxima ``hi``: narrow channels
    widened toward the widest, none narrowed, a channel that never turns positive left alone.
    (Bounding each channel so that its negative side stays within the tensor's measured worse: 0.100
    against 0.034 dB at sigma 5 on the shipped model's calibration crops.)"""
    m = hi.clamp_min(1e-6)
    s = ((m.max() / m) ** power).clamp(1.0, cap)
    return torch.where(hi > 1e-6, s, torch.ones_like(s))


def equalize(
    unet: UNet,
    batches: Iterable[np.ndarray],
    power: float = POWER,
    cap: float = CAP,
    producers: Iterable[str] | None = None,
) -> UNet:
    """A copy of ``unet`` computing the same function with its activations' channel ranges evened
    out on ``batches`` (see the module's docstring); ``producers``: only these convs' outputs
    (default: every one in ``FLOW``)."""
    out = copy.deepcopy(unet).eval()
    maxima = channel_maxima(out, batches)
    with torch.no_grad():
        for name in FLOW if producers is None else producers:
            s = channel_scales(maxima[name], power, cap)
            conv = getattr(out, name)
            conv.weight.mul_(s[:, None, None, None])
            conv.bias.mul_(s)
            for consumer, first in FLOW[name]:
                getattr(out, consumer).weight[:, first : first + len(s)].div_(s[None, :, None, None])
    return out
