"""The costs against hand-computed values and against plain loops over the seeds' formulas."""
import itertools

import pytest
import torch

from nst_core.losses import content_cost, gram_matrix, layer_style_cost, style_cost, total_cost, total_variation


def loop_gram(a):
    """G_kk' = sum_i sum_j a_ijk a_ijk', written as loops over a (1, n_C, n_H, n_W) tensor."""
    _, n_C, n_H, n_W = a.shape
    G = torch.zeros(n_C, n_C, dtype=torch.float64)
    for k, kp in itertools.product(range(n_C), repeat=2):
        for i, j in itertools.product(range(n_H), range(n_W)):
            G[k, kp] += float(a[0, k, i, j]) * float(a[0, kp, i, j])
    return G


def loop_layer_style_cost(a_S, a_G):
    _, n_C, n_H, n_W = a_G.shape
    GS, GG = loop_gram(a_S), loop_gram(a_G)
    total = sum(float(GS[k, kp] - GG[k, kp]) ** 2 for k in range(n_C) for kp in range(n_C))
    return total / (2 * n_H * n_W * n_C) ** 2


def test_content_cost_by_hand():
    a_C = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 2, 2)
    a_G = torch.tensor([1.0, 0.0, 3.0, 7.0]).view(1, 1, 2, 2)
    # 1/2 * (0 + 4 + 0 + 9)
    assert content_cost(a_C, a_G).item() == pytest.approx(6.5)


def test_gram_matrix_by_hand():
    # channel 0 = [1, 2], channel 1 = [3, 4] over a 1x2 grid
    a = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])
    G = gram_matrix(a)
    assert G.tolist() == [[5.0, 11.0], [11.0, 25.0]]


def test_layer_style_cost_by_hand():
    a_S = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # G = [[5, 11], [11, 25]]
    a_G = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])  # G = [[1, 0], [0, 1]]
    # (16 + 121 + 121 + 576) / (2 * 1 * 2 * 2)^2 = 834 / 64
    assert layer_style_cost(a_S, a_G).item() == pytest.approx(834 / 64)


def test_style_cost_weights_layers():
    a_S = {"relu1_1": torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]]), "relu2_1": torch.ones(1, 1, 1, 1)}
    a_G = {"relu1_1": torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]]), "relu2_1": torch.full((1, 1, 1, 1), 3.0)}
    # relu2_1: (1 - 9)^2 / (2*1*1*1)^2 = 16
    J = style_cost(a_S, a_G, {"relu1_1": 0.5, "relu2_1": 2.0})
    assert J.item() == pytest.approx(0.5 * 834 / 64 + 2.0 * 16)


def test_total_cost_and_tv_by_hand():
    assert total_cost(torch.tensor(2.0), torch.tensor(3.0), alpha=10, beta=40).item() == pytest.approx(140)
    img = torch.tensor([[0.0, 1.0], [3.0, 3.0]]).view(1, 1, 2, 2)
    # vertical diffs: 3, 2 -> 9 + 4; horizontal: 1, 0 -> 1
    assert total_variation(img).item() == pytest.approx(14)


@pytest.mark.parametrize("shape", [(1, 3, 4, 5), (1, 6, 3, 3), (1, 2, 1, 7)])
def test_costs_match_plain_loops(shape):
    g = torch.Generator().manual_seed(sum(shape))
    a_S, a_G, a_C = (torch.randn(shape, generator=g) for _ in range(3))
    assert torch.allclose(gram_matrix(a_S).double(), loop_gram(a_S), rtol=1e-5, atol=1e-4)
    assert layer_style_cost(a_S, a_G).item() == pytest.approx(loop_layer_style_cost(a_S, a_G), rel=1e-5)
    loop_content = 0.5 * sum((float(x) - float(y)) ** 2 for x, y in zip(a_C.flatten(), a_G.flatten()))
    assert content_cost(a_C, a_G).item() == pytest.approx(loop_content, rel=1e-5)


def test_style_target_may_be_a_precomputed_gram():
    g = torch.Generator().manual_seed(1)
    a_S, a_G = torch.randn(1, 4, 3, 3, generator=g), torch.randn(1, 4, 3, 3, generator=g)
    assert layer_style_cost(gram_matrix(a_S), a_G).item() == pytest.approx(layer_style_cost(a_S, a_G).item())


def test_costs_are_float32_for_bf16_activations():
    a = torch.randn(1, 4, 3, 3).bfloat16()
    b = torch.randn(1, 4, 3, 3).bfloat16()
    assert gram_matrix(a).dtype == torch.float32
    assert layer_style_cost(a, b).dtype == torch.float32
    assert content_cost(a, b).dtype == torch.float32


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_gram_gradient_matches_autograd_of_the_plain_product(memory_format):
    """gram_matrix's one-product backward, (dG + dG^T) F, equals autograd through F F^T; layouts kept."""
    g = torch.Generator().manual_seed(3)
    a_S = torch.randn(1, 5, 4, 6, generator=g)
    a_G = torch.randn(1, 5, 4, 6, generator=g).contiguous(memory_format=memory_format).requires_grad_(True)
    weights = torch.randn(5, 5, generator=g)  # a non-symmetric dL/dG too
    (layer_style_cost(a_S, a_G) + (weights * gram_matrix(a_G)).sum()).backward()
    plain = a_G.detach().clone().contiguous().requires_grad_(True)
    f = plain.reshape(5, 24)
    G_plain, G_S = f @ f.T, a_S.reshape(5, 24) @ a_S.reshape(5, 24).T
    ((G_S - G_plain).pow(2).sum() / (2.0 * 4 * 6 * 5) ** 2 + (weights * G_plain).sum()).backward()
    assert torch.allclose(a_G.grad, plain.grad, rtol=1e-5, atol=1e-6)
    assert a_G.grad.is_contiguous(memory_format=memory_format)
    assert torch.allclose(gram_matrix(a_G.detach()), G_plain.detach(), rtol=1e-6, atol=1e-5)
