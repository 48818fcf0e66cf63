"""One batch of a scan: views read from the dataset's items, run through the scan's network, and each chosen layer's
top-k (value, view, y, x) per unit. The local engine (scan.py) and the Ray engine (engines.py) both run these."""
from __future__ import annotations

import copy
import functools
import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from nst_core.images import ImageError
from nst_core.receptive_field import receptive_field
from nst_core.device import resolve_precision
from nst_core.vgg import LAYER_INDEX, VGG19

from .datasets import scan_views
from .forward import rectified_activations
from .index import ScanSettings
from .shards import views_of
from .sources import Item
from .topk import TopK, spatial_maxima


def scan_precision(precision: str) -> str:
    """The precision a scan (on the CPU) runs in: ``"auto"`` -> ``"bf16"`` on CPUs with native bf16 (measured
    faster, see benchmarks/bench_explorer.py), else ``"fp32"``."""
    return resolve_precision(torch.device("cpu"), precision)


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
