"""Self-distillation: train on a frozen model's geometric self-ensemble of each input.

``n2n denoise --ensemble 8`` is +0.13 dB over one run of ``n2n-gaussian`` (Kodak24, sigma 25) at 8x
the time. With ``n2n train --init W --distill 8`` the targets are that ensemble (``ensemble.py``)
of ``W`` on each training input, so the student is trained towards the average of its teacher's
eight views in one run. No clean image is needed: the teacher was trained on noisy targets and
sees only the noisy input. Each step costs one teacher forward per view on top of the step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .ensemble import VIEWS, check_views
from .weights import load_weights


def view(x: torch.Tensor, k: int) -> torch.Tensor:
    """View ``k`` of an ``NxCxHxW`` tensor: ``ensemble.view`` for tensors."""
    turns, flip = VIEWS[k]
    y = torch.rot90(x, turns, dims=(-2, -1))
    return torch.flip(y, dims=(-1,)) if flip else y


def unview(y: torch.Tensor, k: int) -> torch.Tensor:
    """The inverse of ``view(., k)``."""
    turns, flip = VIEWS[k]
    y = torch.flip(y, dims=(-1,)) if flip else y
    return torch.rot90(y, -turns, dims=(-2, -1))


@torch.no_grad()
def ensemble_targets(run: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, n: int) -> torch.Tensor:
    """The mean (fp32) of ``run`` over the first ``n`` views of ``x``, each turned back."""
    check_views(n, "--distill")
    acc = torch.zeros(x.shape, dtype=torch.float32, device=x.device)
    for k in range(n):
        acc += unview(run(view(x, k)).float(), k)
    return acc / n


class Teacher:
    """A frozen copy of the weights at ``path`` that makes ``views``-view ensemble targets."""

    def __init__(self, path: str, views: int, device: str = "cpu", channels_last: bool = True) -> None:
        check_views(views, "--distill")
        model = load_weights(path).model.to(device).requires_grad_(False).eval()
        self.model = model.to(memory_format=torch.channels_last) if channels_last else model
        self.views = views

    def __call__(
        self, x: torch.Tensor, autocast: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        """Targets for the batch ``x``; ``autocast(module, x)`` runs a module as the student is run."""
        return ensemble_targets(lambda v: autocast(self.model, v), x, self.views)
