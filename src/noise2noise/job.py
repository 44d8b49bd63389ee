"""A whole ``n2n denoise`` job as one library call: plan the outputs, adapt (optionally), build the
model, denoise every file atomically, and report per file what happened.

    report = noise2noise.denoise(["photos/"], "out/")        # = n2n denoise photos/ -o out/
    report["files"][0]  # {"input", "output", "model", "reason", "noise", "seconds", "error"}
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from .adapt import adapt as adapt_model
from .atomic import check_writable
from .auto import pick
from .config import DenoiseConfig
from .data.folders import as_inputs
from .denoiser import Denoiser
from .files import Job, denoise_files, plan, shard
from .images import ImageError, preprocess, read_image
from .reports import FileResult, RunReport
from .weights import load_checkpoint, save_weights

DenoiseOptions = DenoiseConfig  # how each image is denoised (the earlier name of the same class)


def build(options: DenoiseConfig, streams: int | None = None):
    """The denoiser of ``options``, taking ``streams`` images at once when given."""
    return Denoiser.from_config(options if streams is None else dataclasses.replace(options, streams=streams))


@dataclasses.dataclass(kw_only=True)
class AdaptOptions:
    """Fine-tuning on the inputs before denoising them (``adapt.py``); ``steps=0``: off."""

    steps: int = 0
    lr: float = 1e-4
    pd: int | str = "auto"
    seed: int = 0
    force: bool = False
    save: str | None = None  # keep the adapted weights in this file


def denoise(
    inputs: str | os.PathLike | list[str],
    out: str | os.PathLike,
    options: DenoiseConfig | None = None,
    adapt: AdaptOptions | None = None,
    *,
    overwrite: bool = False,
    skip_existing: bool = False,
    rank: int = 0,
    world: int = 1,
    progress: bool = True,
    on_error: Callable[[str], None] | None = None,
    ray: str | bool | None = None,
    actors: int | None = None,
) -> dict:
    """Denoise ``inputs`` (files, folders, globs) into the folder ``out``; returns the report:
    ``files`` (one entry per file, in input order) and ``failures``. Every path is checked before
    any work; a file that fails is reported (``on_error``, and its entry's ``error``) and the others
    go on. ``rank``/``world``: this process takes every ``world``-th file (torchrun). ``ray``: run on
    Ray (True or "" = a local Ray, else the cluster's address; ``scale.py``) with ``actors`` actors;
    outputs that exist are then left alone, as under torchrun."""
    inputs = as_inputs(inputs)
    options = options or DenoiseConfig()
    adapt = adapt or AdaptOptions()
    if ray is not None and ray is not False:
        if adapt.steps:
            raise ValueError("--ray does not adapt: adapt once with --save-adapted FILE, then --ray --weights FILE")
        from .scale import import_ray, ray_denoise

        import_ray()  # a missing Ray is one line before any work
        jobs = shard(plan(inputs, out, overwrite), 0, 1, skip_existing=True)
        address = ray if isinstance(ray, str) else None
        gpu = not options.device.startswith("cpu")
        records = ray_denoise(
            jobs, dataclasses.replace(options, streams=1), gpu, address, actors, progress=progress, on_error=on_error
        )
        return _report(jobs, records)
    jobs = plan(inputs, out, overwrite)
    jobs = shard(jobs, rank, world, skip_existing or world > 1)
    label = f"denoise [rank {rank} of {world}]" if world > 1 else "denoise"
    if adapt.save:
        check_writable(adapt.save)
    streams = options.streams if len(jobs) > 1 and world == 1 else 1
    records: list[FileResult] = []
    groups = _groups(jobs, options, adapt, records, on_error)
    for opts, group in groups:
        den = _adapted(opts, adapt, group, len(groups), streams, progress) if adapt.steps else build(opts, streams)
        denoise_files(group, den, progress, on_error, label=label, records=records)
    return _report(jobs, records)


def _report(jobs: list[Job], records: list[FileResult]) -> dict:
    """The report's JSON (``reports.RunReport``): the files in input order, and the failures."""
    order = {str(j.src): i for i, j in enumerate(jobs)}
    records.sort(key=lambda r: order.get(r.input, len(order)))
    return RunReport(records).as_dict()


def _groups(
    jobs: list[Job], options: DenoiseConfig, adapt: AdaptOptions, records: list[FileResult], on_error
) -> list[tuple[DenoiseConfig, list[Job]]]:
    """The jobs with the options to denoise them: one group, except when adapting the ``auto``
    model, where each chosen model is adapted on its own images (each decoded once more here)."""
    if not (adapt.steps and options.auto):
        return [(options, jobs)] if jobs else []
    by_model: dict[str, list[Job]] = {}
    for job in jobs:
        try:
            model = pick(preprocess(read_image(job.src).pixels)).model
        except ImageError as e:
            records.append(FileResult(str(job.src), error=str(e)))
            if on_error:
                on_error(str(e))
            continue
        by_model.setdefault(model, []).append(job)
    return [(dataclasses.replace(options, model=m), g) for m, g in sorted(by_model.items())]


def _adapted(options: DenoiseConfig, adapt: AdaptOptions, jobs: list[Job], groups: int, streams: int, progress: bool):
    """Fine-tune the options' model on the jobs' inputs; the ``Denoiser`` that denoises them: the
    adapted model, built in memory (no temporary file, nothing added to the model cache), or the
    original by its usual path when the held-out check keeps it. ``adapt.save`` keeps the result."""
    if options.weights and str(options.weights).endswith((".onnx", ".xml")):
        raise ValueError("--adapt needs a checkpoint (.safetensors or .pt), not an exported file")
    ck = load_checkpoint(options.weights, options.model, options.arch)
    adapted = adapt_model(
        ck, [j.src for j in jobs], adapt.steps, adapt.seed, adapt.lr, pd=adapt.pd, progress=progress, force=adapt.force
    )
    if adapt.save:
        dest = Path(adapt.save)
        if groups > 1:  # one adapted model per chosen model
            dest = dest.with_name(f"{dest.stem}-{options.model}{dest.suffix}")
        save_weights(dest, adapted.model, adapted.config, adapted.meta)
    if adapted.meta["adapted"]["kept"]:
        return build(options, streams)
    name = f"{options.model or (Path(options.weights).stem if options.weights else 'model')}-adapted"
    return Denoiser.from_checkpoint(adapted, dataclasses.replace(options, streams=streams), name=name)
