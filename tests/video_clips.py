"""Tiny clips written by the tests themselves: a textured window panning across a photo, a few frames."""
from __future__ import annotations

import numpy as np

from nst_core.images import resize_to
from nst_core.video.frames import write_clip


def pan(photo: np.ndarray, n: int = 4, h: int = 32, w: int = 48, step: int = 2) -> list[np.ndarray]:
    """``n`` frames h x w of a window moving ``step`` px right per frame over ``photo`` (the content moves left)."""
    wide = resize_to(photo, h, w + step * n)
    return [np.ascontiguousarray(wide[:, t * step:t * step + w]) for t in range(n)]


def write_pan(path, photo: np.ndarray, n: int = 4, fps: float = 10, **kw) -> list[np.ndarray]:
    frames = pan(photo, n, **kw)
    write_clip(str(path), frames, fps)
    return frames
