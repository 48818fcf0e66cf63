"""The look of a stylization, measured apart from J.

J can stay equal while a picture looks less stylized (J_content and J_style trade places, or the large-scale look
is left untouched while the fine texture matches). These measures say how far a result G has moved from its
content C towards its style S, each as a *share*: G's distance to S over C's own distance to S (1 = not stylized at
all, 0 = as close to the style as the style itself; lower is more stylized):

- ``Js@k`` (k = 1, 2, 4): the Gram style distance between G and S, both box-filtered down k times, so that ``Js@4``
  sees the large-scale look (tones, big marks) and ``Js@1`` the texture. Each Gram is over its own positions,
  Ĝ = F Fᵀ / (n_H n_W), each layer's distance is ‖Ĝ⁽ˢ⁾ − Ĝ⁽ᴳ⁾‖²_F / (4 n_C²), and the distance is the mean over
  relu1_1 … relu5_1. Normalising by positions lets pictures of different sizes be compared.
- ``colour``: the sliced Wasserstein-2 distance between the pixel colours of G and S (RGB in [0, 1], 64 fixed random
  directions, 256 quantiles).

and, not a share, ``Jc``: the seeds' content cost per element at relu4_2, ½ mean((a⁽ᶜ⁾ − a⁽ᴳ⁾)²).

C is resized to G; S is resized so its long edge is G's. Everything runs in float32 on the CPU.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .images import MIN_SIDE, resize_long_edge, resize_to
from .vgg import VGG19, load_vgg19, rgb_to_tensor

LOOK_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "relu4_2"
SCALES = (1, 2, 4)
DIRECTIONS, QUANTILES = 64, 256
MEASURES = tuple(f"Js@{k}" for k in SCALES) + ("colour", "Jc")


def box_downsample(rgb01: torch.Tensor, k: int) -> torch.Tensor:
    """The ``(1, 3, H, W)`` picture averaged over k x k blocks (a box filter), then, if a side fell below VGG19's
    16 px, enlarged to 16 px on that side (bilinear) so relu5_1 still sees it."""
    x = F.avg_pool2d(rgb01, k) if k > 1 else rgb01
    h, w = x.shape[-2:]
    if min(h, w) < MIN_SIDE:
        x = F.interpolate(x, size=(max(h, MIN_SIDE), max(w, MIN_SIDE)), mode="bilinear", align_corners=False)
    return x


def position_gram(a: torch.Tensor) -> torch.Tensor:
    """Ĝ = F Fᵀ / (n_H n_W) for an activation ``(1, n_C, n_H, n_W)`` unrolled to F, ``n_C x (n_H n_W)``."""
    _, n_C, n_H, n_W = a.shape
    f = a.reshape(n_C, n_H * n_W).float()
    return f @ f.T / (n_H * n_W)


def gram_distance(grams_a: Sequence[torch.Tensor], grams_b: Sequence[torch.Tensor]) -> float:
    """The mean over layers of ‖Ĝ_a − Ĝ_b‖²_F / (4 n_C²)."""
    return float(np.mean([float((a - b).pow(2).sum()) / (4 * a.shape[0] ** 2) for a, b in zip(grams_a, grams_b)]))


def sliced_wasserstein(x: torch.Tensor, y: torch.Tensor, directions: int = DIRECTIONS,
                       quantiles: int = QUANTILES) -> float:
    """SW₂ between two colour sets ``(n, 3)`` and ``(m, 3)``: sqrt of the mean, over ``directions`` fixed random unit
    vectors θ and ``quantiles`` levels q, of (Q_{x·θ}(q) − Q_{y·θ}(q))²."""
    theta = torch.randn(directions, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    theta = theta / theta.norm(dim=1, keepdim=True)
    levels = (torch.arange(quantiles, dtype=torch.float64) + 0.5) / quantiles
    qx = torch.quantile(x.double() @ theta.T, levels, dim=0)
    qy = torch.quantile(y.double() @ theta.T, levels, dim=0)
    return float((qx - qy).pow(2).mean().sqrt())


def pixel_colours(rgb01: torch.Tensor) -> torch.Tensor:
    """``(1, 3, H, W)`` -> the ``(H W, 3)`` colours."""
    return rgb01[0].reshape(3, -1).T


def share(distance: float, baseline: float) -> float:
    """distance / baseline: 1 for the content itself, 0 for the style itself (nan where C already is S)."""
    return distance / baseline if baseline > 0 else float("nan")


@torch.no_grad()
def look(result: np.ndarray, content: np.ndarray, style: np.ndarray, vgg: VGG19 | None = None) -> dict[str, float]:
    """The shares ``Js@1``, ``Js@2``, ``Js@4`` and ``colour`` of RGB uint8 ``result`` (G) against ``content`` (C)
    and ``style`` (S), and ``Jc`` (see the module's docstring)."""
    vgg = vgg or load_vgg19()
    h, w = result.shape[:2]
    G, C = rgb_to_tensor(result), rgb_to_tensor(resize_to(content, h, w))
    S = rgb_to_tensor(resize_long_edge(style, max(h, w)))

    def features(rgb01: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        with torch.autocast("cpu", enabled=False):
            return vgg(vgg.normalize(rgb01.float()), layers)

    out = {}
    for k in SCALES:
        grams = [[position_gram(a) for a in features(box_downsample(x, k), LOOK_LAYERS).values()] for x in (G, C, S)]
        out[f"Js@{k}"] = share(gram_distance(grams[0], grams[2]), gram_distance(grams[1], grams[2]))
    s = pixel_colours(S)
    out["colour"] = share(sliced_wasserstein(pixel_colours(G), s), sliced_wasserstein(pixel_colours(C), s))
    a_G, a_C = (features(x, [CONTENT_LAYER])[CONTENT_LAYER] for x in (G, C))
    out["Jc"] = float(0.5 * (a_C - a_G).pow(2).mean())
    return out
