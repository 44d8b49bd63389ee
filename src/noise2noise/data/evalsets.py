"""Evaluation data sources, each yielding ``(name, clean_rgb_uint8, noisy_rgb_uint8_or_None)``.

* a folder of clean images (noise is then synthesised by the evaluation);
* a pairs folder ``noisy/`` + ``clean/`` with matching names (real camera noise, e.g. PolyU);
* SIDD validation blocks: ``ValidationGtBlocksSrgb.mat`` (clean) and, beside it,
  ``ValidationNoisyBlocksSrgb.mat`` (real noise), arrays 40x32x256x256x3 uint8, MATLAB v5
  (``scipy.io``) or v7.3/HDF5 (``h5py``). A single ``.mat`` file of GT blocks is a clean set;
* the SIDD-Medium layout: scene folders with ``*_NOISY_SRGB_010.PNG`` / ``*_GT_SRGB_010.PNG``
  (and ``_011``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..images import ImageError, read_image, to_rgb
from .folders import is_pairs_folder, list_images, pair_paths

SIDD_KEYS = {"gt": "ValidationGtBlocksSrgb", "noisy": "ValidationNoisyBlocksSrgb"}


def _rgb(path: Path) -> np.ndarray:
    """HWC RGB uint8 (16-bit files scaled down): evaluation scores 8-bit images."""
    pix = read_image(path).pixels
    return to_rgb(pix if pix.dtype == np.uint8 else (pix // 257).astype(np.uint8))


def read_mat(path: Path, key: str) -> np.ndarray:
    """Array ``key`` from a MATLAB v5 or v7.3 (HDF5) file, in MATLAB's index order."""
    if not path.is_file():
        raise ImageError(f"{path}: no such file")
    with open(path, "rb") as f:
        head = f.read(1024)
    if b"MATLAB 7.3" in head[:128] or head[512:520] == b"\x89HDF\r\n\x1a\n" or head[:8] == b"\x89HDF\r\n\x1a\n":
        return _read_hdf5(path, key)
    from scipy.io import loadmat

    try:
        d = loadmat(str(path))
    except (ValueError, TypeError, OSError) as e:
        raise ImageError(f"{path}: not a readable .mat file ({str(e).splitlines()[0]})") from None
    except NotImplementedError:
        return _read_hdf5(path, key)
    if key not in d:
        raise ImageError(
            f"{path}: no array {key!r} (found {', '.join(k for k in d if not k.startswith('__')) or 'none'})"
        )
    return np.asarray(d[key])


def _read_hdf5(path: Path, key: str) -> np.ndarray:
    try:
        import h5py
    except ImportError:
        raise ImageError(f"{path}: a MATLAB v7.3 file needs h5py (pip install 'noise2noise[eval]')") from None
    try:
        with h5py.File(path, "r") as f:
            if key not in f:
                raise ImageError(f"{path}: no array {key!r} (found {', '.join(f.keys()) or 'none'})")
            arr = f[key][()]
    except OSError as e:
        raise ImageError(f"{path}: not a readable .mat file ({e})") from None
    return np.ascontiguousarray(arr.transpose(tuple(range(arr.ndim))[::-1]))  # HDF5 holds it transposed


def _blocks(arr: np.ndarray, path: Path) -> np.ndarray:
    if arr.ndim != 5 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise ImageError(
            f"{path}: expected uint8 blocks of shape (images, blocks, H, W, 3), got {arr.dtype} {arr.shape}"
        )
    return arr.reshape((-1,) + arr.shape[2:])


@dataclass
class EvalSet:
    kind: str  # clean | pairs | sidd-blocks | sidd-medium
    root: str
    items: list  # (name, loader) pairs; loader() -> (clean, noisy_or_None)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[tuple[str, np.ndarray, np.ndarray | None]]:
        for name, load in self.items:
            clean, noisy = load()
            yield name, clean, noisy


def open_evalset(data: str, real: bool = True) -> EvalSet:
    """Recognise the layout of ``data``. ``real=False`` ignores real noisy images where a set
    has both (e.g. SIDD GT blocks with synthetic noise: the reference card's protocol)."""
    p = Path(data)
    if p.suffix.lower() == ".mat" or (p.is_dir() and (p / f"{SIDD_KEYS['gt']}.mat").is_file()):
        gt_path = p if p.suffix.lower() == ".mat" else p / f"{SIDD_KEYS['gt']}.mat"
        gt = _blocks(read_mat(gt_path, SIDD_KEYS["gt"]), gt_path)
        noisy_path = gt_path.with_name(f"{SIDD_KEYS['noisy']}.mat")
        noisy = _blocks(read_mat(noisy_path, SIDD_KEYS["noisy"]), noisy_path) if real and noisy_path.is_file() else None
        if noisy is not None and noisy.shape != gt.shape:
            raise ImageError(f"{noisy_path}: shape {noisy.shape} differs from the GT blocks {gt.shape}")
        items = [(f"block{i:04d}", (lambda i=i: (gt[i], None if noisy is None else noisy[i]))) for i in range(len(gt))]
        return EvalSet("sidd-blocks", str(gt_path), items)
    if not p.exists():
        raise ImageError(f"{p}: no such file or folder")
    if p.is_dir() and is_pairs_folder(p):
        items = [(n, _pair_loader(c, nz if real else None)) for n, nz, c in pair_paths(p)]
        return EvalSet("pairs", str(p), items)
    if p.is_dir():
        scenes = sorted(q for q in p.iterdir() if q.is_dir())
        pairs = []
        for s in scenes:
            for gt in sorted(s.glob("*_GT_SRGB_01[01].PNG")) + sorted(s.glob("*_GT_SRGB_01[01].png")):
                nz = gt.with_name(gt.name.replace("_GT_", "_NOISY_"))
                if not nz.is_file():
                    raise ImageError(f"{gt}: no matching {nz.name}")
                pairs.append((f"{s.name}/{gt.name.replace('_GT', '')}", _pair_loader(gt, nz if real else None)))
        if pairs:
            return EvalSet("sidd-medium", str(p), pairs)
    items = [(q.name, _pair_loader(q, None)) for q in list_images([str(p)])]
    return EvalSet("clean", str(p), items)


def _pair_loader(clean: Path, noisy: Path | None):
    def load() -> tuple[np.ndarray, np.ndarray | None]:
        c = _rgb(clean)
        if noisy is None:
            return c, None
        n = _rgb(noisy)
        if n.shape != c.shape:
            raise ImageError(f"{noisy.name}: noisy is {n.shape[1]}x{n.shape[0]} but clean is {c.shape[1]}x{c.shape[0]}")
        return c, n

    return load
