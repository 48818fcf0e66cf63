"""The cost functions of Gatys et al. (2015), as written in the course notes.

Activations are shaped ``(1, n_C, n_H, n_W)``. Every cost is computed in
float32, whatever precision the convolutions ran in.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch


def content_cost(a_C: torch.Tensor, a_G: torch.Tensor) -> torch.Tensor:
    """J_content(C, G) = 1/2 * ||a^(C) - a^(G)||^2, summed over all elements."""
    return 0.5 * (a_C.float() - a_G.float()).pow(2).sum()


class _Gram(torch.autograd.Function):
    """G = F F^T for F of shape ``(n_C, n_H n_W)``; backward dL/dF = (dL/dG + dL/dG^T) F, one matrix product
    (autograd's generic rule would take two, one per factor)."""

    @staticmethod
    def forward(ctx, f: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(f)
        return f @ f.T

    @staticmethod
    def backward(ctx, dG: torch.Tensor) -> torch.Tensor:
        (f,) = ctx.saved_tensors
        S = dG + dG.T
        if f.stride(0) == 1:  # f is a transposed view (a channels_last activation): keep the gradient in that layout
            return (f.T @ S).T
        return S @ f


def unrolled(a: torch.Tensor) -> torch.Tensor:
    """The ``(1, n_C, n_H, n_W)`` activation as F, ``n_C x (n_H n_W)``, in float32: a view when it can be."""
    _, n_C, n_H, n_W = a.shape
    a = a.float()
    if a.is_contiguous(memory_format=torch.channels_last) and not a.is_contiguous():
        return a.permute(0, 2, 3, 1).reshape(n_H * n_W, n_C).T  # channels_last: (n_H n_W) x n_C in memory
    return a.reshape(n_C, n_H * n_W)


def gram_matrix(a: torch.Tensor) -> torch.Tensor:
    """G_kk' = sum_i sum_j a_ijk * a_ijk'  -> an ``n_C x n_C`` matrix (float32)."""
    return _Gram.apply(unrolled(a))


def layer_style_cost(a_S: torch.Tensor, a_G: torch.Tensor) -> torch.Tensor:
    """J_style^[l](S, G) = 1 / (2 n_H n_W n_C)^2 * sum_k sum_k' (G^(S)_kk' - G^(G)_kk')^2.

    ``a_S`` may instead be the style Gram matrix itself (``n_C x n_C``), so a
    fixed target can be computed once.
    """
    _, n_C, n_H, n_W = a_G.shape
    G_S = a_S if a_S.dim() == 2 else gram_matrix(a_S)
    G_G = gram_matrix(a_G)
    return (G_S.float() - G_G).pow(2).sum() / (2.0 * n_H * n_W * n_C) ** 2


def style_cost(style_activations: Mapping[str, torch.Tensor], generated_activations: Mapping[str, torch.Tensor],
               layer_weights: Mapping[str, float]) -> torch.Tensor:
    """J_style(S, G) = sum_l lambda^[l] * J_style^[l](S, G), over the layers in ``layer_weights``."""
    total = torch.zeros((), dtype=torch.float32, device=next(iter(generated_activations.values())).device)
    for layer, lam in layer_weights.items():
        total = total + lam * layer_style_cost(style_activations[layer], generated_activations[layer])
    return total


def guided_layer_style_cost(targets: Sequence[Sequence[tuple[float, torch.Tensor]]], a_G: torch.Tensor,
                            masks: torch.Tensor) -> torch.Tensor:
    """Spatial control (Gatys et al., 2017, §4): the style cost of one layer when each region r of G takes its own
    style. With m_r the region's guidance channel on this layer's grid and F_r = F ∘ m_r the masked features,

        G_r = F_r F_r^T,   A_r = sum_ij m_r(i, j)^2,   s_r = sum_ij m_r(i, j) / (n_H n_W)   (the region's share),
        J_style^[l] = sum_r s_r * sum_S w_S * 1 / (2 n_C)^2 * sum_kk' (G^(S)_kk' / (n_H n_W) - G_r,kk' / A_r)^2,

    each Gram normalised by the area it sums over. ``targets[r]`` lists the (weight w_S, style Gram G^(S)) pairs
    region r takes (several: a blend; none: the region is not painted). With one region covering the whole image
    (m = 1, A = n_H n_W, s = 1) this is the seeds' per-layer cost ``layer_style_cost``, blended by w_S.
    ``masks``: ``(regions, n_H, n_W)``."""
    _, n_C, n_H, n_W = a_G.shape
    total = torch.zeros((), dtype=torch.float32, device=a_G.device)
    for m, region_targets in zip(masks, targets):
        A = float(m.pow(2).sum())
        if not region_targets or A == 0:
            continue
        G_r = gram_matrix(a_G.float() * m.to(a_G.device)) / A
        share = float(m.sum()) / (n_H * n_W)
        for w, G_S in region_targets:
            total = total + share * w * (G_S.float() / (n_H * n_W) - G_r).pow(2).sum() / (2.0 * n_C) ** 2
    return total


def guided_style_cost(targets: Sequence[Sequence[tuple[float, Mapping[str, torch.Tensor]]]],
                      generated_activations: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor],
                      layer_weights: Mapping[str, float]) -> torch.Tensor:
    """J_style(G) = sum_l lambda^[l] * J_style^[l] with the regional per-layer cost ``guided_layer_style_cost``;
    ``targets[r]`` lists (w_S, the style's Grams by layer) for region r, ``masks[l]`` the regions' channels on layer
    l's grid."""
    total = torch.zeros((), dtype=torch.float32, device=next(iter(generated_activations.values())).device)
    for layer, lam in layer_weights.items():
        per_region = [[(w, grams[layer]) for w, grams in region] for region in targets]
        total = total + lam * guided_layer_style_cost(per_region, generated_activations[layer], masks[layer])
    return total


def total_cost(J_content: torch.Tensor, J_style: torch.Tensor, alpha: float, beta: float) -> torch.Tensor:
    """J(G) = alpha * J_content(C, G) + beta * J_style(S, G)."""
    return alpha * J_content + beta * J_style


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """TV(G) = sum_ij (G_i+1,j - G_i,j)^2 + (G_i,j+1 - G_i,j)^2, summed over channels (squared-difference TV)."""
    x = image.float()
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).sum() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).sum()
