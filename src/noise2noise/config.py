"""Typed, validated configs and the one list of each kind of choice.

Everything a user chooses by name (architectures, noises, losses, backends, precisions, ...) is
listed here once; the library validates against these lists and the CLI builds its ``choices``
and its ``n2n train`` / ``n2n export`` options from them and from the configs' fields, whose
``help`` metadata is the only copy of each option's help text. This module imports nothing of
ours and nothing heavy, so every layer may use it.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

# ---- the lists of choices ---------------------------------------------------------------------

ARCHS: tuple[str, ...] = ("unet", "unet-compact")  # paper U-Net (Table 2) | reference card's compact net
NOISE_KINDS: tuple[str, ...] = (
    "gaussian",
    "poisson",
    "bernoulli",
    "impulse",
    "text",
    "camera",
    "phone",
    "isp",
    "rawphone",
    "none",
)
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

Kind = Literal["gaussian", "poisson", "bernoulli", "impulse", "text", "camera", "phone", "isp", "rawphone", "none"]
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
    "isp": (0.1, 1000.0),  # the same gain, through a nonlinear image processor (isp.py)
    "rawphone": (0.1, 1000.0),  # the same gain, developed plainly: no noise reduction, sharpening or JPEG
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
        ``camera`` alone is ``camera:1-120``, ``phone`` (and ``isp``, ``rawphone``) alone ``phone:3-200``."""
        if spec.strip() == "camera":
            return cls("camera", *CAMERA_GAINS)
        if spec.strip() in ("phone", "isp", "rawphone"):
            return cls(spec.strip(), *PHONE_GAINS)  # type: ignore[arg-type]
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
    saturate: float = option(
        0.0,
        "probability that a clean training crop's colours are boosted 1-2.5x before the noise is drawn "
        "(synthetic noise on the CPU loader), so strongly coloured fine texture is not taken for noise",
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
        for k in ("input_quantize", "saturate"):
            if not 0.0 <= getattr(self, k) <= 1.0:
                raise ValueError(f"{k} is a probability in [0, 1], got {getattr(self, k)}")
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


# ---- denoising ----------------------------------------------------------------------------------

DEFAULT_OVERLAP = 192  # least overlap of two tiles, in pixels (``inference.run_tiled``)
MIN_TILE = 32  # a tile holds at least one pooling grid of the U-Net (``model.MULTIPLE``)
ENSEMBLE_VIEWS = (1, 2, 4, 8)  # flipped/rotated views a self-ensemble may average (``ensemble.py``)
MAX_PIXELS = 250_000_000  # the largest image decoded, or asked for by --resize (decompression bombs)

# the help of the options that denoising and bursts share: written once
_MODEL_HELP = {
    "weights": "checkpoint: our .safetensors, a legacy .pt state_dict, or an exported .onnx/.xml",
    "model": "a shipped model; default: auto, which picks per image from its noise (n2n-gaussian for white "
    "noise, n2n-phone for a phone's in low light, n2n-photo for other cameras'); `n2n info --models` lists them",
    "backend": "auto: OpenVINO when installed (bf16 where the CPU has it), else torch",
    "precision": "fp32 alone selects eager torch, the exact reference path; on a CPU auto runs a shipped int8 "
    "model where there is one (OpenVINO), else bf16 where native; on a GPU auto is fp16",
}


def check_views(n: int) -> None:
    """A self-ensemble's view count (``--ensemble``): one of ``ENSEMBLE_VIEWS``."""
    if n not in ENSEMBLE_VIEWS:
        raise ValueError(f"--ensemble must be one of {', '.join(map(str, ENSEMBLE_VIEWS))} (views averaged), got {n}")


def _check_int(name: str, v: Any, low: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise ValueError(f"--{name} must be a whole number >= {low}, got {v!r}")


def _check_model(weights: Any, model: Any, arch: Any = None) -> None:
    if model is not None and not isinstance(model, str):
        raise ValueError(f"--model must be a shipped model's name, got {model!r}")
    if model == "auto" and (weights is not None or arch is not None):
        raise ValueError("model 'auto' picks among the shipped models: give no weights file or --arch with it")
    if model not in (None, "auto") and weights is not None:
        raise ValueError("give a weights file or a shipped model name, not both")


# the options of how an image is fed to the model: changing them needs no new model or runtime
FEEDING = ("tile", "overlap", "resize", "strength", "ensemble")


@dataclass(frozen=True, kw_only=True)
class DenoiseConfig:
    """How images are denoised: the model, the runtime it runs on, and how an image is fed to it.

    The one home of every option of ``n2n denoise`` (and of the model options of ``eval``, ``serve``
    and ``burst``): defined here, validated here when made, and read by ``Denoiser.from_config``."""

    weights: str | None = option(None, _MODEL_HELP["weights"])
    model: str | None = option(None, _MODEL_HELP["model"])
    arch: str | None = option(None, "architecture of a legacy .pt (guessed from its keys if omitted)", choices=ARCHS)
    device: str = option("cpu", "torch device; other than cpu runs the torch backend", parser="device")
    backend: str = option("auto", _MODEL_HELP["backend"], choices=BACKENDS)
    precision: str = option("auto", _MODEL_HELP["precision"], choices=PRECISIONS)
    compile: bool = option(False, "torch backend: torch.compile the model (pays off on a GPU, many images)")
    tile: int | None = option(
        None, "tiles of at most TILE x TILE pixels for larger images (default: 1536; 0 = never tile)", parser="count"
    )
    overlap: int = option(DEFAULT_OVERLAP, "least tile overlap in pixels", parser="count")
    streams: int = option(
        1,
        "OpenVINO, two or more files: images denoised at once, each on its share of the cores "
        "(0 = OpenVINO's choice; 1: all cores on one image)",
        parser="count",
    )
    resize: tuple[int, int] | None = option(
        None, "WxH: the reference card's fixed-shape path (output has this size)", parser="size"
    )
    strength: float = option(1.0, "blend of output and input: 1 = fully denoised, 0 = the input, 0.7 keeps some grain")
    ensemble: int = option(
        1,
        "average the outputs of this many flipped/rotated copies of each image: better, and that many times slower",
        choices=ENSEMBLE_VIEWS,
    )

    def __post_init__(self) -> None:
        if self.weights is not None and not isinstance(self.weights, (str, Path)):
            raise ValueError(f"--weights must be a file name, got {self.weights!r}")
        _check_model(self.weights, self.model, self.arch)
        if self.arch is not None:
            check_choice("--arch", self.arch, ARCHS)
        check_device(self.device)
        check_choice("--backend", self.backend, BACKENDS)
        check_choice("--precision", self.precision, PRECISIONS)
        for name in ("overlap", "streams"):
            _check_int(name, getattr(self, name), 0)
        if self.tile is not None:
            _check_int("tile", self.tile, 0)
            if self.tile and not (MIN_TILE <= self.tile and self.overlap < self.tile):
                raise ValueError(
                    f"--tile must be >= {MIN_TILE} and --overlap smaller than it (got {self.tile}, {self.overlap})"
                )
        if self.resize is not None:
            w, h = self.resize
            if not (isinstance(w, int) and isinstance(h, int)) or w < 1 or h < 1 or w * h > MAX_PIXELS:
                raise ValueError(f"--resize {w}x{h}: must be at least 1x1 and at most {MAX_PIXELS:,} pixels")
        if not (isinstance(self.strength, (int, float)) and 0.0 <= self.strength <= 1.0):
            raise ValueError(f"--strength must be between 0 (the input) and 1 (fully denoised), got {self.strength}")
        check_views(self.ensemble)

    @property
    def auto(self) -> bool:
        """No file and no fixed model: the shipped model is chosen per image."""
        return self.weights is None and self.model in (None, "auto") and self.arch is None


def with_feeding(config: DenoiseConfig, **changes: Any) -> DenoiseConfig:
    """``config`` with some of its ``FEEDING`` options changed (validated again); any other option
    needs a new model or runtime, so it is refused here."""
    unknown = set(changes) - set(FEEDING)
    if unknown:
        raise ValueError(f"{', '.join(sorted(unknown))}: a new model or runtime is needed (Denoiser.from_config)")
    return replace(config, **changes)


@dataclass(frozen=True, kw_only=True)
class BurstConfig:
    """How a burst is merged (the options of ``n2n burst``); validated when made."""

    reference: int | None = option(
        None, "frame N (from 0) is the reference (default: the sharpest)", parser="count", metavar="N"
    )
    steps: int = option(200, "fine-tuning steps on the burst; 0 = merge the denoised frames without", parser="count")
    lr: float = option(1e-4, "fine-tuning learning rate", parser="positive_number")
    crop: int = option(128, "side of the fine-tuning's crops, in pixels (at least 32)")
    batch: int = option(4, "crops per fine-tuning step")
    seed: int = option(0, "seed of the fine-tuning's crops")
    model: str | None = option(None, _MODEL_HELP["model"])
    weights: str | None = option(None, _MODEL_HELP["weights"])
    backend: str = option("auto", _MODEL_HELP["backend"], choices=BACKENDS)
    precision: str = option("auto", _MODEL_HELP["precision"], choices=PRECISIONS)

    def __post_init__(self) -> None:
        if self.reference is not None:
            _check_int("reference", self.reference, 0)
        _check_int("steps", self.steps, 0)
        if isinstance(self.lr, bool) or not (
            isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0
        ):
            raise ValueError(f"--lr must be a finite number > 0, got {self.lr!r}")
        _check_int("crop", self.crop, MIN_TILE)
        _check_int("batch", self.batch, 1)
        _check_model(self.weights, self.model)
        check_choice("--backend", self.backend, BACKENDS)
        check_choice("--precision", self.precision, PRECISIONS)

    def denoising(self) -> DenoiseConfig:
        """The model options as a ``DenoiseConfig`` (the model that is fine-tuned and merges)."""
        return DenoiseConfig(weights=self.weights, model=self.model, backend=self.backend, precision=self.precision)
