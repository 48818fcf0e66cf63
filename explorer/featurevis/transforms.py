"""Transformation robustness (Lucent's ``transform.py`` idea): small random moves of the image at every step.

An image that excites a unit only at one exact pixel alignment is adversarial noise; one that still excites it
when padded, jittered, scaled and rotated shows a feature. Each transform is ``f(image, generator) -> image`` on an
RGB batch ``(N, 3, H, W)``; the generator makes runs reproducible from their seed.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
GREY = 0.5


def pad(width: int, value: float = GREY) -> Transform:
    """Pad every side by ``width`` pixels of grey, so jitter and rotation do not always cut the same border."""
    def transform(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return F.pad(x, (width,) * 4, value=value)
    return transform


def jitter(d: int) -> Transform:
    """Crop a random (H - d) x (W - d) window: a shift of 0 … d pixels in each direction."""
    def transform(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        dy, dx = torch.randint(0, d + 1, (2,), generator=generator).tolist()
        h, w = x.shape[-2:]
        return x[..., dy:h - d + dy, dx:w - d + dx]
    return transform


def _affine(x: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """Resample each item of ``x`` through its own 2 x 3 affine matrix (bilinear; outside = reflection)."""
    grid = F.affine_grid(matrices.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def scale(factors: Sequence[float]) -> Transform:
    """Zoom each item by a factor drawn from ``factors`` (about the centre)."""
    table = torch.tensor(list(factors))

    def transform(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        s = table[torch.randint(len(table), (x.shape[0],), generator=generator)]
        zero = torch.zeros_like(s)
        return _affine(x, torch.stack([torch.stack([1 / s, zero, zero], 1), torch.stack([zero, 1 / s, zero], 1)], 1))
    return transform


def rotate(degrees: Sequence[float]) -> Transform:
    """Rotate each item by an angle drawn from ``degrees`` (about the centre)."""
    table = torch.tensor([math.radians(a) for a in degrees])

    def transform(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        t = table[torch.randint(len(table), (x.shape[0],), generator=generator)]
        cos, sin, zero = t.cos(), t.sin(), torch.zeros_like(t)
        return _affine(x, torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1))
    return transform


def compose(transforms: Sequence[Transform]) -> Transform:
    """Apply ``transforms`` in order."""
    transforms = tuple(transforms)

    def transform(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        for t in transforms:
            x = t(x, generator)
        return x
    return transform


def default_transforms(size: int) -> tuple[Transform, ...]:
    """Lucid's defaults (pad 12, jitter 8, scale 0.9 … 1.1, rotate −10° … 10°, jitter 4 at 128 px), with the
    pixel amounts in proportion to ``size``."""
    px = lambda n: max(1, round(n * size / 128))  # noqa: E731
    return (pad(px(12)), jitter(px(8)), scale([1 + (i - 5) / 50 for i in range(11)]),
            rotate(range(-10, 11)), jitter(px(4)))
