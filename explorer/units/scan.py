"""Scan a dataset: one batched, gradient-free VGG19 pass per batch of views, stopping at the deepest chosen layer,
streaming each chosen conv layer's top-k (value, view, y, x) per unit, the value being the unit's rectified
activation max(0, conv). ``cached_scan`` reuses results on disk.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import itertools
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nst_core.images import ImageError
from nst_core.stylize import cpu_supports_bf16
from nst_core.vgg import LAYER_INDEX, VGG19

from .datasets import DatasetError, Item, Source, describe_skipped, scan_views
from nst_core.receptive_field import receptive_field
from .forward import rectified_activations
from .index import BadIndexError, Index, ScanSettings, check_conv_layers, scan_key
from .shards import BatchResult, ScanState, views_of
from .topk import TopK, spatial_maxima

CACHE_ENV = "NST_EXPLORER_CACHE"
Progress = Callable[[int, int | None], None]  # (files done, files in all or None when not known yet)
ENGINES = ("local", "ray")


class Stopped(Exception):
    """A scan or projection job was stopped by its ``stop`` event (a scan keeps its finished shards)."""


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """Where indexes and uploaded datasets are kept: ``override``, else $NST_EXPLORER_CACHE, else
    ~/.cache/nst-studio/explorer."""
    if override:
        return Path(override)
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "nst-studio" / "explorer")


def resolve_precision(precision: str) -> str:
    """``"auto"`` -> ``"bf16"`` on CPUs with native bf16 (measured faster, see benchmarks/bench_explorer.py),
    else ``"fp32"``."""
    if precision != "auto":
        return precision
    return "bf16" if cpu_supports_bf16() else "fp32"


def resolved(settings: ScanSettings) -> ScanSettings:
    """``settings`` checked, with its precision made concrete (results differ between precisions)."""
    return dataclasses.replace(settings, precision=resolve_precision(settings.precision)).validate()


@functools.lru_cache(maxsize=2)
def scan_network(model: VGG19, precision: str) -> VGG19:
    """The network a scan runs: ``model`` itself for fp32, a channels_last bf16 copy of it for bf16."""
    if precision == "fp32":
        return model
    return copy.deepcopy(model).to(dtype=torch.bfloat16, memory_format=torch.channels_last)


def network_input(model: VGG19, views: Sequence[np.ndarray]) -> torch.Tensor:
    """RGB uint8 views ``N x (H, W, 3)`` -> the network's input batch, in its dtype and memory format."""
    rgb01 = torch.from_numpy(np.stack(views)).permute(0, 3, 1, 2).float() / 255.0
    x = model.normalize(rgb01)
    weight = model.layers[0].weight
    if weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous():
        x = x.contiguous(memory_format=torch.channels_last)
    return x.to(weight.dtype)


def suppression_radius(layer: str) -> int:
    """With several maxima per image, picks lie more than R/2 input pixels apart: r = ceil(R / 2J) cells."""
    rf = receptive_field(layer)
    return math.ceil(rf.size / (2 * rf.jump))


def units_of(model: nn.Module, layer: str) -> int:
    return model.layers[LAYER_INDEX[layer]].out_channels


def read_views(items: Sequence[Item], size: int, zooms: tuple[int, ...]) -> tuple[list[str | None], np.ndarray]:
    """Decode ``items`` (the same checks as every input image): why each one was skipped (None: read), and the
    readable ones' views ``(V, size, size, 3)`` uint8 in ``views_of(zooms)`` order per item."""
    errors, views = [], []
    for item in items:
        try:
            rgb = item.rgb()
        except ImageError as e:
            errors.append(str(e))
        else:
            errors.append(None)
            views += [view for zoom in zooms for _, view in scan_views(rgb, size, zoom)]
    return errors, np.stack(views) if views else np.zeros((0, size, size, 3), np.uint8)


def top_of_views(net: VGG19, views: np.ndarray, layers: Sequence[str], settings: ScanSettings) -> dict[str, TopK]:
    """Each layer's top ``settings.k`` per unit over ``views`` (ids 0 ... V-1), ``settings.batch_size`` views per
    forward pass."""
    tops = {layer: TopK.empty(units_of(net, layer), settings.k) for layer in layers}
    with torch.inference_mode():
        for start in range(0, len(views), settings.batch_size):
            chunk = views[start:start + settings.batch_size]
            ids = torch.arange(start, start + len(chunk))
            for layer, act in rectified_activations(net, network_input(net, list(chunk)), layers):
                values, ys, xs = spatial_maxima(act, settings.per_image, suppression_radius(layer))
                tops[layer].update(values, ids, ys, xs)
    return tops


def items_per_batch(settings: ScanSettings, zooms: tuple[int, ...]) -> int:
    """Dataset items per batch: enough for about ``settings.batch_size`` views."""
    return max(1, settings.batch_size // len(views_of(zooms)))


def local_batches(model: VGG19, dataset: Source, layers: Sequence[str], settings: ScanSettings,
                  start: int) -> Iterator[BatchResult]:
    """The local engine: this process reads, preprocesses and runs VGG19, one batch of items at a time."""
    net = scan_network(model, settings.precision)
    items = dataset.items(start)
    while chunk := list(itertools.islice(items, items_per_batch(settings, dataset.zooms))):
        errors, views = read_views(chunk, settings.size, dataset.zooms)
        yield BatchResult([item.name for item in chunk], errors, top_of_views(net, views, layers, settings))


def scan(model: VGG19, dataset: Source, layers: Sequence[str], settings: ScanSettings = ScanSettings(), *,
         progress: Progress | None = None, stop: threading.Event | None = None, engine: str = "local",
         checkpoint: str | os.PathLike | None = None) -> Index:
    """Top ``settings.k`` per unit of each conv layer in ``layers`` over every view of ``dataset``.

    ``engine``: ``"local"`` (this process) or ``"ray"`` (Ray Data, see engines.py); both give the same index.
    With ``checkpoint``, progress is saved there at every shard end and a stopped scan resumes from it. Unreadable
    items are skipped and listed in ``index.skipped``; raises ``DatasetError`` when none is readable and
    ``Stopped`` when ``stop`` is set.
    """
    settings = resolved(settings)
    layers = check_conv_layers(layers)
    empty = {layer: TopK.empty(units_of(model, layer), settings.k) for layer in layers}
    state = ScanState.start(empty, dataset.zooms, checkpoint)
    if engine == "ray":
        from .engines import ray_batches  # Ray starts only when asked for
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
    """``scan``, but reusing ``<cache>/index-<key>.pt``: only layers not in it yet are scanned (then saved). A
    stopped scan leaves ``<cache>/partial/<key>-<layers>.pt``; the same call later resumes from it."""
    settings = resolved(settings)
    key = scan_key(model.identity, repr(model.preprocessing), settings, dataset.fingerprint())
    path = cache_dir(cache) / f"index-{key}.pt"
    try:
        index = Index.load(path)
    except BadIndexError:
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
