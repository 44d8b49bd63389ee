"""Pictures for people: noisy | denoised... | clean side by side, PSNR labels, and a zoomed crop."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..images import Image, write_image


def _label(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((24, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, img])


def _zoom(img: np.ndarray, size: int = 128) -> np.ndarray:
    """The centre ``size`` x ``size`` crop, enlarged (nearest neighbour) to the panel's width."""
    h, w = img.shape[:2]
    s = min(size, h, w)
    y, x = (h - s) // 2, (w - s) // 2
    return cv2.resize(img[y : y + s, x : x + s], (w, w), interpolation=cv2.INTER_NEAREST)


def montage(noisy: np.ndarray, outs: list[np.ndarray], clean: np.ndarray | None, labels: list[str]) -> np.ndarray:
    """RGB uint8 panels -> one RGB uint8 picture: full images on top, centre crops x3 below (no clean
    panel where there is no ground truth)."""
    panels = [noisy, *outs] + ([] if clean is None else [clean])
    top = np.hstack([_label(p, t) for p, t in zip(panels, labels)])
    bottom = np.hstack([_zoom(p) for p in panels])
    return np.vstack([top, bottom])


def write_montages(folder: Path, shots: list, method_names: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, noisy, outs, clean, scores, noisy_psnr in shots:
        labels = [f"noisy {noisy_psnr:.2f} dB"] + [f"{m} {s:.2f} dB" for m, s in zip(method_names, scores)] + ["clean"]
        pic = montage(noisy, outs, clean, labels)
        p = folder / (Path(name.replace("/", "_")).stem + "_montage.png")
        write_image(p, Image(cv2.cvtColor(pic, cv2.COLOR_RGB2BGR)))
        paths.append(p)
    return paths
