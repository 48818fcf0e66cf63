"""See a convolution work: an EKG-like signal (1D), a sample photo (2D) and a synthetic volume (3D) through filters
built the same way for any number of dimensions, drawn with the filter's current window highlighted.

Each output cell is the cross-correlation torch.nn.Conv{1,2,3}d computes ('valid', stride 1, so N − F + 1 cells
per dimension):

    y[i] = Σ_m x[i + m] · w[m]        (i, m multi-indices; m runs over the filter's F × ... × F cells)
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as nnf
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from skimage import data, transform

from .shapes import DIM_NAMES


def ekg_signal(length: int = 600, beats: int = 5, noise: float = 0.03, seed: int = 0) -> np.ndarray:
    """A synthetic heartbeat trace: per beat, Gaussian bumps h·exp(−(t − t0)² / (2w²)) for the P, Q, R, S and T
    waves (the tall narrow R is the peak to detect), plus Gaussian noise."""
    t = np.arange(length) / (length / beats)  # time in beats
    waves = [(-0.22, 0.15, 0.03), (-0.04, -0.15, 0.012), (0.0, 1.0, 0.012), (0.04, -0.3, 0.012), (0.28, 0.3, 0.05)]
    phase = t - np.floor(t) - 0.5  # each beat's R wave sits at the middle of its period
    signal = sum(h * np.exp(-((phase - t0) ** 2) / (2 * w ** 2)) for t0, h, w in waves)
    return (signal + noise * np.random.default_rng(seed).standard_normal(length)).astype(np.float32)


def sample_photo(size: int = 96) -> np.ndarray:
    """scikit-image's 'camera' photo (grey, 512 × 512) resized to size × size, values in [0, 1]."""
    return transform.resize(data.camera(), (size, size), anti_aliasing=True).astype(np.float32)


def sphere_volume(size: int = 32, spheres: int = 4, seed: int = 0) -> np.ndarray:
    """A CT-like volume: a size³ box holding balls, value 1 where |r − centre| < radius, else 0."""
    rng = np.random.default_rng(seed)
    grid = np.indices((size,) * 3)
    volume = np.zeros((size,) * 3, np.float32)
    for _ in range(spheres):
        radius = rng.uniform(0.1, 0.22) * size
        centre = rng.uniform(radius, size - radius, 3)
        volume[((grid - centre[:, None, None, None]) ** 2).sum(0) < radius ** 2] = 1.0
    return volume


def moving_clip(frames: int = 16, size: int = 32) -> np.ndarray:
    """A video clip as time × height × width: a disc of radius size/6 moving one pixel per frame to the right."""
    t, y, x = np.indices((frames, size, size))
    return (((x - size / 4 - t) ** 2 + (y - size / 2) ** 2) < (size / 6) ** 2).astype(np.float32)


# Sample data per number of spatial dimensions: name -> function making the array.
SAMPLES = {
    1: {"EKG-like heartbeat": ekg_signal},
    2: {"photo (scikit-image camera)": sample_photo},
    3: {"spheres in a box (CT-like volume)": sphere_volume, "clip of frames (time × height × width)": moving_clip},
}


def filter_names(nd: int) -> list[str]:
    """The filters offered for nd spatial dimensions: a blur, a change detector along each axis and a spot finder."""
    return ["blur (average)", *(f"changes along the {axis}" for axis in DIM_NAMES[nd]), "peaks / spots (Mexican hat)"]


def make_filter(name: str, nd: int, size: int) -> np.ndarray:
    """A size^nd filter, built on centred coordinates r = m − (F − 1)/2:

    blur:         w = 1 / F^nd                                  (each output is the mean of its window)
    changes ax a: w = sign(r_a) / Σ[r_a > 0]                    (right half minus left half: an edge detector)
    peaks/spots:  w ∝ (nd − |r|²/σ²)·exp(−|r|²/(2σ²)) − mean, σ = F/6   (a negative Laplacian of Gaussian)
    """
    if name not in filter_names(nd):
        raise ValueError(f"unknown filter '{name}': choose one of {', '.join(filter_names(nd))}")
    if size < 1:
        raise ValueError(f"the filter size must be at least 1, got {size}")
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
        raise ValueError(f"the filter {w.shape} must have the input's {nd} dimensions and fit inside it {x.shape}")
    conv = getattr(nnf, f"conv{nd}d")
    with torch.no_grad():
        return conv(torch.tensor(x, dtype=torch.float32)[None, None], torch.tensor(w)[None, None])[0, 0].numpy()


def clamp_position(position: Sequence[int], out_shape: Sequence[int]) -> tuple[int, ...]:
    """The output cell nearest to ``position`` (one index per dimension) inside ``out_shape``."""
    return tuple(int(min(max(p, 0), n - 1)) for p, n in zip(position, out_shape))


def window(position: Sequence[int], kernel_shape: Sequence[int]) -> tuple[slice, ...]:
    """The input cells that make output cell i: x[i : i + F] in every dimension."""
    return tuple(slice(p, p + f) for p, f in zip(position, kernel_shape))


def _draw_1d(fig: Figure, x: np.ndarray, w: np.ndarray, y: np.ndarray, i: tuple[int, ...]) -> None:
    """Input, filter (drawn at its current place) and output on one time axis; output cell j is drawn at the centre
    of its window, j + (F − 1)/2, so a peak in the output lines up with the feature that caused it."""
    f, (p,) = len(w), i
    axes = fig.subplots(3, 1, sharex=True)
    axes[0].plot(x, lw=0.8)
    axes[0].axvspan(p - 0.5, p + f - 0.5, color="orange", alpha=0.3)
    axes[0].set_ylabel("input x")
    axes[1].stem(np.arange(p, p + f), w, basefmt=" ")
    axes[1].set_ylabel("filter w")
    axes[2].plot(np.arange(len(y)) + (f - 1) / 2, y, lw=0.8)
    axes[2].plot(p + (f - 1) / 2, y[p], "o", color="orange")
    axes[2].set_ylabel("output y")
    axes[2].set_xlabel("time (samples)")


def _draw_slices(fig: Figure, x: np.ndarray, w: np.ndarray, y: np.ndarray, i: tuple[int, ...]) -> None:
    """Input, filter and output as images (grey when >= 0, else red > 0 > blue), window and output cell boxed in
    orange. A volume shows input slice i_0 + F//2 (the middle of the window's slices), its F filter slices side by
    side and output slice i_0."""
    names = ("input x", "filter w", "output y")
    titles = [f"{name} {'×'.join(map(str, a.shape))}" for name, a in zip(names, (x, w, y))]
    box = w.shape[-2:]
    if x.ndim == 3:
        z, f = i[0] + w.shape[0] // 2, w.shape[0]
        titles = [f"{titles[0]}, slice {z} (middle of {i[0]}:{i[0] + f})", f"{titles[1]}, its {f} slices",
                  f"{titles[2]}, slice {i[0]}"]
        gap = np.full((w.shape[1], 1), np.nan)
        x, w, y = x[z], np.hstack([part for s in w for part in (s, gap)][:-1]), y[i[0]]
    boxes = [(i[-2:], box), ((0, 0), w.shape), (i[-2:], (1, 1))]
    for ax, title, image, ((top, left), (h, wd)) in zip(fig.subplots(1, 3), titles, (x, w, y), boxes):
        lim = float(np.nanmax(np.abs(image))) or 1.0
        signed = np.nanmin(image) < 0
        style = dict(cmap="RdBu_r", vmin=-lim) if signed else dict(cmap="gray", vmin=0)
        ax.imshow(image, interpolation="nearest", vmax=lim, **style)
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), wd, h, fill=False, edgecolor="orange", lw=2))
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])


def convolution_figure(x: np.ndarray, w: np.ndarray, position: Sequence[int]) -> tuple[Figure, np.ndarray, str]:
    """Correlate x with w and draw it with output cell ``position`` (clamped) and its input window highlighted.
    Returns (figure, output array y, a sentence giving y at that cell as the sum over its window)."""
    y = correlate(x, w)
    i = clamp_position(position, y.shape)
    fig = Figure(figsize=(9, 5.5) if x.ndim == 1 else (10, 3.8), layout="constrained")
    (_draw_1d if x.ndim == 1 else _draw_slices)(fig, x, w, y, i)
    cells = ", ".join(f"{s.start}:{s.stop}" for s in window(i, w.shape))
    sizes = " → ".join("×".join(map(str, a.shape)) for a in (x, w, y)).replace(" → ", " ⊛ ", 1)
    text = f"y[{', '.join(map(str, i))}] = Σ x[{cells}] ⊙ w = {y[i]:.3f};  {sizes} (N − F + 1 per dimension)"
    fig.suptitle(text, fontsize=9)
    return fig, y, text


def sample_dims(sample: str) -> int:
    """The number of spatial dimensions of the named sample (a key of SAMPLES[nd])."""
    for nd, names in SAMPLES.items():
        if sample in names:
            return nd
    raise ValueError(f"unknown sample '{sample}': choose one of {', '.join(n for d in SAMPLES.values() for n in d)}")


@functools.lru_cache(maxsize=None)
def load_sample(sample: str) -> np.ndarray:
    """The named sample's array (made once, then read-only)."""
    x = SAMPLES[sample_dims(sample)][sample]()
    x.flags.writeable = False
    return x


def sample_extent(nd: int) -> tuple[int, ...]:
    """The largest size per dimension among the nd-dimensional samples (the range of the position sliders)."""
    return tuple(max(sizes) for sizes in zip(*(load_sample(name).shape for name in SAMPLES[nd])))


def see_it(sample: str, filter_name: str, size: int, position: Sequence[int]) -> tuple[Figure, np.ndarray, str]:
    """The playground's 'see it work' view: a named sample (see SAMPLES) through a named filter of the given size."""
    x = load_sample(sample)
    return convolution_figure(x, make_filter(filter_name, x.ndim, int(size)), position)
