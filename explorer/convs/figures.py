"""See a convolution work: input, filter and output drawn with the filter at one output cell, its input window
highlighted in orange.

1D: the three on one time axis. 2D: three images side by side. 3D: the volume in perspective with the filter's box in
it, the input's depth slices under the filter side by side with the filter's footprint boxed, each above the filter
slice that multiplies it, and the output slice holding the cell they make:

    y[z, r, c] = Σ_m  Σ_(a, b)  x[z + m, r + a, c + b] · w[m, a, b]     (slice m of the window times slice m of w)
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from mpl_toolkits.mplot3d.art3d import Poly3DCollection

from nst_core.checks import InputError, whole_number

from .kernels import clamp_position, correlate, make_filter, window
from .samples import load_sample, sample_dims
from .shapes import DIM_NAMES

HIGHLIGHT = "orange"
MAX_SLICES = 9      # a deeper filter shows this many of its slices, evenly spread
MAX_POINTS = 4000   # the 3D view draws at most this many of the volume's cells
SEE_SIZES = (1, 15)  # the filter sizes F the 'see it work' view offers
SEE_SIZE = {1: 9, 2: 5, 3: 5}  # its filter size F as it opens, per number of dimensions


def _draw_1d(fig: Figure, x: np.ndarray, w: np.ndarray, y: np.ndarray, i: tuple[int, ...]) -> None:
    """Input, filter (drawn at its current place) and output on one time axis; output cell j is drawn at the centre
    of its window, j + (F − 1)/2, so a peak in the output lines up with the feature that caused it."""
    f, (p,) = len(w), i
    axes = fig.subplots(3, 1, sharex=True)
    axes[0].plot(x, lw=0.8)
    axes[0].axvspan(p - 0.5, p + f - 0.5, color=HIGHLIGHT, alpha=0.3)
    axes[0].set_ylabel("input x")
    axes[1].stem(np.arange(p, p + f), w, basefmt=" ")
    axes[1].set_ylabel("filter w")
    axes[2].plot(np.arange(len(y)) + (f - 1) / 2, y, lw=0.8)
    axes[2].plot(p + (f - 1) / 2, y[p], "o", color=HIGHLIGHT)
    axes[2].set_ylabel("output y")
    axes[2].set_xlabel("time (samples)")


def _show(ax, image: np.ndarray, title: str, box: tuple[tuple[int, int], tuple[int, int]] | None = None,
          lim: float | None = None, signed: bool = False) -> None:
    """One 2-D panel: grey when all values are >= 0 (unless ``signed``), else red > 0 > blue; ``box``
    ((top, left), (h, w)) in orange."""
    lim = lim or float(np.abs(image).max()) or 1.0
    style = dict(cmap="RdBu_r", vmin=-lim) if signed or image.min() < 0 else dict(cmap="gray", vmin=0)
    ax.imshow(image, interpolation="nearest", vmax=lim, **style)
    if box is not None:
        (top, left), (h, wd) = box
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), wd, h, fill=False, edgecolor=HIGHLIGHT, lw=2))
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def _draw_2d(fig: Figure, x: np.ndarray, w: np.ndarray, y: np.ndarray, i: tuple[int, ...]) -> None:
    """Input, filter and output as images, the window and the output cell boxed."""
    ax_x, ax_w, ax_y = fig.subplots(1, 3)
    _show(ax_x, x, f"input x {x.shape[0]}×{x.shape[1]}", (i, w.shape))
    _show(ax_w, w, f"filter w {w.shape[0]}×{w.shape[1]}", signed=True)
    _show(ax_y, y, f"output y {y.shape[0]}×{y.shape[1]}", (i, (1, 1)))


def _box_faces(lo: Sequence[float], hi: Sequence[float]) -> list[list[tuple[float, float, float]]]:
    """The 6 faces of the axis-aligned box [lo, hi] in 3D, each a list of 4 corners."""
    (x0, y0, z0), (x1, y1, z1) = lo, hi
    c = [(x0, y0, z0), (x1, y0, z0), (x1, y1, z0), (x0, y1, z0), (x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1)]
    return [[c[a], c[b], c[d], c[e]] for a, b, d, e in
            ((0, 1, 2, 3), (4, 5, 6, 7), (0, 1, 5, 4), (2, 3, 7, 6), (1, 2, 6, 5), (0, 3, 7, 4))]


def _draw_overview(ax, x: np.ndarray, w_shape: tuple[int, ...], i: tuple[int, ...]) -> None:
    """The volume in perspective: its bright cells as grey dots (orange inside the filter), the box around it and the
    filter's box at its place. Plot axes: depth → x, width → y, height → z pointing up (row 0 on top)."""
    D, H, W = x.shape
    cells = np.argwhere(x > 0.5 * float(x.max() or 1))
    cells = cells[:: max(1, len(cells) // MAX_POINTS)]
    inside = np.all((cells >= i) & (cells < np.add(i, w_shape)), axis=1)
    for mask, colour, alpha in ((~inside, "0.3", 0.25), (inside, HIGHLIGHT, 0.9)):
        z, r, c = cells[mask].T + 0.5
        ax.scatter(z, c, H - r, s=4, color=colour, alpha=alpha, depthshade=False, linewidths=0)
    ax.add_collection3d(Poly3DCollection(_box_faces((0, 0, 0), (D, W, H)), facecolor=(0, 0, 0, 0.02),
                                         edgecolor="0.5", lw=0.5))
    (z, r, c), (f0, f1, f2) = i, w_shape
    ax.add_collection3d(Poly3DCollection(_box_faces((z, c, H - r - f1), (z + f0, c + f2, H - r)),
                                         facecolor=(1.0, 0.65, 0.0, 0.35), edgecolor=HIGHLIGHT, lw=1.5))
    ax.set(xlim=(0, D), ylim=(0, W), zlim=(0, H), xlabel="depth →", ylabel="width →", zlabel="height ↑")
    ax.set_box_aspect((D, W, H))
    ax.view_init(elev=18, azim=-58)
    ax.tick_params(labelsize=7, pad=0)
    ax.set_title(f"input {D}×{H}×{W}\nfilter {f0}×{f1}×{f2} (orange) at ({z}, {r}, {c})", fontsize=9)


def _draw_volume(fig: Figure, x: np.ndarray, w: np.ndarray, y: np.ndarray, i: tuple[int, ...]) -> None:
    """Left, the overview; middle, the window's input slices x[z + m] (footprint boxed) above the filter slices
    w[m] that multiply them; right, output slice y[z] with the cell (r, c) they make boxed."""
    (z, r, c), f0 = i, w.shape[0]
    shown = np.unique(np.linspace(0, f0 - 1, min(f0, MAX_SLICES)).round().astype(int))
    left, right = fig.subfigures(1, 2, width_ratios=[1, 2.6], wspace=0.02)
    _draw_overview(left.add_subplot(projection="3d"), x, w.shape, i)
    grid = right.add_gridspec(2, len(shown) + 1, width_ratios=[*[1] * len(shown), 1.9], wspace=0.08,
                              left=0.07, right=0.99, top=0.86, bottom=0.04)
    lim_x, lim_w = float(np.abs(x).max()) or 1.0, float(np.abs(w).max()) or 1.0
    for col, m in enumerate(shown):
        _show(right.add_subplot(grid[0, col]), x[z + m], f"x, depth {z + m}", ((r, c), w.shape[1:]), lim_x)
        _show(right.add_subplot(grid[1, col]), w[m], f"w, slice {m}", None, lim_w, signed=True)
    right.axes[0].set_ylabel(f"input slices {z}…{z + f0 - 1}" +
                             (f"\n({len(shown)} of {f0} shown)" if len(shown) < f0 else ""), fontsize=8)
    right.axes[1].set_ylabel("filter slices\n(× the slice above)", fontsize=8)
    _show(right.add_subplot(grid[:, -1]), y[z], f"output y, depth {z}\ncell ({z}, {r}, {c}) = {y[i]:.3f}",
          ((r, c), (1, 1)))


def convolution_figure(x: np.ndarray, w: np.ndarray, position: Sequence[int]) -> tuple[Figure, np.ndarray, str]:
    """Correlate x with w and draw it with output cell ``position`` (clamped) and its input window highlighted.
    Returns (figure, output array y, a sentence giving y at that cell as the sum over its window)."""
    y = correlate(x, w)
    i = clamp_position(position, y.shape)
    size = {1: (9, 5.5), 2: (10, 3.8), 3: (13, 4.2)}[x.ndim]
    fig = Figure(figsize=size, layout="constrained" if x.ndim < 3 else None)
    {1: _draw_1d, 2: _draw_2d, 3: _draw_volume}[x.ndim](fig, x, w, y, i)
    cells = ", ".join(f"{s.start}:{s.stop}" for s in window(i, w.shape))
    sizes = " → ".join("×".join(map(str, a.shape)) for a in (x, w, y)).replace(" → ", " ⊛ ", 1)
    text = f"y[{', '.join(map(str, i))}] = Σ x[{cells}] ⊙ w = {y[i]:.3f};  {sizes} (N − F + 1 per dimension)"
    fig.suptitle(text, fontsize=10)
    return fig, y, text


def see_it(sample: str, filter_name: str, size, position: Sequence) -> tuple[Figure, np.ndarray, str]:
    """The playground's 'see it work' view: a named sample (see samples.SAMPLES) through a named filter of the given
    size F (1 up to the sample's smallest side), output cell ``position`` (clamped to the output)."""
    nd = sample_dims(sample)
    x = load_sample(sample)
    F = whole_number("the filter size F", size, 1, min(x.shape))
    if isinstance(position, (str, bytes)) or len(position) != nd:
        raise InputError(f"the output cell has {nd} index{'es' if nd > 1 else ''} for this {nd}D input.")
    cell = [whole_number(f"the output cell's {name} index", p, 0, None) for p, name in zip(position, DIM_NAMES[nd])]
    return convolution_figure(x, make_filter(filter_name, nd, F), cell)
