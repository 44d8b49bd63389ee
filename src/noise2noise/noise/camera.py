"""Camera noise: a clean sRGB image is *unprocessed* to linear raw, given the heteroscedastic
noise of a sensor, and processed back, as in Brooks et al., "Unprocessing Images for Learned Raw
Denoising", CVPR 2019 (section 3; the parameter ranges of its ``unprocess.py``/``random_noise_levels``):

1. inverse tone curve (the smoothstep ``3x^2 - 2x^3``) and inverse gamma (``x^2.2``): linear sRGB;
2. inverse colour matrix: sRGB -> camera RGB, a random convex mix of four cameras' XYZ->camera
   matrices (rows normalised so that grey stays grey);
3. inverse white balance: divide by red/blue gains and an overall gain;
4. RGGB Bayer mosaic: one sample per pixel;
5. shot + read noise in linear raw: ``y = x + N(0, shot * x + read)``, ``log(read) = 2.18 log(shot)
   + 1.20 + N(0, 0.26)`` (Brooks et al., Figure 2), zero-mean before the sensor clips to [0, 1];
6. demosaic (OpenCV's bilinear Bayer conversion: neighbouring pixels' noise is now correlated),
   white balance, colour matrix, gamma, tone curve, clip; optionally JPEG at a random quality.

The noise level is set by the analog *gain* (ISO relative to base): ``shot = 1e-4 * gain``; Brooks'
range of shot noise, [1e-4, 1.2e-2], is gain 1-120 (``camera`` = ``camera:1-120``; sampled
log-uniformly). Every random choice comes from the passed generator. A Noise2Noise pair is two
``apply`` calls with the same ``CameraParams`` (same camera, same light) and independent noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# XYZ -> camera matrices of four cameras (Brooks et al.'s unprocess.py), and linear sRGB -> XYZ (D65).
XYZ2CAMS = np.array(
    [
        [[1.0234, -0.2969, -0.2266], [-0.5625, 1.6328, -0.0469], [-0.0703, 0.2188, 0.6406]],
        [[0.4913, -0.0541, -0.0202], [-0.613, 1.3513, 0.2906], [-0.1564, 0.2151, 0.7183]],
        [[0.838, -0.263, -0.0639], [-0.2887, 1.0725, 0.2496], [-0.0627, 0.1427, 0.5438]],
        [[0.6596, -0.2079, -0.0562], [-0.4782, 1.3016, 0.1933], [-0.097, 0.1581, 0.5181]],
    ]
)
RGB2XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
GAMMA = 2.2
SHOT_AT_GAIN_1 = 1e-4


@dataclass(frozen=True)
class CameraParams:
    """One camera and exposure: colour matrix, white balance, noise levels, JPEG quality (or None)."""

    rgb2cam: np.ndarray  # 3x3, rows sum to 1
    red_gain: float
    blue_gain: float
    rgb_gain: float
    shot: float
    read: float
    jpeg_quality: int | None = None

    @classmethod
    def sample(
        cls, rng: np.random.Generator, gain_low: float = 1.0, gain_high: float = 120.0, jpeg: float = 0.0
    ) -> CameraParams:
        """Random parameters; the gain log-uniform in [gain_low, gain_high]; JPEG with probability ``jpeg``."""
        w = rng.uniform(1e-8, 1.0, 4)
        xyz2cam = np.tensordot(w / w.sum(), XYZ2CAMS, axes=1)
        rgb2cam = xyz2cam @ RGB2XYZ
        rgb2cam /= rgb2cam.sum(axis=-1, keepdims=True)
        gain = float(np.exp(rng.uniform(np.log(gain_low), np.log(gain_high))))
        shot = SHOT_AT_GAIN_1 * gain
        read = float(np.exp(2.18 * np.log(shot) + 1.20 + rng.normal(0.0, 0.26)))
        quality = int(rng.integers(60, 96)) if rng.random() < jpeg else None
        return cls(
            rgb2cam,
            float(rng.uniform(1.9, 2.4)),
            float(rng.uniform(1.5, 1.9)),
            float(1.0 / rng.normal(0.8, 0.1)),
            shot,
            read,
            quality,
        )

    @property
    def gains(self) -> np.ndarray:
        return np.array([self.red_gain, 1.0, self.blue_gain]) * self.rgb_gain


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """The sRGB transfer curve undone (IEC 61966-2-1): encoded values in [0, 1] -> linear light."""
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(lin: np.ndarray) -> np.ndarray:
    """The sRGB transfer curve, odd-symmetric so that noise below black keeps its sign."""
    a = np.abs(lin)
    return np.sign(lin) * np.where(a <= 0.0031308, 12.92 * a, 1.055 * np.power(a, 1 / 2.4) - 0.055)


def unprocess(rgb: np.ndarray, p: CameraParams) -> np.ndarray:
    """sRGB float HWC in [0, 1] -> linear raw RGGB mosaic HW (steps 1-4)."""
    x = np.clip(rgb.astype(np.float64), 0.0, 1.0)
    x = 0.5 - np.sin(np.arcsin(1.0 - 2.0 * x) / 3.0)  # inverse smoothstep
    x = np.maximum(x, 1e-8) ** GAMMA
    x = x @ p.rgb2cam.T
    x = x / p.gains
    raw = np.empty(x.shape[:2])
    raw[0::2, 0::2], raw[0::2, 1::2] = x[0::2, 0::2, 0], x[0::2, 1::2, 1]
    raw[1::2, 0::2], raw[1::2, 1::2] = x[1::2, 0::2, 1], x[1::2, 1::2, 2]
    return raw


def add_raw_noise(raw: np.ndarray, p: CameraParams, rng: np.random.Generator) -> np.ndarray:
    """Shot + read noise, variance ``shot * x + read``: zero-mean, not clipped (step 5)."""
    var = p.shot * np.maximum(raw, 0.0) + p.read
    return raw + rng.normal(0.0, 1.0, raw.shape) * np.sqrt(var)


def process(raw: np.ndarray, p: CameraParams) -> np.ndarray:
    """Linear raw RGGB mosaic HW -> sRGB float32 HWC in [0, 1] (step 6, without JPEG)."""
    u16 = np.round(np.clip(raw, 0.0, 1.0) * 65535).astype(np.uint16)  # the sensor's range
    x = cv2.cvtColor(u16, cv2.COLOR_BayerRGGB2RGB).astype(np.float64) / 65535
    x = x * p.gains
    x = np.clip(x @ np.linalg.inv(p.rgb2cam).T, 0.0, 1.0)
    x = x ** (1.0 / GAMMA)
    x = 3.0 * x**2 - 2.0 * x**3
    return x.astype(np.float32)


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through an 8-bit JPEG at ``quality``; float32 out."""
    u8 = np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", cv2.cvtColor(u8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(enc, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0


def apply(rgb: np.ndarray, p: CameraParams, rng: np.random.Generator, compress: bool = True) -> np.ndarray:
    """A noisy photo of the clean sRGB image ``rgb`` (HWC float in [0, 1]; grey HW is R = G = B).

    The noise is the processed noisy raw minus the processed clean raw, added to ``rgb``: the image
    keeps its own sharpness (re-demosaicing a photo that was demosaiced once already would blur
    it, and a Noise2Noise target must average to the picture), while the noise has the camera's
    shape: signal-dependent, coloured by white balance and colour matrix, correlated by
    demosaicing, compressed by the tone curve. Not clipped (like the other noises) unless JPEG is
    applied, which writes an 8-bit file."""
    grey = rgb.ndim == 2
    x = np.repeat(rgb[..., None], 3, axis=2) if grey else rgb
    h, w = x.shape[:2]
    xe = np.pad(x, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")  # the mosaic needs even sides
    raw = unprocess(xe, p)
    noise = process(add_raw_noise(raw, p, rng), p) - process(raw, p)
    out = (x + noise[:h, :w]).astype(np.float32)
    if compress and p.jpeg_quality is not None:
        out = jpeg(out, p.jpeg_quality)
    return out.mean(axis=2) if grey else out
