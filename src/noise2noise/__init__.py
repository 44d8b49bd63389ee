"""noise2noise: train image denoisers without clean data, and run them anywhere.

Public API::

    from noise2noise import Denoiser
    den = Denoiser.from_weights()            # the shipped default model
    out = den(cv2.imread("photo.png"))       # same shape and dtype, BGR as OpenCV reads it
"""

from .inference import Denoiser
from .model import ModelConfig, UNet, UNetCompact, build_model
from .noise import NoiseConfig, add_noise
from .weights import load_weights, save_weights

__version__ = "0.1.0"
__all__ = ["Denoiser", "ModelConfig", "NoiseConfig", "UNet", "UNetCompact", "add_noise", "build_model",
           "load_weights", "save_weights", "__version__"]  # fmt: skip
