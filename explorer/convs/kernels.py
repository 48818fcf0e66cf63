"""Named filters built the same way for 1, 2 or 3 dimensions, and the n-d correlation torch.nn.Conv{1,2,3}d computes
('valid', stride 1, so N − F + 1 cells per dimension):

    y[i] = Σ_m x[i + m] · w[m]        (i, m multi-indices; m runs over the filter's F × ... × F cells)

Tensor work here has a budget, ``MAX_CELLS`` per array: beyond it the input is refused with a sentence, so nothing
here allocates more than a few megabytes.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as nnf

from nst_core.checks import InputError, one_of

from .shapes import DIM_NAMES

MAX_CELLS = 2**21  # about 2 million cells (8 MB of float32) per input, filter or output


def filter_names(nd: int) -> list[str]:
    """The filters offered for nd spatial dimensions: a blur, a change detector along each axis and a spot finder."""
    return ["blur (average)", *(f"changes along the {axis}" for axis in DIM_NAMES[nd]), "peaks / spots (Mexican hat)"]


def make_filter(name: str, nd: int, size: int) -> np.ndarray:
    """A size^nd filter, built on centred coordinates r = m − (F − 1)/2:

    blur:         w = 1 / F^nd                                  (each output is the mean of its window)
    changes ax a: w = sign(r_a) / Σ[r_a > 0]                    (right half minus left half: an edge detector)
    peaks/spots:  w ∝ (nd − |r|²/σ²)·exp(−|r|²/(2σ²)) − mean, σ = F/6   (a negative Laplacian of Gaussian)
    """
    one_of("the filter", name, filter_names(nd))
    if not isinstance(size, int) or size < 1 or size ** nd > MAX_CELLS:
        raise InputError(f"the filter size must be a whole number from 1 to {math.floor(MAX_CELLS ** (1 / nd))} "
                         f"in {nd}D; got {str(size)[:40]}.")
    r = np.indices((size,) * nd) - (size - 1) / 2
    if name.startswith("blur"):
        w = np.ones((size,) * nd)
        return (w / w.sum()).astype(np.float32)
    if name.startswith("changes"):
        w = np.sign(r[filter_names(nd).index(name) - 1])
    else:
        sigma2, r2 = (size / 6) ** 2, (r ** 2).sum(0)
        w = (nd - r2 / sigma2) * np.exp(-r2 / (2 * sigma2))
        w -= w.mean()
    return (w / max(w[w > 0].sum(), 1e-12)).astype(np.float32)


def correlate(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """y[i] = Σ_m x[i + m]·w[m] over the 'valid' positions, by torch's conv{nd}d: shape N − F + 1 per dimension."""
    nd = x.ndim
    if w.ndim != nd or any(f > n for f, n in zip(w.shape, x.shape)):
        raise InputError(f"the filter {w.shape} must have the input's {nd} dimensions and fit inside it {x.shape}.")
    if x.size > MAX_CELLS:
        raise InputError(f"the input has {x.size:,} cells; the drawings take at most {MAX_CELLS:,}.")
    conv = getattr(nnf, f"conv{nd}d")
    with torch.no_grad():
        return conv(torch.tensor(x, dtype=torch.float32)[None, None], torch.tensor(w)[None, None])[0, 0].numpy()


def clamp_position(position: Sequence[int], out_shape: Sequence[int]) -> tuple[int, ...]:
    """The output cell nearest to ``position`` (one index per dimension) inside ``out_shape``."""
    return tuple(int(min(max(p, 0), n - 1)) for p, n in zip(position, out_shape))


def window(position: Sequence[int], kernel_shape: Sequence[int]) -> tuple[slice, ...]:
    """The input cells that make output cell i: x[i : i + F] in every dimension."""
    return tuple(slice(p, p + f) for p, f in zip(position, kernel_shape))
