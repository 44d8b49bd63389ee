"""Phone noise: what a smartphone's small sensor and its image processor leave in a low-light photo.

Built on the raw pipeline of ``camera.py`` (Brooks et al., CVPR 2019), with the stages a phone adds
and at the levels a phone reaches. Each stage and the range of its random parameter:

1. **Sensor** (shot + read noise in linear raw, RGGB mosaic). A phone pixel (0.7-1.4 um) holds about
   4,000-6,000 electrons at base ISO against about 10,000 for the DSLR-like base of ``camera.py``
   (``SHOT_AT_GAIN_1 = 1e-4``), so one unit of *gain* here is ``PHONE_SHOT_AT_GAIN_1 = 2.2e-4``.
   The gain is analog ISO relative to base (up to about 64 at ISO 6400) times the digital gain a
   phone applies to an underexposed low-light frame (1-4x): ``phone`` = ``phone:3-200``, log-uniform.
   Read noise follows shot noise as measured over real cameras (Brooks et al., Figure 2:
   ``log read = 2.18 log shot + 1.20 + N(0, 0.26)``). Measured on 12 CBSD432 photos (PSNR of the
   noisy photo, clipped): gain 4 about 33 dB, 16 about 28, 64 about 22, 150 about 17, 250 about 14.5.
2. **Demosaicing** of the mosaic's noise, linear: Malvar-He-Cutler (70%; the gradient-corrected
   interpolation of most image processors: little correlation between neighbours, much between
   colour channels) or bilinear (30%; neighbours share much of their noise).
3. **Colour**: white balance, the colour matrix and the tone curve (gamma 2.2 with sRGB's linear toe,
   slope at most 12.92, then the smoothstep), applied to the noise through their local slope at
   the clean pixel: the noise is signal-dependent and coloured as the camera makes it, and stays
   exactly zero-mean (a Noise2Noise target must average to the picture).
4. **In-camera noise reduction** of random strength, on luma and chroma separately (BT.601 YCbCr):
   luma keeps ``1 - s`` of its noise and ``s`` of a Gaussian blur of it (``s`` in [0, 0.8], blur
   sigma 0.5-1.5 px); chroma, which phones smooth hardest, keeps ``1 - c`` and ``c`` of a blur
   (``c`` in [0.4, 1], sigma 1-3 px). What survives is low-frequency, colour-blotchy noise
   correlated over 2-6 pixels.
5. **Sharpening**: an unsharp mask on luma (amount 0-1.5, radius 1 px), which lifts the noise's high
   frequencies again (phones sharpen hard).
6. **Binning** (half of the photos): the noise is made for a sensor of twice the pixels per side and
   averaged 2x2, as a quad-Bayer sensor bins or a phone scales its 48-50 MP frame to 12 MP: the
   processing's correlation then spans half as many output pixels (noise near white between
   neighbours, as phone photos often are).
7. **JPEG** (quality 70-95) with probability 0.7: phones save JPEGs; the rest stand for HEIF or a
   lightly compressed file.

Every stage acts on the noise alone, added to the clean image, so the picture keeps its own sharpness
(as in ``camera.apply``). Every random choice comes from the passed generator; a Noise2Noise pair is
two ``apply`` calls with the same ``PhoneParams`` (one phone, one exposure) and independent noise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from . import camera

PHONE_SHOT_AT_GAIN_1 = 2.2e-4  # shot noise (variance per unit of linear signal) at base ISO, phone pixel
PHONE_JPEG = 0.7  # probability that the photo is saved as a JPEG (quality 70-95)
SRGB_TOE_SLOPE = 12.92  # the steepest the gamma curve gets (sRGB's linear segment near black)
_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_BILINEAR_RB = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4.0
_BILINEAR_G = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4.0
# Malvar, He and Cutler, "High-quality linear interpolation for demosaicing of Bayer-patterned color
# images", ICASSP 2004: green at red/blue, red/blue at green (neighbours in the row), at blue/red
_MHC_G = np.array([[0, 0, -1, 0, 0], [0, 0, 2, 0, 0], [-1, 2, 4, 2, -1], [0, 0, 2, 0, 0], [0, 0, -1, 0, 0]]) / 8.0
_MHC_ROW = (
    np.array([[0, 0, 0.5, 0, 0], [0, -1, 0, -1, 0], [-1, 4, 5, 4, -1], [0, -1, 0, -1, 0], [0, 0, 0.5, 0, 0]]) / 8.0
)
_MHC_DIAG = (
    np.array([[0, 0, -1.5, 0, 0], [0, 2, 0, 2, 0], [-1.5, 0, 6, 0, -1.5], [0, 2, 0, 2, 0], [0, 0, -1.5, 0, 0]]) / 8.0
)


@dataclass(frozen=True)
class PhoneParams:
    """One phone and exposure: the camera's colour and noise (``camera.CameraParams``) and its processing."""

    cam: camera.CameraParams
    luma_nr: float  # share of the luma noise replaced by its blur
    luma_sigma: float
    chroma_nr: float  # share of the chroma noise replaced by its blur
    chroma_sigma: float
    sharpen: float  # unsharp-mask amount on luma
    jpeg_quality: int | None
    demosaic: str = "mhc"  # "bilinear" or "mhc" (Malvar-He-Cutler)
    binning: int = 1  # 2: the sensor's noise made at twice the resolution, averaged 2x2 (a binned or downscaled photo)

    @classmethod
    def sample(cls, rng: np.random.Generator, gain_low: float = 3.0, gain_high: float = 200.0) -> PhoneParams:
        """Random parameters; the gain log-uniform in [gain_low, gain_high] (module docstring)."""
        base = camera.CameraParams.sample(rng, 1.0, 1.0)  # colour matrix, white balance
        gain = float(np.exp(rng.uniform(np.log(gain_low), np.log(gain_high))))
        shot = PHONE_SHOT_AT_GAIN_1 * gain
        read = float(np.exp(2.18 * np.log(shot) + 1.20 + rng.normal(0.0, 0.26)))
        cam = camera.CameraParams(base.rgb2cam, base.red_gain, base.blue_gain, base.rgb_gain, shot, read, None)
        quality = int(rng.integers(70, 96)) if rng.random() < PHONE_JPEG else None
        return cls(
            cam,
            luma_nr=float(rng.uniform(0.0, 0.8)),
            luma_sigma=float(rng.uniform(0.5, 1.5)),
            chroma_nr=float(rng.uniform(0.4, 1.0)),
            chroma_sigma=float(rng.uniform(1.0, 3.0)),
            sharpen=float(rng.uniform(0.0, 1.5)),
            jpeg_quality=quality,
            demosaic="bilinear" if rng.random() < 0.3 else "mhc",
            binning=2 if rng.random() < 0.5 else 1,
        )


def plain(p: PhoneParams) -> PhoneParams:
    """The same phone and exposure developed plainly (``--noise rawphone``): stages 1-3 and binning only,
    no noise reduction, sharpening or JPEG, as a raw converter with its noise reduction off renders a
    phone's raw file (and as SIDD renders its sRGB photos): the sensor's noise at full strength, coloured
    by demosaicing and the colour matrix, nearly white between neighbours after gradient-corrected
    demosaicing."""
    return replace(p, luma_nr=0.0, chroma_nr=0.0, sharpen=0.0, jpeg_quality=None)


def _tone_slope(lin: np.ndarray) -> np.ndarray:
    """d(tone(gamma(l)))/dl of camera.process's output curve, the gamma's slope capped at sRGB's toe."""
    lin = np.maximum(lin, np.float32(1e-8))
    y = lin ** np.float32(1.0 / camera.GAMMA)
    gamma_slope = np.minimum(y / (camera.GAMMA * lin), SRGB_TOE_SLOPE)
    return gamma_slope * (6.0 * y * (1.0 - y))


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def demosaic(mosaic: np.ndarray, method: str) -> np.ndarray:
    """RGGB mosaic HW (float) -> HWC by a *linear* demosaicing: ``bilinear`` or ``mhc``."""
    m = mosaic.astype(np.float32)
    h, w = m.shape
    out = np.empty((h, w, 3), np.float32)
    if method == "bilinear":
        for c, (ys, xs) in enumerate([((0,), (0,)), ((0, 1), (1, 0)), ((1,), (1,))]):
            plane = np.zeros_like(m)
            for y, x in zip(ys, xs):
                plane[y::2, x::2] = m[y::2, x::2]
            out[..., c] = cv2.filter2D(
                plane, -1, _BILINEAR_G if c == 1 else _BILINEAR_RB, borderType=cv2.BORDER_REFLECT
            )
        return out
    f = {
        k: cv2.filter2D(m, -1, v.astype(np.float32), borderType=cv2.BORDER_REFLECT)
        for k, v in (("g", _MHC_G), ("row", _MHC_ROW), ("col", _MHC_ROW.T), ("diag", _MHC_DIAG))
    }
    # (row, col) of the 2x2 cell -> (R, G, B) sources: the sample itself or a kernel's response
    cells = {
        (0, 0): ("m", "g", "diag"),
        (0, 1): ("row", "m", "col"),
        (1, 0): ("col", "m", "row"),
        (1, 1): ("diag", "g", "m"),
    }
    for (y, x), srcs in cells.items():
        for c, src in enumerate(srcs):
            out[y::2, x::2, c] = (m if src == "m" else f[src])[y::2, x::2]
    return out


def noise_field(rgb: np.ndarray, p: PhoneParams, rng: np.random.Generator) -> np.ndarray:
    """The phone's noise for the clean sRGB image ``rgb`` (HWC float in [0, 1], even sides): float32 HWC."""
    cam = p.cam
    x = np.clip(rgb, 0.0, 1.0).astype(np.float32)
    lin = np.maximum(0.5 - np.sin(np.arcsin(1.0 - 2.0 * x) / 3.0), 1e-8) ** np.float32(camera.GAMMA)  # linear sRGB
    raw_rgb = (lin @ cam.rgb2cam.T.astype(np.float32)) / cam.gains.astype(np.float32)
    mask = np.zeros(x.shape, bool)
    mask[0::2, 0::2, 0] = mask[0::2, 1::2, 1] = mask[1::2, 0::2, 1] = mask[1::2, 1::2, 2] = True
    raw = (raw_rgb * mask).sum(axis=2)
    n_raw = rng.standard_normal(raw.shape, np.float32) * np.sqrt(cam.shot * np.maximum(raw, 0.0) + cam.read)
    n_cam = demosaic(n_raw, p.demosaic)
    n_lin = (n_cam * cam.gains.astype(np.float32)) @ np.linalg.inv(cam.rgb2cam).T.astype(np.float32)
    n = (n_lin * _tone_slope(lin)).astype(np.float32)
    ycc = n @ _YCC.T.astype(np.float32)
    y, cc = ycc[..., 0], ycc[..., 1:]
    y = (1.0 - p.luma_nr) * y + p.luma_nr * _blur(y, p.luma_sigma)
    y = y + p.sharpen * (y - _blur(y, 1.0))
    cc = (1.0 - p.chroma_nr) * cc + p.chroma_nr * _blur(cc, p.chroma_sigma)
    ycc = np.concatenate([y[..., None], cc], axis=2)
    return (ycc @ np.linalg.inv(_YCC).T.astype(np.float32)).astype(np.float32)


def apply(rgb: np.ndarray, p: PhoneParams, rng: np.random.Generator, compress: bool = True) -> np.ndarray:
    """A noisy phone photo of the clean sRGB image ``rgb`` (HWC float in [0, 1]; grey HW is R = G = B).
    Not clipped unless saved as a JPEG (``compress`` and the parameters' quality), which writes 8 bits."""
    grey = rgb.ndim == 2
    x = np.repeat(rgb[..., None], 3, axis=2) if grey else rgb
    h, w = x.shape[:2]
    xe = np.pad(x, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    if p.binning == 2:  # the noise of a sensor with twice the pixels per side, each 2x2 averaged into one
        big = cv2.resize(xe, (2 * xe.shape[1], 2 * xe.shape[0]), interpolation=cv2.INTER_LINEAR)
        n = noise_field(big, p, rng)
        n = n.reshape(xe.shape[0], 2, xe.shape[1], 2, 3).mean(axis=(1, 3))
    else:
        n = noise_field(xe, p, rng)
    out = (x + n[:h, :w]).astype(np.float32)
    if compress and p.jpeg_quality is not None:
        out = camera.jpeg(out, p.jpeg_quality)
    return out.mean(axis=2) if grey else out
