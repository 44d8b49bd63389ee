"""A phone photo made end to end by a nonlinear image processor (``--noise isp``).

``phone.py`` (most of what ``n2n-phone`` is trained on) passes the sensor's noise through each stage of the
processing as a linear filter at the clean pixel's slope. A phone's image processor is not linear:
its demosaicing follows edges, its noise reduction smooths where the picture is flat and keeps
edges. ``isp:G`` runs the whole photo through such a processor, twice:
once from the noisy raw and once from the clean raw, and adds the difference to the clean image (so
the reference stays the picture and only the noise is processed, as in ``phone.apply``); then JPEG.
Built as a held-out check of how models trained on ``phone.py`` carry over; ``n2n-phone`` has since
seen it in training (docs/lab/phone.md). Each stage and its random parameter:

1. **Sensor**: the phone's raw (``phone.PhoneParams``: colour matrix, white balance, shot + read
   noise at gain G, RGGB mosaic), clipped at full well and at the black level's pedestal (64 of
   1,023: the read noise below black survives, as in a raw file).
2. **Demosaicing**: OpenCV's edge-aware interpolation (``COLOR_BayerBG2RGB_EA`` on 16 bits).
3. **Colour and tone**: white balance, the inverse colour matrix, sRGB's curve, then a contrast
   curve of random strength (``0.5 + tanh(a (v - 0.5)) / (2 tanh(a / 2))``, ``a`` in [0.5, 3]), unlike
   the smoothstep of ``camera.py``.
4. **Noise reduction, nonlinear** (BT.601 YCbCr): luma by a bilateral filter (half the photos) or
   non-local means (the rest), at a strength of 0.5-1.5 times the luma noise actually drawn, blended
   in by ``s`` in [0.3, 1]; chroma by a 5x5 median and a Gaussian blur (sigma 1-3 px), blended in by
   ``c`` in [0.5, 1].
5. **Sharpening**: an unsharp mask on luma (amount 0-1.5, blur sigma 0.7-2 px).
6. **JPEG** always (quality 70-95, OpenCV's 4:2:0 chroma).

The photo is clipped to [0, 1] once, at the end, as a processor writes its file. Randomness only from
the passed generator; the noise is not zero-mean (the curves bend it, the clips cut it), as a phone's is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import camera, phone

_YCC = phone._YCC.astype(np.float32)
_CCY = np.linalg.inv(phone._YCC).astype(np.float32)
PEDESTAL = 64.0 / 1023.0  # a sensor's black level (10 bits): read noise below black survives to the processor


@dataclass(frozen=True)
class IspParams:
    """One phone, one exposure and one setting of its processor."""

    cam: camera.CameraParams
    contrast: float  # ``a`` of the tanh contrast curve
    luma_filter: str  # "bilateral" or "nlm"
    luma_strength: float  # filter strength in units of the luma noise's standard deviation
    luma_blend: float
    chroma_sigma: float
    chroma_blend: float
    sharpen: float
    sharpen_sigma: float
    jpeg_quality: int

    @classmethod
    def sample(cls, rng: np.random.Generator, gain_low: float = 3.0, gain_high: float = 200.0) -> IspParams:
        """Random parameters; the sensor as ``phone.PhoneParams.sample`` draws it (module docstring)."""
        cam = phone.PhoneParams.sample(rng, gain_low, gain_high).cam
        return cls(
            cam,
            contrast=float(rng.uniform(0.5, 3.0)),
            luma_filter="bilateral" if rng.random() < 0.5 else "nlm",
            luma_strength=float(rng.uniform(0.5, 1.5)),
            luma_blend=float(rng.uniform(0.3, 1.0)),
            chroma_sigma=float(rng.uniform(1.0, 3.0)),
            chroma_blend=float(rng.uniform(0.5, 1.0)),
            sharpen=float(rng.uniform(0.0, 1.5)),
            sharpen_sigma=float(rng.uniform(0.7, 2.0)),
            jpeg_quality=int(rng.integers(70, 96)),
        )


def _raw(x: np.ndarray, cam: camera.CameraParams) -> np.ndarray:
    """The clean RGGB mosaic of the sRGB image ``x`` (HWC float, even sides) in the camera's linear raw."""
    lin = camera.srgb_to_linear(x)
    cam_rgb = (lin @ cam.rgb2cam.T) / cam.gains
    raw = np.empty(x.shape[:2], np.float32)
    raw[0::2, 0::2], raw[0::2, 1::2] = cam_rgb[0::2, 0::2, 0], cam_rgb[0::2, 1::2, 1]
    raw[1::2, 0::2], raw[1::2, 1::2] = cam_rgb[1::2, 0::2, 1], cam_rgb[1::2, 1::2, 2]
    return raw


def _develop(raw: np.ndarray, p: IspParams) -> np.ndarray:
    """Demosaicing, colour and tone of a raw mosaic (full well at 1, black at 0, read noise below it
    kept above the pedestal): sRGB-like HWC float32, not clipped (a processor clips once, at the end)."""
    u16 = np.round(np.clip((raw + PEDESTAL) / (1.0 + PEDESTAL), 0.0, 1.0) * 65535.0).astype(np.uint16)
    rgb = cv2.demosaicing(u16, cv2.COLOR_BayerBG2RGB_EA).astype(np.float32) / 65535.0  # R at (0, 0)
    rgb = (rgb * (1.0 + PEDESTAL) - PEDESTAL) * p.cam.gains @ np.linalg.inv(p.cam.rgb2cam).T
    v = camera.linear_to_srgb(rgb)
    c = p.contrast
    return (0.5 + np.tanh(c * (v - 0.5)) / (2.0 * np.tanh(c / 2.0))).astype(np.float32)


def _reduce_noise(ycc: np.ndarray, p: IspParams, luma_sigma: float) -> np.ndarray:
    """The processor's noise reduction and sharpening on a YCbCr image (float32, Y in [0, 1])."""
    y = np.ascontiguousarray(ycc[..., 0])
    h = max(p.luma_strength * luma_sigma, 1e-4)
    if p.luma_filter == "bilateral":
        smooth = cv2.bilateralFilter(y, 5, h * 2.0, 1.5)
    else:
        u8 = np.round(np.clip(y, 0.0, 1.0) * 255.0).astype(np.uint8)  # the 8-bit overload: in every OpenCV
        den = cv2.fastNlMeansDenoising(u8, None, h * 255.0, 5, 15).astype(np.float32)
        smooth = den / 255.0 + (y - u8 / np.float32(255.0))  # the rounding given back
    y = (1.0 - p.luma_blend) * y + p.luma_blend * smooth
    y = y + p.sharpen * (y - cv2.GaussianBlur(y, (0, 0), p.sharpen_sigma))
    out = [y]
    for k in (1, 2):
        c = np.ascontiguousarray(ycc[..., k])
        smooth = cv2.GaussianBlur(cv2.medianBlur(c, 5), (0, 0), p.chroma_sigma)
        out.append((1.0 - p.chroma_blend) * c + p.chroma_blend * smooth)
    return np.stack(out, axis=2)


def apply(rgb: np.ndarray, p: IspParams, rng: np.random.Generator, compress: bool = True) -> np.ndarray:
    """A noisy phone photo of the clean sRGB image ``rgb`` (HWC float in [0, 1]; grey HW is R = G = B):
    the clean image plus (processed noisy raw - processed clean raw), clipped, then JPEG (``compress``)."""
    grey = rgb.ndim == 2
    x = np.repeat(rgb[..., None], 3, axis=2) if grey else rgb
    h, w = x.shape[:2]
    xe = np.clip(np.pad(x, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge"), 0.0, 1.0).astype(np.float32)
    raw = _raw(xe, p.cam)
    noisy_raw = raw + rng.standard_normal(raw.shape, np.float32) * np.sqrt(
        p.cam.shot * np.maximum(raw, 0.0) + p.cam.read
    )
    clean = _develop(raw, p) @ _YCC.T
    noisy = _develop(noisy_raw, p) @ _YCC.T
    luma_sigma = float(np.std(noisy[..., 0] - clean[..., 0]))
    diff = (_reduce_noise(noisy, p, luma_sigma) - _reduce_noise(clean, p, luma_sigma)) @ _CCY.T
    out = np.clip(x + diff[:h, :w], 0.0, 1.0).astype(np.float32)
    if compress:
        out = camera.jpeg(out, p.jpeg_quality)
    return out.mean(axis=2) if grey else out
