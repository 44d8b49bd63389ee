"""Bursts: several noisy shots of one scene (a phone burst, a tripod series, repeated microscope
frames) made into one clean image, with Noise2Noise on the user's own noise.

1. **Align** every frame to a reference frame (the sharpest unless chosen; ``align.py``): a frame
   that does not correlate with it is another scene and is left out, said so.
2. **Learn** (``steps`` > 0): fine-tune the chosen model (``auto`` picks it from the reference
   frame's noise) on pairs of aligned frames, frame i as input and frame j as target: two
   independent shots of the same scene, exactly the pairs of the Noise2Noise paper, here of the
   user's own camera. The loss is masked where either frame fell outside the other, and where the
   two disagree beyond their noise (a moving person, parallax): there the pair is not of one scene.
3. **Denoise** every aligned frame with that model and **merge** them robustly: each frame's weight
   at a pixel falls with its disagreement from the denoised reference there, so what moved between
   shots keeps the reference's content instead of a ghost.

Memory holds the frames in their own integer type plus one float image at a time per step.
"""

from __future__ import annotations

import copy
import math
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from .align import Alignment, estimate, sharpness, warp
from .auto import pick
from .images import Image, ImageError, postprocess, preprocess, to_float
from .noiseprofile import BLOCK
from .weights import load_checkpoint, save_weights

BLUR = 2.0  # sigma of the blur that compares two frames: it averages the noise away, not the motion
# how much that blur shrinks white noise's standard deviation (the sum of the 2-D kernel's squares, square-rooted)
BLUR_GAIN = float((cv2.getGaussianKernel(int(6 * BLUR) | 1, BLUR) ** 2).sum())


@dataclass
class BurstOptions:
    """How a burst is merged (the options of ``n2n burst``)."""

    reference: int | None = None  # index of the reference frame; None = the sharpest
    steps: int = 200  # fine-tuning steps on pairs of frames (0 = merge with the model as it is)
    lr: float = 1e-4
    crop: int = 128
    batch: int = 4
    seed: int = 0
    model: str | None = None  # a shipped model; None = auto (chosen from the reference frame)
    weights: str | None = None  # or a checkpoint
    backend: str = "auto"
    precision: str = "auto"


@dataclass
class BurstResult:
    image: Image
    report: dict = field(default_factory=dict)


def _blurred_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|blur(a - b)| averaged over channels: HxW (float HxWxC inputs)."""
    d = (a - b).mean(axis=2) if a.ndim == 3 else a - b
    return np.abs(cv2.GaussianBlur(d.astype(np.float32), (0, 0), BLUR))


def agree(a: np.ndarray, b: np.ndarray, sigma: float) -> np.ndarray:
    """HxW bool: where two aligned noisy frames show the same scene, i.e. their blurred difference
    stays within four of its standard deviations under noise ``sigma`` (0-1 units)."""
    limit = 4 * math.sqrt(2) * max(sigma, 1 / 255) * BLUR_GAIN + 2 / 255  # + resampling error
    return _blurred_gap(a, b) < limit


def merge_tolerance(sigma: float) -> float:
    """The disagreement between two denoised frames at which a frame's weight falls to 1/e: about the
    noise that survives the comparison's blur, plus resampling error."""
    return 3 * max(sigma, 1 / 255) * BLUR_GAIN**0.5 + 2 / 255


def merge(denoised: list[np.ndarray], valid: list[np.ndarray], ref: int, tolerance: float) -> np.ndarray:
    """Weighted mean of denoised HxWxC frames: the reference with weight 1, each other frame with
    ``valid * exp(-(gap / tolerance)^2)``, ``gap`` its blurred disagreement with the reference."""
    total = denoised[ref].astype(np.float32).copy()
    weight = np.ones(total.shape[:2], np.float32)
    for i, (d, ok) in enumerate(zip(denoised, valid)):
        if i == ref:
            continue
        w = np.exp(-((_blurred_gap(d, denoised[ref]) / tolerance) ** 2)) * ok
        total += w[..., None] * d
        weight += w
    return total / weight[..., None]


def finetune(
    model: torch.nn.Module,
    frames: list[np.ndarray],
    valid: list[np.ndarray],
    sigma: float,
    o: BurstOptions,
    progress: bool = True,
) -> tuple[torch.nn.Module, list[float]]:
    """Noise2Noise on pairs of the aligned frames (HxWxC, integer type kept): ``o.steps`` Adam steps
    of ``o.batch`` random crops, frame i in, frame j as target, the loss masked where the pair is
    not of one scene (``agree``) or a frame fell outside (``valid``)."""
    from tqdm import tqdm

    rng = np.random.default_rng(o.seed)
    torch.manual_seed(o.seed)
    net = copy.deepcopy(model).float().train()
    opt = torch.optim.Adam(net.parameters(), lr=o.lr, betas=(0.9, 0.99), eps=1e-8)
    h, w = frames[0].shape[:2]
    crop = min(o.crop, h, w) // 32 * 32
    losses = []
    for _ in tqdm(range(o.steps), desc="burst: learn", unit="step", disable=not progress, dynamic_ncols=True):
        xs, ys, ms = [], [], []
        for _ in range(o.batch):
            i, j = rng.choice(len(frames), 2, replace=False)
            y0, x0 = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
            a = to_float(frames[i][y0 : y0 + crop, x0 : x0 + crop])
            b = to_float(frames[j][y0 : y0 + crop, x0 : x0 + crop])
            m = valid[i][y0 : y0 + crop, x0 : x0 + crop] & valid[j][y0 : y0 + crop, x0 : x0 + crop] & agree(a, b, sigma)
            xs.append(a.transpose(2, 0, 1))
            ys.append(b.transpose(2, 0, 1))
            ms.append(m[None].astype(np.float32))
        x, y, m = (torch.from_numpy(np.ascontiguousarray(np.stack(v))) for v in (xs, ys, ms))
        loss = ((net(x) - y) ** 2 * m).sum() / (m.sum() * 3).clamp_min(1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return net.eval(), losses


def _denoiser(o: BurstOptions, model_name: str | None, net: torch.nn.Module | None, ckpt, tmp: str):
    from .denoiser import Denoiser

    if net is None:
        return Denoiser.from_weights(o.weights, model=model_name, backend=o.backend, precision=o.precision)
    path = Path(tmp) / "burst.safetensors"  # the fine-tuned weights, converted like any checkpoint
    save_weights(path, net, ckpt.config, {**ckpt.meta, "burst": True})
    return Denoiser.from_weights(path, backend=o.backend, precision=o.precision)


def check_frames(images: list[Image], names: list[str]) -> None:
    if len(images) < 1:
        raise ImageError("a burst needs at least one frame")
    first = images[0].pixels
    for im, name in zip(images[1:], names[1:]):
        p = im.pixels
        if p.shape != first.shape or p.dtype != first.dtype:
            raise ImageError(
                f"{name}: {p.shape[1]}x{p.shape[0]} {p.dtype} differs from {names[0]}'s "
                f"{first.shape[1]}x{first.shape[0]} {first.dtype}: a burst's frames must match"
            )
    if min(first.shape[:2]) < 2 * BLOCK:
        raise ImageError(f"{names[0]}: frames of {first.shape[1]}x{first.shape[0]} are too small for a burst")


def merge_burst(
    images: list[Image],
    names: list[str],
    o: BurstOptions | None = None,
    progress: bool = True,
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> BurstResult:
    """One denoised image from the frames ``images`` (decoded files, same size and type)."""
    o = o or BurstOptions()
    check_frames(images, names)
    grey = images[0].pixels.ndim == 2  # grey frames go through as three equal channels
    rgb = [
        np.ascontiguousarray(cv2.cvtColor(i.pixels, cv2.COLOR_GRAY2RGB if grey else cv2.COLOR_BGR2RGB)) for i in images
    ]
    floats = [to_float(f) for f in rgb]
    ref = o.reference if o.reference is not None else int(np.argmax([sharpness(f) for f in floats]))
    if not 0 <= ref < len(images):
        raise ValueError(f"--reference {ref}: the burst has frames 0-{len(images) - 1}")
    choice = pick(preprocess(images[ref].pixels))
    sigma = choice.noise.sigma
    aligned, valid, kept, report = [], [], [], {"reference": names[ref], "frames": []}
    for k, f in enumerate(floats):
        a = Alignment(np.eye(2, 3, dtype=np.float32), 1.0) if k == ref else estimate(floats[ref], f)
        entry = {
            "frame": names[k],
            "shift": [round(v, 2) for v in a.shift],
            "degrees": round(a.degrees, 3),
            "correlation": round(a.correlation, 4),
            "used": a.ok,
        }
        report["frames"].append(entry)
        if not a.ok:
            log(f"n2n: burst: {names[k]} does not align with {names[ref]} (correlation {a.correlation:.2f}): left out")
            continue
        pixels, inside = warp(rgb[k], a)
        aligned.append(pixels)
        valid.append(inside)
        kept.append(k)
    r = kept.index(ref)
    model_name = o.model or (None if o.weights else choice.model)
    report.update(
        model=model_name or Path(o.weights).stem, reason=choice.reason if not (o.model or o.weights) else None
    )
    if len(aligned) == 1:
        log(f"n2n: burst: only {names[ref]} is usable: it is denoised alone")
    ckpt = load_checkpoint(o.weights, model_name)
    net, losses = None, []
    if o.steps and len(aligned) > 1:
        net, losses = finetune(ckpt.model, aligned, valid, sigma, o, progress)
    report.update(
        frames_used=len(aligned),
        steps=o.steps if net is not None else 0,
        first_loss=losses[0] if losses else None,
        last_loss=losses[-1] if losses else None,
    )
    with tempfile.TemporaryDirectory(prefix="n2n-burst-") as tmp:
        den = _denoiser(o, model_name, net, ckpt, tmp)
        from tqdm import tqdm

        outs = []
        for p in tqdm(aligned, desc="burst: denoise", unit="frame", disable=not progress, dynamic_ncols=True):
            chw = np.ascontiguousarray(to_float(p).transpose(2, 0, 1)[None])
            outs.append(den.run_array(chw)[0].transpose(1, 2, 0))
    merged = merge(outs, valid, r, merge_tolerance(sigma))
    chw = merged.transpose(2, 0, 1)[None]
    pixels = postprocess(chw.mean(axis=1, keepdims=True) if grey else chw, images[ref].pixels.dtype.type)
    return BurstResult(Image(pixels, images[ref].alpha, {"model": report["model"]}), report)
