"""Frechet Inception Distance, offline only: the feature network is a TorchScript file the user
provides (e.g. the ``pt_inception-2015-12-05`` feature extractor used by common FID tools).
Nothing is downloaded; without the file FID is not computed.

FID = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))  (Heusel et al. 2017, eq. 6).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    from scipy.linalg import sqrtm

    covmean = sqrtm(s1.dot(s2))
    if not np.isfinite(covmean).all():  # near-singular product: regularise the diagonal
        eps = np.eye(s1.shape[0]) * 1e-6
        covmean = sqrtm((s1 + eps).dot(s2 + eps))
    covmean = np.real(covmean)
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


class FeatureNet:
    """A TorchScript feature extractor: ``1x3x299x299`` float in [0, 255] -> ``1xD`` features."""

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(
                f"{p}: no such Inception feature file (FID needs a local TorchScript file; nothing is downloaded)"
            )
        import torch

        try:
            self.net = torch.jit.load(str(p), map_location="cpu").eval()
        except Exception as e:
            raise ValueError(f"{p}: not a TorchScript model ({str(e).splitlines()[0][:120]})") from None

    def __call__(self, rgb_u8: np.ndarray) -> np.ndarray:
        import cv2
        import torch

        x = cv2.resize(rgb_u8, (299, 299), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        with torch.inference_mode():
            f = self.net(torch.from_numpy(x.transpose(2, 0, 1)[None].copy()))
        return np.asarray(f, np.float64).reshape(-1)


def fid_from_features(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    fa, fb = np.stack(a), np.stack(b)
    if len(fa) < 2:
        raise ValueError("FID needs at least two images")
    return frechet_distance(fa.mean(0), np.cov(fa, rowvar=False), fb.mean(0), np.cov(fb, rowvar=False))
