"""The noise of the images being denoised, as a model that draws more of it: what a check of a denoiser
needs when the noise is not white (``training/sure.py``).

Read from noisy crops ``y`` on the blocks where a denoised estimate ``d`` of them (the model that is
about to be adapted) is nearest a plane, in two ways that bracket the noise: ``y`` less its own plane
(the texture left in those blocks reads as noise: too much) and ``y - d`` (the slow part of
correlated noise that a denoiser leaves in ``d`` is missed: too little). Each reads:

* **level with brightness**: the noise variance of each channel in a few brightness bands (shot
  noise grows with the light, a tone curve reshapes it), read on the flattest blocks of each band
  and interpolated between them;
* **between channels**: the 3x3 correlation of the noise once divided by its level (a phone's chroma
  noise reduction leaves nearly all of it in luma; white noise has none);
* **between neighbours**: the power spectrum of each decorrelated component over a block, from which
  a zero-phase filter turns white noise into noise of the same correlation (demosaicing, in-camera
  denoising and sharpening, JPEG: over 2-6 pixels).

``NoiseModel.sample`` draws noise of that covariance at the brightness of a given image. Nothing is
fitted to a clean image.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

BLOCK = 16  # side of the blocks read (and of the correlation filter's support)
BANDS = 6  # brightness bands the level is read in
FLAT_SHARE = 0.5  # the flatter half of each band's blocks is read (fewer: more of the noise that the estimate keeps chooses them)
MIN_BLOCKS = 4  # blocks a band needs to be read on its own (fewer: merged into its neighbour)


@dataclass(frozen=True)
class NoiseModel:
    """Noise of a level that depends on brightness, correlated between channels and neighbours."""

    brightness: np.ndarray  # BANDS' centres (mean of the denoised block over channels), increasing
    variance: np.ndarray  # bands x C: the noise variance of each channel at each band's brightness
    basis: np.ndarray  # C x C: the channels' correlation's eigenvectors (columns)
    scale: np.ndarray  # C: the square roots of its eigenvalues
    filters: np.ndarray  # C x (BLOCK - 1) x (BLOCK - 1): each component's zero-phase correlation filter

    def level(self, d: torch.Tensor) -> torch.Tensor:
        """The noise's standard deviation at each pixel of the denoised ``d`` (``N x C x H x W``)."""
        b = d.mean(dim=1, keepdim=True).clamp(0, 1)
        b = F.avg_pool2d(F.pad(b, (2, 2, 2, 2), mode="replicate"), 5, stride=1)
        flat = b.flatten().cpu().numpy().astype(np.float64)
        sd = np.stack([np.sqrt(np.interp(flat, self.brightness, v)) for v in self.variance.T])
        return torch.from_numpy(sd.astype(np.float32)).reshape(d.shape[1], d.shape[0], *d.shape[2:]).transpose(0, 1)

    def sample(self, d: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Noise of this model at the brightness of ``d`` (``N x C x H x W``), drawn from ``generator``."""
        n, c, h, w = d.shape
        white = torch.randn((n, c, h, w), generator=generator)
        k = torch.from_numpy(self.filters.astype(np.float32))[:, None]
        pad = k.shape[-1] // 2
        comp = F.conv2d(F.pad(white, (pad,) * 4, mode="circular"), k, groups=c)
        mix = torch.from_numpy((self.basis * self.scale[None, :]).astype(np.float32))
        unit = torch.einsum("ck,nkhw->nchw", mix, comp)
        return (unit * self.level(d)).to(d.device, d.dtype)

    def as_dict(self) -> dict:
        corr = self.basis @ np.diag(self.scale**2) @ self.basis.T
        centre = self.filters.shape[-1] // 2
        # the correlation between horizontal neighbours, per component (a delta filter: 0)
        f = self.filters
        neighbour = (f[:, :, 1:] * f[:, :, :-1]).sum(axis=(1, 2)) / (f**2).sum(axis=(1, 2)).clip(1e-20)
        return {
            "sigma_255": [round(float(s) * 255, 2) for s in np.sqrt(self.variance.mean(axis=1))],
            "brightness": [round(float(b), 3) for b in self.brightness],
            "channel_correlation": [round(float(x), 3) for x in corr[np.triu_indices(len(corr), 1)]],
            "neighbour_correlation": [round(float(x), 3) for x in neighbour],
            "filter_centre": [round(float(x), 3) for x in f[:, centre, centre]],
        }


def _blocks(x: torch.Tensor) -> torch.Tensor:
    """``N x C x H x W`` -> ``M x C x BLOCK x BLOCK`` (whole blocks only)."""
    n, c, h, w = x.shape
    h, w = h // BLOCK * BLOCK, w // BLOCK * BLOCK
    x = x[..., :h, :w].reshape(n, c, h // BLOCK, BLOCK, w // BLOCK, BLOCK)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(-1, c, BLOCK, BLOCK)


def _off_plane(b: np.ndarray) -> np.ndarray:
    """Each block less its least-squares plane (``M x C x B x B``)."""
    ramp = np.arange(BLOCK) - (BLOCK - 1) / 2
    yy, xx = ramp[:, None] + 0 * ramp, 0 * ramp[:, None] + ramp
    b = b - b.mean(axis=(2, 3), keepdims=True)
    for r in (yy, xx):
        b = b - (b * r).sum(axis=(2, 3), keepdims=True) / (r * r).sum() * r
    return b


def estimate(y: torch.Tensor, d: torch.Tensor, reading: str = "plane") -> NoiseModel:
    """The noise of the noisy ``y`` given its denoised estimate ``d`` (both ``N x C x H x W`` in [0, 1],
    sides at least ``BLOCK``), read on the flatter blocks of ``d`` as ``y`` less its plane
    (``reading="plane"``: texture left there reads as noise, so an upper reading) or as ``y - d``
    (``"residual"``: the slow part of the noise that ``d`` keeps is missed, so a lower reading).
    Blocks with clipped pixels (``y`` at 0 or 1) are read only when too few others are left."""
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
    yb, db = _blocks(y.float().cpu()), _blocks(d.float().cpu())
    if len(yb) == 0:
        raise ValueError(f"crops of at least {BLOCK}x{BLOCK} pixels are needed to read the noise")
    # the noise on the blocks where the denoised estimate is nearest a plane: each block of ``y`` less its
    # plane (3 of the block's B*B degrees of freedom), or ``y - d`` (a denoiser leaves the slow part of
    # correlated noise in ``d``, so that level reads low)
    if reading == "plane":
        r = _off_plane(yb.double().numpy()) * np.sqrt(BLOCK * BLOCK / (BLOCK * BLOCK - 3))
    else:
        r = (yb - db).double().numpy()
    c = r.shape[1]
    clipped = ((yb <= 0) | (yb >= 1)).flatten(1).any(dim=1).numpy()
    ok = ~clipped if (~clipped).sum() >= BANDS * MIN_BLOCKS / FLAT_SHARE else np.ones(len(r), bool)
    dn = db.double().numpy()
    bright = dn.mean(axis=(1, 2, 3))
    texture = (_off_plane(dn) ** 2).mean(axis=(1, 2, 3))
    idx = np.flatnonzero(ok)
    edges = np.quantile(bright[idx], np.linspace(0, 1, BANDS + 1))
    band = np.clip(np.searchsorted(edges, bright[idx], side="right") - 1, 0, BANDS - 1)
    centres, variances, chosen = [], [], []
    for b in range(BANDS):
        mine = idx[band == b]
        if len(mine) < MIN_BLOCKS:
            continue
        flat = mine[np.argsort(texture[mine], kind="stable")[: max(MIN_BLOCKS, int(len(mine) * FLAT_SHARE))]]
        centres.append(bright[flat].mean())
        variances.append((r[flat] ** 2).mean(axis=(0, 2, 3)))
        chosen.append(flat)
    if not chosen:  # too few blocks for bands: one level from the flattest of all
        flat = idx[np.argsort(texture[idx], kind="stable")[: max(1, int(len(idx) * FLAT_SHARE))]]
        centres, variances, chosen = [bright[flat].mean()], [(r[flat] ** 2).mean(axis=(0, 2, 3))], [flat]
    order = np.argsort(centres)
    brightness = np.asarray(centres)[order]
    variance = np.maximum(np.asarray(variances)[order], 1e-12)
    keep = np.concatenate(chosen)
    # the noise divided by its level: its correlation between channels and neighbours
    level = np.sqrt(np.stack([np.interp(bright[keep], brightness, v) for v in variance.T], axis=1))
    unit = r[keep] / level[:, :, None, None]
    corr = np.einsum("mchw,mdhw->cd", unit, unit) / (len(unit) * BLOCK * BLOCK)
    eig, basis = np.linalg.eigh(corr)
    eig = eig.clip(1e-6 * eig.max())
    comp = np.einsum("ck,mchw->mkhw", basis, unit)
    # each component's power spectrum over a block, tapered (a Hann window) so that the strong slow part
    # of correlated noise does not leak into the fine scales
    read = _spectrum(comp)
    if reading == "residual":
        return NoiseModel(brightness, variance, basis, np.sqrt(eig), _filters(read))
    # A block less its plane keeps less of the slow part of correlated noise than there is (in level
    # and in spectrum): the reading is corrected by reading noise of the model's own spectrum the same
    # way, twice over (a fixed point; white noise needs no correction)
    power, loss = read, np.ones(c)
    for i in range(CORRECTIONS):
        filters = _filters(power)
        sim = _simulate(filters, np.random.default_rng(i))
        loss = (sim**2).mean(axis=(0, 2, 3))
        power = (power * read / _spectrum(sim).clip(1e-6)).clip(1e-6)
    filters = _filters(power)
    # the level lost with the plane, per channel: the components' losses mixed back by the basis
    variance = variance / ((basis**2) @ (eig * loss) / eig.sum() * c)[None, :].clip(0.5, 1)
    return NoiseModel(brightness, variance, basis, np.sqrt(eig), filters)


def bracket(y: torch.Tensor, d: torch.Tensor) -> list[NoiseModel]:
    """The two readings of ``estimate``, upper (``"plane"``) then lower (``"residual"``: ``y - d``, with
    ``d`` the model as it was before any adapting). The lower's level is held at most at the upper's in
    every band: ``y - d`` above ``y`` less its plane means that ``d`` took picture out with the noise (a
    model far from a denoiser), which no noise reading is. Not the adapted model's residual, though
    it misses less of the noise: read that way, the check accepted a model trained on SURE that had
    lost 1.0 dB (docs/lab/adapt.md)."""
    upper = estimate(y, d, "plane")
    lower = estimate(y, d, "residual")
    # both read on the same blocks and bands (``d`` chose them), so the levels compare band by band
    lower = replace(lower, variance=np.minimum(lower.variance, upper.variance))
    return [upper, lower]


READINGS = ("plane", "residual")
CORRECTIONS = 2
SIMULATED = 1024  # blocks of each component read to correct the reading


def _spectrum(comp: np.ndarray) -> np.ndarray:
    """The power spectrum of each component over a block (``M x C x B x B`` -> ``C x B x B``), as
    read: tapered (a Hann window) so that the strong slow part of correlated noise does not leak into
    the fine scales, in units of the blocks' variance (mean over frequencies: the variance)."""
    taper = np.outer(*(2 * [np.hanning(BLOCK + 2)[1:-1]]))
    return (np.abs(np.fft.fft2(comp * taper)) ** 2).mean(axis=0) / (taper**2).sum()


def _filters(power: np.ndarray) -> np.ndarray:
    """Zero-phase filters of unit energy turning white noise into noise of spectrum ``power``."""
    f = np.fft.fftshift(np.real(np.fft.ifft2(np.sqrt(power))), axes=(1, 2))[:, 1:, 1:]
    return f / np.sqrt((f**2).sum(axis=(1, 2), keepdims=True)).clip(1e-20)


def _simulate(filters: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance noise of each component's filter, in blocks, each less its plane as read."""
    c, side = len(filters), 4 * BLOCK
    white = torch.from_numpy(rng.standard_normal((SIMULATED // 16, c, side, side)).astype(np.float32))
    k = torch.from_numpy(filters.astype(np.float32))[:, None]
    pad = k.shape[-1] // 2
    noise = F.conv2d(F.pad(white, (pad,) * 4, mode="circular"), k, groups=c)
    return _off_plane(_blocks(noise).double().numpy()) * np.sqrt(BLOCK * BLOCK / (BLOCK * BLOCK - 3))
