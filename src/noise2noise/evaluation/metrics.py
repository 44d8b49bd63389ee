"""Image quality metrics, per image (no hidden averaging over a batch).

* ``psnr``: ``10 log10(peak^2 / MSE)`` over all pixels and channels.
* ``ssim``: Wang et al. 2004 with the MATLAB-compatible settings that
  ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255, channel_axis=-1)`` uses: an 11x11 Gaussian window
  (sigma 1.5, truncated at 3.5 sigma), reflect borders, the border of half a window left out of the
  mean, and the mean over channels.
"""

from __future__ import annotations

import numpy as np


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """PSNR in dB between two arrays of the same shape; ``inf`` when they are equal."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0, sigma: float = 1.5) -> float:
    """Mean SSIM of two HW or HWC images (channels last), averaged over channels."""
    from scipy.ndimage import gaussian_filter

    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    x = np.asarray(a, np.float64)
    y = np.asarray(b, np.float64)
    if x.ndim == 2:
        x, y = x[..., None], y[..., None]
    truncate = 3.5
    pad = int(truncate * sigma + 0.5)  # (win_size - 1) // 2 with win_size = 11
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    scores = []
    for c in range(x.shape[2]):
        xc, yc = x[..., c], y[..., c]

        def f(z: np.ndarray) -> np.ndarray:
            return gaussian_filter(z, sigma, mode="reflect", truncate=truncate)

        ux, uy = f(xc), f(yc)
        vx = f(xc * xc) - ux * ux
        vy = f(yc * yc) - uy * uy
        vxy = f(xc * yc) - ux * uy
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        crop = s[pad:-pad, pad:-pad] if s.shape[0] > 2 * pad and s.shape[1] > 2 * pad else s
        scores.append(float(crop.mean()))
    return float(np.mean(scores))
