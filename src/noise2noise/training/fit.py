"""The one fine-tuning loop: Adam on a loss over drawn batches, with a divergence check and a progress
bar. ``--adapt`` (``adapt.py``) and ``n2n burst`` (``bursts/merge.py``) both fine-tune through it, so
they step, report and fail the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


def fit(
    model: torch.nn.Module,
    batches: Callable[[], Any],
    loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor],
    steps: int,
    lr: float,
    *,
    desc: str = "fine-tune",
    hint: str = "try a lower learning rate",
    progress: bool = True,
) -> list[float]:
    """``steps`` Adam steps (the paper's betas 0.9/0.99, eps 1e-8) of ``loss_fn(model, batches())``;
    returns the losses. A loss or weight that stops being finite is a ``ValueError`` that says so,
    at which step, and ``hint`` (what to change), never a broken model."""
    from tqdm import tqdm

    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99), eps=1e-8)
    losses = []
    for step in tqdm(range(steps), desc=desc, unit="step", disable=not progress, dynamic_ncols=True):
        loss = loss_fn(model, batches())
        if not torch.isfinite(loss):
            raise ValueError(
                f"{desc} diverged at step {step + 1} of {steps} (the loss became {float(loss.detach())}): {hint} "
                f"(this run: {lr:g})"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise ValueError(f"{desc} diverged (the weights became NaN): {hint} (this run: {lr:g})")
    return losses
