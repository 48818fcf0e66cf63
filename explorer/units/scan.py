"""Scan a dataset: one batched, gradient-free VGG19 pass per batch of views, stopping at the deepest chosen layer,
streaming each chosen conv layer's top-k (value, view, y, x) per unit, the value being the unit's rectified
activation max(0, conv). ``cached_scan`` reuses results on disk.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import math
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nst_core.images import ImageError, load_image
from nst_core.stylize import cpu_supports_bf16
from nst_core.vgg import LAYER_INDEX, VGG19

from .datasets import Dataset, DatasetError, scan_views
from .receptive_field import receptive_field
from .forward import rectified_activations
from .index import BadIndexError, Index, ScanSettings, ViewRef, check_conv_layers, scan_key
from .topk import TopK, spatial_maxima

CACHE_ENV = "NST_EXPLORER_CACHE"
Progress = Callable[[int, int], None]  # (files done, files in all)


class Stopped(Exception):
    """A scan or projection job was stopped by its ``stop`` event; nothing was saved."""


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


def scan(model: VGG19, dataset: Dataset, layers: Sequence[str], settings: ScanSettings = ScanSettings(), *,
         progress: Progress | None = None, stop: threading.Event | None = None) -> Index:
    """Top ``settings.k`` per unit of each conv layer in ``layers`` over every view of ``dataset``.

    Unreadable files are skipped and listed in ``index.skipped``; raises ``DatasetError`` when no file is readable
    and ``Stopped`` when ``stop`` is set.
    """
    settings = resolved(settings)
    layers = check_conv_layers(layers)
    net = scan_network(model, settings.precision)
    tops = {layer: TopK.empty(units_of(model, layer), settings.k) for layer in layers}
    radius = {layer: suppression_radius(layer) for layer in layers}
    views: list[ViewRef] = []
    skipped: list[tuple[str, str]] = []
    batch: list[tuple[int, np.ndarray]] = []

    def run_batch():
        ids = torch.tensor([i for i, _ in batch])
        with torch.inference_mode():
            for layer, act in rectified_activations(net, network_input(net, [v for _, v in batch]), layers):
                values, ys, xs = spatial_maxima(act, settings.per_image, radius[layer])
                tops[layer].update(values, ids, ys, xs)
        batch.clear()

    for done, file in enumerate(dataset.files, start=1):
        if stop is not None and stop.is_set():
            raise Stopped("scan stopped; nothing was saved")
        try:
            rgb = load_image(dataset.path(file))
        except ImageError as e:
            skipped.append((file, str(e)))
        else:
            for zoom in dataset.zooms:
                for tile, view in scan_views(rgb, settings.size, zoom):
                    views.append(ViewRef(file, zoom, tile))
                    batch.append((len(views) - 1, view))
                    if len(batch) == settings.batch_size:
                        run_batch()
        if progress is not None:
            progress(done, len(dataset.files))
    if batch:
        run_batch()
    if not views:
        raise DatasetError(f"{dataset.name}: no readable images ({len(skipped)} files skipped)")
    return Index(model.identity, repr(model.preprocessing), settings, dataset, dataset.fingerprint(), views, skipped,
                 tops)


def cached_scan(model: VGG19, dataset: Dataset, layers: Sequence[str], settings: ScanSettings = ScanSettings(), *,
                cache: str | os.PathLike | None = None, progress: Progress | None = None,
                stop: threading.Event | None = None) -> Index:
    """``scan``, but reusing ``<cache>/index-<key>.pt``: only layers not in it yet are scanned (then saved)."""
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
        fresh = scan(model, dataset, missing, settings, progress=progress, stop=stop)
        index = fresh if index is None else index.merged(fresh)
        index.save(path)
    elif progress is not None:
        progress(len(dataset.files), len(dataset.files))
    return index
