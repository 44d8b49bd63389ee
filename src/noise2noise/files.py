"""Denoising files: plan the outputs (checked before anything is written), then write each one
atomically. Used by ``n2n denoise``; callable from Python."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .data.folders import list_images
from .denoiser import Denoiser
from .images import IMAGE_EXTS, ImageError, read_image, write_image


@dataclass
class Job:
    src: Path
    dst: Path


def plan(inputs: list[str], outdir: str | os.PathLike, overwrite: bool = False) -> list[Job]:
    """Resolve inputs to (source, destination) pairs; raise ``ImageError`` before any work if a
    path is missing, the output folder is unusable, two inputs share a name, or an input would be
    overwritten without ``overwrite``."""
    srcs = list_images(inputs)
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise ImageError(f"{out}: output path exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ImageError(f"{out}: cannot create output folder ({e.strerror or e})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise ImageError(f"{out}: output folder is not writable")
    jobs, seen = [], {}
    for s in srcs:
        d = out / s.name
        if d.name in seen and seen[d.name] != s.resolve():
            raise ImageError(f"{s}: same file name as {seen[d.name]}; both would be written to {d}")
        seen[d.name] = s.resolve()
        if d.suffix.lower() not in IMAGE_EXTS:
            raise ImageError(
                f"{s}: cannot write {d.suffix or 'extension-less'} files; rename it to one of {', '.join(IMAGE_EXTS)}"
            )
        if d.exists() and d.resolve() == s.resolve() and not overwrite:
            raise ImageError(f"{s}: output would overwrite the input; choose another -o folder or pass --overwrite")
        jobs.append(Job(s, d))
    return jobs


def denoise_files(
    jobs: list[Job], denoiser: Denoiser, progress: bool = True, on_error: Callable[[str], None] | None = None
) -> int:
    """Denoise each job; a file that fails is reported through ``on_error`` (one line) and
    nothing is written for it. Returns the number of failures."""
    from tqdm import tqdm

    failures = 0
    bar = tqdm(jobs, desc="denoise", unit="img", disable=not progress or len(jobs) < 2, dynamic_ncols=True)
    for job in bar:
        try:
            img = read_image(job.src)
            h, w = img.pixels.shape[:2]
            n = denoiser.tiles_for(h, w)
            with tqdm(total=n, desc=job.src.name, unit="tile", leave=False, disable=not progress or n < 2) as tb:
                out = denoiser.denoise_image(img, tb.update)
            write_image(job.dst, out)
        except ImageError as e:
            failures += 1
            if on_error:
                on_error(str(e))
    return failures
