"""The noise model read from an image, and the SURE score built on it: on Gaussian noise of a known
covariance (correlated between neighbours and channels, its level growing with brightness) the model
reads the noise back, and the score estimates the true error of denoisers without the clean image."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from noise2noise.noise.estimate import estimate
from noise2noise.training.sure import sure_scores

MIX = torch.tensor([[1.0, 0.6, 0.3], [0.6, 1.0, 0.6], [0.3, 0.6, 1.0]])  # channel mixing, then normalised
BLUR = torch.tensor([[0.25, 0.5, 0.25]]).T @ torch.tensor([[0.25, 0.5, 0.25]])  # neighbours share noise


def clean_images(n: int = 6, size: int = 96) -> torch.Tensor:
    """Smooth ramps and plateaus of several brightnesses: flat enough to read the noise on."""
    g = torch.Generator().manual_seed(1)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    out = []
    for _ in range(n):
        a, b, c = torch.rand(3, generator=g)
        base = 0.15 + 0.6 * (a * xx + b * yy) / 2
        out.append(torch.stack([base, base * (0.8 + 0.4 * c), base * 1.1]).clamp(0.05, 0.95))
    return torch.stack(out)


def correlated_noise(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Gaussian noise, correlated over neighbours (BLUR) and channels (MIX), level 0.01 + 0.04 * x."""
    w = torch.randn(x.shape, generator=g)
    w = F.conv2d(F.pad(w, (1, 1, 1, 1), mode="circular"), BLUR.expand(3, 1, 3, 3), groups=3)
    w = w / w.std()
    mix = torch.linalg.cholesky(MIX)
    w = torch.einsum("cd,ndhw->nchw", mix, w)
    return w * (0.01 + 0.04 * x)


@pytest.fixture(scope="module")
def noisy():
    x = clean_images()
    return x, x + correlated_noise(x, torch.Generator().manual_seed(2))


def smoother(sigma: float) -> torch.nn.Module:
    """A linear denoiser: a Gaussian blur of width ``sigma`` (pixels)."""
    r = torch.arange(-4, 5, dtype=torch.float32)
    k = torch.exp(-(r**2) / (2 * sigma**2))
    k = k[:, None] * k[None, :]
    conv = torch.nn.Conv2d(3, 3, 9, padding=4, padding_mode="reflect", groups=3, bias=False)
    conv.weight.data[:] = (k / k.sum()).expand(3, 1, 9, 9)
    return conv


def test_the_noise_model_reads_level_channels_and_neighbours_back(noisy):
    x, y = noisy
    m = estimate(y, x)  # with the clean image as the estimate: the residual is the noise itself
    true_sd = 0.01 + 0.04 * x.mean(dim=1)
    # the level at each band's brightness, against the law the noise was drawn with
    np.testing.assert_allclose(np.sqrt(m.variance.mean(axis=1)), 0.01 + 0.04 * m.brightness, rtol=0.15)
    drawn = m.sample(x, torch.Generator().manual_seed(3))
    assert float(drawn.std()) == pytest.approx(float(true_sd.pow(2).mean().sqrt()), rel=0.1)
    # correlation between channels and between neighbours of the drawn noise, against the true noise
    true = correlated_noise(x, torch.Generator().manual_seed(4))

    def figures(n):
        n = n / n.std(dim=(0, 2, 3), keepdim=True)
        ch = [float((n[:, i] * n[:, j]).mean()) for i, j in ((0, 1), (0, 2), (1, 2))]
        return ch, float((n[..., 1:] * n[..., :-1]).mean())

    (ch_true, nb_true), (ch_drawn, nb_drawn) = figures(true), figures(drawn)
    np.testing.assert_allclose(ch_drawn, ch_true, atol=0.08)
    assert nb_drawn == pytest.approx(nb_true, abs=0.08)
    white = estimate(x + 0.03 * torch.randn(x.shape, generator=torch.Generator().manual_seed(5)), x).as_dict()
    assert max(abs(c) for c in white["neighbour_correlation"]) < 0.05
    assert max(abs(c) for c in white["channel_correlation"]) < 0.05


def test_sure_estimates_the_true_error_and_ranks_denoisers_without_the_clean_image(noisy):
    x, y = noisy
    models = {s: smoother(s) for s in (0.5, 1.0, 2.0, 4.0)}
    with torch.no_grad():
        true = {s: float(((m(y) - x) ** 2).mean()) for s, m in models.items()}
        ref = models[2.0](y)
    noise = estimate(y, ref)
    est = {s: float(sure_scores(m, y, noise, ref, seed=0, draws=4).mean()) for s, m in models.items()}
    assert sorted(models, key=est.get) == sorted(models, key=true.get)
    # what a comparison reads: the gaps between denoisers (a shared offset cancels)
    gaps = {s: (est[s] - est[4.0], true[s] - true[4.0]) for s in models}
    for s, (e, t) in gaps.items():
        assert e == pytest.approx(t, rel=0.3, abs=2e-5), (s, gaps)


def test_white_noise_sure_would_be_fooled_by_the_wrong_covariance(noisy):
    """The score needs the noise's correlation: read as white, correlated noise makes a light blur
    (which keeps the correlated part of the noise) look better than it is."""
    x, y = noisy
    light, right = smoother(0.5), smoother(2.0)
    with torch.no_grad():
        ref = smoother(2.0)(y)
        true_gap = float(((light(y) - x) ** 2).mean() - ((right(y) - x) ** 2).mean())
    noise = estimate(y, ref)
    delta = np.pad(np.ones((3, 1, 1)), ((0, 0), (7, 7), (7, 7)))
    white = type(noise)(noise.brightness, noise.variance, np.eye(3), np.ones(3), delta)
    gap = lambda m: float((sure_scores(light, y, m, ref, 0, 4) - sure_scores(right, y, m, ref, 0, 4)).mean())  # noqa: E731
    right_gap, white_gap = gap(noise), gap(white)
    assert right_gap == pytest.approx(true_gap, rel=0.2)
    assert white_gap < 0.75 * true_gap < right_gap


def test_the_lower_reading_never_passes_the_upper(noisy):
    from noise2noise.noise.estimate import bracket

    x, y = noisy
    with torch.no_grad():
        rough = smoother(0.6)(y)
    upper, lower = bracket(y, rough)
    assert lower.variance.sum() < upper.variance.sum()  # a denoiser keeps part of the noise: it reads low
    # a "denoiser" that takes the picture out with the noise reads no higher than the upper reading
    wild_upper, wild = bracket(y, torch.zeros_like(y) + 0.5)
    assert (wild.variance <= wild_upper.variance + 1e-12).all()
    assert estimate(y, torch.zeros_like(y) + 0.5, "residual").variance.max() > wild_upper.variance.max()


def test_renoise_draws_the_read_noise_on_the_original_output(noisy):
    from noise2noise.noise.estimate import estimate
    from noise2noise.training.sure import renoise_loss

    x, y = noisy
    m = estimate(y, x, "residual")  # the noise as it is
    g = torch.Generator().manual_seed(3)
    identity, original = torch.nn.Identity(), smoother(1.0)
    with torch.no_grad():
        d = original(y).clamp(0, 1)
    with torch.no_grad():
        # an identity net's error to the original's output is the drawn noise itself: its level is the model's
        drawn = float(renoise_loss(identity, y, original, m, g))
        assert drawn == pytest.approx(float(m.level(d).pow(2).mean()), rel=0.1)
        # a denoiser is nearer the clean original output than the noisy input is
        assert float(renoise_loss(smoother(1.5), y, original, m, g)) < drawn
