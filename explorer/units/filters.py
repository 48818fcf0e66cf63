"""conv1_1's 64 filters as colour images: the only layer whose weights live in pixel space.

Each 3 x 3 x 3 filter W_c is shown as 0.5 + W_c / (2 max|W_c|) in RGB order (Caffe weights are BGR, so flipped):
mid grey is a zero weight, a bright red pixel a large positive weight on red.
"""
from __future__ import annotations

import numpy as np
import torch

from nst_core.vgg import LAYER_INDEX, VGG19


def first_layer_filters(model: VGG19) -> list[np.ndarray]:
    """conv1_1's filters, each a 3 x 3 RGB uint8 image (see the module docstring)."""
    w = model.layers[LAYER_INDEX["conv1_1"]].weight.detach().float()  # (64, 3, 3, 3), network channel order
    if model.preprocessing.bgr:
        w = w.flip(1)
    peak = w.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
    images = (0.5 + w / (2 * peak)).clamp(0, 1).mul(255).round().to(torch.uint8)
    return [img.permute(1, 2, 0).numpy() for img in images]
