import cv2
import numpy as np
import pytest

from conftest import DATA, REF
from noise2noise.config import DenoiseConfig
from noise2noise.denoiser import Denoiser
from noise2noise.ensemble import wrap
from noise2noise.inference import pad, run_padded, run_tiled, tile_grid


def identity(x):
    assert x.shape[-1] % 32 == 0 and x.shape[-2] % 32 == 0
    return x.copy()


def test_padding_reflects_and_crops_back():
    x = np.random.default_rng(0).random((1, 3, 17, 31)).astype(np.float32)
    p = pad(x)
    assert p.shape == (1, 3, 32, 32)
    assert np.array_equal(p[..., 17, :31], x[..., 15, :])  # reflect, not zeros
    assert np.array_equal(run_padded(identity, x), x)


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (17, 31), (33, 65), (200, 333)])
def test_tiles_stitch_back_exactly(shape):
    x = np.random.default_rng(1).random((1, 3) + shape).astype(np.float32)
    y = run_tiled(identity, x, tile=64, overlap=16)
    np.testing.assert_allclose(y, x, atol=1e-6)


def box_blur(x, r=5):
    """A local operator that, like a convolution, sees zeros past the array's border."""
    p = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (r, r), (r, r)))  # float64: exact enough sums
    c = p.cumsum(-1).cumsum(-2)
    c = np.pad(c, ((0, 0), (0, 0), (1, 0), (1, 0)))
    k = 2 * r + 1
    return ((c[..., k:, k:] - c[..., :-k, k:] - c[..., k:, :-k] + c[..., :-k, :-k]) / k**2).astype(np.float32)


def block_means(x):
    """Means over 32 x 32 blocks: equal to the whole image's only for tiles on the 32-pixel grid."""
    n, c, h, w = x.shape
    m = x.reshape(n, c, h // 32, 32, w // 32, 32).mean(axis=(3, 5), keepdims=True)
    return np.broadcast_to(m, (n, c, h // 32, 32, w // 32, 32)).reshape(x.shape)


@pytest.mark.parametrize("op", [box_blur, block_means])
@pytest.mark.parametrize("shape", [(100, 333), (1000, 70), (517, 611)])
def test_tiles_give_the_whole_image_result_for_local_and_pooling_operators(op, shape):
    # each pixel keeps >= overlap/3 of context (16 here, the blur reaches 5) and tiles sit on
    # the 32-pixel grid, so tiling changes nothing: the seams are invisible by construction
    x = np.random.default_rng(2).random((1, 3) + shape).astype(np.float32)
    whole = run_padded(op, x)
    np.testing.assert_allclose(run_tiled(op, x, tile=128, overlap=48), whole, atol=1e-5)


@pytest.mark.parametrize(("h", "w"), [(1024, 1536), (3000, 4000), (333, 5000)])
def test_tile_grid_is_aligned_bounded_and_evenly_overlapping(h, w):
    tile, overlap = 1536, 192
    ys, th, xs, tw = tile_grid(h, w, tile, overlap)
    assert th * tw <= tile * tile and th % 32 == 0 and tw % 32 == 0
    for starts, length, size in ((ys, th, h), (xs, tw, w)):
        assert all(s % 32 == 0 for s in starts) and starts[0] == 0
        assert starts[-1] + length == size + (-size) % 32  # the last tile ends at the padded border
        assert all(a + length - b >= overlap for a, b in zip(starts, starts[1:]))
    # the fewest pixels: a 12 MP photo costs < 1.25x its own pixels (512-pixel tiles with flush last tiles: 1.5x)
    assert len(ys) * th * len(xs) * tw / ((h + (-h) % 32) * (w + (-w) % 32)) < 1.25


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (17, 31), (33, 65)])
def test_tiny_and_odd_sizes_keep_their_size(tiny_weights, shape):
    den = Denoiser.from_weights(str(tiny_weights))
    for img in (np.zeros(shape + (3,), np.uint8), np.full(shape, 7, np.uint8), np.zeros(shape + (3,), np.uint16)):
        out = den(img)
        assert out.shape == img.shape and out.dtype == img.dtype


@pytest.mark.shared(REF, "data/test/Kodak24")
def test_tiled_equals_whole_image_for_a_real_checkpoint(ref_ckpt):
    img = cv2.imread(str(DATA / "test" / "Kodak24" / "kodim05.png"))[:320, :448]
    noisy = np.clip(img + np.random.default_rng(0).normal(0, 25, img.shape), 0, 255).astype(np.uint8)
    whole = Denoiser.from_weights(str(ref_ckpt), tile=0)(noisy).astype(int)
    tiled_den = Denoiser.from_weights(str(ref_ckpt), tile=256, overlap=96)
    assert tiled_den.tiles_for(320, 448) > 1
    tiled = tiled_den(noisy).astype(int)
    assert np.abs(tiled - whole).max() <= 1  # within 1/255


def test_python_api_on_a_grey_image(tiny_weights, photo):
    den = Denoiser.from_weights(str(tiny_weights))
    grey = photo[..., 1]
    assert den(grey).shape == grey.shape
    with pytest.raises(ValueError, match="uint8/uint16"):
        den(photo.astype(np.float32))


def test_strength_blends_output_and_input(tiny_weights, photo):
    full = Denoiser.from_weights(str(tiny_weights))
    none = Denoiser.from_weights(str(tiny_weights), strength=0)
    half = Denoiser.from_weights(str(tiny_weights), strength=0.5)
    assert np.array_equal(none(photo), photo)  # 0 returns the input, exactly
    out, mid = full(photo).astype(int), half(photo).astype(int)
    assert np.abs(mid - (out + photo.astype(int)) / 2).max() <= 1  # halfway, up to rounding
    with pytest.raises(ValueError, match="strength"):
        Denoiser.from_weights(str(tiny_weights), strength=1.5)


def test_ensemble_views_are_the_eight_symmetries_and_undo_exactly():
    from noise2noise.ensemble import VIEWS, unview, view

    x = np.random.default_rng(2).random((1, 3, 5, 7)).astype(np.float32)
    seen = set()
    for k in range(len(VIEWS)):
        v = view(x, k)
        assert v.shape == ((1, 3, 7, 5) if k >= 4 else x.shape)
        assert np.array_equal(unview(v, k), x)
        seen.add(v.tobytes())
    assert len(seen) == 8  # all distinct


def test_ensemble_averages_away_what_depends_on_orientation():
    """A 'network' that adds a left-to-right ramp: the mean over a view and its mirror image
    cancels the ramp, and every view is turned back before averaging (else the ramp would stay)."""
    x = np.random.default_rng(3).random((1, 3, 64, 96)).astype(np.float32)

    def ramp(v):
        return v + np.linspace(-1, 1, v.shape[-1], dtype=np.float32)

    for n in (2, 4, 8):
        den = wrap(Denoiser(ramp, config=DenoiseConfig(ensemble=n, tile=0)))
        np.testing.assert_allclose(den.run_array(x), x, atol=1e-6)
    np.testing.assert_allclose(Denoiser(ramp, config=DenoiseConfig(tile=0)).run_array(x), ramp(x))
    with pytest.raises(ValueError, match="ensemble"):
        Denoiser(identity, config=DenoiseConfig(ensemble=3))


def test_ensemble_progress_counts_every_view_and_tile():
    x = np.zeros((1, 3, 100, 70), np.float32)
    den = wrap(Denoiser(identity, config=DenoiseConfig(tile=64, overlap=8, ensemble=8)))
    ticks = []
    out = den.run_array(x, ticks.append)
    assert out.shape == x.shape and sum(ticks) == den.tiles_for(100, 70) > 8 * 4


@pytest.mark.shared("data/test/Kodak24/kodim05.png")
def test_ensemble_of_the_shipped_model_is_closer_to_the_clean_image():
    from noise2noise.evaluation.metrics import psnr

    clean = cv2.imread(str(DATA / "test" / "Kodak24" / "kodim05.png"))[:160, :224]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
    one = Denoiser.from_weights(backend="torch", precision="fp32")
    eight = Denoiser.from_weights(backend="torch", precision="fp32", ensemble=8)
    assert psnr(eight(noisy), clean) > psnr(one(noisy), clean) + 0.05
