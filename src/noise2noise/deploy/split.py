"""The int8 graph of the paper's U-Net: the same function, with the image's own path kept apart.

``dec_conv1a`` convolves ``concat(features, image)`` (96 + 3 channels, a third of the network's
FLOPs). Quantized as one tensor, the concatenation puts the raw image on the features' uint8 grid
(a step of ~0.008, coarser than an 8-bit file's 1/255), which measurably costs low-noise images.
Written as ``conv(features) + conv(image)`` (the weight split along its input channels, the bias in
the first), the 96-channel part is quantized alone and the 3-channel part, like ``enc_conv0``, can
stay float for ~1% of the work. No Concat/Slice is left for the runtime to copy.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..model import UNet
from .equalize import equalize


class ImageSplitUNet(nn.Module):
    """``UNet`` (a copy of it) computed with ``dec_conv1a`` split into ``top`` and ``image``."""

    def __init__(self, unet: UNet) -> None:
        super().__init__()
        self.net = copy.deepcopy(unet)
        conv = self.net.dec_conv1a
        image_ch = self.net.enc_conv0.in_channels
        feat_ch = conv.in_channels - image_ch
        self.top = nn.Conv2d(feat_ch, conv.out_channels, 3, padding=1)
        self.image = nn.Conv2d(image_ch, conv.out_channels, 3, padding=1, bias=False)
        with torch.no_grad():
            self.top.weight.copy_(conv.weight[:, :feat_ch])
            self.top.bias.copy_(conv.bias)
            self.image.weight.copy_(conv.weight[:, feat_ch:])
        del self.net.dec_conv1a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, a = self.net, self.net.act
        h = a(self.top(n.features(x)) + self.image(x))
        return n.dec_conv1c(a(n.dec_conv1b(h)))


def int8_graph(model: nn.Module, batches: list[np.ndarray] | None = None) -> nn.Module:
    """The module to export for int8: for the paper's U-Net, ``ImageSplitUNet`` of it, its channel
    ranges first equalized on ``batches`` when given (``deploy/equalize.py``); else ``model``."""
    if not isinstance(model, UNet):
        return model
    return ImageSplitUNet(equalize(model, batches) if batches is not None else model)
