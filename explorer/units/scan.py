"""Scan a dataset: one batched, gradient-free VGG19 pass per batch of views, stopping at the deepest chosen layer,
streaming each chosen conv layer's top-k (value, view, y, x) per unit, the value being the unit's rectified
activation max(0, conv). ``cached_scan`` reuses results on disk.
"""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from nst_core.checks import one_of
from nst_core.estimate import fitting_pixels, fitting_side, over_budget
from nst_core.memory import memory_budget
from nst_core.vgg import VGG19

from .batches import items_per_batch, read_views, scan_precision, scan_network, top_of_views, units_of
from .datasets import DatasetError, describe_skipped
from .engines import ray_batches
from .index import BadIndexError, Index, ScanSettings, check_conv_layers, scan_key
from .shards import BatchResult, ScanState
from .sources import Source
from .topk import TopK

CACHE_ENV = "NST_EXPLORER_CACHE"
Progress = Callable[[int, int | None], None]  # (files done, files in all or None when not known yet)
ENGINES = ("local", "ray")
log = logging.getLogger("explorer")


class Stopped(Exception):
    """A scan or projection job was stopped by its ``stop`` event (a scan keeps its finished shards)."""


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """Where indexes and uploaded datasets are kept: ``override``, else $NST_EXPLORER_CACHE, else
    ~/.cache/nst-studio/explorer."""
    if override:
        return Path(override)
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "nst-studio" / "explorer")


def resolved(settings: ScanSettings) -> ScanSettings:
    """``settings`` checked, with its precision made concrete (results differ between precisions)."""
    return dataclasses.replace(settings, precision=scan_precision(settings.precision)).validate()


def local_batches(model: VGG19, dataset: Source, layers: Sequence[str], settings: ScanSettings,
                  start: int) -> Iterator[BatchResult]:
    """The local engine: this process reads, preprocesses and runs VGG19, one batch of items at a time."""
    net = scan_network(model, settings.precision)
    items = dataset.items(start)
    while chunk := list(itertools.islice(items, items_per_batch(settings, dataset.zooms))):
        errors, views = read_views(chunk, settings.size, dataset.zooms)
        yield BatchResult([item.name for item in chunk], errors, top_of_views(net, views, layers, settings))


def fitted_batch(settings: ScanSettings, deepest: str) -> ScanSettings:
    """``settings`` with as many views per forward pass as fit the memory budget (``NST_MAX_MEMORY``), at most its
    own batch size (the batch size does not change the result); ``InputError`` naming the view size that would fit
    when not even one view does."""
    budget = memory_budget()
    fit = fitting_pixels(budget, deepest, False) // settings.size ** 2
    if fit < 1:
        side = fitting_side(budget, deepest, False)
        raise over_budget(f"scanning {settings.size} px views", settings.size ** 2, deepest, False, budget,
                          f"choose a scan size up to {side} px" if side else "raise NST_MAX_MEMORY")
    return dataclasses.replace(settings, batch_size=min(settings.batch_size, fit))


def scan(model: VGG19, dataset: Source, layers: Sequence[str], settings: ScanSettings = ScanSettings(), *,
         progress: Progress | None = None, stop: threading.Event | None = None, engine: str = "local",
         checkpoint: str | os.PathLike | None = None) -> Index:
    """Top ``settings.k`` per unit of each conv layer in ``layers`` over every view of ``dataset``.

    ``engine``: ``"local"`` (this process) or ``"ray"`` (Ray Data, see engines.py); both give the same index.
    With ``checkpoint``, progress is saved there at every shard end and a stopped scan resumes from it. Unreadable
    items are skipped and listed in ``index.skipped``; raises ``DatasetError`` when none is readable and
    ``Stopped`` when ``stop`` is set.
    """
    one_of("engine", engine, ENGINES)
    layers = check_conv_layers(layers)
    settings = fitted_batch(resolved(settings), layers[-1])
    empty = {layer: TopK.empty(units_of(model, layer), settings.k) for layer in layers}
    state = ScanState.start(empty, dataset.zooms, checkpoint, settings.size)
    if engine == "ray":
        batches = ray_batches(model, dataset, layers, settings, state.done)
    else:
        batches = local_batches(model, dataset, layers, settings, state.done)
    total = dataset.count()
    with contextlib.closing(batches):  # a stopped Ray pipeline shuts down here
        for batch in batches:
            state.add(batch)
            if progress is not None:
                progress(state.done, total)
            if stop is not None and stop.is_set():
                raise Stopped("scan stopped; finished shards are kept for the next run")
    tops = state.finish()
    skipped = list(dataset.skipped) + state.skipped
    if not state.views:
        raise DatasetError(f"{dataset.name}: no readable images ({describe_skipped(skipped)}); "
                           "add JPEG or PNG images")
    used = {state.views[i].file for top in tops.values() for i in top.image.unique().tolist() if i >= 0}
    return Index(model.identity, repr(model.preprocessing), settings, dataset.finished(state.names, used),
                 dataset.fingerprint(), state.views, skipped, tops)


def cached_scan(model: VGG19, dataset: Source, layers: Sequence[str], settings: ScanSettings = ScanSettings(), *,
                cache: str | os.PathLike | None = None, progress: Progress | None = None,
                stop: threading.Event | None = None, engine: str = "local") -> Index:
    """``scan``, but reusing ``<cache>/index-<key>.pt`` (after the checks of ``Index.load``; one that fails them
    is scanned again): only layers not in it yet are scanned (then saved). A stopped scan leaves ``<cache>/partial/<key>-<layers>.pt``; the same call later resumes from it."""
    settings = resolved(settings)
    key = scan_key(model.identity, repr(model.preprocessing), settings, dataset.fingerprint())
    path = cache_dir(cache) / f"index-{key}.pt"
    try:
        index = Index.load(path) if path.exists() else None
    except BadIndexError as e:  # a damaged cache file is named in the log and made again
        log.warning("%s; scanning again", e)
        index = None
    layers = check_conv_layers(layers)
    missing = [layer for layer in layers if index is None or layer not in index.layers]
    if missing:
        checkpoint = cache_dir(cache) / "partial" / f"{key}-{'-'.join(missing)}.pt"
        fresh = scan(model, dataset, missing, settings, progress=progress, stop=stop, engine=engine,
                     checkpoint=checkpoint)
        index = fresh if index is None else index.merged(fresh)
        index.save(path)
    elif progress is not None:
        progress(len(index.dataset.files), len(index.dataset.files))
    return index
