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

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .denoiser import Denoiser
from .files import Job, Records
from .images import ImageError


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ValueError("--ray needs Ray Data: pip install 'noise2noise[scale]' (or 'ray[data]')") from None
    return ray


class DenoiseActor:
    """One Ray actor: builds its ``Denoiser`` once, then denoises the batches of jobs it is given.
    ``OPTIONS`` (the arguments of ``Denoiser.from_weights``) is set on a subclass made per job, so a
    restarted actor needs nothing from the object store."""

    OPTIONS: dict = {}

    def __init__(self) -> None:
        self.denoiser = Denoiser.from_weights(**self.OPTIONS)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        records: list[dict] = []
        log = Records(records)  # the same reading, writing and entries as one process's denoise_files
        for src, dst in zip(batch["src"], batch["dst"]):
            job = Job(Path(src), Path(dst))
            try:
                log.write(job, self.denoiser.denoise_image(log.read(job)))
            except (ImageError, ValueError, OSError) as e:
                log.failed(job, e)
        return {"record": np.array([json.dumps(r) for r in records], dtype=object)}


def ray_denoise(
    jobs: list[Job],
    options: dict,
    gpu: bool = False,
    address: str | None = None,
    actors: int | None = None,
    cpus_per_actor: float = 1.0,
    progress: bool = True,
    on_error: Callable[[str], None] | None = None,
) -> list[dict]:
    """Denoise ``jobs`` on Ray, each actor's ``Denoiser`` built by ``Denoiser.from_weights(**options)``;
    one record per job (as ``denoise_files`` records them). ``actors``: the pool's size (default: as
    many as the cluster's CPUs allow at ``cpus_per_actor`` each; with ``gpu``, one GPU each)."""
    ray = import_ray()
    from tqdm import tqdm

    if not jobs:
        return []
    env = {"OMP_NUM_THREADS": str(max(1, int(cpus_per_actor)))}  # torch and the runtimes: one share each
    if not ray.is_initialized():
        ray.init(
            address=address or os.environ.get("RAY_ADDRESS") or None,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": env},
            configure_logging=False,
        )
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # ours counts files across the whole job
    logging.getLogger("ray").setLevel(logging.ERROR)  # Ray's own notices would break the bar's line
    if actors is None:
        have = ray.cluster_resources().get("GPU" if gpu else "CPU", 1)
        actors = max(1, int(have if gpu else have // cpus_per_actor))
    actors = min(actors, len(jobs))
    ds = ray.data.from_items([{"src": str(j.src), "dst": str(j.dst)} for j in jobs], override_num_blocks=len(jobs))
    actor = type("DenoiseActor", (DenoiseActor,), {"OPTIONS": dict(options)})
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
    records = []
    with tqdm(total=len(jobs), desc="denoise [ray]", unit="img", disable=not progress, dynamic_ncols=True) as bar:
        for row in out.iter_rows():
            r = json.loads(row["record"])
            records.append(r)
            if r["error"] and on_error:
                on_error(r["error"])
            bar.update(1)
    return records
