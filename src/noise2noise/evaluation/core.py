"""``n2n eval``: PSNR/SSIM of denoisers and baselines on the same noisy inputs.

Protocols (written into the JSON ``config``):

* ``float`` (the paper's): the noisy input is ``clean + noise`` in float, unclipped.
* ``uint8``: the noisy input is clipped and rounded to 8 bits, as a real noisy file is.

Real noisy images (pairs, SIDD) are already 8-bit. Whole images go through the network, padded
as inference pads them; outputs are rounded to uint8 before scoring. The noise of the i-th image
(in name order) comes from ``numpy.random.default_rng(seed * 1_000_000 + i)``, so seed 0 gives
``default_rng(i)`` and two runs give identical numbers. The *noisy* score is that of the noisy
input as an 8-bit image (clipped and rounded) in both protocols.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import replacing
from ..config import EVAL_METHODS, EVAL_PRESETS, PROTOCOLS, NoiseConfig, check_choice
from ..data.evalsets import open_evalset
from ..images import ImageError, to_uint8
from ..noise.synthetic import add_noise
from .metrics import psnr, ssim

# HWC RGB float input -> HWC RGB uint8 output, or (output, fields for the image's entry: ``model``, ...)
Method = Callable[[np.ndarray], np.ndarray | tuple[np.ndarray, dict]]


@dataclass
class MethodSpec:
    name: str
    fn: Method
    params: int | None = None  # for the card's table
    flops: int | None = None
    ensemble: int = 1  # views averaged per run (a model method with --ensemble)


@dataclass
class EvalResult:
    method: str
    images: list[dict] = field(default_factory=list)
    fid: float | None = None  # only with a local Inception feature file

    def summary(self) -> dict:
        keys = ("psnr", "ssim", "noisy_psnr", "noisy_ssim")
        s = {k: float(np.mean([im[k] for im in self.images])) for k in keys}
        s["seconds_per_image"] = float(np.mean([im["seconds"] for im in self.images]))
        s["count"] = len(self.images)
        models = [im["model"] for im in self.images if im.get("model")]
        if models:  # images per model that ran (several for ``auto``)
            s["models"] = {m: models.count(m) for m in sorted(set(models))}
        if self.fid is not None:
            s["fid"] = self.fid
        return s


def noisy_inputs(
    clean: np.ndarray, real_noisy: np.ndarray | None, noise: NoiseConfig | None, protocol: str, index: int, seed: int
) -> np.ndarray:
    """The network input (HWC RGB float) for one image under a protocol."""
    if real_noisy is not None and noise is None:
        return real_noisy.astype(np.float32) / 255.0
    if noise is None:
        raise ValueError("a folder of clean images needs --noise (e.g. gaussian:25)")
    x = clean.astype(np.float32) / 255.0
    noisy, _ = add_noise(x, noise, np.random.default_rng(seed * 1_000_000 + index))
    return to_uint8(noisy).astype(np.float32) / 255.0 if protocol == "uint8" else noisy


def model_method(denoiser) -> Method:
    """The denoiser as a method; each image's entry names the model that ran (for ``auto``, the one
    chosen for that image, with the figures it was chosen on)."""

    def run(x: np.ndarray) -> tuple[np.ndarray, dict]:
        chw = np.ascontiguousarray(x.transpose(2, 0, 1))[None]
        y, choice = denoiser.run_and_choose(chw)
        fields = choice.as_dict() if choice else {"model": (denoiser.meta or {}).get("name")}
        return to_uint8(y[0].transpose(1, 2, 0)), fields

    return run


def noisy_method(x: np.ndarray) -> np.ndarray:
    return to_uint8(x)


def estimate_sigma(x: np.ndarray) -> float:
    """Noise standard deviation (0..255 units) by the median absolute deviation of the finest
    diagonal detail (Donoho's estimator), for baselines that need a noise level."""
    g = x.mean(axis=2) * 255.0
    d = (g[:-1:2, :-1:2] - g[1::2, :-1:2] - g[:-1:2, 1::2] + g[1::2, 1::2]) / 2.0
    return float(np.median(np.abs(d)) / 0.6745)


NLM_H = 0.55  # OpenCV's filter strength h = 0.55 sigma: best of 0.45/0.55/0.65 on 4 CBSD432 (training) images


def nlm_method(sigma: float | None) -> Method:
    import cv2

    def run(x: np.ndarray) -> np.ndarray:
        s = NLM_H * (sigma if sigma is not None else estimate_sigma(x))
        bgr = cv2.cvtColor(to_uint8(x), cv2.COLOR_RGB2BGR)
        out = cv2.fastNlMeansDenoisingColored(bgr, None, h=s, hColor=s, templateWindowSize=7, searchWindowSize=21)
        return cv2.cvtColor(out, cv2.COLOR_BGR2RGB)

    return run


def bm3d_method(sigma: float | None) -> Method:
    try:
        import bm3d
    except ImportError:
        raise ImageError("the bm3d baseline needs the bm3d package: pip install 'noise2noise[bm3d]'") from None

    def run(x: np.ndarray) -> np.ndarray:
        s = sigma if sigma is not None else estimate_sigma(x)
        return to_uint8(bm3d.bm3d_rgb(x.astype(np.float64), sigma_psd=s / 255.0))

    return run


def wavelet_float(x: np.ndarray, sigma: float | None = None, shrink: str = "BayesShrink") -> np.ndarray:
    """Wavelet shrinkage (``skimage.restoration.denoise_wavelet``) of HWC float ``x``, as float64: soft
    thresholds per subband (``BayesShrink``) or one universal threshold (``VisuShrink``), colour in
    YCbCr as skimage does it, the noise level (0..255 units) estimated from the image (skimage's own
    estimator) unless given."""
    try:
        from skimage.restoration import denoise_wavelet
    except ImportError:
        raise ImageError("the wavelet baseline needs scikit-image: pip install 'noise2noise[eval]'") from None
    x = np.clip(x, 0.0, 1.0).astype(np.float64)
    s = None if sigma is None else sigma / 255.0
    colour = x.ndim == 3 and x.shape[2] == 3
    axis = -1 if x.ndim == 3 else None
    return denoise_wavelet(
        x, sigma=s, method=shrink, mode="soft", rescale_sigma=True, channel_axis=axis, convert2ycbcr=colour
    )


def wavelet_method(sigma: float | None, shrink: str = "BayesShrink") -> Method:
    """``wavelet_float`` as a baseline (8-bit output), with the noise's sigma when it is Gaussian of a
    known level."""
    return lambda x: to_uint8(wavelet_float(x, sigma, shrink))


def baseline_method(name: str, sigma: float | None) -> Method:
    """A classical baseline by its ``--method`` name."""
    if name == "nlm":
        return nlm_method(sigma)
    if name == "bm3d":
        return bm3d_method(sigma)
    return wavelet_method(sigma, "VisuShrink" if name == "wavelet-visu" else "BayesShrink")


def evaluate(
    data: str,
    methods: list[MethodSpec],
    noise: str | None = None,
    protocol: str = "float",
    seed: int = 0,
    limit: int | None = None,
    progress: bool = True,
    montage: str | None = None,
    montage_images: list[str] | None = None,
    fid_model: str | None = None,
) -> tuple[list[EvalResult], dict]:
    """Score each method on ``data``; returns per-method results and the resolved config."""
    check_choice("protocol", protocol, PROTOCOLS)
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be at least 1, got {limit}")
    ncfg = NoiseConfig.parse(noise) if noise else None
    if ncfg is not None and ncfg.low != ncfg.high:
        raise ValueError(f"evaluation needs a fixed noise level, got a range: {noise}")
    es = open_evalset(data, real=ncfg is None)
    if len(es) == 0:
        raise ImageError(f"{data}: no images")
    items = es.items[:limit] if limit else es.items
    unknown = sorted(set(montage_images or []) - {name for name, _ in items})
    if montage and unknown:
        raise ValueError(f"--montage-images: {', '.join(unknown)} not in {data} (names as in the per-image report)")
    results = [EvalResult(m.name) for m in methods]
    feat = None
    if fid_model:
        from .fid import FeatureNet

        feat = FeatureNet(fid_model)
        clean_feats: list[np.ndarray] = []
        method_feats: list[list[np.ndarray]] = [[] for _ in methods]
    from tqdm import tqdm

    shots = []
    for i, (name, load) in enumerate(tqdm(items, desc="eval", unit="img", disable=not progress, dynamic_ncols=True)):
        clean, real_noisy = load()
        if real_noisy is None and ncfg is None:
            raise ValueError(f"{es.root} holds clean images only: pass --noise (e.g. gaussian:25)")
        x = noisy_inputs(clean, real_noisy, ncfg, protocol, i, seed)
        nz = to_uint8(x)
        base = {"name": name, "noisy_psnr": psnr(nz, clean), "noisy_ssim": ssim(nz, clean)}
        outs = []
        for m, r in zip(methods, results):
            t = time.perf_counter()
            out = m.fn(x)
            dt = time.perf_counter() - t
            out, fields = out if isinstance(out, tuple) else (out, {})
            r.images.append({**base, **fields, "psnr": psnr(out, clean), "ssim": ssim(out, clean), "seconds": dt})
            outs.append(out)
        if feat is not None:
            clean_feats.append(feat(clean))
            for k, out in enumerate(outs):
                method_feats[k].append(feat(out))
        if montage and (name in (montage_images or []) or (not montage_images and i < 3)):
            shots.append((name, nz, outs, clean, [r.images[-1]["psnr"] for r in results], base["noisy_psnr"]))
    if feat is not None:
        from .fid import fid_from_features

        for r, fs in zip(results, method_feats):
            r.fid = fid_from_features(fs, clean_feats)
    if montage and shots:
        from .montage import write_montages

        write_montages(Path(montage), shots, [m.name for m in methods])
    config = {
        "data": str(data),
        "kind": es.kind,
        "noise": str(ncfg) if ncfg else "real",
        "protocol": protocol if ncfg else "real-8bit",
        "seed": seed,
        "images": len(items),
        "methods": [m.name for m in methods],
        "noise_rng": "numpy.random.default_rng(seed * 1_000_000 + index)",
        "ensemble": max((m.ensemble for m in methods), default=1),  # views averaged per model run (1 = none)
    }
    return results, config


def to_json(results: list[EvalResult], config: dict, timing: bool = False) -> dict:
    """The stable JSON shape: the model's summary and images (the first method that is a model; the
    first method when all are baselines), then every method."""

    def clean_images(r: EvalResult) -> list[dict]:
        return [{k: v for k, v in im.items() if timing or k != "seconds"} for im in r.images]

    def clean_summary(r: EvalResult) -> dict:
        s = r.summary()
        if not timing:
            s.pop("seconds_per_image")
        return s

    baselines = set(EVAL_METHODS) - {"model"}
    first = next((r for r in results if r.method not in baselines), results[0])
    return {
        "summary": clean_summary(first),
        "images": clean_images(first),
        "config": config,
        "methods": {r.method: {"summary": clean_summary(r), "images": clean_images(r)} for r in results},
    }


def table_rows(results: list[EvalResult], methods: list[MethodSpec], shape: str) -> list[str]:
    """The reference card's table: ``Model | Params(M) | FLOPs(G) | PSNR(dB) | SSIM | Shape``."""
    rows = ["| Model | Params(M) | FLOPs(G) | PSNR(dB) | SSIM | Shape |", "|---|---:|---:|---:|---:|---|"]
    for r, m in zip(results, methods):
        s = r.summary()
        p = f"{m.params / 1e6:.3f}" if m.params else "-"
        f = f"{m.flops / 1e9:.3f}" if m.flops else "-"
        rows.append(f"| {m.name} | {p} | {f} | {s['psnr']:.3f} | {s['ssim']:.3f} | {shape} |")
    return rows


CSV_FORMATS = {"psnr": ".4f", "ssim": ".5f", "noisy_psnr": ".4f", "noisy_ssim": ".5f", "seconds": ".4f"}


def write_csv(results: list[EvalResult], path: str | Path) -> None:
    """Per-image rows of every method (atomically)."""
    with replacing(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", "name", *CSV_FORMATS, "model"])
        for r in results:
            for im in r.images:
                scores = (format(im[k], f) for k, f in CSV_FORMATS.items())
                w.writerow([r.method, im["name"], *scores, im.get("model") or ""])


def apply_preset(
    preset: str | None, noise: str | None, protocol: str, model: str | None, weights: str | None
) -> tuple[str | None, str, str | None]:
    """``(noise, protocol, model)`` under ``preset``: ``card`` is the reference card's protocol
    (Gaussian sigma 25 unless a noise is given, float) and its model, ``n2n-gaussian``, unless a
    model or weights file is named."""
    if preset is None:
        return noise, protocol, model
    check_choice("preset", preset, EVAL_PRESETS)
    if not weights and model in (None, "auto"):
        model = "n2n-gaussian"
    return noise or "gaussian:25", "float", model


def build_methods(
    names: list[str], noise: str | None, load_denoiser: Callable[[], object], label: str
) -> list[MethodSpec]:
    """The methods to score: ``model`` (built by ``load_denoiser`` and named ``label``), ``noisy``,
    ``nlm``, ``bm3d``, ``wavelet`` (BayesShrink) and ``wavelet-visu`` (VisuShrink), with the noise's sigma
    when it is Gaussian, else estimated per image."""
    from ..info import model_info

    sigma = None
    if noise:
        n = NoiseConfig.parse(noise)
        sigma = n.low if n.kind == "gaussian" else None
    specs = []
    for m in names:
        check_choice("method", m, EVAL_METHODS)
        if m == "model":
            den = load_denoiser()
            params = flops = None
            if den.base.model is not None:  # exported files carry no torch model to count
                info = model_info(den.base.model, (3, 256, 256))
                params, flops = info["params"], info["flops"]
            views = den.config.ensemble
            tag = f"{den.meta.get('backend', 'torch')} {den.meta.get('precision', '')}".strip()
            tag += f", ensemble x{views}" if views > 1 else ""
            specs.append(MethodSpec(f"{label} [{tag}]", model_method(den), params, flops, views))
        elif m == "noisy":
            specs.append(MethodSpec("noisy", noisy_method))
        else:
            specs.append(MethodSpec(m, baseline_method(m, sigma)))
    return specs
