"""The look measures (nst_core/look.py) on tiny pictures: their definitions, and the shares' two ends."""
import numpy as np
import pytest
import torch

from nst_core.images import resize_to
from nst_core.look import (MEASURES, box_downsample, gram_distance, look, position_gram, share,
                           sliced_wasserstein)


def test_a_result_equal_to_its_content_has_shares_of_one_and_no_content_cost(tiny_pair):
    content, style = tiny_pair
    m = look(content, content, style)
    assert set(m) == set(MEASURES)
    for name in ("Js@1", "Js@2", "Js@4", "colour"):
        assert m[name] == pytest.approx(1.0, abs=1e-6), name
    assert m["Jc"] == 0.0


def test_a_result_equal_to_its_style_has_shares_of_zero(tiny_pair):
    content, style = tiny_pair
    style = resize_to(style, *content.shape[:2])
    m = look(style, content, style)
    for name in ("Js@1", "Js@2", "Js@4", "colour"):
        assert m[name] == pytest.approx(0.0, abs=1e-6), name
    assert m["Jc"] > 0


def test_a_result_between_content_and_style_has_shares_between(tiny_pair):
    content, style = tiny_pair
    s = resize_to(style, *content.shape[:2]).astype(np.float32)
    mix = np.round(0.5 * content + 0.5 * s).astype(np.uint8)
    m = look(mix, content, style)
    assert 0 < m["colour"] < 1
    assert 0 < m["Js@4"] < 1


def test_position_gram_is_FFt_over_positions():
    a = torch.arange(24, dtype=torch.float32).reshape(1, 2, 3, 4)
    f = a.reshape(2, 12)
    assert torch.allclose(position_gram(a), f @ f.T / 12)


def test_gram_distance_is_the_layer_mean_of_squared_frobenius_over_4_nC2():
    a = [torch.zeros(2, 2), torch.zeros(3, 3)]
    b = [torch.ones(2, 2), 2 * torch.ones(3, 3)]
    # layer 1: 4 / (4 * 4) = 0.25; layer 2: 9 * 4 / (4 * 9) = 1
    assert gram_distance(a, b) == pytest.approx((0.25 + 1.0) / 2)


def test_box_downsample_averages_blocks_and_keeps_vgg_s_minimum_side():
    x = torch.arange(64, dtype=torch.float32).reshape(1, 1, 8, 8).repeat(1, 3, 1, 1)
    y = box_downsample(x, 2)
    assert y.shape[-2:] == (16, 16)  # 4 x 4 enlarged to VGG19's 16 px
    big = torch.rand(1, 3, 64, 48)
    z = box_downsample(big, 4)
    assert z.shape[-2:] == (16, 16)  # 16 x 12 enlarged on its short side
    assert torch.allclose(box_downsample(big, 2)[0, :, 0, 0], big[0, :, :2, :2].mean(dim=(1, 2)))


def test_sliced_wasserstein_ignores_pixel_order_and_measures_a_shift():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(500, 3, generator=g)
    assert sliced_wasserstein(x, x[torch.randperm(500, generator=g)]) == pytest.approx(0.0, abs=1e-9)
    # a shift by d along every channel moves each projection by d (θ·1); SW² is the mean of (d θ·1)²
    d = 0.1
    theta = torch.randn(64, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    theta = theta / theta.norm(dim=1, keepdim=True)
    expected = float((d * theta.sum(1)).pow(2).mean().sqrt())
    assert sliced_wasserstein(x, x + d) == pytest.approx(expected, rel=1e-6)


def test_share_of_a_zero_baseline_is_not_a_number():
    assert np.isnan(share(1.0, 0.0))
    assert share(1.0, 4.0) == 0.25
