"""Noise models: float in, float out, randomness only from a passed ``numpy.random.Generator``.

Images are float32 arrays in [0, 1], shape ``HWC`` (or ``HW``). Every function returns
``(noisy, valid)`` where ``valid`` is ``None`` or a float32 ``HW1`` mask of the pixels that carry
signal (Bernoulli dropout); training multiplies the loss by the *target's* mask.

Conventions (Lehtinen et al. 2018, section 3 and the NVlabs code):

* ``gaussian:S`` -- additive N(0, S/255), S in 0..255 units. **Never clipped**: the L2 argument of
  Noise2Noise needs zero-mean target noise, and clipping to [0, 1] makes it biased near black/white.
* ``poisson:L`` -- ``poisson(L * x) / L``, the NVlabs ``poisson(L*(x+0.5))/L - 0.5`` moved from the
  [-0.5, 0.5] to the [0, 1] convention; variance ``x / L``.
* ``bernoulli:P`` -- each pixel dropped (set to 0) with probability P; the mask marks kept pixels.
* ``impulse:P`` -- each pixel replaced with probability P by a uniformly random colour.
* ``camera:G`` / ``camera:LO-HI`` / ``camera`` (= ``camera:1-120``) -- a camera's noise at analog
  gain G: shot + read noise in linear raw, then demosaicing, white balance, colour matrix, gamma
  and tone curve (``camera``, after Brooks et al. 2019), JPEG half the time.
* ``phone:G`` / ``phone:LO-HI`` / ``phone`` (= ``phone:3-200``) -- a smartphone's low-light noise at
  gain G: the camera pipeline at a phone pixel's noise levels, then the phone's own noise reduction
  (luma and chroma), sharpening and JPEG (``phone.py``): strong, coloured, correlated over 2-6 pixels.
* ``isp:G`` / ``isp:LO-HI`` / ``isp`` -- the same phone sensor through a *nonlinear* image processor
  (edge-aware demosaicing, bilateral or non-local-means noise reduction, curves that bend the noise; ``isp.py``),
  first a held-out check of how the models carry over, now part of ``n2n-phone``'s training mix.
* ``rawphone:G`` / ``rawphone:LO-HI`` / ``rawphone`` -- the same phone sensor developed plainly: demosaicing,
  white balance, colour matrix and tone curve, no noise reduction, sharpening or JPEG (``phone.plain``), as
  a raw converter with its noise reduction off or SIDD's rendering makes it: strong, coloured, nearly white
  between neighbours, as real low-light phone photos read. First a held-out check, now 20% of ``n2n-phone``'s last run.
* ``text:P`` -- random strings in random sizes, colours and positions until a fraction P of the
  pixels is covered. The Hershey fonts ship inside OpenCV, so nothing depends on system fonts.

A parameter is fixed (``gaussian:25``) or a range sampled uniformly per image
(``gaussian:0-50``, the paper's "blind" training).
"""

from __future__ import annotations

import numpy as np

from ..config import NOISE_KINDS, NoiseConfig
from . import camera, isp, phone

__all__ = [
    "NOISE_KINDS",
    "NoiseConfig",
    "add_noise",
    "bernoulli",
    "camera_params",
    "isp_params",
    "rawphone_params",
    "phone_params",
    "gaussian",
    "impulse",
    "poisson",
    "text",
]
CAMERA_JPEG = 0.5  # probability that a camera-noise image is also JPEG-compressed (quality 60-95)


def gaussian(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian noise, ``sigma`` in 0..255 units, unclipped."""
    # Drawn in 255 units then scaled, so `rng.normal(0, sigma, shape)` is the documented noise.
    return (x + rng.normal(0.0, sigma, x.shape) / 255.0).astype(np.float32)


def poisson(x: np.ndarray, lam: float, rng: np.random.Generator) -> np.ndarray:
    """Poisson (shot) noise with ``lam`` photons at white; mean ``x``, variance ``x / lam``."""
    lam = max(lam, 1e-3)
    return (rng.poisson(lam * np.clip(x, 0.0, None)) / lam).astype(np.float32)


def bernoulli(x: np.ndarray, p: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Multiplicative pixel dropout: each pixel is zeroed with probability ``p``."""
    keep = (rng.random(x.shape[:2]) >= p).astype(np.float32)[..., None]
    noisy = x * (keep if x.ndim == 3 else keep[..., 0])
    return noisy.astype(np.float32), keep


def impulse(x: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """Random-valued impulse noise: a pixel is replaced with probability ``p`` by a random colour."""
    hit = rng.random(x.shape[:2]) < p
    out = x.copy()
    out[hit] = rng.random((int(hit.sum()),) + x.shape[2:]).astype(np.float32)
    return out.astype(np.float32)


def text(x: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """Overlay random strings until about a fraction ``p`` of the pixels is covered."""
    import cv2

    h, w = x.shape[:2]
    out = np.ascontiguousarray(x, dtype=np.float32).copy()
    if p <= 0:
        return out
    covered = np.zeros((h, w), np.uint8)
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 "))
    target = p * h * w
    for _ in range(10_000):  # bounded: stops long before on any image of a few pixels or more
        if covered.sum() >= target:
            break
        layer = np.zeros((h, w), np.uint8)
        s = "".join(rng.choice(alphabet, size=int(rng.integers(3, 12))))
        scale = float(rng.uniform(0.3, 1.5)) * max(min(h, w), 16) / 128
        org = (int(rng.integers(-w // 4, w)), int(rng.integers(0, h + h // 4)))
        thick = int(rng.integers(1, 3))
        cv2.putText(layer, s, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick, cv2.LINE_8)
        m = layer > 0
        if not m.any():
            continue
        colour = rng.random(x.shape[2:] if x.ndim == 3 else ()).astype(np.float32)
        out[m] = colour
        covered |= m
    return out


def camera_params(cfg: NoiseConfig, rng: np.random.Generator) -> camera.CameraParams:
    """A random camera for ``camera:LO-HI`` (the gain log-uniform in the range; JPEG half the time)."""
    return camera.CameraParams.sample(rng, max(cfg.low, 0.1), max(cfg.high, 0.1), jpeg=CAMERA_JPEG)


def phone_params(cfg: NoiseConfig, rng: np.random.Generator) -> phone.PhoneParams:
    """A random phone and exposure for ``phone:LO-HI`` (the gain log-uniform in the range)."""
    return phone.PhoneParams.sample(rng, max(cfg.low, 0.1), max(cfg.high, 0.1))


def isp_params(cfg: NoiseConfig, rng: np.random.Generator) -> isp.IspParams:
    """A random phone, exposure and processor setting for ``isp:LO-HI``."""
    return isp.IspParams.sample(rng, max(cfg.low, 0.1), max(cfg.high, 0.1))


def rawphone_params(cfg: NoiseConfig, rng: np.random.Generator) -> phone.PhoneParams:
    """A random phone and exposure for ``rawphone:LO-HI``, developed without the phone's processing."""
    return phone.plain(phone_params(cfg, rng))


# noises made by a camera pipeline: (parameters for a spec, apply). A Noise2Noise pair shares the parameters
# (one camera, one exposure) and draws the noise twice; ``apply(..., compress=False)`` skips the JPEG.
PIPELINES = {
    "camera": (camera_params, camera.apply),
    "phone": (phone_params, phone.apply),
    "isp": (isp_params, isp.apply),
    "rawphone": (rawphone_params, phone.apply),
}


def add_noise(x: np.ndarray, cfg: NoiseConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """Corrupt ``x`` (float32 [0, 1], HWC or HW) with ``cfg``; return ``(noisy, valid_mask_or_None)``."""
    if cfg.kind in PIPELINES:
        params, apply = PIPELINES[cfg.kind]
        return apply(x, params(cfg, rng), rng), None
    if cfg.kind == "none":
        return np.array(x, np.float32), None
    p = cfg.sample_param(rng)
    if cfg.kind == "gaussian":
        return gaussian(x, p, rng), None
    if cfg.kind == "poisson":
        return poisson(x, p, rng), None
    if cfg.kind == "bernoulli":
        return bernoulli(x, p, rng)
    if cfg.kind == "impulse":
        return impulse(x, p, rng), None
    return text(x, p, rng), None
