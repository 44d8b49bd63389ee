"""Training batches made on the training device (a GPU): the clean images resident there as integer
tensors, and the crops, flips, turns and noise drawn there, so the GPU never waits for a CPU
data loader. The same code runs on the CPU (that is how it is tested).

Gaussian, Poisson and ``none`` noise are supported here (the others need OpenCV or per-pixel
Python and stay on the CPU loader). Every random choice of a batch comes from a generator seeded
with ``(seed, step, rank)``, so a resumed run draws the same batches.
"""

from __future__ import annotations

import numpy as np
import torch

from ..config import NoiseConfig

DEVICE_NOISES = ("gaussian", "poisson", "none")


class DeviceBatches:
    """``batch(step, rank)`` -> (input, target, mask) ``[B, 3, crop, crop]`` float32 on ``device``."""

    def __init__(
        self,
        images: list[np.ndarray],
        noise: NoiseConfig,
        target: str,
        crop: int,
        batch: int,
        device: str | torch.device,
        seed: int = 0,
        input_quantize: float = 0.0,
    ) -> None:
        if noise.kind not in DEVICE_NOISES:
            raise ValueError(
                f"noise {noise.kind} is drawn on the CPU; on-device batches take {', '.join(DEVICE_NOISES)}"
            )
        self.device = torch.device(device)
        self.scales = [65535.0 if im.dtype == np.uint16 else 255.0 for im in images]
        pad = [
            np.pad(im, ((0, max(crop - im.shape[0], 0)), (0, max(crop - im.shape[1], 0)), (0, 0)), mode="edge")
            for im in images
        ]
        self.images = [
            torch.from_numpy(np.ascontiguousarray(im.astype(np.int32) if im.dtype == np.uint16 else im)).to(self.device)
            for im in pad
        ]
        self.noise, self.target, self.crop, self.size = noise, target, crop, batch
        self.seed, self.input_quantize = seed, input_quantize

    def _crops(self, g: torch.Generator) -> torch.Tensor:
        """``[B, 3, crop, crop]`` in [0, 1]. Where, which image and which of the 8 turns/flips come from
        the CPU generator ``g`` (no GPU round trip per crop); the pixels are cut on the device."""
        c, b = self.crop, self.size
        pick = torch.randint(len(self.images), (b,), generator=g).tolist()
        where = torch.rand((b, 2), generator=g, dtype=torch.float64).tolist()
        turn = torch.randint(8, (b,), generator=g)
        cut = []
        for i, (u, v) in zip(pick, where):
            img = self.images[i]
            y, x = int(u * (img.shape[0] - c + 1)), int(v * (img.shape[1] - c + 1))
            cut.append(img[y : y + c, x : x + c])
        raw = torch.stack(cut).permute(0, 3, 1, 2)
        out = torch.empty(raw.shape, dtype=torch.float32, device=self.device)
        scale = torch.tensor([self.scales[i] for i in pick], dtype=torch.float32).view(b, 1, 1, 1).to(self.device)
        for t in turn.unique().tolist():  # each of the 8 turns/flips once, on all the crops that drew it
            idx = (turn == t).nonzero().flatten().to(self.device)
            a = torch.rot90(raw[idx], t % 4, (2, 3))
            out[idx] = (a.flip(3) if t >= 4 else a).float() / scale[idx]
        return out

    def _noisy(self, clean: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        n = self.noise
        b = clean.shape[0]
        if n.kind == "none":
            return clean.clone()
        level = n.low + (n.high - n.low) * torch.rand((b, 1, 1, 1), generator=g, device=self.device)
        if n.kind == "gaussian":  # sigma in 0..255 units, never clipped
            return clean + torch.randn(clean.shape, generator=g, device=self.device) * level / 255.0
        lam = level.clamp_min(1e-3)  # poisson: variance x / lam
        return torch.poisson(lam * clean.clamp_min(0), generator=g) / lam

    def batch(self, step: int, rank: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        seed = self.seed * 1_000_003 + step * 97 + rank
        g = torch.Generator(self.device).manual_seed(seed)
        clean = self._crops(torch.Generator().manual_seed(seed))
        inp = self._noisy(clean, g)
        if self.input_quantize:
            hit = torch.rand((clean.shape[0], 1, 1, 1), generator=g, device=self.device) < self.input_quantize
            inp = torch.where(hit, torch.round(inp.clamp(0, 1) * 255) / 255, inp)
        tgt = clean if self.target == "clean" else inp if self.target == "self" else self._noisy(clean, g)
        return inp, tgt, torch.ones_like(clean[:, :1])
