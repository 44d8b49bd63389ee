"""Training data: clean folders with synthetic noise, noisy/clean pairs, and multi-capture scenes.

Every image is decoded once into memory (uint8/uint16 RGB HWC). A sample is fully determined by
``(seed, index)``: its random generator is ``numpy.random.default_rng([seed, index])``, so a resumed
run, any number of DataLoader workers and any number of DDP ranks all see the same stream.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..config import TARGETS, NoiseConfig, check_choice, draw_noise
from ..images import ImageError, quantize, to_float
from ..noise.synthetic import PIPELINES, add_noise
from .folders import load_rgb, pair_paths, scene_paths


def _crop_boxes(shape: tuple[int, ...], crop: int, rng: np.random.Generator) -> tuple[int, int]:
    h, w = shape[:2]
    return int(rng.integers(0, max(h - crop, 0) + 1)), int(rng.integers(0, max(w - crop, 0) + 1))


def random_crop(arrays: list[np.ndarray], crop: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The same random ``crop`` x ``crop`` window, flip and 90-degree turn applied to each array.
    Images smaller than the crop are reflect-padded (edge-padded when tiny)."""
    h, w = arrays[0].shape[:2]
    if h < crop or w < crop:
        ph, pw = max(crop - h, 0), max(crop - w, 0)
        mode = "reflect" if ph < h and pw < w else "edge"
        arrays = [np.pad(a, ((0, ph), (0, pw), (0, 0)), mode=mode) for a in arrays]
    y, x = _crop_boxes(arrays[0].shape, crop, rng)
    k, flip = int(rng.integers(0, 4)), bool(rng.integers(0, 2))
    out = []
    for a in arrays:
        a = a[y : y + crop, x : x + crop]
        a = np.rot90(a, k)
        out.append(np.ascontiguousarray(a[:, ::-1] if flip else a))
    return out


SATURATION = (1.0, 2.5)  # colour boost range of ``saturate`` (uniform)


def saturate(x: np.ndarray, factor: float) -> np.ndarray:
    """Colours pushed away from each pixel's grey (the mean of its channels) by ``factor``, clipped to
    [0, 1]: a photograph as a vivid picture style or strongly dyed subject would have it. Training
    photographs are mostly muted (mean |chroma| about 12 of 255); some test sets and phone photos
    are far more colourful, and a model that never saw fine colour texture takes it for noise."""
    grey = x.mean(axis=2, keepdims=True)
    return np.clip(grey + factor * (x - grey), 0.0, 1.0).astype(np.float32)


def _chw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))


@dataclass
class Sample:
    """What a training dataset yields: input, target and the loss mask (ones where valid)."""

    inp: torch.Tensor
    target: torch.Tensor
    mask: torch.Tensor


def collate(samples: list[Sample]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        torch.stack([s.inp for s in samples]),
        torch.stack([s.target for s in samples]),
        torch.stack([s.mask for s in samples]),
    )


class SyntheticPairs(Dataset):
    """Clean images -> (noisy input, noisy target) [Noise2Noise] or (noisy input, clean target).

    ``input_quantize``: probability that the input is clipped and rounded to 8 bits, as a noisy
    photo saved to a file is. The *target* stays unclipped so its noise is zero-mean (the L2
    argument needs only that). ``saturate``: probability that the clean crop's colours are first
    boosted by a factor drawn from ``SATURATION`` (the noise is drawn on the boosted crop)."""

    def __init__(
        self,
        images: list[np.ndarray],
        noise: NoiseConfig | list[tuple[NoiseConfig, float]],
        target: str = "noisy",
        crop: int = 64,
        seed: int = 0,
        length: int = 2**62,
        input_quantize: float = 0.0,
        saturate: float = 0.0,
    ) -> None:
        check_choice("target", target, TARGETS)
        self.images, self.target, self.crop = images, target, crop
        self.mix = noise if isinstance(noise, list) else [(noise, 1.0)]  # [(NoiseConfig, weight)]
        self.seed, self.length, self.input_quantize = seed, length, input_quantize
        self.saturate = saturate

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Sample:
        rng = np.random.default_rng([self.seed, index])
        img = self.images[int(rng.integers(len(self.images)))]
        (clean,) = random_crop([img], self.crop, rng)
        clean = to_float(clean)
        if self.saturate and rng.random() < self.saturate:  # no draw without it: old runs keep their stream
            clean = saturate(clean, float(rng.uniform(*SATURATION)))
        noise = draw_noise(self.mix, rng)
        if noise.kind in PIPELINES:  # one camera for both: the same scene, shot twice
            make, apply = PIPELINES[noise.kind]
            params = make(noise, rng)
            inp, mask = apply(clean, params, rng), None
        else:
            inp, _ = add_noise(clean, noise, rng)
        if self.input_quantize and rng.random() < self.input_quantize:
            inp = quantize(inp)
        if self.target == "clean":
            tgt, mask = clean, None
        elif self.target == "self":  # Neighbor2Neighbor makes its targets from the input
            tgt, mask = inp, None
        elif noise.kind in PIPELINES:  # the target is never JPEG-compressed: its noise stays near zero-mean
            tgt = apply(clean, params, rng, compress=False)
        else:
            tgt, mask = add_noise(clean, noise, rng)
        m = np.ones(clean.shape[:2] + (1,), np.float32) if mask is None else mask
        return Sample(_chw(inp), _chw(tgt), _chw(m))


class RealPairs(Dataset):
    """Real captures: each item is a group of aligned images of one static scene. With
    ``mode='pairs'`` the group is (noisy, clean) and the target is the clean image; with
    ``mode='scenes'`` the group holds two or more noisy captures and input and target are two
    different captures (the real Noise2Noise case)."""

    def __init__(
        self, groups: list[list[np.ndarray]], mode: str, crop: int = 64, seed: int = 0, length: int = 2**62
    ) -> None:
        self.groups, self.mode, self.crop, self.seed, self.length = groups, mode, crop, seed, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Sample:
        rng = np.random.default_rng([self.seed, index])
        group = self.groups[int(rng.integers(len(self.groups)))]
        if self.mode == "pairs":
            a, b = group[0], group[1]
        else:
            i, j = rng.choice(len(group), size=2, replace=False)
            a, b = group[int(i)], group[int(j)]
        a, b = random_crop([a, b], self.crop, rng)
        a, b = to_float(a), to_float(b)
        return Sample(_chw(a), _chw(b), torch.ones(1, self.crop, self.crop))


def load_pairs(folder: str | Path) -> tuple[list[list[np.ndarray]], list[str]]:
    """``folder/noisy/NAME`` + ``folder/clean/NAME`` -> [[noisy, clean], ...] and the names."""
    groups, names = [], []
    for name, noisy, clean in pair_paths(folder):
        a, b = load_rgb(noisy), load_rgb(clean)
        if a.shape != b.shape:
            raise ImageError(
                f"{folder}: {name} is {a.shape[1]}x{a.shape[0]} in noisy/ but {b.shape[1]}x{b.shape[0]} in clean/"
            )
        groups.append([a, b])
        names.append(name)
    return groups, names


def load_scenes(folder: str | Path) -> list[list[np.ndarray]]:
    """``folder/SCENE/*`` with two or more noisy captures of the same static scene each."""
    groups = []
    for caps in scene_paths(folder):
        images = [load_rgb(p) for p in caps]
        if any(c.shape != images[0].shape for c in images):
            raise ImageError(f"{caps[0].parent}: captures differ in size")
        groups.append(images)
    return groups


def load_clean(paths: list[Path], crop: int | None = None) -> list[np.ndarray]:
    """The training images; with ``crop``, those too small to give a crop of real pixels are left out
    (a side of at most ``crop / 2`` would be filled by repeating its border: training on padding),
    with one warning line, and none left is an error."""
    images = [load_rgb(p) for p in paths]
    if crop is None:
        return images
    least = crop // 2 + 1
    small = [p for p, im in zip(paths, images) if min(im.shape[:2]) < least]
    if len(small) == len(images):
        raise ImageError(
            f"{small[0]}: every training image is smaller than {least}x{least} pixels, too small for "
            f"{crop}x{crop} crops; use a smaller --crop or larger images"
        )
    if small:
        print(
            f"n2n: warning: left out {len(small)} of {len(images)} training images smaller than {least}x{least} "
            f"pixels (e.g. {small[0]}), too small for {crop}x{crop} crops",
            file=sys.stderr,
        )
    return [im for im in images if min(im.shape[:2]) >= least]
