"""Weights I/O: our safetensors format (config inside), legacy ``.pt`` state_dicts, the registry.

Our format is one ``.safetensors`` file whose metadata holds ``n2n_config``: a JSON object with the
model config (``arch``, channels), the noise the model was trained for and a training summary, so
loading needs no flags. Legacy ``.pt`` files (e.g. the public ``noise2noise-pytorch`` checkpoints)
are plain state_dicts loaded with ``torch.load(weights_only=True)``: a pickle that would run code is
refused, never executed.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import torch
from torch import nn

from .atomic import replacing
from .config import ARCHS, ModelConfig
from .model import build_model

FORMAT_VERSION = 1


class WeightsError(ValueError):
    """A checkpoint that cannot be used; the message is one line for the user."""


@dataclass
class Checkpoint:
    """A loaded model with the metadata it was saved with."""

    model: nn.Module
    config: ModelConfig
    meta: dict = field(default_factory=dict)  # noise, training summary, ...
    path: str = ""


# ---- the registry of shipped models ----------------------------------------------------------

# name -> file inside the package's weights/ folder. The first entry is the default model.
REGISTRY: dict[str, str] = {
    "n2n-gaussian": "unet-gaussian-n2n.safetensors",
    "n2c-gaussian": "unet-gaussian-n2c.safetensors",
    "n2n-photo": "unet-photo-n2n.safetensors",
    "n2c-photo": "unet-photo-n2c.safetensors",
    "n2n-phone": "unet-phone-n2n.safetensors",
}
# what each is for (`n2n info --models`, `--help`); n2c-* are the clean-target twins, for comparison
PURPOSE: dict[str, str] = {
    "n2n-gaussian": "white Gaussian noise, sigma 0-50 (the card's evaluation); noisy targets",
    "n2c-gaussian": "the same, trained with clean targets (the Noise2Noise baseline)",
    "n2n-photo": "real photographs: camera noise (shot + read, demosaiced, JPEG) and Gaussian; noisy targets",
    "n2c-photo": "the same, trained with clean targets (the Noise2Noise baseline)",
    "n2n-phone": "phone photos in low light: phone noise (phone.py) with camera and Gaussian noise; noisy targets",
}
DEFAULT_MODEL = "n2n-gaussian"


def registry_path(name: str) -> Path:
    if name not in REGISTRY:
        raise WeightsError(f"unknown model {name!r}; shipped models: {', '.join(REGISTRY)}")
    p = Path(str(resources.files("noise2noise") / "weights" / REGISTRY[name]))
    if not p.is_file():
        raise WeightsError(f"model {name!r} is not shipped in this installation ({p.name} missing); pass --weights")
    return p


def available_models() -> list[str]:
    return [n for n in REGISTRY if (Path(str(resources.files("noise2noise") / "weights")) / REGISTRY[n]).is_file()]


def resolve(weights: str | os.PathLike | None = None, model: str | None = None) -> Path:
    """The checkpoint to use: the ``weights`` file if given, else the shipped ``model`` (default:
    the default model). Giving both is an error rather than a silent choice."""
    if weights is not None and model is not None:
        raise WeightsError("give a weights file or a shipped model name, not both")
    return Path(weights) if weights is not None else registry_path(model or DEFAULT_MODEL)


# ---- saving and loading ----------------------------------------------------------------------


def save_weights(path: str | os.PathLike, model: nn.Module, config: ModelConfig, meta: dict | None = None) -> None:
    """Write ``model`` as safetensors with its config in the header (atomically)."""
    from safetensors.torch import save_file

    p = Path(path)
    header = {"format": FORMAT_VERSION, "model": config.to_dict(), **(meta or {})}
    state = {k: v.detach().float().contiguous().cpu() for k, v in model.state_dict().items()}
    with replacing(p) as tmp:
        save_file(state, str(tmp), metadata={"n2n_config": json.dumps(header)})


def _load_state(path: Path) -> tuple[dict[str, torch.Tensor], dict | None]:
    if not path.is_file():
        raise WeightsError(f"{path}: no such checkpoint file")
    if path.stat().st_size == 0:
        raise WeightsError(f"{path}: empty checkpoint file")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                state = {k: f.get_tensor(k) for k in f.keys()}
        except (SafetensorError, OSError, ValueError) as e:
            raise WeightsError(f"{path}: not a valid safetensors file ({str(e).splitlines()[0]})") from None
        return state, _header(path, meta.get("n2n_config"))
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:2] != b"PK" and magic[:1] != b"\x80":  # neither torch's zip format nor a pickle
        raise WeightsError(f"{path}: not a PyTorch checkpoint (neither a zip archive nor a pickle)")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise WeightsError(
            f"{path}: refused: this pickle would run code or hold objects other than tensors ({first[:160]})"
        ) from None
    except Exception as e:  # zip/format errors from torch
        raise WeightsError(f"{path}: not a readable PyTorch checkpoint ({str(e).splitlines()[0][:160]})") from None
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"{path}: not a state_dict (expected a mapping of parameter names to tensors)")
    return obj, None


def _header(path: Path, text: str | None) -> dict | None:
    """The ``n2n_config`` metadata, checked: JSON with a model config, in a format we can read."""
    if text is None:
        return None
    try:
        header = json.loads(text)
    except json.JSONDecodeError as e:
        raise WeightsError(f"{path}: the n2n_config metadata is not valid JSON ({e.msg})") from None
    if not isinstance(header, dict) or not isinstance(header.get("model"), dict):
        raise WeightsError(f"{path}: the n2n_config metadata has no model config")
    version = header.get("format", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise WeightsError(
            f"{path}: weights format {version!r} is newer than this noise2noise reads ({FORMAT_VERSION}); upgrade it"
        )
    return header


def guess_arch(state: dict[str, torch.Tensor]) -> str | None:
    if "_block1.0.weight" in state:
        return "unet-compact"
    if "enc_conv0.weight" in state:
        return "unet"
    return None


def describe_mismatch(model: nn.Module, state: dict[str, torch.Tensor]) -> str:
    """One line naming the missing/unexpected keys and differing shapes."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    shapes = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and state[k].shape != v.shape
    ]
    parts = []
    for label, items in (("missing", missing), ("unexpected", extra), ("shape (file vs model)", shapes)):
        if items:
            more = f" (+{len(items) - 3} more)" if len(items) > 3 else ""
            parts.append(f"{label}: {', '.join(items[:3])}{more}")
    return "; ".join(parts)


def load_weights(path: str | os.PathLike, arch: str | None = None) -> Checkpoint:
    """Load our safetensors or a legacy state_dict ``.pt``; ``arch`` is needed only when the file
    carries no config and its key names do not tell."""
    p = Path(path)
    state, header = _load_state(p)
    if header is not None:
        try:
            config = ModelConfig.from_dict(header["model"])
        except (TypeError, ValueError) as e:
            raise WeightsError(f"{p}: bad model config in the file ({e})") from None
        if arch is not None and arch != config.arch:
            raise WeightsError(f"{p}: holds a {config.arch!r} model, not {arch!r}")
        meta = {k: v for k, v in header.items() if k not in ("model", "format")}
    else:
        arch = arch or guess_arch(state)
        if arch is None:
            raise WeightsError(f"{p}: cannot tell the architecture from the keys; pass --arch ({'|'.join(ARCHS)})")
        if arch not in ARCHS:
            raise WeightsError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
        first = state.get("_block1.0.weight" if arch == "unet-compact" else "enc_conv0.weight")
        last = state.get("_block6.4.weight" if arch == "unet-compact" else "dec_conv1c.weight")
        cin = int(first.shape[1]) if first is not None and first.ndim == 4 else 3
        cout = int(last.shape[0]) if last is not None and last.ndim == 4 else 3
        config = ModelConfig(arch, cin, cout)  # type: ignore[arg-type]
        meta = {"source": "legacy state_dict"}
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise WeightsError(f"{p}: holds NaN or infinite values (e.g. {bad[0]}): the weights are broken")
    model = build_model(config)
    problem = describe_mismatch(model, state)
    if problem:
        raise WeightsError(f"{p}: does not fit the {config.arch!r} architecture: {problem}")
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    model.eval()
    return Checkpoint(model, config, meta, str(p))


def load_checkpoint(
    weights: str | os.PathLike | None = None, model: str | None = None, arch: str | None = None
) -> Checkpoint:
    """``load_weights`` of a file, or of a shipped model (the default model when neither is given)."""
    return load_weights(resolve(weights, model), arch=arch)


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
