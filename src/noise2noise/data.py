"""Training data: clean folders with synthetic noise, noisy/clean pairs, and multi-capture scenes.

Every image is decoded once into memory (uint8/uint16 RGB HWC). A sample is fully determined by
``(seed, index)``: its random generator is ``numpy.random.default_rng([seed, index])``, so a resumed
run, any number of DataLoader workers and any number of DDP ranks all see the same stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .images import IMAGE_EXTS, ImageError, list_images, read_image
from .noise import NoiseConfig, add_noise, quantize


def load_rgb(path: Path) -> np.ndarray:
    """Decode to HWC RGB (grey replicated), keeping the integer type to save memory."""
    img = read_image(path).pixels
    if img.ndim == 2:
        return np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img[..., ::-1])


def to_float(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) / (65535.0 if rgb.dtype == np.uint16 else 255.0)


def find_images(folders: list[str | Path]) -> list[Path]:
    """Images in ``folders``, recursively, sorted (so a run sees the same list on every machine)."""
    out: list[Path] = []
    for f in folders:
        p = Path(f)
        if p.is_file():
            out.append(p)
            continue
        if not p.is_dir():
            raise ImageError(f"{p}: no such folder")
        out += sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in IMAGE_EXTS)
    if not out:
        raise ImageError(f"no images in {', '.join(map(str, folders))}")
    return out


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
    argument needs only that)."""

    def __init__(self, images: list[np.ndarray], noise: NoiseConfig, target: str = "noisy", crop: int = 64,
                 seed: int = 0, length: int = 2**62, input_quantize: float = 0.0) -> None:  # fmt: skip
        if target not in ("noisy", "clean"):
            raise ValueError(f"target must be 'noisy' or 'clean', got {target!r}")
        self.images, self.noise, self.target, self.crop = images, noise, target, crop
        self.seed, self.length, self.input_quantize = seed, length, input_quantize

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Sample:
        rng = np.random.default_rng([self.seed, index])
        img = self.images[int(rng.integers(len(self.images)))]
        (clean,) = random_crop([img], self.crop, rng)
        clean = to_float(clean)
        inp, _ = add_noise(clean, self.noise, rng)
        if self.input_quantize and rng.random() < self.input_quantize:
            inp = quantize(inp)
        if self.target == "noisy":
            tgt, mask = add_noise(clean, self.noise, rng)
        else:
            tgt, mask = clean, None
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
    root = Path(folder)
    nd, cd = root / "noisy", root / "clean"
    if not nd.is_dir() or not cd.is_dir():
        raise ImageError(f"{root}: a pairs folder needs noisy/ and clean/ subfolders")
    noisy = {p.name: p for p in list_images([str(nd)])}
    clean = {p.name: p for p in list_images([str(cd)])}
    if set(noisy) != set(clean):
        odd = sorted(set(noisy) ^ set(clean))
        raise ImageError(f"{root}: noisy/ and clean/ names differ, e.g. {', '.join(odd[:3])}")
    groups, names = [], sorted(noisy)
    for n in names:
        a, b = load_rgb(noisy[n]), load_rgb(clean[n])
        if a.shape != b.shape:
            raise ImageError(
                f"{root}: {n} is {a.shape[1]}x{a.shape[0]} in noisy/ but {b.shape[1]}x{b.shape[0]} in clean/"
            )
        groups.append([a, b])
    return groups, names


def load_scenes(folder: str | Path) -> list[list[np.ndarray]]:
    """``folder/SCENE/*`` with two or more noisy captures of the same static scene each."""
    root = Path(folder)
    if not root.is_dir():
        raise ImageError(f"{root}: no such folder")
    groups = []
    for scene in sorted(p for p in root.iterdir() if p.is_dir()):
        caps = [load_rgb(p) for p in list_images([str(scene)])]
        if len(caps) < 2:
            raise ImageError(f"{scene}: a scene needs two or more captures, found {len(caps)}")
        if any(c.shape != caps[0].shape for c in caps):
            raise ImageError(f"{scene}: captures differ in size")
        groups.append(caps)
    if not groups:
        raise ImageError(f"{root}: no scene folders")
    return groups


def load_clean(paths: list[Path]) -> list[np.ndarray]:
    return [load_rgb(p) for p in paths]
