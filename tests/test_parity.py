"""The reference checkpoint gives the reference figure."""

import cv2
import numpy as np
import pytest

from conftest import DATA, REF
from noise2noise.evaluation.metrics import psnr
from noise2noise.inference import run_padded
from noise2noise.runners import torch_runner
from noise2noise.weights import load_weights


@pytest.mark.slow
@pytest.mark.shared(REF, "data/test/Kodak24")
def test_compact_reference_checkpoint_on_kodak24_gaussian25(ref_ckpt):
    kodak = DATA / "test" / "Kodak24"
    run = torch_runner(load_weights(ref_ckpt).model)
    scores = []
    for i, f in enumerate(sorted(kodak.glob("*.png"))):
        rgb = cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB)
        noisy = rgb + np.random.default_rng(i).normal(0, 25, rgb.shape)  # float, unclipped
        x = (noisy / 255).astype(np.float32).transpose(2, 0, 1)[None]
        y = run_padded(run, x)[0].transpose(1, 2, 0)  # reflect pad bottom/right to 32
        out = np.clip(np.round(y * 255), 0, 255).astype(np.uint8)
        scores.append(psnr(out, rgb))
    assert len(scores) == 24
    assert abs(np.mean(scores) - 31.50) <= 0.05, np.mean(scores)
