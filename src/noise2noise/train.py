"""Noise2Noise training: one function with keyword defaults (``train``).

Lehtinen et al. 2018: with an L2 loss the optimum depends only on the *expected* target, so
training pairs of two independent zero-mean corruptions of the same clean crop (``target='noisy'``)
learns the same denoiser as clean targets (``target='clean'``).

The run folder holds ``config.json`` (the resolved options), ``state.pt`` (model, optimizer and
step; loads with ``weights_only=True``), ``latest.safetensors`` and ``best.safetensors`` (our weights
format, best by validation PSNR), ``log.csv`` and ``curve.png``. Running the same command again
resumes from ``state.pt``; a run killed at any moment loses at most ``ckpt_every`` iterations.
Multi-process training: launch with ``torchrun --nproc-per-node N``; each rank draws different
samples (global sample index ``(step * world + rank) * batch + j``), gloo on CPU, NCCL on GPU.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from . import data as D
from .inference import pad
from .metrics import psnr
from .model import ARCHS, ModelConfig, build_model
from .noise import NoiseConfig, add_noise, quantize
from .weights import save_weights

Loss = Literal["l2", "l1", "l0", "hdr"]


@dataclass
class TrainConfig:
    """Every option of a run; written to ``config.json`` in the run folder."""

    data: list[str] = field(default_factory=lambda: ["../shared/data/train"])  # clean image folders
    pairs: str | None = None  # noisy/ + clean/ folder: real pairs, clean targets
    scenes: str | None = None  # folder of scene folders with >= 2 noisy captures each
    out: str = "runs/default"  # run folder (resumes when it holds state.pt)
    arch: str = "unet"  # unet (paper) | unet-compact
    noise: str = "gaussian:0-50"  # training noise; a range is sampled per crop (paper: "blind")
    target: str = "noisy"  # noisy = Noise2Noise; clean = the supervised baseline
    loss: str = "l2"  # l2 | l1 | l0 (annealed gamma 2 -> 0) | hdr
    iterations: int = 20000
    batch: int = 16
    crop: int = 64
    lr: float = 1e-3  # Adam, betas (0.9, 0.99), eps 1e-8 (paper, appendix A.1)
    rampdown: float = 0.3  # last fraction of iterations on (0.5 + cos/2)^2 (NVlabs)
    rampup: float = 0.0  # first fraction with a linear warm-up
    input_quantize: float = 0.0  # probability the input is clipped + rounded to 8 bits like a file
    val: list[str] | None = None  # validation folders; default: held-out images of `data`
    val_count: int = 8  # held-out training images used for validation when `val` is None
    val_noise: str = "gaussian:25"
    val_every: int = 500
    ckpt_every: int = 250
    keep_every: int = 0  # keep snapshots/step-NNNNNNN.safetensors at checkpoints that are multiples (0 = off)
    seed: int = 0
    workers: int = 1
    precision: str = "auto"  # auto | fp32 | bf16 (autocast; auto = bf16 only where the CPU has it)
    channels_last: bool = True
    device: str = "cpu"
    max_minutes: float | None = None  # stop (with a checkpoint) after this wall time; resumable

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        if self.target not in ("noisy", "clean"):
            raise ValueError(f"target must be 'noisy' or 'clean', got {self.target!r}")
        if self.loss not in ("l2", "l1", "l0", "hdr"):
            raise ValueError(f"loss must be l2, l1, l0 or hdr, got {self.loss!r}")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"precision must be auto, fp32 or bf16, got {self.precision!r}")
        if self.pairs and self.scenes:
            raise ValueError("give either pairs or scenes, not both")
        for k in ("iterations", "batch", "crop", "val_every", "ckpt_every"):
            if getattr(self, k) < 1:
                raise ValueError(f"{k} must be >= 1")
        if self.keep_every < 0:
            raise ValueError("keep_every must be >= 0")
        if self.crop % 32:
            raise ValueError(f"crop must be a multiple of 32, got {self.crop}")
        NoiseConfig.parse(self.noise), NoiseConfig.parse(self.val_noise)


def bf16_supported() -> bool:
    """True where bf16 matmuls are fast on this CPU (AVX512-BF16 or AMX); elsewhere autocast to bf16
    is emulated and far slower than fp32 (measured on an AVX2-only CPU: ~30x slower)."""
    cpu = torch.cpu
    return bool(
        getattr(cpu, "_is_amx_tile_supported", lambda: False)()
        or getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
    )


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


def loss_fn(name: str, out: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, progress: float) -> torch.Tensor:
    """Per-pixel loss, masked to valid target pixels (Bernoulli dropout) and averaged."""
    diff = out - target
    if name == "l2":
        per = diff**2
    elif name == "l1":
        per = diff.abs()
    elif name == "l0":  # paper sec. 3.3: (|f(x)-y| + eps)^gamma, gamma annealed 2 -> 0
        gamma = 2.0 * (1.0 - progress)
        per = (diff.abs() + 1e-8) ** gamma
    else:  # hdr (paper sec. 3.4, Monte Carlo): relative L2 with the denominator detached
        per = diff**2 / (out.detach() + 0.01) ** 2
    mask = mask.expand_as(per)
    return (per * mask).sum() / mask.sum().clamp_min(1.0)


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


def _split_validation(cfg: TrainConfig) -> tuple[list[Path], list[Path]]:
    paths = D.find_images(cfg.data)
    if cfg.val:
        return paths, D.find_images(cfg.val)
    if cfg.val_count <= 0 or len(paths) <= cfg.val_count:
        return paths, []
    stride = len(paths) / cfg.val_count  # spread the held-out images over the sorted list
    held = {int(i * stride + stride / 2) for i in range(cfg.val_count)}
    return [p for i, p in enumerate(paths) if i not in held], [p for i, p in enumerate(paths) if i in held]


class Validator:
    """Fixed-seed noisy copies of the validation images (at most 256x256 centre crops, for speed)."""

    def __init__(self, paths: list[Path], noise: NoiseConfig, size: int = 256, quantized: bool = False) -> None:
        self.items = []
        for i, p in enumerate(paths):
            img = D.to_float(D.load_rgb(p))
            h, w = img.shape[:2]
            y0, x0 = max((h - size) // 2, 0), max((w - size) // 2, 0)
            clean = img[y0 : y0 + size, x0 : x0 + size]
            noisy, _ = add_noise(clean, noise, np.random.default_rng(i))
            if quantized:
                noisy = quantize(noisy)
            self.items.append((noisy.transpose(2, 0, 1)[None].copy(), clean))
        self.noisy_psnr = (
            float(np.mean([psnr(np.clip(n[0].transpose(1, 2, 0), 0, 1), c, 1.0) for n, c in self.items]))
            if self.items
            else float("nan")
        )

    def __call__(self, model: torch.nn.Module, device: str = "cpu") -> float:
        if not self.items:
            return float("nan")
        model.eval()
        scores = []
        with torch.inference_mode():
            for noisy, clean in self.items:
                h, w = clean.shape[:2]
                out = model(torch.from_numpy(pad(noisy)).to(device)).float().cpu().numpy()[0, :, :h, :w]
                out = np.round(np.clip(out.transpose(1, 2, 0), 0, 1) * 255) / 255
                scores.append(psnr(out, clean, 1.0))
        model.train()
        return float(np.mean(scores))


def _dist_info() -> tuple[int, int]:
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def _atomic_torch_save(obj: dict, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _plot(log_path: Path, png: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # optional: the CSV log has the same numbers
        return
    rows = list(csv.DictReader(open(log_path)))
    if not rows:
        return
    step = [int(r["step"]) for r in rows]
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    ax[0].plot(step, [float(r["loss"]) for r in rows])
    ax[0].set(xlabel="iteration", ylabel="training loss", yscale="log", title="loss")
    val = [(s, float(r["val_psnr"])) for s, r in zip(step, rows) if r["val_psnr"] not in ("", "nan")]
    if val:
        ax[1].plot(*zip(*val), marker="o")
    ax[1].set(xlabel="iteration", ylabel="PSNR (dB)", title="validation PSNR")
    for a in ax:
        a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=90)
    plt.close(fig)


def _write_config(path: Path, cfg: dict, start: int) -> None:
    """Write the resolved config. A resume that changes options (e.g. a longer ``iterations``)
    records the step and the old -> new values under ``resumes``, so the folder says what was used."""
    resumes: list = []
    if start and path.exists():
        old = json.loads(path.read_text())
        resumes = old.pop("resumes", [])
        changed = {k: [old.get(k), v] for k, v in cfg.items() if old.get(k) != v}
        if changed:
            resumes.append({"step": start, "changed": changed})
    path.write_text(json.dumps({**cfg, "resumes": resumes}, indent=2))


def train(cfg: TrainConfig | None = None, *, progress: bool = True, **overrides) -> dict:
    """Train (or resume) a denoiser. Returns a summary dict (steps, best validation PSNR, ...)."""
    cfg = cfg or TrainConfig(**overrides)
    rank, world = _dist_info()
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if cfg.device.startswith("cuda") else "gloo"
        torch.distributed.init_process_group(backend)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    noise = NoiseConfig.parse(cfg.noise)
    torch.manual_seed(cfg.seed)  # the initial weights (the same on every rank)
    mcfg = ModelConfig(cfg.arch)  # type: ignore[arg-type]
    model = build_model(mcfg).to(cfg.device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, 0.99), eps=1e-8)
    use_bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and cfg.device == "cpu" and bf16_supported())
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)

    start, best, elapsed = 0, -float("inf"), 0.0
    state_path = out / "state.pt"
    if state_path.exists():
        st = torch.load(state_path, map_location=cfg.device, weights_only=True)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        start, best, elapsed = int(st["step"]), float(st["best"]), float(st.get("elapsed", 0.0))
    if rank == 0:
        _write_config(out / "config.json", {**asdict(cfg), "world_size": world, "bf16": use_bf16}, start)

    train_paths, val_paths = _split_validation(cfg)
    if cfg.pairs:
        groups, _ = D.load_pairs(cfg.pairs)
        ds: torch.utils.data.Dataset = D.RealPairs(groups, "pairs", cfg.crop, cfg.seed)
    elif cfg.scenes:
        ds = D.RealPairs(D.load_scenes(cfg.scenes), "scenes", cfg.crop, cfg.seed)
    else:
        ds = D.SyntheticPairs(
            D.load_clean(train_paths), noise, cfg.target, cfg.crop, cfg.seed, input_quantize=cfg.input_quantize
        )
    validator = Validator(val_paths, NoiseConfig.parse(cfg.val_noise)) if rank == 0 else None

    ddp_model = model
    if world > 1:
        ddp_model = torch.nn.parallel.DistributedDataParallel(model)
    loader = DataLoader(ds, batch_size=cfg.batch, sampler=_Indices(start, cfg.iterations, cfg.batch, rank, world),
                        num_workers=cfg.workers, collate_fn=D.collate, persistent_workers=False,
                        prefetch_factor=4 if cfg.workers else None)  # fmt: skip

    log_path = out / "log.csv"
    new_log = not log_path.exists()
    logf = open(log_path, "a", newline="") if rank == 0 else None
    writer = csv.writer(logf) if logf else None
    if writer and new_log:
        writer.writerow(["step", "loss", "val_psnr", "lr", "elapsed_s", "img_per_s"])

    def checkpoint(step: int) -> None:
        if rank != 0:
            return
        _atomic_torch_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                            "best": best, "elapsed": elapsed}, state_path)  # fmt: skip
        meta = {"noise": cfg.noise, "training": {"target": cfg.target, "loss": cfg.loss, "step": step,
                "iterations": cfg.iterations, "best_val_psnr": best, "val_noise": cfg.val_noise, "seconds": round(elapsed)}}  # fmt: skip
        save_weights(out / "latest.safetensors", model, mcfg, meta)
        if cfg.keep_every and step % cfg.keep_every == 0:  # for PSNR-vs-training-time curves on test sets
            (out / "snapshots").mkdir(exist_ok=True)
            shutil.copyfile(out / "latest.safetensors", out / "snapshots" / f"step-{step:07d}.safetensors")

    bar = None
    if progress and rank == 0:
        from tqdm import tqdm

        bar = tqdm(total=cfg.iterations, initial=start, desc="train", unit="it", dynamic_ncols=True)
    model.train()
    step, t_run, t_last, loss_acc, n_acc = start, time.perf_counter(), time.perf_counter(), 0.0, 0
    stopped_early = False
    for inp, tgt, mask in loader:
        if cfg.channels_last:
            inp, tgt, mask = (t.contiguous(memory_format=torch.channels_last) for t in (inp, tgt, mask))
        inp, tgt, mask = inp.to(cfg.device), tgt.to(cfg.device), mask.to(cfg.device)
        for g in opt.param_groups:
            g["lr"] = learning_rate(cfg, step)
        with torch.autocast("cpu" if cfg.device == "cpu" else "cuda", dtype=torch.bfloat16, enabled=use_bf16):
            pred = ddp_model(inp)
        loss = loss_fn(cfg.loss, pred.float(), tgt, mask, step / cfg.iterations)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        loss_acc += float(loss.detach())
        n_acc += 1
        now = time.perf_counter()
        elapsed += now - t_last
        t_last = now
        if bar:
            bar.update(1)
        val_due = step % cfg.val_every == 0 or step == cfg.iterations
        if rank == 0 and (val_due or step % cfg.ckpt_every == 0):
            vp = validator(model, cfg.device) if (val_due and validator) else float("nan")
            if vp == vp and vp > best:
                best = vp
                save_weights(out / "best.safetensors", model, mcfg, {"noise": cfg.noise, "training": {
                    "target": cfg.target, "loss": cfg.loss, "step": step, "val_psnr": vp, "val_noise": cfg.val_noise}})  # fmt: skip
            rate = n_acc * cfg.batch * world / max(now - t_run, 1e-9)
            writer.writerow(
                [
                    step,
                    f"{loss_acc / max(n_acc, 1):.6g}",
                    f"{vp:.4f}",
                    f"{learning_rate(cfg, step):.3g}",
                    f"{elapsed:.1f}",
                    f"{rate:.1f}",
                ]
            )  # type: ignore[union-attr]
            logf.flush()  # type: ignore[union-attr]
            if bar:
                bar.set_postfix(
                    loss=f"{loss_acc / max(n_acc, 1):.4g}",
                    val_psnr=f"{vp:.2f}" if vp == vp else "-",
                    img_s=f"{rate:.0f}",
                )
            loss_acc, n_acc, t_run = 0.0, 0, time.perf_counter()
            checkpoint(step)
            if val_due:
                _plot(log_path, out / "curve.png")
        if cfg.max_minutes is not None and elapsed > cfg.max_minutes * 60 and step < cfg.iterations:
            stopped_early = True
            break
    if step % cfg.ckpt_every and not (step % cfg.val_every == 0):
        checkpoint(step)
    if bar:
        bar.close()
    if logf:
        logf.close()
    summary = {"step": step, "iterations": cfg.iterations, "best_val_psnr": best if math.isfinite(best) else None, "stopped_early": stopped_early,
               "seconds": round(elapsed, 1), "noisy_val_psnr": validator.noisy_psnr if validator else None, "out": str(out)}  # fmt: skip
    if world > 1:
        torch.distributed.barrier()
    return summary
