"""The one optimisation loop: Adam steps of a loss over drawn batches, with a learning-rate schedule,
gradient clipping, a divergence check and a progress bar. Training (``loop.py``), ``--adapt``
(``adapt.py``) and ``n2n burst`` (``bursts/merge.py``) all step through it, so they step, report and
fail the same way."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch


def adam(model: torch.nn.Module, lr: float, fused: bool = False) -> torch.optim.Adam:
    """Adam as the paper sets it (appendix A.1: betas 0.9/0.99, eps 1e-8)."""
    return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99), eps=1e-8, fused=fused)


def fit(
    model: torch.nn.Module,
    batches: Callable[[], Any],
    loss_fn: Callable[[torch.nn.Module, Any, int], torch.Tensor],
    steps: int,
    lr: float,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    lr_at: Callable[[int], float] | None = None,
    clip_grad: float = 0.0,
    start: int = 0,
    after_step: Callable[[int, torch.Tensor, torch.Tensor, Any], bool] | None = None,
    watch: bool = True,
    desc: str = "fine-tune",
    unit: str = "step",
    hint: str = "try a lower learning rate",
    progress: bool = True,
) -> list[float]:
    """Steps ``start`` .. ``steps - 1`` of ``loss_fn(model, batches(), step)``; returns the losses.

    ``optimizer``: the optimiser to step (default: ``adam(model, lr)``); ``lr_at(step)`` sets its
    learning rate before each step; ``clip_grad`` > 0 clips the gradient's total norm. After each
    step ``after_step(steps_done, loss, grad_norm, bar)`` (both detached, left on the device) may
    return True to stop; ``batches()`` raising StopIteration stops too. With ``watch`` (the default)
    a loss or weight that stops being finite is a ``ValueError`` that says so, at which step, and
    ``hint`` (what to change), never a broken model; without it nothing waits for the device inside
    the loop, and the losses are not kept (a long run on a GPU)."""
    from tqdm import tqdm

    opt = optimizer or adam(model, lr)
    params = [p for g in opt.param_groups for p in g["params"]]
    losses: list[torch.Tensor] = []
    bar = tqdm(total=steps, initial=start, desc=desc, unit=unit, disable=not progress, dynamic_ncols=True)
    for step in range(start, steps):
        if lr_at is not None:
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
        try:
            batch = batches()
        except StopIteration:
            break
        loss = loss_fn(model, batch, step)
        if watch and not torch.isfinite(loss):
            bar.close()
            raise ValueError(
                f"{desc} diverged at step {step + 1} of {steps} (the loss became {float(loss.detach())}): {hint} "
                f"(this run: {lr:g})"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, clip_grad if clip_grad > 0 else math.inf)
        opt.step()
        if watch:
            losses.append(loss.detach())
        bar.update(1)
        if after_step is not None and after_step(step + 1, loss.detach(), norm.detach(), bar):
            break
    bar.close()
    if watch and not all(torch.isfinite(p).all() for p in model.parameters()):
        raise ValueError(f"{desc} diverged (the weights became NaN): {hint} (this run: {lr:g})")
    return [float(v) for v in losses]
