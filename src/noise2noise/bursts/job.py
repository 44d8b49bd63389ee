"""The ``n2n burst`` job: which files make a burst, where its image goes, and a report; for one
burst or a folder of scenes. Callable from Python::

    from noise2noise import burst
    burst(["shots/"], "merged.png")               # the images of shots/ are one burst
    burst(["bursts/"], "out/")                    # bursts/SCENE/ (or bursts/SCENE/frames/): one image each

The merging itself is ``merge.merge_burst``."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..atomic import check_writable
from ..config import BurstConfig
from ..data.folders import as_inputs, list_images
from ..files import write_output
from ..images import IMAGE_EXTS, Image, ImageError, read_image
from ..reports import BurstResult, RunReport
from .merge import merge_burst


@dataclass
class Burst:
    """One burst: its frames and the file its image is written to."""

    name: str
    frames: list[Path]
    out: Path


def _scene_frames(folder: Path) -> list[Path] | None:
    """The frames of a scene folder (``SCENE/frames/*`` or ``SCENE/*``), or None if it has none."""
    for d in (folder / "frames", folder):
        if d.is_dir() and any(q.is_file() and q.suffix.lower() in IMAGE_EXTS for q in d.iterdir()):
            return list_images([str(d)])
    return None


def find_bursts(inputs: str | os.PathLike | list[str], out: str | os.PathLike, overwrite: bool = False) -> list[Burst]:
    """Resolve ``inputs`` to bursts, checked before any work: one folder holding scene folders (and
    no images of its own) is a set of bursts written into the folder ``out`` as ``SCENE.EXT``;
    anything else (files, folders, globs) is the frames of one burst, written to ``out`` (a file,
    or a folder that gets the first frame's name)."""
    inputs = as_inputs(inputs, "frames")
    root = Path(inputs[0])
    if len(inputs) == 1 and root.is_dir() and not _scene_frames(root):
        scenes = [(d, _scene_frames(d)) for d in sorted(p for p in root.iterdir() if p.is_dir())]
        scenes = [(d, f) for d, f in scenes if f]
        if not scenes:
            raise ImageError(f"{root}: no images, and no scene folders with images (SCENE/ or SCENE/frames/)")
        dest = Path(out)
        if dest.suffix.lower() in IMAGE_EXTS or (dest.exists() and not dest.is_dir()):
            raise ImageError(f"{dest}: a folder of scenes needs an output folder, one image per scene")
        bursts = [Burst(d.name, f, dest / (d.name + f[0].suffix.lower())) for d, f in scenes]
    else:
        frames = list_images(inputs)
        dest = Path(out)
        if dest.suffix.lower() not in IMAGE_EXTS:  # a folder
            if dest.exists() and not dest.is_dir():
                raise ImageError(f"{dest}: exists and is not a folder; name an image file ({', '.join(IMAGE_EXTS)})")
            dest = dest / frames[0].name
        bursts = [Burst(dest.stem, frames, dest)]
    for b in bursts:
        seen: dict[Path, Path] = {}
        for f in b.frames:
            if f.resolve() in seen:
                raise ImageError(
                    f"{f}: given twice (as {seen[f.resolve()]} too): a burst's frames must be different shots "
                    "(the fine-tune would learn that frame's own noise)"
                )
            seen[f.resolve()] = f
        if not overwrite and any(b.out.resolve() == f.resolve() for f in b.frames):
            raise ImageError(f"{b.out}: output would overwrite a frame; choose another -o or pass --overwrite")
        try:
            check_writable(b.out.parent, folder=True)  # created with the first output
            if b.out.is_dir():
                raise ValueError(f"{b.out}: is a folder")
        except ValueError as e:
            raise ImageError(str(e)) from None
    return bursts


def read_frames(paths: list[Path], log: Callable[[str], None]) -> tuple[list[Path], list[Image]]:
    """Decode the frames; one that cannot be read is left out, with a line, while at least two remain
    (as a frame of another scene is); otherwise its error stands."""
    ok: list[tuple[Path, Image]] = []
    bad: list[tuple[Path, Exception]] = []
    for f in paths:
        try:
            ok.append((f, read_image(f)))
        except (ImageError, OSError) as e:
            bad.append((f, e))
    if bad and len(ok) < 2:
        raise bad[0][1]
    for f, e in bad:
        log(f"n2n: burst: {f.name}: {str(e).splitlines()[0]}: left out")
    return [f for f, _ in ok], [im for _, im in ok]


def burst(
    inputs: str | os.PathLike | list[str],
    out: str | os.PathLike,
    options: BurstConfig | None = None,
    *,
    overwrite: bool = False,
    skip_existing: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> dict:
    """Merge every burst of ``inputs`` (see ``find_bursts``) and write its image atomically. A burst
    that fails is reported with its error and the others go on. Returns the report: ``options`` and,
    per burst, ``output``, ``frames``, ``seconds``, ``error`` and what ``merge_burst`` reports."""
    o = options or BurstConfig()
    results: list[BurstResult] = []
    bursts = find_bursts(inputs, out, overwrite)
    for b in bursts:
        r = BurstResult(b.name, str(b.out), [str(f) for f in b.frames])
        if skip_existing and b.out.exists():
            r.skipped = True
            results.append(r)
            continue
        t = time.perf_counter()
        try:
            frames, images = read_frames(b.frames, log)
            res = merge_burst(images, [f.name for f in frames], o, progress=progress, log=log)
            write_output(b.out, res.image)
            r.merge = res.report
        except (ImageError, ValueError, OSError) as e:
            if len(bursts) > 1:  # one burst: its error is the caller's to say (the CLI's one line)
                log(f"n2n: burst: {b.name}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
            r.error = str(e)
        r.seconds = round(time.perf_counter() - t, 3)
        results.append(r)
    return RunReport(results, options=asdict(o), kind="bursts").as_dict()
