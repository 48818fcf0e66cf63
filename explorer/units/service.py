"""The explorer as the app uses it: datasets from uploads, lazy cached scans, pages of unit tiles, unit details,
and each unit's synthesised image (feature visualisation) beside its patches.

No Gradio here. Scans run on first use only (then come from the disk cache); projections and synthesised images
of units already shown are kept in memory.
"""
from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from nst_core.checks import one_of, shown, whole_number
from nst_core.vgg import CONV_LAYERS, VGG19, layer_channels, load_vgg19

from .datasets import Dataset, DatasetError, Source, builtin_dataset, files_dataset, zip_dataset
from .hub import hub_dataset
from .probe import Probe, peak_projection, placement, probe, probe_page, unit_overlay
from .filters import first_layer_filters
from nst_core.receptive_field import receptive_field
from .index import Index, ScanSettings
from explorer.featurevis.render import render_units
from .tiles import (Cell, ViewLoader, beside, dead_units, fit, grid, page_cells, unit_label, unit_tile,
                    units_by_peak)
from explorer.featurevis.vis_settings import VisSettings
from .scan import Stopped, cache_dir, cached_scan

UNITS_PER_PAGE = 16
DETAIL_PX = 224  # each of a unit's patches in the detail view
PROJECTION_MEMORY = 2048  # units' projections kept in memory
SYNTHESIS_MEMORY = 1024  # units' synthesised images kept in memory
WEIGHTS = "caffe"


def model() -> VGG19:
    return load_vgg19(WEIGHTS)


def uploaded_dataset(paths: Sequence[str]) -> Dataset:
    """One ``.zip`` or several image files (uploads) -> a dataset stored under the cache folder."""
    paths = [str(p) for p in paths or []]
    if not paths:
        raise DatasetError("give a zip of images or a few image files first (uploads, or URLs over the API)")
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
             f"{index.settings.size} px from {len({v.file for v in index.views})} images"]
    if index.skipped:
        lines.append(f"Skipped {len(index.skipped)} unreadable files: " + "; ".join(w for _, w in index.skipped))
    return "\n\n".join(lines)


def page_units(index: Index, layer: str, page: int, per_page: int = UNITS_PER_PAGE) -> tuple[list[int], int]:
    """The units on ``page`` (1-based, clamped) in order of peak activation, and the number of pages."""
    order = units_by_peak(index, layer)
    pages = max(1, -(-len(order) // per_page))
    page = min(max(1, page), pages)
    return order[(page - 1) * per_page:page * per_page], pages


def page_of(index: Index, layer: str, unit: int, per_page: int = UNITS_PER_PAGE) -> int:
    """The page (1-based) that shows ``unit``, its place in the order of peak activation // ``per_page`` + 1."""
    return units_by_peak(index, layer).index(unit) // per_page + 1


def unit_sentence(index: Index, layer: str, unit: int) -> str:
    """Markdown naming the unit shown large: its layer, number and peak, and what its patches are."""
    return (f"**{unit_label(index, layer, unit)}**: the views of {index.dataset.name} where it fires most (its top "
            f"{index.settings.k} at most), strongest first; each caption gives the view, the position and the "
            "activation a.")


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


def check_layer_unit(layer: str, unit) -> tuple[str, int]:
    """A conv layer of VGG19 and one of its units, else ``InputError`` naming the allowed ones."""
    layer = one_of("layer", layer, CONV_LAYERS)
    return layer, whole_number(f"unit of {layer}", unit, 0, layer_channels(layer) - 1)


class SynthesisMemory:
    """Synthesised images by (weights, layer, unit, settings): a page shown again is not optimised again."""

    def __init__(self, size: int = SYNTHESIS_MEMORY):
        self.size = size
        self._items: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def images(self, layer: str, units: Sequence[int], settings: VisSettings, *,
               progress: Callable[[int, int], None] | None = None,
               stop: threading.Event | None = None) -> tuple[dict[int, np.ndarray], bool]:
        """Each unit's image, remembered or rendered now (the missing ones together, one per batch item);
        ``progress(step, steps)``. A stopped run's images are returned, marked stopped, and not remembered."""
        for unit in units:
            check_layer_unit(layer, unit)
        key = lambda unit: (model().identity, layer, unit, settings)  # noqa: E731
        with self._lock:
            found = {u: self._items[key(u)] for u in units if key(u) in self._items}
        todo = [u for u in units if u not in found]
        if not todo:
            return found, False
        total = -(-len(todo) // settings.batch) * settings.total_steps
        report = None if progress is None else (
            lambda record, first: progress(first // settings.batch * settings.total_steps + record.step, total))
        images, stopped = render_units(model(), layer, todo, settings, stop=stop, progress=report)
        fresh = dict(zip(todo, images))
        if not stopped:
            with self._lock:
                for unit, image in fresh.items():
                    self._items[key(unit)] = image
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return {**found, **fresh}, stopped


SYNTHESES = SynthesisMemory()


def synthesis_caption(settings: VisSettings, stopped: bool = False) -> str:
    """What the synthesised image is, in one line."""
    what = "mean" if settings.objective == "channel" else "centre value"
    return (f"left: synthesised image that maximises the unit's {what} of max(0, conv) "
            f"({settings.size} px, seed {settings.seed}{', stopped early' if stopped else ''})")


def page_tiles(index: Index, layer: str, units: Sequence[int], mode: str, method: str, *,
               progress: Callable[[int, int], None] | None = None, stop: threading.Event | None = None,
               syntheses: dict[int, np.ndarray] | None = None) -> list[tuple[np.ndarray, str]]:
    """(tile, caption) per unit: its top-k as a 3 x 3 grid of patches, projections or both; with ``syntheses``,
    the unit's synthesised image on the left."""
    cells = page_cells(index, layer, units)
    if mode != "patches":
        PROJECTIONS.fill(index, layer, cells, method, progress, stop)
    tiles = []
    for u in units:
        tile = unit_tile(cells[u], mode, k=index.settings.k)
        if syntheses is not None and u in syntheses:
            tile = beside(syntheses[u], tile)
        tiles.append((tile, unit_label(index, layer, u)))
    return tiles


def unit_detail(index: Index, layer: str, unit: int, mode: str, method: str,
                synthesis: tuple[np.ndarray, str] | None = None) -> list[tuple[np.ndarray, str]]:
    """The unit's patches large, each captioned with view name, position and activation (projection beside it
    when ``mode`` is not ``patches``); its synthesised image and caption first when given."""
    cells = page_cells(index, layer, [unit])
    if mode != "patches":
        PROJECTIONS.fill(index, layer, cells, method)
    items = [] if synthesis is None else [(fit(synthesis[0], DETAIL_PX), synthesis[1])]
    for cell in cells[unit]:
        if mode != "patches":
            items.append((fit(cell.projection, DETAIL_PX), f"projection ({method}) · " + cell.caption()))
        if mode != "projections":
            items.append((fit(cell.patch, DETAIL_PX), cell.caption()))
    return items


def probe_summary(result: Probe, page: int, pages: int) -> str:
    """Markdown: what the probe's page shows."""
    live = sum(p.peak > 0 for p in result.peaks)
    rf = receptive_field(result.layer)
    note = f"{result.note} " if result.note else ""
    return (f"{note}**{result.layer}** on your photo: {live} of {len(result.peaks)} units fire somewhere (peak > 0); "
            f"each position of the layer's {result.maps.shape[2]}×{result.maps.shape[1]} grid sees {rf.size}×{rf.size}"
            f" px. Maps page {page} of {pages}, strongest peak first; each caption gives the unit and its peak, and each "
            "map is scaled by its own peak. Click a map.")


def probe_photo_page(rgb: np.ndarray, layer: str, page: int) -> tuple[Probe, list[tuple[np.ndarray, str]], int, str]:
    """Probe ``layer`` on the photo: the probe, one page of (heatmap, caption), the page shown and a summary."""
    result = probe(model(), rgb, layer)
    tiles, page, pages = probe_page(result, page)
    return result, tiles, page, probe_summary(result, page, pages)


def probe_unit_views(result: Probe, unit: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """The unit's map over the photo with the peak's receptive-field box, and the projection of that peak (enlarged
    to ``DETAIL_PX``, its pixels kept visible)."""
    return unit_overlay(result, unit), fit(peak_projection(model(), result, unit, method), DETAIL_PX)


def probe_unit_top(result: Probe, unit: int, index: Index) -> tuple[np.ndarray, str]:
    """The unit's dataset top-k tile, and the sentence placing the photo's peak among them."""
    (tile, _), = page_tiles(index, result.layer, [unit], "patches", "deconvnet")
    return tile, placement(result, unit, index)


def filters_image(px: int = 40) -> np.ndarray:
    """conv1_1's 64 filters, 8 x 8, each enlarged to ``px`` pixels."""
    return grid(first_layer_filters(model()), 8, px)


def cache_note() -> str:
    return "Scans are cached on the server: the next visit to this dataset and layer is instant."
