"""What kind of noise an image holds, measured from the image alone (no clean reference, no network).

Synthetic white Gaussian noise and a camera's noise differ in three physical ways:

* **between neighbouring pixels**: white noise is independent from pixel to pixel; a camera's
  noise is interpolated by demosaicing (each output pixel mixes several sensor samples), smoothed
  by the camera's own noise reduction and shaped by JPEG, so neighbours share part of it;
* **between colour channels**: white noise is drawn per channel; a Bayer sensor measures one
  colour per pixel, and demosaicing, the colour matrix and chroma denoising spread each sample's
  noise over all three channels;
* **with brightness**: white noise has one level everywhere; sensor noise is shot noise (variance
  proportional to the light) plus read noise, reshaped by the tone curve.

No network runs: a few filter passes over the image, a small share of one network run.

The measurement (``profile``): per channel, the residual of Immerkaer's Laplacian-difference kernel
(which removes every planar patch of the signal) at stride 1 and at stride 2 (the kernel dilated).
For white noise both give the noise level; noise correlated between neighbours has less energy at
the finest scale, so ``spatial = sigma_1 / sigma_2`` falls below 1. ``channels`` is the largest
correlation (absolute) between the stride-1 residuals of two colour channels: 0 for noise drawn per
channel. Both are read on the flattest tenth of the 16x16 blocks (least stride-2 energy: least
signal), leaving out blocks that touch the clipping limits (where noise strong enough to clip nearly
everywhere leaves too few, the least clipped quarter). ``brightness``
compares the noise level of the darker and brighter halves of those blocks.

The choice (``choose``): the Gaussian model only when the noise is white in all three respects,
the phone model for noise that is not white, strong, and either only mildly correlated between
neighbours or nearly all in luma (``HEAVY_SIGMA``, ``PHONE_SPATIAL``, ``PHONE_CHANNELS``: a phone's processed low-light photo),
within what the estimate's own scatter and the signal that leaks into flat blocks allow
(``WHITE_*``); anything else (a camera's noise, a clean or nearly clean photo whose flattest blocks
still hold texture) is treated as a photograph. The margins are physical, not fitted to a test
set: on white noise the figures sit at 1.0 / 0.0 / 1.0 up to about a tenth (the channel margin
widens with the estimate's standard error on small images), while demosaiced noise halves its
finest-scale energy and correlates the channels by 0.3 or more. Where the noise is much
weaker than the texture of the flattest blocks (white noise of sigma 2-3 on a detailed photo), the
figures read the texture, not the noise, and the photograph model is chosen (docs: the table of
``benchmarks/auto_oracle.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

BLOCK = 16  # side of the blocks the statistics are read on
FLAT_FRACTION = 0.1  # share of the (usable) blocks kept: the flattest
MAX_BLOCKS = 4096  # at most this many blocks are measured (spread evenly): a bounded cost on large images
# White noise measured on flat blocks: spatial ratio >= WHITE_SPATIAL (midway between white noise, 1.0,
# and demosaiced camera noise, 0.3-0.6 through the camera pipeline of ``camera.py``, leaving room for the
# texture that lowers it on detailed photos at low noise); channel correlation (absolute) <= WHITE_CHANNELS
# plus four standard errors of a correlation read on the blocks' samples (1 / sqrt(N)); brightness ratio
# within [1 / WHITE_BRIGHTNESS, WHITE_BRIGHTNESS].
WHITE_SPATIAL = 0.75
WHITE_CHANNELS = 0.12
WHITE_BRIGHTNESS = 1.35
# Below half a grey level of an 8-bit file (8-bit rounding alone gives 0.29) there is no noise to speak of
NO_NOISE = 0.5 / 255
GAUSSIAN, PHOTO, PHONE = "n2n-gaussian", "n2n-photo", "n2n-phone"
# The phone model (trained on a phone's low-light noise, ``phone.py``) takes camera-like noise that is
# not weak (the flat blocks' stride-2 sigma at least HEAVY_SIGMA) and carries a phone's processing in
# one of two ways: no more correlated between neighbours than gradient-corrected demosaicing,
# sharpening and binning leave it (spatial at least PHONE_SPATIAL; a raw mosaic demosaiced bilinearly
# and left alone, ``camera.py``, reads 0.30-0.44; real phone photos measured near-white between
# neighbours, residual correlation 0.07-0.17), or nearly all in luma (channel correlation at least
# PHONE_CHANNELS: a phone's chroma noise reduction leaves the same noise in R, G and B, where a raw
# camera's demosaiced noise keeps its own colour, 0.3-0.95). It also takes any noise stronger than
# BEYOND_CAMERA, whatever its shape: past the levels of the photo model's camera gains (1-120 read
# at most 33.5/255 on the training photographs), where the phone model (gains up to 200) is ahead.
# Spatial above MAX_SPATIAL is finer than any noise (white noise reads 1.0): pixel-level texture or
# aliasing, left to the photo model. Weaker noise goes to the photo model: PolyU's DSLR JPEGs read
# sigma 0.1-2.0/255. The thresholds come from 1,344 noisy versions of 64 training photographs (40
# CBSD432, 24 ImageNet500; camera gains 2-120, phone gains 4-200, isp and rawphone gains 8-100,
# Gaussian sigma 2-10, clean), every model run on each, chosen on the camera and phone-like rows
# where the loss against the best model is least without adding to it on camera noise
# (``benchmarks/auto_oracle.py``, ``benchmarks/auto_thresholds.py``; docs/lab/phone.md). The search's
# PHONE_SPATIAL of 0.425 was not taken: its gain there was small (0.005 dB) and it sent more camera
# noise to the phone model on the test photographs.
HEAVY_SIGMA = 4.0 / 255
PHONE_SPATIAL = 0.45
PHONE_CHANNELS = 0.97
MAX_SPATIAL = 1.5
BEYOND_CAMERA = 34.0 / 255

# Immerkaer (1996): [[1, -2, 1], [-2, 4, -2], [1, -2, 1]], whose output has variance 36 sigma^2 on white noise
_K = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
_K2 = np.zeros((5, 5), np.float32)
_K2[::2, ::2] = _K  # the same kernel on every other pixel


@dataclass(frozen=True)
class NoiseProfile:
    """The figures the choice is made on (``sigma`` in [0, 1] units; the rest are ratios)."""

    sigma: float  # noise level on the flat blocks (stride-2 estimate, averaged over channels)
    spatial: float  # sigma at stride 1 / sigma at stride 2: 1 for white noise, lower when neighbours share noise
    channels: float  # largest |correlation| of the noise between two colour channels (0 for grey images)
    brightness: float  # sigma of the brighter half of the flat blocks / of the darker half
    blocks: int  # flat blocks the figures were read on

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


MARGIN = 2  # pixels around a block that the stride-2 kernel (5x5) reads


def _reflect(i: np.ndarray, n: int) -> np.ndarray:
    """Indices outside [0, n) mirrored as OpenCV's BORDER_REFLECT does (``fedcba|abcdefgh|hgfedcb``)."""
    i = np.abs(np.where(i < 0, i + 1, i))
    return np.where(i >= n, 2 * n - 1 - i, i)


def _patches(x: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``CxHxW`` -> ``N x C x (BLOCK + 2 MARGIN)^2``: the blocks of the grid ``rows`` x ``cols`` (block
    indices; N = len(rows) * len(cols), row-major) with their margins (borders reflected): the only
    pixels the figures read, so no full-size copy is made. Two gathers, rows then columns."""
    c = x.shape[0]
    off = np.arange(-MARGIN, BLOCK + MARGIN)
    ys = _reflect(rows[:, None] * BLOCK + off, x.shape[1]).ravel()
    xs = _reflect(cols[:, None] * BLOCK + off, x.shape[2]).ravel()
    g = np.take(np.take(x, ys, axis=1), xs, axis=2)  # C x (R S) x (K S)
    size = BLOCK + 2 * MARGIN
    g = g.reshape(c, len(rows), size, len(cols), size).transpose(1, 3, 0, 2, 4)
    return g.reshape(len(rows) * len(cols), c, size, size)


def _response(p: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The kernel's response (correlation, as ``cv2.filter2D``) at the block's pixels: ``N x C x BLOCK^2``.
    The patches are stacked into one tall image and filtered at once: at a block's own pixels the
    kernel (at most 5x5) reads only that patch and its margin."""
    n, c, size, _ = p.shape
    tall = np.ascontiguousarray(p).reshape(n * c * size, size)
    r = cv2.filter2D(tall, cv2.CV_32F, kernel, borderType=cv2.BORDER_REFLECT).reshape(n, c, size, size)
    return np.ascontiguousarray(r[:, :, MARGIN:-MARGIN, MARGIN:-MARGIN]).reshape(n, c, BLOCK * BLOCK)


def profile(x: np.ndarray) -> NoiseProfile:
    """Measure the noise of ``x``: ``CxHxW`` or ``1xCxHxW`` float in [0, 1] (C = 1 or 3; values outside
    [0, 1] are allowed, as in the unclipped float protocol). Deterministic; a few filter passes over at
    most ``MAX_BLOCKS`` blocks, so its memory is bounded whatever the image's size."""
    x = np.asarray(x)
    if x.ndim == 4:
        x = x[0]
    c, h, w = x.shape
    nb_h, nb_w = h // BLOCK, w // BLOCK
    if nb_h < 2 or nb_w < 2:  # too small to measure: no flat blocks to read
        return NoiseProfile(0.0, 1.0, 0.0, 1.0, 0)
    # blocks, spread evenly when there are more than MAX_BLOCKS
    step = max(1, int(np.ceil(np.sqrt(nb_h * nb_w / MAX_BLOCKS))))
    grid_rows, grid_cols = np.arange(0, nb_h, step), np.arange(0, nb_w, step)
    patches = _patches(x, grid_rows, grid_cols).astype(np.float32, copy=False)  # N x C x S x S
    n = len(patches)
    inner = patches[:, :, MARGIN:-MARGIN, MARGIN:-MARGIN].reshape(n, c, BLOCK * BLOCK)
    # blocks touching the clipping limits carry truncated noise
    clipped = ((inner == 0.0) | (inner == 1.0)).any(axis=1).mean(axis=1)  # at the limits exactly: cut off
    usable = clipped < 0.01
    if usable.sum() < 8:  # noise strong enough to clip nearly everywhere: the least clipped quarter of the
        # blocks (not all of them: a saturated block is flat because its noise was cut off, and reads as clean)
        usable = clipped <= np.quantile(clipped, 0.25)
    idx = np.flatnonzero(usable)
    all1 = _response(patches, _K)  # N x C x P
    all2 = _response(patches, _K2)
    # the flattest blocks: least stride-2 energy, where the signal adds least to the noise
    energy = (all2**2).mean(axis=(1, 2))
    keep = idx[np.argsort(energy[idx], kind="stable")[: max(4, int(len(idx) * FLAT_FRACTION))]]
    r1, r2 = all1[keep], all2[keep]
    v1 = (r1**2).mean(axis=(0, 2)) / 36.0  # per channel
    v2 = (r2**2).mean(axis=(0, 2)) / 36.0
    sigma = float(np.sqrt(v2.mean()))
    spatial = float(np.sqrt(v1.mean() / max(v2.mean(), 1e-20)))
    channels = 0.0
    if c == 3:
        cov = np.einsum("ncp,ndp->cd", r1, r1)
        d = np.sqrt(np.diag(cov)).clip(1e-20)
        corr = cov / d[:, None] / d[None, :]
        channels = float(np.abs(corr[np.triu_indices(3, 1)]).max())
    means = inner[keep].mean(axis=(1, 2))
    per_block = (r2**2).mean(axis=(1, 2))
    order = np.argsort(means, kind="stable")
    half = len(order) // 2
    dark, bright = per_block[order[:half]].mean(), per_block[order[half:]].mean()
    brightness = float(np.sqrt(bright / max(dark, 1e-20))) if half else 1.0
    return NoiseProfile(sigma, spatial, channels, brightness, len(keep))


def channel_limit(p: NoiseProfile) -> float:
    """The largest channel correlation still read as independent channels, given the samples read."""
    return WHITE_CHANNELS + 4.0 / np.sqrt(max(p.blocks, 1) * BLOCK * BLOCK)


def is_white(p: NoiseProfile) -> bool:
    """White noise of one level: what the Gaussian model was trained on."""
    return (
        p.spatial >= WHITE_SPATIAL
        and p.channels <= channel_limit(p)
        and 1 / WHITE_BRIGHTNESS <= p.brightness <= WHITE_BRIGHTNESS
    )


def is_phone(p: NoiseProfile) -> bool:
    """Strong noise that a phone's processing shaped: whiter between neighbours than a raw demosaic's,
    or left in luma alone by chroma noise reduction."""
    shaped = p.spatial >= PHONE_SPATIAL or p.channels >= PHONE_CHANNELS or p.sigma >= BEYOND_CAMERA
    return p.sigma >= HEAVY_SIGMA and shaped and p.spatial <= MAX_SPATIAL


def choose(p: NoiseProfile) -> tuple[str, str]:
    """The shipped model for noise of profile ``p``, and the reason in a few words."""
    if p.blocks == 0:
        return PHOTO, "too small to measure its noise: treated as a photograph"
    if p.sigma < NO_NOISE:
        return PHOTO, f"no measurable noise (sigma {p.sigma * 255:.2f}/255): treated as a photograph"
    figures = (
        f"sigma {p.sigma * 255:.1f}/255; spatial {p.spatial:.2f}, channels {p.channels:.2f}, "
        f"brightness {p.brightness:.2f}"
    )
    if is_white(p):
        return GAUSSIAN, f"white noise ({figures})"
    if is_phone(p):
        if p.spatial < PHONE_SPATIAL and p.channels < PHONE_CHANNELS:  # taken for its level alone
            return PHONE, f"very strong noise, past a camera's at any gain the photo model saw ({figures})"
        return PHONE, f"strong noise, not white, of the kind a phone leaves in low light ({figures})"
    why = [
        what
        for what, fails in (
            ("shared by neighbouring pixels", p.spatial < WHITE_SPATIAL),
            ("shared by the colour channels", p.channels > channel_limit(p)),
            ("changing with brightness", not 1 / WHITE_BRIGHTNESS <= p.brightness <= WHITE_BRIGHTNESS),
        )
        if fails
    ]
    return PHOTO, f"camera-like noise, {' and '.join(why)} ({figures})"
