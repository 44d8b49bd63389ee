"""Model size: parameters, and MACs/FLOPs counted by ``torch.utils.flop_counter``.

Convention: ``flops = 2 * macs``: one multiply-accumulate of a convolution is two floating-point
operations, as ``torch.utils.flop_counter`` counts them. Only convolutions (and transposed
convolutions, counted at their *input* resolution, i.e. the MACs actually performed) are counted;
activations, pooling, upsampling and concatenation are not (they are < 0.2% of the total).
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .model import ModelConfig, build_model, count_params


def parse_shape(text: str) -> tuple[int, int, int]:
    """``3x256x256`` -> (3, 256, 256)."""
    try:
        c, h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"shape must look like CxHxW (e.g. 3x256x256), got {text!r}") from None
    if min(c, h, w) < 1:
        raise ValueError(f"shape must be positive, got {text!r}")
    return c, h, w


def model_info(model: nn.Module, shape: tuple[int, int, int] = (3, 256, 256)) -> dict:
    """Parameters, MACs and FLOPs of one forward pass on a ``1 x shape`` input (padded to 32).

    The pass runs on PyTorch's ``meta`` device: shapes only, no memory for activations and no
    arithmetic, so any size is instant."""
    c, h, w = shape
    first = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    if c != first.in_channels:
        raise ValueError(f"this model takes {first.in_channels} channels; use --shape {first.in_channels}x{h}x{w}")
    hp, wp = h + (-h) % 32, w + (-w) % 32
    ghost = copy.deepcopy(model).to("meta").eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        ghost(torch.empty(1, c, hp, wp, device="meta"))
    flops = int(counter.get_total_flops())
    return {
        "params": count_params(model),
        "macs": flops // 2,
        "flops": flops,
        "shape": [c, h, w],
        "padded_shape": [c, hp, wp],
        "convention": "flops = 2 * macs; convolutions only (torch.utils.flop_counter)",
    }


def arch_info(arch: str, shape: tuple[int, int, int] = (3, 256, 256)) -> dict:
    return {"arch": arch, **model_info(build_model(ModelConfig(arch, shape[0], shape[0])), shape)}  # type: ignore[arg-type]
