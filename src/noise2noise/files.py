"""Denoising files: plan the outputs (checked before anything is written), then write each one
atomically. Used by ``n2n denoise``; callable from Python."""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from .atomic import check_writable
from .auto import AutoDenoiser
from .data.folders import list_images
from .denoiser import Denoiser
from .images import IMAGE_EXTS, Image, ImageError, read_image, write_image
from .reports import FileResult


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
    try:  # nothing is created until the first output is written (``write_output``)
        check_writable(out, folder=True)
    except ValueError as e:
        raise ImageError(f"{out}: cannot create output folder ({str(e).split(': ', 1)[-1]})") from None
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


def write_output(dst: Path, image: Image) -> None:
    """``write_image``, creating the output folder with the first file written into it."""
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ImageError(f"{dst.parent}: cannot create the output folder ({e.strerror or e})") from None
    write_image(dst, image)


def shard(jobs: list[Job], rank: int, world: int, skip_existing: bool) -> list[Job]:
    """This rank's share of ``jobs`` (every ``world``-th, from ``rank``), without those whose output
    already exists when ``skip_existing`` (so a killed run, started again, does the rest)."""
    mine = jobs[rank::world] if world > 1 else jobs
    return [j for j in mine if not (skip_existing and j.dst.exists())]


def denoise_files(
    jobs: list[Job],
    denoiser: Denoiser | AutoDenoiser,
    progress: bool = True,
    on_error: Callable[[str], None] | None = None,
    prefetch: int = 2,
    label: str = "denoise",
    records: list[FileResult] | None = None,
) -> int:
    """Denoise each job; a file that fails is reported through ``on_error`` (one line) and
    nothing is written for it. Returns the number of failures. ``records`` (a list) receives one
    entry per file: ``input``, ``output`` (None when it failed), ``model`` with the figures it was
    chosen on (``auto``), ``seconds`` (decode to written) and ``error``.

    A pipeline: one thread decodes the next ``prefetch`` files and another encodes and writes the
    finished ones while the network runs on the current image (OpenCV and the runtimes release
    the GIL), so on a folder the network is rarely idle; memory holds at most ``prefetch`` decoded
    inputs and two outputs. With a denoiser that takes several images at once (``streams`` > 1,
    OpenVINO), as many threads each take whole files instead (``_in_streams``)."""
    from tqdm import tqdm

    failures = 0
    log = Records(records)

    def report(e: ImageError, job: Job) -> None:
        nonlocal failures
        failures += 1
        log.failed(job, e)
        if on_error:
            on_error(str(e))

    bar = tqdm(total=len(jobs), desc=label, unit="img", disable=not progress or len(jobs) < 2, dynamic_ncols=True)
    if denoiser.streams > 1 and len(jobs) > 1:
        _in_streams(jobs, denoiser, report, bar, log)
        bar.close()
        return failures
    with ThreadPoolExecutor(1, "n2n-read") as reader, ThreadPoolExecutor(1, "n2n-write") as writer:
        todo, reads, writes = iter(jobs), deque(), deque()
        while True:
            while len(reads) < prefetch and (job := next(todo, None)) is not None:
                reads.append((job, reader.submit(log.read, job)))
            if not reads:
                break
            job, pending = reads.popleft()
            try:
                img = pending.result()
                h, w = img.pixels.shape[:2]
                n = denoiser.tiles_for(h, w)
                with tqdm(total=n, desc=job.src.name, unit="run", leave=False, disable=not progress or n < 2) as tb:
                    out = denoiser.denoise_image(img, tb.update)
                writes.append((job, writer.submit(log.write, job, out)))
            except ImageError as e:
                report(e, job)
                bar.update(1)
            while writes and (len(writes) > 2 or writes[0][1].done()):
                _finish(*writes.popleft(), report, bar)
        while writes:
            _finish(*writes.popleft(), report, bar)
    bar.close()
    return failures


def _in_streams(jobs: list[Job], denoiser, report: Callable[[ImageError, Job], None], bar, log: Records) -> None:
    """``denoiser.streams`` threads each decode and denoise whole files, one at a time, and hand the
    result to a writer thread: with the network on a share of the cores per stream, a stream busy
    decoding holds up no other (in one stream over all cores, every core would wait for it), and no
    stream waits for a file to reach the disk. At most two outputs per stream wait to be written."""
    room = threading.BoundedSemaphore(2 * denoiser.streams)

    def one(job: Job) -> Future:
        out = denoiser.denoise_image(log.read(job))
        room.acquire()
        write = writer.submit(log.write, job, out)
        write.add_done_callback(lambda _: room.release())
        return write

    with ThreadPoolExecutor(1, "n2n-write") as writer, ThreadPoolExecutor(denoiser.streams, "n2n-stream") as pool:
        futures = {pool.submit(one, job): job for job in jobs}
        try:
            for f in as_completed(futures):
                try:
                    _finish(futures[f], f.result(), report, bar)
                except ImageError as e:  # the file could not be read
                    report(e, futures[f])
                    bar.update(1)
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _finish(job: Job, write: Future, report: Callable[[ImageError, Job], None], bar) -> None:
    try:
        write.result()
    except ImageError as e:
        report(e, job)
    bar.update(1)


class Records:
    """Reads and writes the files of ``denoise_files`` and keeps their per-file entries
    (thread-safe; no entries without a list)."""

    def __init__(self, records: list[FileResult] | None) -> None:
        self.records, self.start, self.lock = records, {}, threading.Lock()

    def read(self, job: Job) -> Image:
        """Decode ``job``'s input; its time counts from here."""
        self.start[job.src] = time.perf_counter()
        return read_image(job.src)

    def write(self, job: Job, out: Image) -> None:
        """Write ``job``'s output (``write_output``) and record it, with the model ``out.meta`` names."""
        write_output(job.dst, out)
        self._add(job, str(job.dst), out.meta or {}, None)

    def failed(self, job: Job, e: Exception) -> None:
        self._add(job, None, {}, str(e))

    def _add(self, job: Job, output: str | None, meta: dict, error: str | None) -> None:
        if self.records is None:
            return
        seconds = time.perf_counter() - self.start.get(job.src, time.perf_counter())
        entry = FileResult(str(job.src), output, dict(meta), round(seconds, 4), error)
        with self.lock:
            self.records.append(entry)
