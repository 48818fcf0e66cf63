"""The explorer as the app uses it: datasets from uploads, lazy cached scans, pages of unit tiles, unit details.

No Gradio here. Scans run on first use only (then come from the disk cache); projections of units already shown
are kept in memory.
"""
from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from nst_core.checks import shown
from nst_core.vgg import CONV_LAYERS, VGG19, load_vgg19

from .datasets import Dataset, DatasetError, Source, builtin_dataset, files_dataset, zip_dataset
from .hub import hub_dataset
from .filters import first_layer_filters
from .receptive_field import receptive_field
from .index import Index, ScanSettings
from .tiles import (Cell, ViewLoader, dead_units, fit, grid, page_cells, unit_label, unit_tile,
                        units_by_peak)
from .scan import CACHE_ENV, Stopped, cache_dir, cached_scan

UNITS_PER_PAGE = 16
DETAIL_PX = 224  # each of a unit's patches in the detail view
PROJECTION_MEMORY = 2048  # units' projections kept in memory
WEIGHTS = "caffe"


def model() -> VGG19:
    return load_vgg19(WEIGHTS)


def uploaded_dataset(paths: Sequence[str]) -> Dataset:
    """One ``.zip`` or several image files (uploads) -> a dataset stored under the cache folder."""
    paths = [str(p) for p in paths or []]
    if not paths:
        raise DatasetError("upload a zip of images or a few image files first")
    store = cache_dir() / "datasets"
    zips = [p for p in paths if p.lower().endswith(".zip")]
    if zips and len(paths) > 1:
        raise DatasetError("upload either one zip or image files, not both")
    return zip_dataset(zips[0], store) if zips else files_dataset(paths, store)


HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*(:[\w.-]+){0,2}")  # OWNER/NAME[:split[:column]]


def hub_choice(name: str) -> Source:
    """A Hugging Face dataset typed in the app, ``OWNER/NAME[:split[:column]]`` with or without ``hf:``; local
    paths are refused (the CLI takes them, a web page must not read the server's folders)."""
    name = (name or "").strip().removeprefix("hf:")
    if not name:
        raise DatasetError("type a Hugging Face dataset name first, e.g. OWNER/NAME or OWNER/NAME:validation")
    if not HUB_NAME.fullmatch(name) or os.path.exists(name.split(":")[0]):
        raise DatasetError(f"{shown(name)} is not a Hugging Face dataset name; write OWNER/NAME, "
                           "OWNER/NAME:SPLIT or OWNER/NAME:SPLIT:COLUMN")
    return hub_dataset(f"hf:{name}", cache_dir() / "datasets")


def dataset_choice(builtin: bool, uploads: Sequence[str] | None, hub_name: str | None = None) -> Source:
    """The dataset the tab asks for: the built-in photos, the uploads, or (``hub_name`` given) a Hub dataset."""
    if hub_name is not None:
        return hub_choice(hub_name)
    return builtin_dataset() if builtin else uploaded_dataset(uploads)


def index_for(dataset: Dataset, layer: str, *, progress: Callable[[int, int], None] | None = None,
              stop: threading.Event | None = None, settings: ScanSettings = ScanSettings()) -> Index:
    """The index holding ``layer``: every conv layer up to it is recorded in the one forward pass it needs."""
    layers = CONV_LAYERS[:CONV_LAYERS.index(layer) + 1]
    return cached_scan(model(), dataset, layers, settings, progress=progress, stop=stop)


def layer_summary(index: Index, layer: str) -> str:
    """Markdown: the layer's receptive field, units, dead units, dataset and skipped files."""
    rf = receptive_field(layer)
    units = index.top(layer).value.shape[0]
    dead = dead_units(index, layer)
    lines = [f"**{layer}**: {units} units · receptive field R = {rf.size} px, jump J = {rf.jump} px, padding "
             f"P = {rf.padding} px (unit (y, x) sees rows y·{rf.jump} − {rf.padding} … y·{rf.jump} − {rf.padding}"
             f" + {rf.size - 1}) · {len(dead)} dead units (never > 0: shown last)",
             f"Dataset: {index.dataset.name} · {len(index.views)} views of {index.settings.size}×"
             f"{index.settings.size} px from {len(index.dataset.files) - len(index.skipped)} images"]
    if index.skipped:
        lines.append(f"Skipped {len(index.skipped)} unreadable files: " + "; ".join(w for _, w in index.skipped))
    return "\n\n".join(lines)


def page_units(index: Index, layer: str, page: int, per_page: int = UNITS_PER_PAGE) -> tuple[list[int], int]:
    """The units on ``page`` (1-based, clamped) in order of peak activation, and the number of pages."""
    order = units_by_peak(index, layer)
    pages = max(1, -(-len(order) // per_page))
    page = min(max(1, page), pages)
    return order[(page - 1) * per_page:page * per_page], pages


class ProjectionMemory:
    """Projection images of units already computed, by (index key, layer, method, unit); oldest dropped first."""

    def __init__(self, size: int = PROJECTION_MEMORY):
        self.size = size
        self._items: OrderedDict[tuple, list[np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def fill(self, index: Index, layer: str, cells: dict[int, list[Cell]], method: str,
             progress: Callable[[int, int], None] | None = None, stop: threading.Event | None = None) -> None:
        """Set ``cell.projection`` for every cell, computing only units not remembered (a few at a time);
        raises ``Stopped`` between units once ``stop`` is set."""
        todo = []
        for unit, unit_cells in cells.items():
            with self._lock:
                known = self._items.get((index.key, layer, method, unit))
            if known is None:
                todo.append(unit)
            else:
                for cell, image in zip(unit_cells, known):
                    cell.projection = image
        loader = ViewLoader(index)
        for start in range(0, len(todo), 4):
            if stop is not None and stop.is_set():
                raise Stopped("projections stopped")
            if progress is not None:
                progress(start, len(todo))
            chunk = todo[start:start + 4]
            fresh = page_cells(index, layer, chunk, loader=loader, model=model(), method=method)
            for unit in chunk:
                for cell, new in zip(cells[unit], fresh[unit]):
                    cell.projection = new.projection
                with self._lock:
                    self._items[(index.key, layer, method, unit)] = [c.projection for c in fresh[unit]]
                    while len(self._items) > self.size:
                        self._items.popitem(last=False)


PROJECTIONS = ProjectionMemory()


def page_tiles(index: Index, layer: str, units: Sequence[int], mode: str, method: str, *,
               progress: Callable[[int, int], None] | None = None,
               stop: threading.Event | None = None) -> list[tuple[np.ndarray, str]]:
    """(tile, caption) per unit: its top-k as a 3 x 3 grid of patches, projections or both."""
    cells = page_cells(index, layer, units)
    if mode != "patches":
        PROJECTIONS.fill(index, layer, cells, method, progress, stop)
    return [(unit_tile(cells[u], mode, k=index.settings.k), unit_label(index, layer, u)) for u in units]


def unit_detail(index: Index, layer: str, unit: int, mode: str, method: str) -> list[tuple[np.ndarray, str]]:
    """The unit's patches large, each captioned with view name, position and activation (projection beside it
    when ``mode`` is not ``patches``)."""
    cells = page_cells(index, layer, [unit])
    if mode != "patches":
        PROJECTIONS.fill(index, layer, cells, method)
    items = []
    for cell in cells[unit]:
        if mode != "patches":
            items.append((fit(cell.projection, DETAIL_PX), f"projection ({method}) · " + cell.caption()))
        if mode != "projections":
            items.append((fit(cell.patch, DETAIL_PX), cell.caption()))
    return items


def filters_image(px: int = 40) -> np.ndarray:
    """conv1_1's 64 filters, 8 x 8, each enlarged to ``px`` pixels."""
    return grid(first_layer_filters(model()), 8, px)


def cache_note() -> str:
    return f"Scans are cached in `{cache_dir()}` (set {CACHE_ENV} to move them)."
