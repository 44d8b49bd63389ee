"""The U-Nets: pure ``nn.Module``s built from a small typed config.

Contract: input ``[B, C, H, W]`` float in [0, 1] (noisy), output ``[B, C', H, W]`` (estimate of the
clean image, not clipped). ``H`` and ``W`` must be multiples of 32 (five 2x poolings); padding to
that multiple is the inference path's job (``noise2noise.inference``), not the module's.

Two architectures:

* ``unet`` -- the network of Lehtinen et al., "Noise2Noise", ICML 2018, appendix Table 2:
  ENC_CONV0..6 with 48 channels and five 2x2 max-pools, nearest-neighbour 2x upsampling with skip
  concatenation, 96-channel decoder pairs, DEC_CONV1A/B/C = 64, 32, out. Every 3x3 conv is followed
  by LeakyReLU(0.1) except the last, which is linear. He initialisation. 991,203 parameters (3->3).
* ``unet-compact`` -- the 700,611-parameter variant of the public ``noise2noise-pytorch`` port and
  our reference model card: encoder levels 2-5 reuse one conv block, decoder levels 3-1 reuse one
  block, ReLU, ConvTranspose upsampling, LeakyReLU(0.1) on the output. Its parameter names match
  the public checkpoints (``_block1.0.weight`` ...) so they load strictly.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import ARCHS, ModelConfig

__all__ = ["ARCHS", "MULTIPLE", "ModelConfig", "UNet", "UNetCompact", "build_model", "count_params"]
MULTIPLE = 32  # 2**5: both nets pool five times


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=1)


class UNet(nn.Module):
    """The paper's U-Net (Noise2Noise appendix Table 2). Layer names follow the table."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3) -> None:
        super().__init__()
        self.enc_conv0 = _conv(in_channels, 48)
        self.enc_conv1 = _conv(48, 48)
        self.enc_conv2 = _conv(48, 48)
        self.enc_conv3 = _conv(48, 48)
        self.enc_conv4 = _conv(48, 48)
        self.enc_conv5 = _conv(48, 48)
        self.enc_conv6 = _conv(48, 48)
        self.dec_conv5a = _conv(96, 96)  # CONCAT5: upsample(48) + pool4(48)
        self.dec_conv5b = _conv(96, 96)
        self.dec_conv4a = _conv(144, 96)  # CONCAT4: 96 + pool3(48)
        self.dec_conv4b = _conv(96, 96)
        self.dec_conv3a = _conv(144, 96)
        self.dec_conv3b = _conv(96, 96)
        self.dec_conv2a = _conv(144, 96)
        self.dec_conv2b = _conv(96, 96)
        self.dec_conv1a = _conv(96 + in_channels, 64)  # CONCAT1: 96 + input
        self.dec_conv1b = _conv(64, 32)
        self.dec_conv1c = _conv(32, out_channels)  # linear output
        self.act = nn.LeakyReLU(0.1)
        self.pool = nn.MaxPool2d(2)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # He initialisation (the paper: "He et al. initialization"), zero biases.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=0.1, nonlinearity="leaky_relu")
                nn.init.zeros_(m.bias)
        nn.init.kaiming_normal_(self.dec_conv1c.weight, nonlinearity="linear")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.cat((self.features(x), x), dim=1)  # CONCAT1 with the input
        a = self.act
        h = a(self.dec_conv1b(a(self.dec_conv1a(h))))
        return self.dec_conv1c(h)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Everything up to CONCAT1: the decoder's upsampled 96 channels at full resolution."""
        a = self.act
        skips = []
        h = a(self.enc_conv0(x))
        h = self.pool(a(self.enc_conv1(h)))  # pool1
        skips.append(h)
        for conv in (self.enc_conv2, self.enc_conv3, self.enc_conv4):
            h = self.pool(a(conv(h)))  # pool2..pool4
            skips.append(h)
        h = self.pool(a(self.enc_conv5(h)))  # pool5
        h = a(self.enc_conv6(h))
        for ca, cb in (
            (self.dec_conv5a, self.dec_conv5b),
            (self.dec_conv4a, self.dec_conv4b),
            (self.dec_conv3a, self.dec_conv3b),
            (self.dec_conv2a, self.dec_conv2b),
        ):
            h = torch.cat((self.up(h), skips.pop()), dim=1)
            h = a(cb(a(ca(h))))
        return self.up(h)


class UNetCompact(nn.Module):
    """The compact U-Net of ``noise2noise-pytorch`` (reference model card), weights shared across
    levels exactly as in the public checkpoints: ``_block2`` serves encoder levels 2-5 and
    ``_block5`` decoder levels 3-1."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3) -> None:
        super().__init__()
        relu = lambda: nn.ReLU(inplace=True)  # noqa: E731
        self._block1 = nn.Sequential(_conv(in_channels, 48), relu(), _conv(48, 48), relu(), nn.MaxPool2d(2))
        self._block2 = nn.Sequential(_conv(48, 48), relu(), nn.MaxPool2d(2))
        up = lambda c: nn.ConvTranspose2d(c, c, 3, stride=2, padding=1, output_padding=1)  # noqa: E731
        self._block3 = nn.Sequential(_conv(48, 48), relu(), up(48))
        self._block4 = nn.Sequential(_conv(96, 96), relu(), _conv(96, 96), relu(), up(96))
        self._block5 = nn.Sequential(_conv(144, 96), relu(), _conv(96, 96), relu(), up(96))
        self._block6 = nn.Sequential(
            _conv(96 + in_channels, 64), relu(), _conv(64, 32), relu(), _conv(32, out_channels), nn.LeakyReLU(0.1)
        )
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool1 = self._block1(x)
        pool2 = self._block2(pool1)
        pool3 = self._block2(pool2)
        pool4 = self._block2(pool3)
        pool5 = self._block2(pool4)
        up5 = self._block3(pool5)
        up4 = self._block4(torch.cat((up5, pool4), dim=1))
        up3 = self._block5(torch.cat((up4, pool3), dim=1))
        up2 = self._block5(torch.cat((up3, pool2), dim=1))
        up1 = self._block5(torch.cat((up2, pool1), dim=1))
        return self._block6(torch.cat((up1, x), dim=1))


def build_model(config: ModelConfig) -> nn.Module:
    """Instantiate the architecture that ``config`` names (fresh, randomly initialised)."""
    cls = UNet if config.arch == "unet" else UNetCompact
    return cls(config.in_channels, config.out_channels)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
