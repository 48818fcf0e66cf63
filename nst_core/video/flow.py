"""Optical flow between content frames (OpenCV's DIS), warping along it, and the pixels it can be trusted on.

A flow ``f`` from frame a to frame b says a(x) ~ b(x + f(x)). To carry the stylized frame t-1 onto frame t we need
the backward flow b = flow(frame t, frame t-1): warp(O_{t-1})(x) = O_{t-1}(x + b(x)).

The mask c (Ruder, Dosovitskiy & Brox 2016, Sec. 3.1) keeps x where
  * forward and backward flow undo each other: |b + f~|^2 <= 0.01 (|b|^2 + |f~|^2) + 0.5, with f~(x) = f(x + b(x))
    the forward flow at the point b lands on (where this fails, x was occluded in frame t-1 or the flow is wrong);
  * x is not on a motion boundary: |grad b_u|^2 + |grad b_v|^2 <= 0.01 |b|^2 + 0.002;
  * x + b(x) lies inside frame t-1 (what came in across the frame's edge was never seen).
"""
from __future__ import annotations

import cv2
import numpy as np

DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM


def optical_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The DIS flow from RGB frame ``a`` to ``b``: (h, w, 2) float32 (dx, dy) with a(x) ~ b(x + flow(x))."""
    dis = cv2.DISOpticalFlow_create(DIS_PRESET)
    gray = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in (a, b)]
    return dis.calc(gray[0], gray[1], None)


def warp(image: np.ndarray, flow: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """warp(I)(x) = I(x + flow(x)), bilinear (or ``cv2.INTER_CUBIC``: a result warped frame after frame keeps its
    texture sharper); points outside the frame take the nearest border pixel."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], interpolation,
                     borderMode=cv2.BORDER_REPLICATE)


def consistency_mask(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """c in {0, 1}, (h, w) float32: 1 where the backward flow is trusted (forward-backward consistent, not on a
    motion boundary, seen in the previous frame), per the rules in this module's docstring."""
    f_tilde = warp(forward, backward)
    both = backward + f_tilde
    consistent = (both ** 2).sum(-1) <= 0.01 * ((backward ** 2).sum(-1) + (f_tilde ** 2).sum(-1)) + 0.5
    du_y, du_x = np.gradient(backward[..., 0])
    dv_y, dv_x = np.gradient(backward[..., 1])
    boundary = du_x ** 2 + du_y ** 2 + dv_x ** 2 + dv_y ** 2 > 0.01 * (backward ** 2).sum(-1) + 0.002
    h, w = backward.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w), np.arange(h))
    x, y = grid_x + backward[..., 0], grid_y + backward[..., 1]
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    return (consistent & ~boundary & inside).astype(np.float32)


def previous_frame_flow(previous: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(backward flow from ``current`` to ``previous``, its mask c): what carries frame t-1's result onto frame t."""
    backward = optical_flow(current, previous)
    return backward, consistency_mask(backward, optical_flow(previous, current))
