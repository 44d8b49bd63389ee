"""noise2noise: train image denoisers without clean data, and run them anywhere.

Public API (each is what the matching ``n2n`` command calls)::

    from noise2noise import Denoiser, denoise, train, evaluate, export
    den = Denoiser.from_weights()            # "auto": the shipped model each image's noise calls for
    denoise(["photos/"], "out/")             # n2n denoise: the whole job, a report per file
    burst(["shots/"], "merged.png")          # n2n burst: a burst's frames merged into one image
    out = den(cv2.imread("photo.png"))       # same shape and dtype, BGR as OpenCV reads it
    train(data=["photos/"], out="runs/mine", noise="gaussian:0-50", target="noisy")  # n2n train
    export(out="model.onnx")                 # n2n export: a report, the file checked against torch
"""

from ._version import __version__
from .bursts.job import burst
from .config import ExportConfig, ModelConfig, NoiseConfig, TrainConfig
from .denoiser import Denoiser
from .deploy.export import export
from .evaluation.core import evaluate
from .job import denoise
from .model import UNet, UNetCompact, build_model
from .noise.synthetic import add_noise
from .training.loop import train
from .weights import load_checkpoint, load_weights, save_weights

__all__ = [
    "Denoiser",
    "ExportConfig",
    "ModelConfig",
    "NoiseConfig",
    "TrainConfig",
    "UNet",
    "UNetCompact",
    "__version__",
    "add_noise",
    "burst",
    "build_model",
    "denoise",
    "evaluate",
    "export",
    "load_checkpoint",
    "load_weights",
    "save_weights",
    "train",
]
