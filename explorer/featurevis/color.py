"""Colour (Lucent's ``param/color.py`` idea): from an unbounded image to RGB in [0, 1], optionally decorrelated.

Neighbouring colour channels of photos are strongly correlated (mostly brightness). Optimising in decorrelated
coordinates z, with rgb = sigmoid(M z + logit(mu)), lets one step move brightness and each colour contrast alike.
M = U Λ^½ / max column norm, where C = U Λ Uᵀ is the RGB covariance of scikit-image's sample photos (a stand-in
for ImageNet's, which is not shipped) and mu is the mean pixel of VGG's own preprocessing (ImageNet's).
"""
from __future__ import annotations

import functools
import os

import numpy as np
import torch
from PIL import Image

from nst_core.images import load_image
from nst_core.vgg import VGG19

from explorer.units.datasets import builtin_dataset
from .param import ImageF

SUBSAMPLE = 4  # every 4th pixel of every 4th row of each photo


@functools.lru_cache(maxsize=1)
def photo_covariance() -> np.ndarray:
    """C, the 3 x 3 covariance of RGB values in [0, 1] over scikit-image's sample photos (every 4th pixel)."""
    dataset = builtin_dataset()
    pixels = [load_image(os.path.join(dataset.root, f))[::SUBSAMPLE, ::SUBSAMPLE].reshape(-1, 3) / 255.0
              for f in dataset.files]
    return np.cov(np.concatenate(pixels), rowvar=False)


def sample_photos(size: int) -> np.ndarray:
    """scikit-image's sample photos centre-cropped square and resized to ``size``: (N, size, size, 3) uint8 (the
    baseline a synthesised image must beat)."""
    dataset, photos = builtin_dataset(), []
    for file in dataset.files:
        rgb = load_image(os.path.join(dataset.root, file))
        h, w = rgb.shape[:2]
        side = min(h, w)
        square = rgb[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
        photos.append(np.asarray(Image.fromarray(square).resize((size, size), Image.LANCZOS)))
    return np.stack(photos)


def color_correlation_sqrt(covariance: np.ndarray) -> torch.Tensor:
    """M = U Λ^½ scaled so its largest column has norm 1 (M Mᵀ ∝ C: unit-variance z gets the photos' colours)."""
    eigenvalues, u = np.linalg.eigh(covariance)
    m = u * np.sqrt(np.clip(eigenvalues, 0, None))
    return torch.tensor(m / np.linalg.norm(m, axis=0).max(), dtype=torch.float32)


def vgg_mean_rgb(model: VGG19) -> torch.Tensor:
    """The mean pixel VGG's preprocessing subtracts, as RGB in [0, 1]."""
    p = model.preprocessing
    mean = torch.tensor(p.mean[::-1] if p.bgr else p.mean, dtype=torch.float32)
    return mean / p.scale


def to_rgb(image_f: ImageF, model: VGG19, decorrelate: bool = True) -> ImageF:
    """rgb = sigmoid(M z + logit(mu)) per pixel, M = ``color_correlation_sqrt`` (or the identity)."""
    m = color_correlation_sqrt(photo_covariance()) if decorrelate else torch.eye(3)
    offset = torch.logit(vgg_mean_rgb(model)).view(1, 3, 1, 1)

    def rgb_f(size: int) -> torch.Tensor:
        z = image_f(size)
        return torch.sigmoid(torch.einsum("ij,njhw->nihw", m, z) + offset)
    return rgb_f
