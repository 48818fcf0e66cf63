"""Receptive-field patches: the box [y*J - P, y*J - P + R) x [x*J - P, x*J - P + R) cut from a scanned view.

Where the box crosses the view's border, the outside is a grey checkerboard (visible padding), so a patch is
always R x R and the image content sits where the unit saw it.
"""
from __future__ import annotations

import numpy as np

from nst_core.receptive_field import receptive_field

CHECKER_SQUARES = 12  # a padding checkerboard has about this many squares along its longer side
CHECKER_GREYS = (96, 160)


def padding_pattern(height: int, width: int) -> np.ndarray:
    """A ``height x width x 3`` uint8 grey checkerboard marking pixels outside the image (squares of at least
    2 pixels, scaled with the patch so they stay visible when the patch is shown small)."""
    square = max(2, max(height, width) // CHECKER_SQUARES)
    yy, xx = np.mgrid[:height, :width]
    light = ((yy // square + xx // square) % 2).astype(bool)
    grey = np.where(light, CHECKER_GREYS[1], CHECKER_GREYS[0]).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def inside_mask(shape: tuple[int, int], top: int, left: int, size: int) -> np.ndarray:
    """``size x size`` bool: which pixels of the box at (top, left) lie inside an image of ``shape`` (H, W)."""
    h, w = shape
    rows = np.arange(top, top + size)
    cols = np.arange(left, left + size)
    return ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None, :]


def cut_box(image: np.ndarray, top: int, left: int, size: int, outside: np.ndarray) -> np.ndarray:
    """The ``size x size`` box of ``image`` (H, W, ...) at (top, left); pixels outside the image come from
    ``outside`` (same shape as the result)."""
    h, w = image.shape[:2]
    out = outside.copy()
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + size, h), min(left + size, w)
    if y0 < y1 and x0 < x1:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = image[y0:y1, x0:x1]
    return out


def cut_patch(view: np.ndarray, layer: str, y: int, x: int) -> np.ndarray:
    """The R x R patch of ``view`` (RGB uint8) that unit (y, x) of ``layer`` sees, padding shown as a checkerboard."""
    rf = receptive_field(layer)
    top, left, _, _ = rf.box(y, x)
    return cut_box(view, top, left, rf.size, padding_pattern(rf.size, rf.size))
