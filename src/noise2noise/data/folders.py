"""Finding images in folders, and the folder layouts of real captures, each read in one place.

* ``list_images``: what a user names on the command line (files, folders, globs), folders flat;
* ``find_images``: training/calibration folders, recursively, sorted;
* ``pair_paths``: a pairs folder, ``noisy/NAME`` + ``clean/NAME`` with the same names;
* ``scene_paths``: a folder of scene folders with two or more noisy captures each.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np

from ..images import IMAGE_EXTS, ImageError, read_image, to_rgb


def _images_in(folder: Path) -> list[Path]:
    return sorted(q for q in folder.iterdir() if q.is_file() and q.suffix.lower() in IMAGE_EXTS)


def as_inputs(inputs: str | os.PathLike | list | tuple, what: str = "inputs") -> list[str]:
    """One path or glob (a string) or a list of them, as a list of strings; none is an error naming ``what``."""
    items = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    if not items:
        raise ImageError(f"no {what}: give files, folders or globs")
    return [os.fspath(i) for i in items]


def list_images(inputs: str | os.PathLike | list[str]) -> list[Path]:
    """Expand files, folders (non-recursive, sorted) and globs into image paths."""
    out: list[Path] = []
    for item in as_inputs(inputs):
        p = Path(item)
        if p.is_dir():
            found = _images_in(p)
            if not found:
                raise ImageError(f"{p}: folder has no images ({', '.join(IMAGE_EXTS)})")
            out += found
        elif p.exists():
            out.append(p)
        elif any(c in item for c in "*?["):
            found = sorted(Path(q) for q in glob.glob(item) if Path(q).is_file())
            if not found:
                raise ImageError(f"{item}: pattern matches no files")
            out += found
        else:
            raise ImageError(f"{p}: no such file or folder")
    return out


def find_images(folders: list[str | os.PathLike]) -> list[Path]:
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


def is_pairs_folder(folder: str | os.PathLike) -> bool:
    p = Path(folder)
    return (p / "noisy").is_dir() and (p / "clean").is_dir()


def pair_paths(folder: str | os.PathLike) -> list[tuple[str, Path, Path]]:
    """``folder/noisy/NAME`` + ``folder/clean/NAME`` -> ``[(NAME, noisy, clean), ...]`` by name."""
    root = Path(folder)
    if not is_pairs_folder(root):
        raise ImageError(f"{root}: a pairs folder needs noisy/ and clean/ subfolders")
    noisy = {p.name: p for p in list_images([str(root / "noisy")])}
    clean = {p.name: p for p in list_images([str(root / "clean")])}
    if set(noisy) != set(clean):
        odd = sorted(set(noisy) ^ set(clean))
        raise ImageError(f"{root}: noisy/ and clean/ names differ, e.g. {', '.join(odd[:3])}")
    return [(n, noisy[n], clean[n]) for n in sorted(noisy)]


def scene_paths(folder: str | os.PathLike) -> list[list[Path]]:
    """``folder/SCENE/*``: the captures of each scene folder (two or more each), sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise ImageError(f"{root}: no such folder")
    scenes = []
    for scene in sorted(p for p in root.iterdir() if p.is_dir()):
        caps = list_images([str(scene)])
        if len(caps) < 2:
            raise ImageError(f"{scene}: a scene needs two or more captures, found {len(caps)}")
        scenes.append(caps)
    if not scenes:
        raise ImageError(f"{root}: no scene folders")
    return scenes


def load_rgb(path: str | os.PathLike) -> np.ndarray:
    """Decode to HWC RGB (grey replicated), keeping the integer type to save memory."""
    return to_rgb(read_image(path).pixels)
