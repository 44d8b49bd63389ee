"""Bursts: several noisy shots of one scene (a phone burst, a tripod series, repeated microscope
frames) made into one clean image, with Noise2Noise on the user's own noise.

1. **Align** every frame to a reference frame (the sharpest unless chosen; ``align.py``): a frame
   that does not correlate with it is another scene and is left out, said so.
2. **Learn** (``steps`` > 0): fine-tune the chosen model (``auto`` picks it from the reference
   frame's noise) with the mean of the other aligned frames as input and the reference frame, as it
   was shot, as target: two independent noisy views of one scene, the pairs of the Noise2Noise
   paper, here of the user's own camera (the input's noise is lower and resampled; the target's is
   untouched, so the network learns the sharp, clean reference). The loss is masked where no other
   frame covers the reference, and where the mean and the reference disagree beyond their noise (a
   moving person, parallax): there the pair is not of one scene.
3. **Merge**: the reference denoised by the model as shipped, and the mean of the others denoised by
   the fine-tuned one, averaged with a per-pixel weight that falls with their disagreement, so what
   moved between shots keeps the reference's content instead of a ghost. With ``steps`` = 0 every
   aligned frame is denoised and merged that way instead.

Memory holds the frames in their own integer type, the mean of the others and the two denoised
images in float; the fine-tuning works on crops.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from ..auto import pick
from ..config import BurstConfig
from ..images import Image, ImageError, postprocess, preprocess, to_float
from ..noise.profile import BLOCK
from ..training.fit import fit
from ..weights import load_checkpoint
from .align import Alignment, estimate, sharpness, warp

BLUR = 2.0  # sigma of the blur that compares two frames: it averages the noise away, not the motion
# how much that blur shrinks white noise's standard deviation (the sum of the 2-D kernel's squares, square-rooted)
BLUR_GAIN = float((cv2.getGaussianKernel(int(6 * BLUR) | 1, BLUR) ** 2).sum())


BurstOptions = BurstConfig  # how a burst is merged (the earlier name of the same class)


@dataclass
class Merged:
    """A burst merged: the ``image`` and what the merge reports (the ``merge`` of ``reports.BurstResult``)."""

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


def _residual(noisy: np.ndarray, denoised: np.ndarray) -> np.ndarray:
    """HxW: the local mean square of ``noisy - denoised`` (blurred, averaged over channels)."""
    return cv2.GaussianBlur(((noisy - denoised) ** 2).mean(axis=2).astype(np.float32), (0, 0), BLUR)


def merge(
    denoised: list[np.ndarray], valid: list[np.ndarray], ref: int, tolerance: float, noisy: np.ndarray | None = None
) -> np.ndarray:
    """Weighted mean of denoised HxWxC frames: the reference with weight 1, each other frame with
    ``valid * exp(-(gap / tolerance)^2)``, ``gap`` its blurred disagreement with the reference. With
    ``noisy`` (the reference frame as shot) the weight also falls where a frame explains the noisy
    reference worse than the reference's own denoising does (its local residual exceeds the
    reference's, relative to it): a moving object whose mean colour matches what it covers, but not its
    texture, still keeps the reference's content."""
    total = denoised[ref].astype(np.float32).copy()
    weight = np.ones(total.shape[:2], np.float32)
    own = _residual(noisy, denoised[ref]) if noisy is not None else None
    for i, (d, ok) in enumerate(zip(denoised, valid)):
        if i == ref:
            continue
        w = np.exp(-((_blurred_gap(d, denoised[ref]) / tolerance) ** 2)) * ok
        if own is not None:
            excess = np.maximum(_residual(noisy, d) - own, 0) / np.maximum(own, (1 / 255) ** 2)
            w *= np.exp(-(excess**2))
        total += w[..., None] * d
        weight += w
    return total / weight[..., None]


def others_mean(frames: list[np.ndarray], valid: list[np.ndarray], ref: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean of the aligned frames other than the reference (HxWxC float), each counted where it
    came from inside its frame, and where at least one did (HxW bool); elsewhere the reference."""
    total = np.zeros(frames[ref].shape, np.float32)
    count = np.zeros(frames[ref].shape[:2], np.float32)
    for k, (f, ok) in enumerate(zip(frames, valid)):
        if k != ref:
            total += to_float(f) * ok[..., None]
            count += ok
    some = count > 0
    mean = total / np.maximum(count, 1)[..., None]
    mean[~some] = to_float(frames[ref][~some])
    return mean, some


def finetune(
    model: torch.nn.Module,
    inputs: np.ndarray,
    target: np.ndarray,
    mask: np.ndarray,
    o: BurstOptions,
    progress: bool = True,
) -> tuple[torch.nn.Module, list[float]]:
    """Noise2Noise on the burst: ``o.steps`` Adam steps of ``o.batch`` random crops, ``inputs`` (HxWxC
    float: the mean of the other frames) in, ``target`` (the reference frame, its own integer type)
    out, the loss counted only where ``mask`` (HxW bool) says both show the same scene."""
    rng = np.random.default_rng(o.seed)
    torch.manual_seed(o.seed)
    net = copy.deepcopy(model).float().train()
    h, w = target.shape[:2]
    crop = min(o.crop, h, w) // 32 * 32

    def batch() -> tuple[torch.Tensor, ...]:
        xs, ys, ms = [], [], []
        for _ in range(o.batch):
            y0, x0 = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
            window = (slice(y0, y0 + crop), slice(x0, x0 + crop))
            xs.append(inputs[window].transpose(2, 0, 1))
            ys.append(to_float(target[window]).transpose(2, 0, 1))
            ms.append(mask[window][None].astype(np.float32))
        return tuple(torch.from_numpy(np.ascontiguousarray(np.stack(v))) for v in (xs, ys, ms))

    def masked_l2(net: torch.nn.Module, b: tuple[torch.Tensor, ...], step: int) -> torch.Tensor:
        x, y, m = b
        return ((net(x) - y) ** 2 * m).sum() / (m.sum() * 3).clamp_min(1.0)

    losses = fit(net, batch, masked_l2, o.steps, o.lr, desc="burst: learn", hint="try a lower --lr", progress=progress)
    return net.eval(), losses


def _tuned(o: BurstOptions, net: torch.nn.Module, ckpt):
    """The fine-tuned network as a ``Denoiser``, built in memory (no file, nothing added to the cache)."""
    from ..denoiser import Denoiser
    from ..weights import Checkpoint

    tuned = Checkpoint(net, ckpt.config, {**ckpt.meta, "burst": True}, "")
    return Denoiser.from_checkpoint(tuned, o.denoising(), name="burst")


def _run(den, frame: np.ndarray) -> np.ndarray:
    """HxWxC frame (integer, or float in [0, 1]) through a ``Denoiser`` -> HxWxC float."""
    x = frame if frame.dtype.kind == "f" else to_float(frame)
    return den.run_array(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))[0].transpose(1, 2, 0)


def check_frames(images: list[Image], names: list[str]) -> None:
    if len(images) < 1:
        raise ImageError("a burst needs at least one frame")
    first = images[0].pixels

    def kind(p: np.ndarray) -> str:
        return f"{p.shape[1]}x{p.shape[0]} {'grey' if p.ndim == 2 else 'colour'} {8 * p.dtype.itemsize}-bit"

    for im, name in zip(images[1:], names[1:]):
        p = im.pixels
        if p.shape != first.shape or p.dtype != first.dtype:
            raise ImageError(
                f"{name} is {kind(p)} but {names[0]} is {kind(first)}: a burst's frames must have the same "
                "size, colour and bit depth"
            )
    if min(first.shape[:2]) < 2 * BLOCK:
        raise ImageError(f"{names[0]}: frames of {first.shape[1]}x{first.shape[0]} are too small for a burst")


def align_frames(
    rgb: list[np.ndarray],
    reference: np.ndarray,
    names: list[str],
    ref: int,
    progress: bool,
    log: Callable[[str], None],
) -> tuple[list[np.ndarray], list[np.ndarray], int, dict]:
    """Every frame that aligns with frame ``ref`` (``reference``: that frame in float), resampled onto
    its grid (the reference as it is), with the masks of the pixels that came from inside each frame,
    the reference's index among them and the report of each frame's alignment."""
    from tqdm import tqdm

    aligned, valid, r, report = [], [], 0, {"reference": names[ref], "alignment": []}
    for k in tqdm(range(len(rgb)), desc="burst: align", unit="frame", disable=not progress, dynamic_ncols=True):
        a = Alignment(np.eye(2, 3, dtype=np.float32), 1.0) if k == ref else estimate(reference, to_float(rgb[k]))
        report["alignment"].append(
            {
                "frame": names[k],
                "shift": [round(v, 2) for v in a.shift],
                "degrees": round(a.degrees, 3),
                "correlation": round(a.correlation, 4),
                "used": a.ok,
            }
        )
        if not a.ok:
            log(f"n2n: burst: {names[k]} does not align with {names[ref]} (correlation {a.correlation:.2f}): left out")
            continue
        if k == ref:
            r = len(aligned)
            pixels, inside = rgb[k], np.ones(rgb[k].shape[:2], bool)
        else:
            pixels, inside = warp(rgb[k], a)
        aligned.append(pixels)
        valid.append(inside)
    return aligned, valid, r, report


@dataclass
class Learned:
    """What the learning stage leaves: the fine-tuned network (and the checkpoint it started from),
    the input it learned from (the mean of the other frames), where that mean exists (``some``) and
    where it agrees with the reference (``mask``, the pixels learned on), and the losses."""

    net: torch.nn.Module
    ckpt: Any
    mean: np.ndarray
    some: np.ndarray
    mask: np.ndarray
    losses: list[float]


def learn(
    aligned: list[np.ndarray],
    valid: list[np.ndarray],
    r: int,
    noisy: np.ndarray,
    sigma: float,
    ckpt: Any,
    o: BurstOptions,
    progress: bool,
) -> Learned:
    """The learning stage: the reference as it was shot is the target, the mean of the other frames
    (independent noise) the input, on the pixels where the two show the same scene."""
    mean, some = others_mean(aligned, valid, r)
    mask = some & agree(mean, noisy, sigma)
    net, losses = finetune(ckpt.model, mean, aligned[r], mask, o, progress)
    return Learned(net, ckpt, mean, some, mask, losses)


def merge_learned(
    base: Any, tuned: Any, reference: np.ndarray, learned: Learned, sigma: float, noisy: np.ndarray, progress: bool
) -> np.ndarray:
    """The merging stage after learning: the reference through the original model and the mean of the
    others through the fine-tuned one, merged where they agree."""
    from tqdm import tqdm

    bar = tqdm(total=2, desc="burst: merge", unit="image", disable=not progress, dynamic_ncols=True)
    outs = [_run(base, reference)]
    bar.update()
    outs.append(_run(tuned, learned.mean))
    bar.update()
    bar.close()
    return merge(outs, [np.ones_like(learned.some), learned.some], 0, merge_tolerance(sigma), noisy)


def merge_burst(
    images: list[Image],
    names: list[str],
    o: BurstOptions | None = None,
    progress: bool = True,
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> Merged:
    """One denoised image from the frames ``images`` (decoded files, same size and type)."""
    from tqdm import tqdm

    from ..denoiser import Denoiser

    o = o or BurstOptions()
    check_frames(images, names)
    grey = images[0].pixels.ndim == 2  # grey frames go through as three equal channels
    rgb = [
        np.ascontiguousarray(cv2.cvtColor(i.pixels, cv2.COLOR_GRAY2RGB if grey else cv2.COLOR_BGR2RGB)) for i in images
    ]
    ref = o.reference if o.reference is not None else int(np.argmax([sharpness(to_float(f)) for f in rgb]))
    if not 0 <= ref < len(images):
        raise ValueError(f"--reference {ref}: the burst has frames 0-{len(images) - 1}")
    choice = pick(preprocess(images[ref].pixels))
    sigma = choice.noise.sigma
    t0 = time.perf_counter()
    noisy = to_float(rgb[ref])  # the reference as shot, in float: aligned to, compared with, merged against
    aligned, valid, r, report = align_frames(rgb, noisy, names, ref, progress, log)
    stages = {"align": time.perf_counter() - t0}
    model_name = o.model or (None if o.weights else choice.model)
    report.update(
        model=model_name or Path(o.weights).stem, reason=choice.reason if not (o.model or o.weights) else None
    )
    if len(aligned) == 1:
        log(f"n2n: burst: only {names[ref]} is usable: it is denoised alone")
    base = Denoiser.from_config(dataclasses.replace(o.denoising(), model=model_name))
    t0 = time.perf_counter()
    if len(aligned) > 1 and o.steps:
        learned = learn(aligned, valid, r, noisy, sigma, load_checkpoint(o.weights, model_name), o, progress)
        stages["learn"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        merged = merge_learned(base, _tuned(o, learned.net, learned.ckpt), aligned[r], learned, sigma, noisy, progress)
        method, losses, mask = "fine-tuned on the burst, merged", learned.losses, learned.mask
    else:
        outs = [
            _run(base, p)
            for p in tqdm(aligned, desc="burst: merge", unit="frame", disable=not progress, dynamic_ncols=True)
        ]
        merged = merge(outs, valid, r, merge_tolerance(sigma), noisy)
        method = "denoised frames, merged" if len(aligned) > 1 else "reference frame denoised alone"
        losses, mask = [], None
    stages["merge"] = time.perf_counter() - t0
    report.update(
        method=method,
        stage_seconds={k: round(v, 2) for k, v in stages.items()},
        frames_used=len(aligned),
        steps=o.steps if losses else 0,
        first_loss=losses[0] if losses else None,
        last_loss=losses[-1] if losses else None,
        mask_fraction=round(float(mask.mean()), 4) if mask is not None else None,
    )
    chw = merged.transpose(2, 0, 1)[None]
    pixels = postprocess(chw.mean(axis=1, keepdims=True) if grey else chw, images[ref].pixels.dtype.type)
    return Merged(Image(pixels, images[ref].alpha, {"model": report["model"]}, images[ref].colour), report)
