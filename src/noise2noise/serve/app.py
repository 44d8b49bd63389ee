"""The HTTP API and the page, on Starlette (served by uvicorn).

* ``GET /``: the page (``page.html``); ``GET /healthz``; ``GET /api/models``;
* ``POST /api/denoise``: multipart field ``image`` (the file), optional ``model``, ``strength``
  (0..1), ``ensemble`` (1, 2, 4 or 8 views averaged; ``ensemble.py``) and ``job`` (a client-chosen
  id for ``GET /api/progress/{job}``). The answer is the denoised image in the upload's format and
  bit depth: the same pixels, and the same bytes, as ``n2n denoise`` of the same file (the same
  decoding, Denoiser and encoder). Its headers ``X-N2N-Model`` and ``X-N2N-Reason`` name the model
  that ran and, for ``auto``, why it was chosen for this image.
* ``POST /api/burst``: multipart fields ``frames`` (two to ``MAX_FRAMES`` files: shots of one scene),
  optional ``model`` and ``steps``; the answer is the merged image (``n2n burst``), in the first
  frame's format, with ``X-N2N-Model``, ``X-N2N-Reference`` (the reference frame's file name) and
  ``X-N2N-Frames-Used`` (frames that aligned).

Limits: uploads over ``max_upload`` bytes get 413, images over the pixel limit 413 (a burst: its frames together over ``BURST_MAX_PIXELS``; checked from
the header, before decoding), anything unreadable 400, all as JSON ``{"error": ...}``; never a
traceback. One worker thread runs the network (it already uses every core); at most ``queue``
requests wait for it, the next gets 503 with ``Retry-After``. Client file names are used only for
their extension and the download name: nothing the client sends becomes a path.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..images import IMAGE_EXTS, ImageError, ImageTooLarge, decode_image, encode_image, format_ext, probe
from ..weights import WeightsError
from .models import ModelPool

MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".ppm": "image/x-portable-pixmap",
    ".pgm": "image/x-portable-graymap",
    ".pnm": "image/x-portable-anymap",
}
MAX_FRAMES = 16
# pixels of all the frames of one burst request together: each frame is decoded, aligned and kept in
# float while the burst is merged (16 frames of 3 megapixels took the server from 0.8 to 2.6 GB)
BURST_MAX_PIXELS = 24_000_000
JOB_ID = re.compile(r"^[0-9a-zA-Z_-]{1,64}$")


def error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


def _answer_ext(filename: str, data: bytes) -> str:
    """The format to answer in: the upload's extension when we write it, else its content's."""
    ext = Path(filename or "").suffix.lower()
    return ext if ext in IMAGE_EXTS else (format_ext(data) or ".png")


def _download_name(filename: str, ext: str) -> str:
    stem = re.sub(r"[^0-9A-Za-z._-]", "_", Path(filename or "image").stem)[:100] or "image"
    return f"{stem}-denoised{ext}"


class Progress:
    """Tiles done per client job id (the newest 256 jobs)."""

    def __init__(self) -> None:
        self.jobs: OrderedDict[str, dict] = OrderedDict()

    def set(self, job: str | None, **state) -> None:
        if job:
            self.jobs[job] = {**self.jobs.get(job, {}), **state}
            while len(self.jobs) > 256:
                self.jobs.popitem(last=False)

    def tick(self, job: str | None):
        def add(n: int) -> None:
            if job in self.jobs:
                self.jobs[job]["done"] = self.jobs[job].get("done", 0) + n

        return add


class Api:
    """The handlers, sharing one model pool, one worker thread, the waiting count and the progress."""

    def __init__(self, pool: ModelPool, max_upload: int, queue: int, burst_pixels: int = BURST_MAX_PIXELS) -> None:
        self.pool, self.max_upload, self.queue, self.burst_pixels = pool, max_upload, queue, burst_pixels
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="n2n-denoise")
        self.progress = Progress()
        self.waiting = 0
        self.page = resources.files("noise2noise.serve").joinpath("page.html").read_text()

    def work(
        self, data: bytes, filename: str, model: str | None, strength: float, ensemble: int, job: str | None
    ) -> tuple[bytes, str, dict]:
        """Decode, denoise and encode, as ``n2n denoise`` does (runs in the worker thread); returns
        the bytes, their extension and what the output's ``meta`` says (the model used)."""
        image = decode_image(data, filename or "upload")
        den = self.pool.get(model).with_options(strength=strength, ensemble=ensemble)
        h, w = image.pixels.shape[:2]
        self.progress.set(job, state="running", done=0, total=den.tiles_for(h, w))
        ext = _answer_ext(filename, data)
        result = den.denoise_image(image, self.progress.tick(job))
        out = encode_image(result, ext)
        self.progress.set(job, state="done")
        return out, ext, result.meta or {}

    async def _upload(self, request: Request) -> tuple[dict, bytes] | JSONResponse:
        """The form's fields and the image's bytes, or the error to answer."""
        too_big = error(413, f"upload over the limit of {self.max_upload >> 20} MiB")
        if int(request.headers.get("content-length") or 0) > self.max_upload + 64 * 1024:
            return too_big
        try:
            form = await request.form(max_files=1, max_fields=8)
        except Exception as e:  # malformed multipart
            return error(400, f"not a multipart form: {str(e)[:120]}")
        upload = form.get("image")
        if upload is None or isinstance(upload, str):
            return error(400, "send the image as the multipart file field 'image'")
        data = await upload.read(self.max_upload + 1)
        if len(data) > self.max_upload:
            return too_big
        fields = {k: form.get(k) for k in ("model", "strength", "ensemble", "job")}
        try:
            fields["strength"] = float(fields["strength"] or 1.0)
        except ValueError:
            return error(400, "strength must be a number between 0 and 1")
        try:
            fields["ensemble"] = int(fields["ensemble"] or 1)
        except ValueError:
            return error(400, "ensemble must be 1, 2, 4 or 8")
        if fields["job"] is not None and not JOB_ID.match(str(fields["job"])):
            return error(400, "job must be 1-64 letters, digits, '-' or '_'")
        fields["filename"] = upload.filename or ""
        return fields, data

    async def denoise(self, request: Request) -> Response:
        got = await self._upload(request)
        if isinstance(got, JSONResponse):
            return got
        f, data = got
        if self.waiting >= self.queue:
            return error(503, "busy: too many images waiting; try again shortly", **{"Retry-After": "2"})
        self.waiting += 1
        self.progress.set(f["job"], state="queued", done=0, total=0)
        try:
            args = (data, f["filename"], f["model"] or None, f["strength"], f["ensemble"], f["job"])
            out, ext, meta = await asyncio.get_running_loop().run_in_executor(self.executor, self.work, *args)
        except ImageTooLarge as e:
            return error(413, str(e))
        except (ImageError, WeightsError, ValueError) as e:
            self.progress.set(f["job"], state="failed")
            return error(400, str(e))
        finally:
            self.waiting -= 1
        disposition = f'attachment; filename="{_download_name(f["filename"], ext)}"'
        headers = {"Content-Disposition": disposition, "X-N2N-Model": str(meta.get("model") or "")}
        if meta.get("reason"):
            headers["X-N2N-Reason"] = str(meta["reason"])
        return Response(out, media_type=MIME.get(ext, "application/octet-stream"), headers=headers)

    def work_burst(self, frames: list[tuple[str, bytes]], model: str | None, steps: int) -> tuple[bytes, str, dict]:
        """Decode the frames, merge them as ``n2n burst`` does and encode (in the worker thread)."""
        from ..bursts.merge import merge_burst
        from ..config import BurstConfig

        names = [n or f"frame{k}" for k, (n, _) in enumerate(frames)]
        images = [decode_image(data, name) for name, (_, data) in zip(names, frames)]
        name, weights = self.pool.source(model)
        o = BurstConfig(steps=steps, model=name, weights=weights)
        result = merge_burst(images, names, o, progress=False, log=lambda m: None)
        ext = _answer_ext(frames[0][0], frames[0][1])
        return encode_image(result.image, ext), ext, result.report

    async def burst(self, request: Request) -> Response:
        if int(request.headers.get("content-length") or 0) > MAX_FRAMES * self.max_upload:
            return error(413, f"upload over the limit of {MAX_FRAMES} x {self.max_upload >> 20} MiB")
        try:
            form = await request.form(max_files=MAX_FRAMES, max_fields=8)
        except Exception as e:  # malformed multipart, or too many files
            return error(400, f"not a multipart form of at most {MAX_FRAMES} frames: {str(e)[:120]}")
        uploads = [u for u in form.getlist("frames") if not isinstance(u, str)]
        if len(uploads) < 2:
            return error(400, "send two or more shots of one scene as the multipart file fields 'frames'")
        frames = []
        for u in uploads:
            data = await u.read(self.max_upload + 1)
            if len(data) > self.max_upload:
                return error(413, f"{u.filename}: upload over the limit of {self.max_upload >> 20} MiB")
            frames.append((Path(u.filename or "").name, data))
        sizes = [probe(data) for _, data in frames]  # from the headers: nothing decoded yet
        total = sum(h.width * h.height * h.frames for h in sizes if h is not None)
        if total > self.burst_pixels:
            return error(
                413,
                f"the frames hold {total / 1e6:.1f} megapixels together, over the limit of "
                f"{self.burst_pixels / 1e6:g} megapixels per burst: send fewer or smaller frames",
            )
        try:
            steps = int(form.get("steps") or 200)
            if not 0 <= steps <= 2000:
                raise ValueError
        except ValueError:
            return error(400, "steps must be a whole number from 0 to 2000")
        if self.waiting >= self.queue:
            return error(503, "busy: too many images waiting; try again shortly", **{"Retry-After": "2"})
        self.waiting += 1
        try:
            args = (frames, form.get("model") or None, steps)
            out, ext, report = await asyncio.get_running_loop().run_in_executor(self.executor, self.work_burst, *args)
        except ImageTooLarge as e:
            return error(413, str(e))
        except (ImageError, WeightsError, ValueError) as e:
            return error(400, str(e))
        finally:
            self.waiting -= 1
        headers = {
            "Content-Disposition": f'attachment; filename="{_download_name(frames[0][0], ext).replace("-denoised", "-burst")}"',
            "X-N2N-Model": str(report["model"]),
            "X-N2N-Reference": re.sub(r"[^0-9A-Za-z._-]", "_", report["reference"]),
            "X-N2N-Frames-Used": str(report["frames_used"]),
        }
        return Response(out, media_type=MIME.get(ext, "application/octet-stream"), headers=headers)

    async def models(self, request: Request) -> JSONResponse:
        return JSONResponse({"default": self.pool.default, "models": self.pool.describe()})

    async def job_progress(self, request: Request) -> JSONResponse:
        return JSONResponse(self.progress.jobs.get(request.path_params["job"], {"state": "unknown"}))

    async def healthz(self, request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "waiting": self.waiting})

    async def index(self, request: Request) -> HTMLResponse:
        return HTMLResponse(self.page)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return error(exc.status_code, exc.detail or "error")


async def _crash(request: Request, exc: Exception) -> JSONResponse:
    return error(500, f"internal error ({type(exc).__name__})")


def create_app(
    pool: ModelPool, max_upload: int = 64 << 20, queue: int = 4, burst_pixels: int = BURST_MAX_PIXELS
) -> Starlette:
    """The ASGI app. ``max_upload`` in bytes (per file); ``queue``: requests allowed to wait for the
    model; ``burst_pixels``: the pixels of all the frames of one burst request together."""
    api = Api(pool, max_upload, queue, burst_pixels)
    routes = [
        Route("/", api.index),
        Route("/healthz", api.healthz),
        Route("/api/models", api.models),
        Route("/api/denoise", api.denoise, methods=["POST"]),
        Route("/api/burst", api.burst, methods=["POST"]),
        Route("/api/progress/{job}", api.job_progress),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _crash})
