"""Training losses (Lehtinen et al. 2018), per pixel, masked to the target's valid pixels.

* ``l2``: the Noise2Noise loss: its optimum is the expected target, so zero-mean target noise
  averages out (section 2);
* ``l1``: the median-seeking loss for noise with a median at the clean value (section 3.2, text);
* ``l0``: ``(|f(x) - y| + eps)^gamma`` with gamma annealed from 2 to 0, the mode-seeking loss for
  random-valued impulse noise (section 3.3);
* ``hdr``: relative L2 with the denominator detached, for Monte Carlo renderings (section 3.4).
"""

from __future__ import annotations

import torch

from ..config import LOSSES, check_choice


def loss_fn(name: str, out: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, progress: float) -> torch.Tensor:
    """Mean loss over the pixels where ``mask`` is 1; ``progress`` in [0, 1] anneals ``l0``."""
    check_choice("loss", name, LOSSES)
    diff = out - target
    if name == "l2":
        per = diff**2
    elif name == "l1":
        per = diff.abs()
    elif name == "l0":
        gamma = 2.0 * (1.0 - progress)
        per = (diff.abs() + 1e-8) ** gamma
    else:
        per = diff**2 / (out.detach() + 0.01) ** 2
    mask = mask.expand_as(per)
    return (per * mask).sum() / mask.sum().clamp_min(1.0)
