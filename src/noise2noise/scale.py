"""Denoising many files on a Ray cluster (``n2n denoise --ray [ADDRESS]``, ``denoise(..., ray=...)``).

Ray Data lists the jobs; an actor pool (``map_batches`` with an ``ActorPoolStrategy``) runs one
``Denoiser`` per actor, built once when the actor starts, and each actor decodes, denoises and
writes its files itself (atomically, with the same code as ``n2n denoise``, so the bytes are the
same) into a folder every node sees. Ray balances the files over the actors as they finish, restarts
an actor that dies and runs its files again; a file that cannot be denoised is reported by name and
the others go on. Outputs that exist are left alone, so the same command after a crash does only
what is missing. Without an address a local Ray is started on this machine; with one (or with
``RAY_ADDRESS`` set) the job joins that cluster.

Ray is optional: ``pip install 'noise2noise[scale]'``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .config import DenoiseConfig
from .denoiser import Denoiser
from .files import Job, Records
from .images import ImageError
from .reports import FileResult

CONNECT_TIMEOUT = 15.0  # seconds a cluster's address has to answer (Ray itself retries a dead one forever)


class ClusterUnreachable(ConnectionError):
    """No Ray cluster answers at the address given: a failure of the run (exit 1), not of its usage."""


def check_address(address: str | None, timeout: float = CONNECT_TIMEOUT) -> None:
    """The cluster at ``address`` (``HOST:PORT`` or ``ray://HOST:PORT``) must accept a connection within
    ``timeout`` seconds; no address (a local Ray) and ``auto`` are not checked."""
    if not address or address in ("auto", "local"):
        return
    host, sep, port = address.split("://", 1)[-1].rstrip("/").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"--ray {address}: expected HOST:PORT or ray://HOST:PORT")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as e:
        why = "timed out" if isinstance(e, TimeoutError) else (e.strerror or str(e) or type(e).__name__)
        raise ClusterUnreachable(
            f"--ray {address}: no Ray cluster answers there ({why}, waited up to {timeout:g} s); start one with "
            "`ray start --head`, or leave out ADDRESS for a local Ray"
        ) from None


def _hush_ray() -> None:
    """Ray's Python log lines (start-up, Ray Data's notices) would break the progress bar's line and
    --quiet: errors only."""
    for name in ("ray", "ray.data", "ray.data._internal.execution.streaming_executor"):
        logging.getLogger(name).setLevel(logging.ERROR)


# a line of Ray's C++ core, which writes to the process's stderr itself: "[2026-12-06 02:22:26,737 E 123 123] ..."
_RAY_CORE_LINE = re.compile(rb"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [DIWEF] \d+ \d+\] ")


@contextlib.contextmanager
def _without_ray_core_lines():
    """Within the block, lines of Ray's C++ core on file descriptor 2 are dropped (no setting of Ray's
    silences them all); everything else written there (ours, the progress bar) passes as it comes."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded, captured): nothing to filter
        yield
        return
    r, w = os.pipe()
    os.dup2(w, 2)
    os.close(w)

    def pump() -> None:
        buf = b""
        while chunk := os.read(r, 65536):
            buf += chunk
            *lines, buf = buf.split(b"\n")
            out = b"".join(line + b"\n" for line in lines if not _RAY_CORE_LINE.match(line))
            if buf and not buf.startswith(b"["):  # a partial line that is not Ray's (a progress bar): now
                out, buf = out + buf, b""
            if out:
                os.write(saved, out)
        if buf and not _RAY_CORE_LINE.match(buf):
            os.write(saved, buf)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the pump drains and stops
        t.join(timeout=5)
        os.close(r)
        os.close(saved)


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ValueError("--ray needs Ray Data: pip install 'noise2noise[scale]' (or 'ray[data]')") from None
    return ray


class DenoiseActor:
    """One Ray actor: builds its ``Denoiser`` once, then denoises the batches of jobs it is given.
    ``CONFIG`` (a ``DenoiseConfig``) is set on a subclass made per job, so a restarted actor needs
    nothing from the object store."""

    CONFIG: DenoiseConfig = DenoiseConfig()

    def __init__(self) -> None:
        self.denoiser = Denoiser.from_config(self.CONFIG)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        records: list[FileResult] = []
        log = Records(records)  # the same reading, writing and entries as one process's denoise_files
        for src, dst in zip(batch["src"], batch["dst"]):
            job = Job(Path(src), Path(dst))
            try:
                log.write(job, self.denoiser.denoise_image(log.read(job)))
            except (ImageError, ValueError, OSError) as e:
                log.failed(job, e)
        return {"record": np.array([json.dumps(r.as_dict()) for r in records], dtype=object)}


def ray_denoise(
    jobs: list[Job],
    config: DenoiseConfig,
    gpu: bool = False,
    address: str | None = None,
    actors: int | None = None,
    cpus_per_actor: float = 1.0,
    progress: bool = True,
    on_error: Callable[[str], None] | None = None,
) -> list[FileResult]:
    """Denoise ``jobs`` on Ray, each actor's ``Denoiser`` built by ``Denoiser.from_config(config)``;
    one record per job (as ``denoise_files`` records them). ``actors``: the pool's size (default: as
    many as the cluster's CPUs allow at ``cpus_per_actor`` each; with ``gpu``, one GPU each)."""
    ray = import_ray()
    from tqdm import tqdm

    if not jobs:
        return []
    env = {"OMP_NUM_THREADS": str(max(1, int(cpus_per_actor)))}  # torch and the runtimes: one share each
    with _without_ray_core_lines():
        _hush_ray()
        address = address or os.environ.get("RAY_ADDRESS") or None
        check_address(address)  # a cluster named that does not answer is an error, whatever else runs here
        if not ray.is_initialized():
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                runtime_env={"env_vars": env},
                configure_logging=False,
                logging_level=logging.ERROR,
            )
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # ours counts files across the whole job
        ctx.print_on_execution_start = False
        if actors is None:
            have = ray.cluster_resources().get("GPU" if gpu else "CPU", 1)
            actors = max(1, int(have if gpu else have // cpus_per_actor))
        actors = min(actors, len(jobs))
        ds = ray.data.from_items([{"src": str(j.src), "dst": str(j.dst)} for j in jobs], override_num_blocks=len(jobs))
        actor = type("DenoiseActor", (DenoiseActor,), {"CONFIG": config})
        with warnings.catch_warnings():  # Ray's notices of its own API changes are not the user's business
            warnings.simplefilter("ignore")
            out = ds.map_batches(
                actor,
                batch_size=1,
                compute=ray.data.ActorPoolStrategy(size=actors),
                num_cpus=cpus_per_actor,
                num_gpus=1 if gpu else 0,
                max_restarts=-1,  # an actor that dies is started again ...
                max_task_retries=-1,  # ... and its files are run again
                runtime_env={"env_vars": env},
            )
        _hush_ray()  # Ray Data sets up its own logging on first use
        records = []
        with tqdm(total=len(jobs), desc="denoise [ray]", unit="img", disable=not progress, dynamic_ncols=True) as bar:
            for row in out.iter_rows():
                r = FileResult.from_dict(json.loads(row["record"]))
                records.append(r)
                if r.error and on_error:
                    on_error(r.error)
                bar.update(1)
        return records
