"""Noise: what corrupts the training pairs and the benchmarks' inputs, and what the noise of an image is.

``synthetic`` draws every kind ``--noise`` names (Gaussian, Poisson, Bernoulli, impulse, text, and the
two pipelines below); ``camera`` and ``phone`` are a raw camera's and a phone's noise written from
the physics; ``profile`` measures an image's noise without a clean reference (what ``auto`` chooses on)."""

from .synthetic import add_noise

__all__ = ["add_noise"]
