"""Which of a model's own training noises the images being denoised hold: the noise of pseudo-pairs
for adapting a model to them (``adapt.py``, ``loss="pseudo"``).

No noise model is fitted to the noisy images: noises are drawn from the mixture the model was
trained on (its ``meta["noise"]``: kind, gain, the phone's processing, all as in training), each is
put on a clean estimate of the images (the model's own output) and measured exactly as the noisy
images are (``profile.profile``: level, correlation between neighbours and between channels, change
with brightness). The draws whose figures lie nearest the images' are kept. The estimator's own
biases (texture read as noise, the flattest blocks' choice) then act alike on both sides of the
comparison, which a direct reading of the noise cannot offer (``estimate.py`` brackets it instead,
and both of its readings were 15-25% low on phone noise: docs/lab/adapt.md).

The figures read at the finest scales (``profile`` reads 3x3 and 5x5 differences) tell little of
the slow part of correlated noise, the part a denoiser finds hardest to remove: a processed phone
photo with strong noise smoothed over several pixels and one with weak, barely smoothed noise can
read alike there. So the images are read a second time at half size (each 2x2 block averaged), and
the share of the level that survives the averaging (``coarse``: 0.5 for white noise, 1 for noise
shared by the four pixels) is a fifth figure. The level is the one figure a draw can be given
exactly (``Draw.scaled``), so the draws are ranked by the other four first; the nearest
``2 * keep`` have their level set to the images' and are measured again, and the ``keep`` nearest
on all five are kept.

The distance weighs each figure by about the scatter of its reading on a few dozen 128x128 crops
(``SCALES``): a tenth of the level (in log), 0.05 of the neighbour ratio, 0.1 of the channel
correlation, a tenth of the brightness ratio and of the coarse share (both in log).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..config import NOISE_LIMITS, NoiseConfig, draw_noise
from .profile import NoiseProfile, profile
from .synthetic import PIPELINES, add_noise

CANDIDATES = 96  # draws from the model's mixture measured against the images
KEEP = 8  # nearest draws kept
SCALES = {"sigma": 0.1, "spatial": 0.05, "channels": 0.1, "brightness": 0.1, "coarse": 0.1}


@dataclass(frozen=True)
class Reading:
    """What the matching compares: the noise profile at full size and the share of its level left at
    half size."""

    profile: NoiseProfile
    coarse: float  # the level of the 2x2-averaged image over the level of the image itself


def read(x: np.ndarray) -> Reading:
    """``x`` (C x H x W in [0, 1]) measured at full and at half size."""
    c, h, w = x.shape
    half = x[:, : h // 2 * 2, : w // 2 * 2].reshape(c, h // 2, 2, w // 2, 2).mean(axis=(2, 4))
    p, q = profile(x), profile(half)
    return Reading(p, q.sigma / p.sigma if p.sigma > 0 else 1.0)


@dataclass(frozen=True)
class Draw:
    """One noise of a mixture with its parameters fixed (a camera or phone and its exposure, or a
    Gaussian's sigma): ``apply`` draws fresh noise of it each call."""

    kind: str
    params: Any  # the pipeline's parameters, or the one parameter of a simple noise

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``x`` (HWC float32 in [0, 1]) with this noise on it."""
        if self.kind in PIPELINES:
            return PIPELINES[self.kind][1](x, self.params, rng)
        return add_noise(x, NoiseConfig(self.kind, self.params, self.params), rng)[0]  # type: ignore[arg-type]

    def scaled(self, f: float) -> Draw:
        """The same noise with its standard deviation times ``f`` (a sensor's shot and read variances
        times ``f**2``: exact before the pipeline's nonlinear steps, near enough after them)."""
        if self.kind not in PIPELINES:
            return Draw(self.kind, float(np.clip(self.params * f, 0.0, NOISE_LIMITS[self.kind][1])))
        cam = getattr(self.params, "cam", self.params)
        cam = replace(cam, shot=cam.shot * f * f, read=cam.read * f * f)
        return Draw(self.kind, replace(self.params, cam=cam) if hasattr(self.params, "cam") else cam)

    def describe(self) -> str:
        if self.kind in PIPELINES:
            cam = getattr(self.params, "cam", self.params)
            return f"{self.kind} (shot {cam.shot:.2e}, read {cam.read:.2e})"
        return f"{self.kind}:{self.params:.3g}"


def draw(mix: list[tuple[NoiseConfig, float]], rng: np.random.Generator) -> Draw:
    """One draw of a ``parse_noise_mix`` mixture, its parameters fixed."""
    cfg = draw_noise(mix, rng)
    if cfg.kind in PIPELINES:
        return Draw(cfg.kind, PIPELINES[cfg.kind][0](cfg, rng))
    return Draw(cfg.kind, cfg.sample_param(rng))


def _ratio(u: float, v: float) -> float:
    return float(np.log(max(u, 1e-6) / max(v, 1e-6)))


def distance(a: NoiseProfile | Reading, b: NoiseProfile | Reading, level: bool = True) -> float:
    """How far two noise readings are apart, each figure in units of its reading's scatter (the coarse
    share only where both are ``Reading``s; the level left out with ``level=False``)."""
    pa, pb = (r.profile if isinstance(r, Reading) else r for r in (a, b))
    terms = [
        (pa.spatial - pb.spatial) / SCALES["spatial"],
        (pa.channels - pb.channels) / SCALES["channels"],
        _ratio(pa.brightness, pb.brightness) / SCALES["brightness"],
    ]
    if level:
        terms.append(_ratio(pa.sigma, pb.sigma) / SCALES["sigma"])
    if isinstance(a, Reading) and isinstance(b, Reading):
        terms.append(_ratio(a.coarse, b.coarse) / SCALES["coarse"])
    return float(np.sqrt(sum(t * t for t in terms)))


def match(
    noisy: np.ndarray,
    estimate: np.ndarray,
    mix: list[tuple[NoiseConfig, float]],
    rng: np.random.Generator,
    candidates: int = CANDIDATES,
    keep: int = KEEP,
) -> list[tuple[Draw, float]]:
    """The ``keep`` draws of ``mix`` whose noise, put on ``estimate`` (HWC float32, a denoised version of
    ``noisy``), reads nearest to ``noisy``'s own; with their distances, nearest first. The draws are
    ranked by the figures other than the level first; the nearest ``2 * keep`` get the images' level
    (``Draw.scaled``) and are ranked on all figures."""
    target = read(noisy.transpose(2, 0, 1))

    def measured(d: Draw) -> tuple[Draw, Reading]:
        return d, read(np.clip(d.apply(estimate, rng), 0, 1).transpose(2, 0, 1))

    drawn = [measured(draw(mix, rng)) for _ in range(candidates)]
    shaped = sorted(drawn, key=lambda t: distance(t[1], target, level=False))[: 2 * keep]
    kept = []
    for d, r in shaped:
        if r.profile.sigma > 0 and target.profile.sigma > 0:
            d2, r2 = measured(d.scaled(target.profile.sigma / r.profile.sigma))
            d, r = (d2, r2) if distance(r2, target) < distance(r, target) else (d, r)
        kept.append((d, distance(r, target)))
    return sorted(kept, key=lambda t: t[1])[:keep]
