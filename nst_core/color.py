"""Colour preservation (Gatys et al., 2016, "luminance-only transfer").

The style image is turned into its luminance, matched in mean and spread to the
content's luminance; the result keeps the stylized luminance and takes the
content's chroma (YCbCr, ITU-R BT.601).
"""
from __future__ import annotations

import torch

_Y = torch.tensor([0.299, 0.587, 0.114])


def luminance(rgb01: torch.Tensor) -> torch.Tensor:
    """Y = 0.299 R + 0.587 G + 0.114 B of a batch ``(N, 3, H, W)`` -> ``(N, 1, H, W)``."""
    return (rgb01 * _Y.to(rgb01).view(1, 3, 1, 1)).sum(1, keepdim=True)


def match_luminance(style01: torch.Tensor, content01: torch.Tensor) -> torch.Tensor:
    """The style as a grey RGB image whose luminance has the content's mean and standard deviation."""
    y_s, y_c = luminance(style01), luminance(content01)
    y = (y_s - y_s.mean()) / (y_s.std() + 1e-6) * y_c.std() + y_c.mean()
    return y.clamp(0, 1).expand(-1, 3, -1, -1).contiguous()


def keep_content_colors(generated01: torch.Tensor, content01: torch.Tensor) -> torch.Tensor:
    """The generated luminance with the content's chroma: RGB = Y_G + (content RGB - Y_C)."""
    return (luminance(generated01) + content01 - luminance(content01)).clamp(0, 1)
