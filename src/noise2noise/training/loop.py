"""Noise2Noise training: one function with keyword defaults (``train``).

Lehtinen et al. 2018: with an L2 loss the optimum depends only on the *expected* target, so
training pairs of two independent zero-mean corruptions of the same clean crop (``target='noisy'``)
learns the same denoiser as clean targets (``target='clean'``).

The run folder (``runfolder.RunFolder``) holds the resolved config, the resumable state, the
weights, the log and the curve. Running the same command again resumes from ``state.pt``; a run
killed at any moment loses at most ``ckpt_every`` iterations. Multi-process training: launch with
``torchrun --nproc-per-node N``; each rank draws different samples (global sample index
``(step * world + rank) * batch + j``), gloo on CPU, NCCL on GPU.
"""

from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..config import ModelConfig, NoiseConfig, TrainConfig, parse_noise_list, parse_noise_mix
from ..data import trainsets as D
from ..data.devicesets import DEVICE_NOISES, DeviceBatches
from ..data.folders import find_images, load_rgb
from ..evaluation.metrics import psnr
from ..images import quantize, to_float
from ..inference import pad
from ..model import build_model
from ..noise.synthetic import add_noise
from ..weights import load_weights
from .fit import adam, fit
from .losses import loss_fn
from .runfolder import RunFolder, levels_cell
from .selfsup import ne2ne_loss

__all__ = ["TrainConfig", "train"]


def bf16_supported() -> bool:
    """True where bf16 matmuls are fast on this CPU (AVX512-BF16 or AMX); elsewhere autocast to bf16
    is emulated and far slower than fp32 (measured on an AVX2-only CPU: ~30x slower)."""
    cpu = torch.cpu
    return bool(
        getattr(cpu, "_is_amx_tile_supported", lambda: False)()
        or getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
    )


def _fast_bf16(device: str) -> bool:
    if device.startswith("cuda"):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return device == "cpu" and bf16_supported()


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Paper schedule: constant, then the last ``rampdown`` of the run on (0.5 + cos/2)^2 to 0."""
    t = step / cfg.iterations
    lr = cfg.lr
    if cfg.rampup > 0 and t < cfg.rampup:
        lr *= (t / cfg.rampup) ** 0.5
    if cfg.rampdown > 0 and t > 1 - cfg.rampdown:
        phase = (t - (1 - cfg.rampdown)) / cfg.rampdown
        lr *= (0.5 + 0.5 * math.cos(math.pi * phase)) ** 2
    return lr


class _Indices(Sampler[int]):
    """Global sample indices for this rank from ``start_step`` on (deterministic, resumable)."""

    def __init__(self, start_step: int, steps: int, batch: int, rank: int, world: int) -> None:
        self.start, self.steps, self.batch, self.rank, self.world = start_step, steps, batch, rank, world

    def __iter__(self):
        for s in range(self.start, self.steps):
            base = (s * self.world + self.rank) * self.batch
            yield from range(base, base + self.batch)

    def __len__(self) -> int:
        return max(self.steps - self.start, 0) * self.batch


# ---- data ---------------------------------------------------------------------------------------


def split_validation(cfg: TrainConfig) -> tuple[list[Path], list[Path]]:
    """Training and validation images: ``val`` folders, else ``val_count`` images held out of ``data``
    (spread over the sorted list). With ``pairs``/``scenes`` the clean folders are used for validation
    only, and only when they exist."""
    real = bool(cfg.pairs or cfg.scenes)
    if not real and not cfg.data:
        raise ValueError("no training images: give --data FOLDER (or --pairs DIR / --scenes DIR for real captures)")
    if cfg.val:
        return ([] if real else find_images(cfg.data)), find_images(cfg.val)  # type: ignore[arg-type]
    data = [d for d in cfg.data if Path(d).exists()] if real else cfg.data
    paths = find_images(data) if data else []  # type: ignore[arg-type]
    if cfg.val_count <= 0 or len(paths) <= cfg.val_count:
        return paths, []
    stride = len(paths) / cfg.val_count
    held = {int(i * stride + stride / 2) for i in range(cfg.val_count)}
    return [p for i, p in enumerate(paths) if i not in held], [p for i, p in enumerate(paths) if i in held]


def build_dataset(cfg: TrainConfig, train_paths: list[Path]) -> Dataset:
    """Real pairs, multi-capture scenes, or clean images with synthetic noise."""
    if cfg.pairs:
        groups, _ = D.load_pairs(cfg.pairs)
        return D.RealPairs(groups, "pairs", cfg.crop, cfg.seed)
    if cfg.scenes:
        return D.RealPairs(D.load_scenes(cfg.scenes), "scenes", cfg.crop, cfg.seed)
    noise = parse_noise_mix(cfg.noise)
    images = D.load_clean(train_paths, cfg.crop)
    return D.SyntheticPairs(
        images, noise, cfg.target, cfg.crop, cfg.seed, input_quantize=cfg.input_quantize, saturate=cfg.saturate
    )


class Validator:
    """Fixed-seed noisy copies of the validation images (at most 256x256 centre crops, for speed), at
    each of ``noises``; the score is the mean over the noises of their mean PSNR, and ``levels`` holds
    each noise's own mean after every call. ``saturation`` > 1 scores colour-boosted copies
    (``data.trainsets.saturate``) of the same crops."""

    def __init__(
        self, paths: list[Path], noises: NoiseConfig | list[NoiseConfig], size: int = 256, saturation: float = 1.0
    ) -> None:
        self.noises = [noises] if isinstance(noises, NoiseConfig) else list(noises)
        self.items = []  # (noise index, noisy CHW batch, clean HWC)
        for i, p in enumerate(paths):
            img = to_float(load_rgb(p))
            h, w = img.shape[:2]
            y0, x0 = max((h - size) // 2, 0), max((w - size) // 2, 0)
            clean = img[y0 : y0 + size, x0 : x0 + size]
            clean = D.saturate(clean, saturation) if saturation != 1.0 else clean
            for k, noise in enumerate(self.noises):  # the first noise keeps the single-noise seeds
                noisy, _ = add_noise(clean, noise, np.random.default_rng(i if k == 0 else [i, k]))
                self.items.append((k, noisy.transpose(2, 0, 1)[None].copy(), clean))
        scores = [psnr(np.clip(n[0].transpose(1, 2, 0), 0, 1), c, 1.0) for _, n, c in self.items]
        self.noisy_psnr = float(np.mean(scores)) if scores else float("nan")
        self.levels: dict[str, float] = {}

    def __call__(self, model: torch.nn.Module, device: str = "cpu") -> float:
        """Mean PSNR (dB) of the model's 8-bit outputs; NaN without validation images."""
        if not self.items:
            return float("nan")
        model.eval()
        scores: list[list[float]] = [[] for _ in self.noises]
        with torch.inference_mode():
            for k, noisy, clean in self.items:
                h, w = clean.shape[:2]
                out = model(torch.from_numpy(pad(noisy)).to(device)).float().cpu().numpy()[0, :, :h, :w]
                scores[k].append(psnr(quantize(out.transpose(1, 2, 0)), clean, 1.0))
        model.train()
        self.levels = {str(n): float(np.mean(s)) for n, s in zip(self.noises, scores)}
        return float(np.mean(list(self.levels.values())))


# ---- the run --------------------------------------------------------------------------------------


def _distributed(cfg: TrainConfig) -> tuple[int, int]:
    """(rank, world size) under torchrun, initialising the process group; (0, 1) otherwise."""
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if cfg.device.startswith("cuda") else "gloo")
    return rank, world


def _weights_meta(cfg: TrainConfig, step: int, **extra) -> dict:
    training = {"target": cfg.target, "loss": cfg.loss, "step": step, **extra, "val_noise": cfg.val_noise}
    return {"noise": cfg.noise, "training": training}


def _batches(cfg: TrainConfig, train_paths: list[Path], start: int, rank: int, world: int):
    """The batches from ``start`` on: made on the device (``data.devicesets``) or by a DataLoader."""
    mix = parse_noise_mix(cfg.noise)
    noise = mix[0][0]
    # real captures, mixtures and colour boosts come from the DataLoader
    cpu_only = cfg.pairs or cfg.scenes or len(mix) > 1 or cfg.saturate > 0
    on_device = cfg.loader == "device" or (cfg.loader == "auto" and cfg.device.startswith("cuda"))
    if on_device and not cpu_only and noise.kind in DEVICE_NOISES:
        images = D.load_clean(train_paths, cfg.crop)
        db = DeviceBatches(images, noise, cfg.target, cfg.crop, cfg.batch, cfg.device, cfg.seed, cfg.input_quantize)
        return (db.batch(step, rank) for step in range(start, cfg.iterations))
    if cfg.loader == "device":
        raise ValueError(
            f"--loader device takes one synthetic {', '.join(DEVICE_NOISES)} noise without --saturate; use --loader cpu"
        )
    return _loader(build_dataset(cfg, train_paths), cfg, start, rank, world)


def _loader(ds: Dataset, cfg: TrainConfig, start: int, rank: int, world: int) -> DataLoader:
    sampler = _Indices(start, cfg.iterations, cfg.batch, rank, world)
    prefetch = 4 if cfg.workers else None
    return DataLoader(
        ds, cfg.batch, sampler=sampler, num_workers=cfg.workers, collate_fn=D.collate, prefetch_factor=prefetch
    )


def _loss(net, inp, tgt, mask, cfg: TrainConfig, step: int, rank: int) -> torch.Tensor:
    """The loss of ``net`` (a callable that runs the network, under autocast) on one batch."""
    progress = step / cfg.iterations
    if cfg.target == "self":  # sub-sampling drawn from (seed, step, rank): a resumed run draws the same
        g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step * 97 + rank)
        return ne2ne_loss(net, inp, g, cfg.gamma * progress, cfg.pd, cfg.ne2ne_swap)
    return loss_fn(cfg.loss, net(inp).float(), tgt, mask, progress)


def _batch_loss(cfg: TrainConfig, use_bf16: bool, rank: int):
    """The loss ``fit`` steps on: one batch = (input, target, mask) moved to the device, the network
    run under autocast."""
    fmt = torch.channels_last if cfg.channels_last else torch.contiguous_format

    def loss(net, batch, step: int) -> torch.Tensor:
        inp, tgt, mask = (t.contiguous(memory_format=fmt).to(cfg.device) for t in batch)

        def forward(x: torch.Tensor) -> torch.Tensor:
            with torch.autocast("cpu" if cfg.device == "cpu" else "cuda", dtype=torch.bfloat16, enabled=use_bf16):
                return net(x)

        return _loss(forward, inp, tgt, mask, cfg, step, rank)

    return loss


@dataclass
class _State:
    """Where a run stands: the step, the best validation PSNR, training seconds, the last saved step."""

    step: int
    best: float
    elapsed: float
    saved: int = 0


def _build(
    cfg: TrainConfig,
) -> tuple[torch.nn.Module, torch.nn.Module | None, torch.optim.Optimizer, ModelConfig, bool]:
    """The model (seeded, or ``init``'s weights: the same on every rank), its moving average (or
    None), Adam, and whether to autocast bf16."""
    if cfg.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {cfg.device}: this machine has no CUDA device (torch {torch.__version__})")
    torch.manual_seed(cfg.seed)
    mcfg = ModelConfig(cfg.arch)  # type: ignore[arg-type]
    model = build_model(mcfg)
    if cfg.init:
        ck = load_weights(cfg.init)
        if ck.config != mcfg:
            raise ValueError(
                f"{cfg.init}: holds a {ck.config.arch} model with {ck.config.in_channels} channels; --arch is {cfg.arch}"
            )
        model.load_state_dict(ck.model.state_dict())
    model = model.to(cfg.device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = adam(model, cfg.lr, fused=cfg.device.startswith("cuda"))  # fused: one kernel for the update on a GPU
    use_bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and _fast_bf16(cfg.device))
    ema = copy.deepcopy(model).requires_grad_(False) if cfg.ema else None
    return model, ema, opt, mcfg, use_bf16


@torch.no_grad()
def _update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model, parameter by parameter."""
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1.0 - decay)


def _checkpoint(run: RunFolder, cfg: TrainConfig, model, ema, opt, mcfg: ModelConfig, st: _State) -> None:
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": st.step, "best": st.best}
    if ema is not None:
        state["ema"] = ema.state_dict()
    meta = _weights_meta(cfg, st.step, iterations=cfg.iterations, best_val_psnr=st.best, seconds=round(st.elapsed))
    run.save({**state, "elapsed": st.elapsed}, model if ema is None else ema, mcfg, meta, cfg.keep_every)
    st.saved = st.step


def _report(run: RunFolder, cfg: TrainConfig, model, ema, opt, mcfg, st: _State, validator, losses, rate, bar) -> None:
    """Validate (when ``validator`` is given), keep the best weights, checkpoint, then log the row.
    With a moving average, the average is what is validated and saved. ``losses`` holds (loss, gradient
    norm) pairs of the steps since the last row."""
    shown = model if ema is None else ema
    vp = validator(shown, cfg.device) if validator else float("nan")
    if vp > st.best:  # NaN never is
        st.best = vp
        run.save_best(shown, mcfg, _weights_meta(cfg, st.step, val_psnr=vp, ema=cfg.ema))
    _checkpoint(run, cfg, model, ema, opt, mcfg, st)
    loss, norm = (torch.stack(t).float() for t in zip(*losses))
    mean_loss = float(loss.mean())
    row = {"step": st.step, "loss": f"{mean_loss:.6g}", "val_psnr": f"{vp:.4f}", "img_per_s": f"{rate:.1f}"}
    row |= {"grad_norm": f"{float(norm.mean()):.4g}", "grad_norm_max": f"{float(norm.max()):.4g}"}
    if validator and len(validator.noises) > 1:
        row["val_levels"] = levels_cell(validator.levels)
    run.log({**row, "lr": f"{learning_rate(cfg, st.step):.3g}", "elapsed_s": f"{st.elapsed:.1f}"})
    if bar:
        bar.set_postfix(loss=f"{mean_loss:.4g}", val_psnr=f"{vp:.2f}" if vp == vp else "-", img_s=f"{rate:.0f}")
    if validator:
        run.plot()


def train(cfg: TrainConfig | None = None, *, progress: bool = True, **overrides) -> dict:
    """Train (or resume) a denoiser. ``overrides`` are ``TrainConfig`` fields when ``cfg`` is None.
    Returns a summary (steps, best validation PSNR, seconds, ...)."""
    cfg = cfg or TrainConfig(**overrides)
    rank, world = _distributed(cfg)
    train_paths, val_paths = split_validation(cfg)  # before anything is written: bad folders fail first
    run = RunFolder(cfg.out, writer=rank == 0)
    model, ema, opt, mcfg, use_bf16 = _build(cfg)
    st = _State(*run.load_state(model, opt, cfg.device, ema))
    st.saved = st.step
    if rank == 0:
        run.write_config({**cfg.to_dict(), "world_size": world, "bf16": use_bf16}, st.step)
    validator = Validator(val_paths, parse_noise_list(cfg.val_noise)) if rank == 0 else None
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    net = torch.compile(net) if cfg.compile else net
    loader = iter(_batches(cfg, train_paths, st.step, rank, world))  # images that cannot train fail first
    losses, t_run = [], time.perf_counter()
    t_last = t_run
    model.train()

    def after_step(step: int, loss: torch.Tensor, norm: torch.Tensor, bar) -> bool:
        nonlocal losses, t_run, t_last
        losses.append((loss, norm))
        if ema is not None:
            _update_ema(ema, model, cfg.ema)
        st.step = step
        now = time.perf_counter()
        st.elapsed, t_last = st.elapsed + now - t_last, now
        val_due = st.step % cfg.val_every == 0 or st.step == cfg.iterations
        if rank == 0 and (val_due or st.step % cfg.ckpt_every == 0):
            rate = len(losses) * cfg.batch * world / max(now - t_run, 1e-9)
            _report(run, cfg, model, ema, opt, mcfg, st, validator if val_due else None, losses, rate, bar)
            losses, t_run = [], time.perf_counter()
        # resumable: the next run continues from the checkpoint below
        return cfg.max_minutes is not None and st.elapsed > cfg.max_minutes * 60 and st.step < cfg.iterations

    fit(
        net,
        lambda: next(loader),
        _batch_loss(cfg, use_bf16, rank),
        cfg.iterations,
        cfg.lr,
        optimizer=opt,
        lr_at=lambda step: learning_rate(cfg, step),
        clip_grad=cfg.clip_grad,
        start=st.step,
        after_step=after_step,
        watch=False,  # nothing waits for the device each step; validation shows a diverged run
        desc="train",
        unit="it",
        progress=progress and rank == 0,
    )
    if rank == 0 and st.step != st.saved:
        _checkpoint(run, cfg, model, ema, opt, mcfg, st)
    if world > 1:
        torch.distributed.barrier()
    return {
        "step": st.step,
        "iterations": cfg.iterations,
        "best_val_psnr": st.best if math.isfinite(st.best) else None,
        "stopped_early": st.step < cfg.iterations,
        "seconds": round(st.elapsed, 1),
        "noisy_val_psnr": validator.noisy_psnr if validator else None,
        "out": str(run.root),
    }
