"""Typed, validated configs and the one list of each kind of choice.

Everything a user chooses by name (architectures, noises, losses, backends, precisions, ...) is
listed here once; the library validates against these lists and the CLI builds its ``choices``
and its ``n2n train`` / ``n2n export`` options from them and from the configs' fields, whose
``help`` metadata is the only copy of each option's help text. This module imports nothing of
ours and nothing heavy, so every layer may use it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

# ---- the lists of choices ---------------------------------------------------------------------

ARCHS: tuple[str, ...] = ("unet", "unet-compact")  # paper U-Net (Table 2) | reference card's compact net
NOISE_KINDS: tuple[str, ...] = ("gaussian", "poisson", "bernoulli", "impulse", "text", "camera", "phone", "none")
# noisy = Noise2Noise; clean = the supervised baseline; self = Neighbor2Neighbor from single noisy images
TARGETS: tuple[str, ...] = ("noisy", "clean", "self")
LOSSES: tuple[str, ...] = ("l2", "l1", "l0", "hdr")
TRAIN_PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")
RUNTIMES: tuple[str, ...] = ("torch", "onnxruntime", "openvino")
BACKENDS: tuple[str, ...] = ("auto", *RUNTIMES)
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "fp16", "bf16", "int8")  # inference
EXPORT_FORMATS: tuple[str, ...] = ("onnx", "openvino")
EXPORT_PRECISIONS: tuple[str, ...] = ("fp32", "fp16", "bf16", "int8")
INT8_METHODS: tuple[str, ...] = ("kl", "minmax", "percentile", "nncf")
PROTOCOLS: tuple[str, ...] = ("float", "uint8")
EVAL_METHODS: tuple[str, ...] = ("model", "noisy", "nlm", "bm3d", "wavelet", "wavelet-visu")
EVAL_PRESETS: tuple[str, ...] = ("card",)
LOADERS: tuple[str, ...] = ("auto", "cpu", "device")
BENCH_CONFIGS: tuple[str, ...] = (
    "torch-fp32",
    "torch-fp32-cl",
    "onnxruntime-fp32",
    "openvino-fp32",
    "openvino-bf16",
    "openvino-int8",
    "auto-profile",  # not a network: the noise analysis by which the auto model chooses (noise/profile.py)
)


DEVICE = re.compile(r"^(cpu|mps|(cuda|xpu)(:\d+)?)$")


def check_device(device: str) -> None:
    """A torch device name: cpu, cuda, cuda:N, xpu, xpu:N or mps (``--device``)."""
    if not isinstance(device, str) or not DEVICE.match(device):
        raise ValueError(f"--device must be cpu, cuda, cuda:N, xpu, xpu:N or mps; got {device!r}")


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def option(default: Any = None, help: str = "", *, factory: Any = None, **cli: Any) -> Any:
    """A dataclass field whose metadata carries its help text (and CLI extras such as ``choices``)."""
    meta = {"help": help, **cli}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


# ---- model --------------------------------------------------------------------------------------

Arch = Literal["unet", "unet-compact"]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a denoiser. ``in_channels``/``out_channels``: 3 for RGB, 1 for grey."""

    arch: Arch = "unet"
    in_channels: int = 3
    out_channels: int = 3

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"unknown architecture {self.arch!r}; choose one of {', '.join(ARCHS)}")
        for name in ("in_channels", "out_channels"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        return cls(**{k: d[k] for k in ("arch", "in_channels", "out_channels") if k in d})


# ---- noise --------------------------------------------------------------------------------------

Kind = Literal["gaussian", "poisson", "bernoulli", "impulse", "text", "camera", "phone", "none"]
CAMERA_GAINS = (1.0, 120.0)  # `camera` alone: Brooks et al.'s range of shot noise (camera.py)
PHONE_GAINS = (3.0, 200.0)  # `phone` alone: ISO x low-light digital gain of a phone sensor (phone.py)
NOISE_LIMITS = {
    "gaussian": (0.0, 255.0),
    "poisson": (0.0, 1e6),
    "bernoulli": (0.0, 1.0),
    "impulse": (0.0, 1.0),
    "text": (0.0, 0.95),
    "camera": (0.1, 1000.0),  # analog gain relative to base ISO
    "phone": (0.1, 1000.0),  # gain relative to a phone's base ISO
    "none": (0.0, 0.0),  # the images are noisy already (training from single noisy photos)
}


@dataclass(frozen=True)
class NoiseConfig:
    """A noise model and its parameter (fixed when ``low == high``, else sampled per image)."""

    kind: Kind = "gaussian"
    low: float = 25.0
    high: float = 25.0

    def __post_init__(self) -> None:
        if self.kind not in NOISE_KINDS:
            raise ValueError(f"unknown noise {self.kind!r}; choose one of {', '.join(NOISE_KINDS)}")
        lo, hi = NOISE_LIMITS[self.kind]
        if not (lo <= self.low <= self.high <= hi):
            raise ValueError(
                f"{self.kind} parameter must satisfy {lo:g} <= low <= high <= {hi:g}, got {self.low:g}-{self.high:g}"
            )
        if self.kind == "poisson" and self.low <= 0 and self.high <= 0:
            raise ValueError("poisson lambda must be > 0")

    @classmethod
    def parse(cls, spec: str) -> NoiseConfig:
        """Parse ``kind:value`` or ``kind:low-high`` (e.g. ``gaussian:25``, ``gaussian:0-50``);
        ``camera`` alone is ``camera:1-120``, ``phone`` alone ``phone:3-200``."""
        if spec.strip() == "camera":
            return cls("camera", *CAMERA_GAINS)
        if spec.strip() == "phone":
            return cls("phone", *PHONE_GAINS)
        if spec.strip() in ("none", "none:0"):
            return cls("none", 0.0, 0.0)
        kind, sep, value = spec.strip().partition(":")
        if not sep or not value:
            raise ValueError(f"noise must look like KIND:VALUE or KIND:LOW-HIGH (e.g. gaussian:25), got {spec!r}")
        try:
            parts = [float(v) for v in value.split("-")] if not value.startswith("-") else [float(value)]
        except ValueError:
            raise ValueError(f"noise parameter must be a number or LOW-HIGH, got {value!r}") from None
        if len(parts) == 1:
            parts *= 2
        if len(parts) != 2:
            raise ValueError(f"noise parameter must be a number or LOW-HIGH, got {value!r}")
        return cls(kind, parts[0], parts[1])  # type: ignore[arg-type]

    def __str__(self) -> str:
        v = f"{self.low:g}" if self.low == self.high else f"{self.low:g}-{self.high:g}"
        return f"{self.kind}:{v}"

    @property
    def fixed(self) -> bool:
        return self.low == self.high

    def sample_param(self, rng: Any) -> float:
        """The parameter for one image: fixed, or uniform in ``[low, high]`` from ``rng`` (numpy)."""
        return self.low if self.fixed else float(rng.uniform(self.low, self.high))


def parse_noise_mix(spec: str) -> list[tuple[NoiseConfig, float]]:
    """``KIND:V[@W],KIND:V[@W],...``: a mixture, one noise per training crop drawn with weight W
    (default 1), e.g. ``camera:1-120@0.6,gaussian:0-50@0.4``; a single spec is a mixture of one."""
    parts = []
    for item in spec.split(","):
        noise, _, weight = item.strip().partition("@")
        try:
            w = float(weight) if weight else 1.0
        except ValueError:
            raise ValueError(f"noise weight must be a number, got {weight!r} in {spec!r}") from None
        if w <= 0:
            raise ValueError(f"noise weights must be positive, got {w:g} in {spec!r}")
        parts.append((NoiseConfig.parse(noise), w))
    total = sum(w for _, w in parts)
    return [(n, w / total) for n, w in parts]


def parse_noise_list(spec: str) -> list[NoiseConfig]:
    """``KIND:V,KIND:V,...``: noises scored one by one (e.g. validation at several levels,
    ``gaussian:5,gaussian:25,gaussian:50``); a single spec is a list of one."""
    noises = [NoiseConfig.parse(item) for item in spec.split(",")]
    if len({str(n) for n in noises}) != len(noises):
        raise ValueError(f"the same noise is listed twice in {spec!r}")
    return noises


def draw_noise(mix: list[tuple[NoiseConfig, float]], rng) -> NoiseConfig:
    """One noise of a ``parse_noise_mix`` mixture, drawn by weight from ``rng`` (numpy); a mixture
    of one takes nothing from ``rng``."""
    if len(mix) == 1:
        return mix[0][0]
    return mix[int(rng.choice(len(mix), p=[w for _, w in mix]))][0]


# ---- training -----------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """Every option of a run; written to ``config.json`` in the run folder. The ``help`` metadata
    is what ``n2n train --help`` prints."""

    data: list[str] = option(help="folders (or files) of training images", factory=list, nargs="+")
    pairs: str | None = option(None, "folder with noisy/ and clean/: real pairs, clean targets")
    scenes: str | None = option(None, "folder of scene folders with two or more noisy captures each")
    out: str = option("runs/default", "run folder (running the same command again resumes from its state.pt)")
    arch: str = option("unet", "architecture", choices=ARCHS)
    noise: str = option(
        "gaussian:0-50",
        "training noise, KIND:VALUE or KIND:LOW-HIGH (a range is sampled per crop); a mixture: camera@0.6,gaussian:0-50@0.4",
    )
    target: str = option(
        "noisy",
        "noisy = Noise2Noise; clean = the supervised baseline; self = Neighbor2Neighbor from single noisy images",
        choices=TARGETS,
    )
    loss: str = option("l2", "l2 | l1 | l0 (gamma annealed 2 -> 0) | hdr", choices=LOSSES)
    iterations: int = option(20000, "training steps")
    batch: int = option(16, "crops per step (per process under torchrun)")
    crop: int = option(64, "crop size in pixels, a multiple of 32")
    lr: float = option(1e-3, "Adam learning rate (betas 0.9, 0.99; eps 1e-8: the paper's appendix A.1)")
    clip_grad: float = option(
        0.1,
        "clip the gradient's total norm at this value before each step (0 = off; log.csv logs the norm either way); "
        "0.1 keeps training stable, bf16 included, at no measured cost (docs/lab/self-supervised.md)",
    )
    rampdown: float = option(0.3, "last fraction of the run on the paper's cosine ramp-down")
    rampup: float = option(0.0, "first fraction of the run on a linear warm-up")
    input_quantize: float = option(
        0.0, "probability that a training input is clipped and rounded to 8 bits like a file"
    )
    val: list[str] | None = option(None, "validation folders (default: held-out training images)", nargs="+")
    val_count: int = option(8, "held-out training images for validation when --val is not given")
    val_noise: str = option(
        "gaussian:25",
        "noise of the validation images; several, comma-separated (gaussian:5,gaussian:25,gaussian:50), are each "
        "scored and the run keeps the weights best on their mean, so a break at one level is not hidden by the others",
    )
    val_every: int = option(500, "validate every N steps")
    ckpt_every: int = option(250, "checkpoint (resumable state + latest.safetensors) every N steps")
    keep_every: int = option(
        0, "also keep snapshots/step-N.safetensors at checkpoints that are multiples of N (0 = off)"
    )
    seed: int = option(0, "seed of the initial weights and of every sample (0 is a seed)")
    workers: int = option(1, "DataLoader worker processes (0 = in the training process)")
    precision: str = option(
        "auto", "autocast precision; auto = bf16 only where the CPU has it", choices=TRAIN_PRECISIONS
    )
    channels_last: bool = option(True, "channels_last memory format", flag="--no-channels-last")
    device: str = option("cpu", "torch device (cuda for a GPU)")
    loader: str = option(
        "auto",
        "where batches are made: device = crops and noise drawn on --device (GPU-resident images; gaussian, poisson, "
        "none); cpu = a DataLoader; auto = device on cuda where the noise allows",
        choices=LOADERS,
    )
    compile: bool = option(False, "torch.compile the network (worth it on a GPU, after a minute of compiling)")
    max_minutes: float | None = option(None, "stop (with a checkpoint) after this wall time; resumable")
    gamma: float = option(2.0, "--target self: weight of Neighbor2Neighbor's regulariser, reached linearly by the end")
    ne2ne_swap: bool = option(
        True,
        "--target self: also train each step's swapped sub-image pair (2x the sub-images, one full forward; "
        "--no-ne2ne-swap: the paper's one direction)",
        both=True,
    )
    pd: int = option(
        1, "--target self: pixel-shuffle stride before sub-sampling (2+ for spatially correlated real noise)"
    )
    init: str | None = option(
        None, "start from these weights (same architecture) instead of random ones; ignored on resume"
    )
    ema: float = option(
        0.0,
        "decay of an exponential moving average of the weights (e.g. 0.999; 0 = off); when on, the average is validated and saved",
    )

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ARCHS)
        check_choice("target", self.target, TARGETS)
        check_choice("loss", self.loss, LOSSES)
        check_choice("precision", self.precision, TRAIN_PRECISIONS)
        check_choice("loader", self.loader, LOADERS)
        check_device(self.device)
        if self.pairs and self.scenes:
            raise ValueError("give either pairs or scenes, not both")
        for k in ("iterations", "batch", "crop", "val_every", "ckpt_every"):
            if getattr(self, k) < 1:
                raise ValueError(f"{k} must be >= 1")
        if self.keep_every < 0 or self.clip_grad < 0:
            raise ValueError("keep_every and clip_grad must be >= 0")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {self.ema}")
        if self.crop % 32:
            raise ValueError(f"crop must be a multiple of 32, got {self.crop}")
        if self.pd < 1 or self.gamma < 0:
            raise ValueError("pd must be >= 1 and gamma >= 0")
        if self.target == "self" and self.crop % (64 * self.pd):
            raise ValueError(
                f"--target self needs a crop that is a multiple of 64 x pd = {64 * self.pd}, got {self.crop}"
            )
        parse_noise_mix(self.noise), parse_noise_list(self.val_noise)

    def to_dict(self) -> dict:
        return asdict(self)


# ---- export -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportConfig:
    """What ``noise2noise.export`` writes; the ``help`` metadata is what ``n2n export --help`` prints."""

    out: str = option(None, "output file (.onnx or .xml)", short="-o", required=True)
    weights: str | None = option(None, "checkpoint (default: the shipped model)")
    model: str | None = option(None, "shipped model name")
    arch: str | None = option(None, "architecture of a legacy .pt", choices=ARCHS)
    format: str | None = option(None, "default: from the output's suffix", choices=EXPORT_FORMATS)
    precision: str = option("fp32", "precision of the exported model", choices=EXPORT_PRECISIONS)
    method: str = option("kl", "int8 calibration", choices=INT8_METHODS)
    calib: str | None = option(None, "folder of clean images; noisy versions are made with the model's noise")
    calib_count: int = option(16, "calibration images, 256x256 centre crops")
    calib_noise: str | None = option(None, "noise for calibration (default: the model's training noise)")
    max_drop: float = option(
        0.05,
        "int8: keep the most sensitive layers float until the PSNR drop is at most this (dB), "
        "with the calibration noise and with the probe noise alike",
    )
    probe_noise: str = option(
        "gaussian:2", "int8: a second noise the drop is checked at (low noise, where int8 costs most)"
    )
    equalize: bool = option(
        True,
        "int8, the paper's U-Net: even out the channel ranges of each activation on the calibration crops "
        "first (the same function; --no-equalize: as exported before)",
        both=True,
    )
    check_image: str | None = option(
        None, "image for the post-export check (default: the first calibration image, else a synthetic one)"
    )

    def __post_init__(self) -> None:
        if not self.out:
            raise ValueError("export needs an output file (.onnx or .xml)")
        if self.format is not None:
            check_choice("format", self.format, EXPORT_FORMATS)
        check_choice("precision", self.precision, EXPORT_PRECISIONS)
        check_choice("method", self.method, INT8_METHODS)
        if Path(self.out).is_dir():
            raise ValueError(f"{self.out}: is a folder; give the file to write (.onnx or .xml)")
        fmt, suffix = self.resolved_format, Path(self.out).suffix
        if suffix != (".onnx" if fmt == "onnx" else ".xml"):
            raise ValueError(f"{self.out}: an {fmt} export needs the suffix {'.onnx' if fmt == 'onnx' else '.xml'}")
        if self.precision == "int8" and self.method == "nncf" and fmt != "openvino":
            raise ValueError("int8 with nncf writes OpenVINO IR: use -o NAME.xml")
        if self.precision == "bf16" and fmt != "openvino":
            raise ValueError("bf16 is an OpenVINO inference precision: use -o NAME.xml")
        if self.precision == "int8" and not self.calib:
            raise ValueError("int8 needs --calib FOLDER (clean images; the model's noise is added)")
        if self.calib_count < 1:
            raise ValueError("calib_count must be >= 1")
        if self.calib_noise:
            NoiseConfig.parse(self.calib_noise)

    @property
    def resolved_format(self) -> str:
        return self.format or ("openvino" if Path(self.out).suffix == ".xml" else "onnx")
