"""Evaluation: the protocol of ``n2n eval`` (``core``: noisy inputs, methods, tables), the metrics
(PSNR, SSIM; ``fid`` for FID), and the figures it writes (``montage``)."""

from .core import evaluate

__all__ = ["evaluate"]
