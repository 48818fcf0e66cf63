"""Image parameterisations (Lucent's ``param/spatial.py`` idea): each returns ``(params, image_f)``.

``params`` are the leaf tensors the optimiser moves; ``image_f(size)`` rebuilds the batch of images at ``size``
pixels, ``(N, 3, size, size)``, in an unbounded colour space (``color.py`` maps it to RGB in [0, 1]).
Asking for a size below the parameters' own is the coarse stage of the coarse-to-fine schedule.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

ImageF = Callable[[int], torch.Tensor]


def pixel_image(shape: tuple[int, int, int, int], sd: float = 0.01,
                generator: torch.Generator | None = None) -> tuple[list[torch.Tensor], ImageF]:
    """x = P, the pixels themselves, P ~ N(0, sd^2) at the start; smaller sizes are P resized (area average)."""
    pixels = (torch.randn(shape, generator=generator) * sd).requires_grad_()

    def image_f(size: int) -> torch.Tensor:
        if size == shape[-1]:
            return pixels
        return F.interpolate(pixels, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return [pixels], image_f


def spectrum_weights(h: int, w: int, decay_power: float = 1.0) -> torch.Tensor:
    """w(f) = 1 / max(f, 1)^decay_power, f = sqrt(fy^2 + fx^2) in cycles per image, on rfft2's (h, w//2+1) grid.

    Natural images' amplitude falls as 1/f; scaling the parameters so makes every frequency equally easy to move,
    so gradient steps no longer favour high-frequency noise."""
    fy = torch.fft.fftfreq(h, d=1.0 / h)[:, None]
    fx = torch.fft.rfftfreq(w, d=1.0 / w)[None, :]
    return 1.0 / (fy ** 2 + fx ** 2).sqrt().clamp(min=1.0) ** decay_power


def low_frequencies(spectrum: torch.Tensor, size: int) -> torch.Tensor:
    """The coefficients of an rfft2 spectrum ``(..., H, W//2+1)`` that a ``size x size`` image can hold: rows
    0 … size//2 and the last size - size//2 - 1 (negative frequencies), columns 0 … size//2."""
    h = spectrum.shape[-2]
    if size == h:
        return spectrum
    rows = torch.cat([spectrum[..., :size // 2 + 1, :], spectrum[..., h - (size - size // 2 - 1):, :]], dim=-2)
    return rows[..., :size // 2 + 1]


def fourier_image(shape: tuple[int, int, int, int], sd: float = 0.01, decay_power: float = 1.0,
                  generator: torch.Generator | None = None) -> tuple[list[torch.Tensor], ImageF]:
    """x = ¼ · irfft2(w ⊙ S) with no 1/(HW) factor (``norm="forward"``): S, the spectrum, is optimised.

    At a smaller size only the low frequencies of the same S are used, so the coarse image is the full image
    blurred and subsampled, and the fine stage starts where the coarse one ended (coarse-to-fine for free).
    The ¼ is Lucent's scale: at 128 px it gives the same pixels as Lucent's ``fft_image``."""
    n, c, h, w = shape
    real = torch.randn((n, c, h, w // 2 + 1, 2), generator=generator) * sd  # (N, 3, H, W//2+1, re/im)
    real.requires_grad_()
    weights = spectrum_weights(h, w, decay_power)

    def image_f(size: int) -> torch.Tensor:
        spectrum = torch.view_as_complex(real) * weights
        return torch.fft.irfft2(low_frequencies(spectrum, size), s=(size, size), norm="forward") / 4
    return [real], image_f
