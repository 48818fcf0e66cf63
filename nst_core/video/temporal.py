"""Ruder et al.'s short-term temporal cost, added to Gatys' J for every frame after the first.

J_temporal(G) = 1/D sum_x c(x) (G(x) - w(x))^2, w = warp(O_{t-1}) the previous stylized frame carried along the
content's flow, c the mask of pixels the flow is trusted on (``flow.consistency_mask``), D = 3 h w the number of
values. The frame's objective is

    J = alpha J_content + beta J_style + tv TV + gamma D J_temporal,

i.e. gamma times the masked sum of squares: like J_content it grows with the frame's area, so one gamma holds at any
size. gamma = 0 leaves only the warm start.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..stylize import StyleTransfer
from ..vgg import rgb_to_tensor, tensor_to_rgb


def temporal_cost(G: torch.Tensor, warped: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """J_temporal = 1/D sum c (G - w)^2 over the (1, 3, h, w) image ``G``; ``mask`` (1, 1, h, w) broadcasts over
    the channels."""
    return (mask * (G - warped).pow(2)).sum() / G.numel()


@dataclass
class TemporalTarget:
    """What the temporal cost of frame t compares G with: w = warp(O_{t-1}) and c, as (1, C, h, w) tensors."""

    warped: torch.Tensor
    mask: torch.Tensor
    weight: float  # gamma

    @classmethod
    def from_arrays(cls, warped: np.ndarray, mask: np.ndarray, weight: float, device) -> "TemporalTarget":
        return cls(rgb_to_tensor(warped).to(device), torch.from_numpy(mask)[None, None].to(device), weight)


class TemporalStyleTransfer(StyleTransfer):
    """``StyleTransfer`` whose J gains gamma D J_temporal while ``target`` is set (and G is at the target's size:
    the coarser stages of a first frame and the calibration runs have no temporal term)."""

    target: TemporalTarget | None = None

    def own_start(self, content: np.ndarray, styles) -> np.ndarray:
        """The start a still of ``content`` would take at the final size (``options.init``), as RGB uint8."""
        content01, styles01 = self._stage_images(content, styles, self.options.size)
        return tensor_to_rgb(self._init_image(content01, styles01, self.options.blend_weights(len(styles)), None))

    def costs(self, G, a_C, style_grams, blend, guide=None):
        costs = super().costs(G, a_C, style_grams, blend, guide)
        t = self.target
        if t is not None and t.weight > 0 and t.warped.shape == G.shape:
            costs["J_temporal"] = temporal_cost(G, t.warped, t.mask)
            costs["J"] = costs["J"] + t.weight * G.numel() * costs["J_temporal"]
        return costs
