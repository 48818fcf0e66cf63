"""How steady a stylized clip is: the temporal warping error of Lai et al. (2018, *Learning Blind Video Temporal
Consistency*), with the flow taken from the content frames:

    E_warp = 1/(T-1) sum_{t=2..T} sum_x c_t(x) |O_t(x) - warp(O_{t-1})(x)| / (3 sum_x c_t(x)),

O in [0, 1], c_t the forward-backward consistency mask of the content's flow (``flow.consistency_mask``). Lower is
steadier; the content's own error is what a perfectly steady stylization would keep.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .flow import previous_frame_flow, warp


def flows_of(content: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(backward flow, mask c) from each content frame t >= 2 to frame t-1."""
    return [previous_frame_flow(a, b) for a, b in zip(content[:-1], content[1:])]


def warping_error(frames: Sequence[np.ndarray], flows: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """E_warp of ``frames`` (RGB uint8) along ``flows`` (``flows_of`` the content), as in the module docstring."""
    errors = []
    for (backward, mask), previous, current in zip(flows, frames[:-1], frames[1:]):
        diff = np.abs(current.astype(np.float32) - warp(previous, backward).astype(np.float32)) / 255
        errors.append(float((mask[..., None] * diff).sum() / (3 * max(mask.sum(), 1.0))))
    return float(np.mean(errors))
