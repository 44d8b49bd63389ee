"""Neighbor2Neighbor's sub-sampler and loss."""

import torch

from noise2noise.training.selfsup import cells, ne2ne_loss, neighbour_indices, pixel_shuffle_down, subsample


def test_two_sub_images_take_different_neighbours_of_the_same_cell():
    g = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 1 * 8 * 12, dtype=torch.float32).reshape(2, 1, 8, 12)  # every pixel its own value
    i1, i2 = neighbour_indices(2, 8, 12, g)
    a, b = subsample(x, i1), subsample(x, i2)
    assert a.shape == b.shape == (2, 1, 4, 6)
    assert (a != b).all()  # never the same pixel
    cell = cells(x)
    assert (cell.eq(a[..., None]).any(-1)).all() and (cell.eq(b[..., None]).any(-1)).all()  # same cell
    h, w = (a.long() % 96) // 12, (a.long() % 96) % 12
    h2, w2 = (b.long() % 96) // 12, (b.long() % 96) % 12
    assert ((h - h2).abs() + (w - w2).abs() == 1).all()  # 4-neighbours, never diagonal
    assert {int(v) for v in i1.unique()} == {0, 1, 2, 3}


def test_the_regulariser_vanishes_for_the_identity():
    g = torch.Generator().manual_seed(1)
    y = torch.rand(2, 3, 64, 64)
    identity = torch.nn.Identity()
    plain = ne2ne_loss(identity, y, torch.Generator().manual_seed(1), gamma=0.0)
    regular = ne2ne_loss(identity, y, g, gamma=2.0)
    assert torch.allclose(plain, regular)  # f(g1) - g2 - (g1(f) - g2(f)) = 0 when f is the identity


def test_pixel_shuffle_down_splits_into_every_s_th_pixel():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    d = pixel_shuffle_down(x, 2)
    assert d.shape == (4, 1, 2, 2) and d[0, 0].tolist() == [[0, 2], [8, 10]] and d[3, 0].tolist() == [[5, 7], [13, 15]]


def test_the_masked_check_scores_the_error_to_the_clean_image_plus_the_noise():
    from noise2noise.training.selfsup import masked_score

    gen = torch.Generator().manual_seed(0)
    clean = torch.nn.functional.interpolate(torch.rand(4, 3, 8, 8, generator=gen), size=64, mode="bilinear")
    noisy = clean + 0.1 * torch.randn(clean.shape, generator=gen)
    oracle = masked_score(lambda x: clean, noisy, torch.Generator().manual_seed(1))
    identity = masked_score(lambda x: x, noisy, torch.Generator().manual_seed(1))
    assert abs(oracle - 0.01) < 0.0015  # the noise variance: the clean image scores sigma^2
    assert identity > 1.2 * oracle  # what the net saw holds no trace of the hidden noise


def test_the_residual_correlation_tells_white_noise_from_correlated_noise():
    from noise2noise.training.selfsup import residual_correlation

    g = torch.Generator().manual_seed(0)
    white = torch.randn(4, 3, 64, 64, generator=g)
    blurred = torch.nn.functional.avg_pool2d(torch.randn(4, 3, 65, 65, generator=g), 2, stride=1)  # 2x2 box
    assert abs(residual_correlation(torch.zeros_like, white)) < 0.03
    assert abs(residual_correlation(torch.zeros_like, blurred) - 0.5) < 0.05  # a 2x2 box's lag-1 correlation is 1/2
    assert abs(residual_correlation(torch.nn.Identity(), white + 1.0)) < 1e-6  # nothing removed: no noise seen


def test_the_swapped_pair_trains_both_directions_with_the_negated_gap():
    from noise2noise.training.selfsup import ne2ne_loss

    y = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    blur = torch.nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)  # f(g1(y)) != g1(f(y))
    i1, i2 = neighbour_indices(2, 64, 64, torch.Generator().manual_seed(3))
    g1, g2 = subsample(y, i1), subsample(y, i2)
    gap = subsample(blur(y), i1) - subsample(blur(y), i2)
    forward = ((blur(g1) - g2) ** 2).mean() + 2.0 * ((blur(g1) - g2 - gap) ** 2).mean()
    backward = ((blur(g2) - g1) ** 2).mean() + 2.0 * ((blur(g2) - g1 + gap) ** 2).mean()
    both = ne2ne_loss(blur, y, torch.Generator().manual_seed(3), gamma=2.0, swap=True)
    assert torch.allclose(both, (forward + backward) / 2)
    one = ne2ne_loss(blur, y, torch.Generator().manual_seed(3), gamma=2.0)
    assert torch.allclose(one, forward) and not torch.allclose(one, both)
    identity = torch.nn.Identity()
    assert torch.allclose(  # the regulariser still vanishes for the identity
        ne2ne_loss(identity, y, torch.Generator().manual_seed(3), gamma=2.0, swap=True),
        ne2ne_loss(identity, y, torch.Generator().manual_seed(3), gamma=0.0, swap=True),
    )
