"""From an index to pictures: each unit's top-k patches (and projections) as a 3 x 3 tile, pages of tiles.

Patches are rebuilt from the dataset files exactly as scanned (same resize, crop and tile). Units are ranked by
their peak activation; a unit whose maximum is <= 0 on every view never fires and is drawn as a "dead" tile.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from nst_core.images import ImageError
from nst_core.vgg import VGG19

from .datasets import load_view
from .deconv import Request, signal_to_image, unit_projections
from nst_core.receptive_field import receptive_field
from .index import Index
from .patches import cut_patch, inside_mask, padding_pattern
from .topk import NO_IMAGE

MODES = ("patches", "projections", "both")
CELL = 64  # pixels per patch in a tile
GAP = 2
BACKGROUND = 255


@dataclass
class Cell:
    """One of a unit's top k: where it is, how strong, what it looks like."""

    rank: int
    view: str  # the view's name (file, zoom, tile)
    y: int
    x: int
    value: float
    box: tuple[int, int, int, int]  # (top, left, bottom, right) in view pixels, half-open
    patch: np.ndarray
    projection: np.ndarray | None = None

    def caption(self) -> str:
        top, left, bottom, right = self.box
        return (f"#{self.rank + 1} {self.view} · unit at (y={self.y}, x={self.x}) · "
                f"rows {top}…{bottom - 1}, cols {left}…{right - 1} · a = {self.value:.4g}")


def units_by_peak(index: Index, layer: str) -> list[int]:
    """The layer's units, highest peak activation first (dead units, peak <= 0, come last)."""
    return index.top(layer).value[:, 0].argsort(descending=True, stable=True).tolist()


def dead_units(index: Index, layer: str) -> list[int]:
    return index.top(layer).dead().nonzero().flatten().tolist()


class ViewLoader:
    """Scanned views of an index, rebuilt from the dataset files (the last 64 kept in memory)."""

    def __init__(self, index: Index):
        self.index = index
        self._cached = functools.lru_cache(maxsize=64)(self._load)

    def _load(self, view_id: int) -> np.ndarray:
        ref = self.index.views[view_id]
        try:
            return load_view(self.index.dataset.root, ref.file, self.index.settings.size, ref.zoom, ref.tile)
        except ImageError as e:
            raise ImageError(f"{e} (the dataset changed since the scan; scan it again)") from None

    def __call__(self, view_id: int) -> np.ndarray:
        return self._cached(view_id)


def page_cells(index: Index, layer: str, units: Sequence[int], *, loader: ViewLoader | None = None,
               model: VGG19 | None = None, method: str | None = None) -> dict[int, list[Cell]]:
    """Each unit's cells, best first (empty slots left out). With ``model`` and ``method``, projections too,
    computed for the whole page in batches."""
    loader = loader or ViewLoader(index)
    top = index.top(layer)
    rf = receptive_field(layer)
    cells = {}
    for unit in units:
        cells[unit] = [
            Cell(rank, index.views[v].name, y, x, value, rf.box(y, x), cut_patch(loader(v), layer, y, x))
            for rank, (v, y, x, value) in enumerate(zip(top.image[unit].tolist(), top.y[unit].tolist(),
                                                        top.x[unit].tolist(), top.value[unit].tolist()))
            if v != NO_IMAGE
        ]
    if model is not None and method is not None:
        if model.identity != index.weights:
            raise ValueError(f"the index was scanned with {index.weights}, not {model.identity}")
        todo = [(unit, cell) for unit in units for cell in cells[unit]]
        view_ids = sorted({int(top.image[unit, cell.rank]) for unit, cell in todo})
        requests = [Request(view_ids.index(int(top.image[unit, cell.rank])), unit, cell.y, cell.x)
                    for unit, cell in todo]
        signals = unit_projections(model, [loader(v) for v in view_ids], layer, requests, method,
                                   index.settings.precision)
        for (_, cell), signal in zip(todo, signals):
            cell.projection = projection_image(signal, cell, index.settings.size)
    return cells


def projection_image(signal: np.ndarray, cell: Cell, size: int) -> np.ndarray:
    """A projection for display: grey-centred contrast, the padding outside the view as a checkerboard."""
    image = signal_to_image(signal)
    top, left, bottom, _ = cell.box
    inside = inside_mask((size, size), top, left, bottom - top)
    return np.where(inside[..., None], image, padding_pattern(*inside.shape))


def fit(image: np.ndarray, px: int) -> np.ndarray:
    """Scale a square image to ``px`` pixels: nearest neighbour when enlarging (pixels stay visible), Lanczos
    when shrinking."""
    if image.shape[0] == px:
        return image
    resample = Image.NEAREST if image.shape[0] < px else Image.LANCZOS
    return np.asarray(Image.fromarray(image).resize((px, px), resample))


def grid(images: Sequence[np.ndarray | None], columns: int, px: int, gap: int = GAP) -> np.ndarray:
    """Square images in rows of ``columns``, each scaled to ``px``; ``None`` leaves its place blank."""
    rows = max(1, math.ceil(len(images) / columns))
    out = np.full((rows * (px + gap) - gap, columns * (px + gap) - gap, 3), BACKGROUND, np.uint8)
    for i, image in enumerate(images):
        if image is not None:
            r, c = divmod(i, columns)
            out[r * (px + gap):r * (px + gap) + px, c * (px + gap):c * (px + gap) + px] = fit(image, px)
    return out


def pending_tile(px: int, text: str = "synthesising…") -> np.ndarray:
    """A light grey square holding a synthesised image's place until it is ready (the tile keeps its size)."""
    tile = Image.new("RGB", (px, px), (230, 230, 230))
    ImageDraw.Draw(tile).text((px // 2, px // 2), text, fill=(90, 90, 90), anchor="mm")
    return np.asarray(tile)


def dead_tile(px: int) -> np.ndarray:
    """A placeholder for a unit that never fires (no patches to show)."""
    tile = Image.fromarray(padding_pattern(px, px))
    ImageDraw.Draw(tile).text((px // 2, px // 2), "dead unit\n(max ≤ 0)", fill=(255, 255, 255), anchor="mm",
                              align="center")
    return np.asarray(tile)


def unit_tile(cells: Sequence[Cell], mode: str = "patches", px: int = CELL, k: int = 9) -> np.ndarray:
    """A unit's top k as a 3 x 3 grid (``both``: projections left, patches right, as in Zeiler & Fergus Fig. 2)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    side = math.ceil(math.sqrt(k))
    if not cells or cells[0].value <= 0:
        return dead_tile(side * (px + GAP) - GAP)
    slots = list(range(side * side))
    patches = grid([cells[i].patch if i < len(cells) else None for i in slots], side, px)
    if mode == "patches":
        return patches
    projections = grid([cells[i].projection if i < len(cells) else None for i in slots], side, px)
    if mode == "projections":
        return projections
    return beside(projections, patches)


def beside(image: np.ndarray, tile: np.ndarray) -> np.ndarray:
    """``image`` scaled to the tile's height, then a gap, then the tile (a unit's synthesised image and its
    patches)."""
    spacer = np.full((tile.shape[0], 3 * GAP, 3), BACKGROUND, np.uint8)
    return np.concatenate([fit(image, tile.shape[0]), spacer, tile], axis=1)


def wrap_label(draw: ImageDraw.ImageDraw, label: str, width: int) -> list[str]:
    """``label`` in lines no wider than ``width`` pixels: broken at spaces, and inside a word only when the word
    alone is too wide."""
    lines: list[str] = []
    for word in label.split(" "):
        line = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(line) <= width:
            lines[-1] = line
            continue
        while len(word) > 1 and draw.textlength(word) > width:
            cut = 1  # the longest start of the word that fits (at least one character)
            while draw.textlength(word[:cut + 1]) <= width:
                cut += 1
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines


def labelled_page(tiles: Sequence[np.ndarray], labels: Sequence[str], columns: int = 4) -> np.ndarray:
    """Tiles in rows of ``columns`` with a text label above each (for the CLI's PNG); a label wider than its tile
    wraps onto more lines instead of running into the next one."""
    th = max(t.shape[0] for t in tiles)
    tw = max(t.shape[1] for t in tiles)
    line_h, gap = 12, 8  # Pillow's default font is 10 px tall: 2 px between lines
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    wrapped = [wrap_label(draw, label, tw) for label in labels]
    label_h = line_h * max(len(lines) for lines in wrapped) + 2
    rows = math.ceil(len(tiles) / columns)
    page = Image.new("RGB", (columns * (tw + gap) + gap, rows * (th + label_h + gap) + gap), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    for i, (tile, lines) in enumerate(zip(tiles, wrapped)):
        r, c = divmod(i, columns)
        x, y = gap + c * (tw + gap), gap + r * (th + label_h + gap)
        draw.multiline_text((x, y), "\n".join(lines), fill=(0, 0, 0), spacing=line_h - 10)
        page.paste(Image.fromarray(tile), (x, y + label_h))
    return np.asarray(page)


def unit_label(index: Index, layer: str, unit: int) -> str:
    peak = float(index.top(layer).value[unit, 0])
    return f"{layer} unit {unit} · peak {peak:.4g}" + (" · dead" if peak <= 0 else "")
