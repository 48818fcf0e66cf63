"""Projections of one activation back to pixel space (Zeiler & Fergus 2013, Fig. 2; Springenberg et al. 2015).

Start from layer L's map with every activation zeroed except a_c(y, x), then walk the layers backwards:

* convolution: the transposed filters, g <- conv_transpose2d(g, W)  (no bias);
* max pool: unpool with the switches recorded in the forward pass (the argmax of each 2x2 window);
* ReLU: ``deconvnet`` rectifies the backward signal, g <- max(g, 0); ``guided`` backprop also keeps only where the
  forward input was positive, g <- max(g, 0) * [a > 0].

The result lies inside unit (y, x)'s receptive field, so it is computed on a window of the view that holds the
field: rows [floor(max(0, y*J - P) / J) * J, min(H, y*J - P + R)) (columns alike). Starting the window on a
multiple of J keeps every pooling grid aligned, and every activation the projection touches sees exactly the
pixels (and borders) it saw in the full view, so the windowed result equals the full one.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nst_core.vgg import LAYER_INDEX, VGG19, Preprocessing

from nst_core.receptive_field import receptive_field
from .patches import cut_box
from .batches import network_input, scan_network

METHODS = ("deconvnet", "guided")
BATCH = 8
SMALL_WINDOW = 64 * 64  # pixels; projections on windows up to this size run in fp32
DISPLAY_PERCENTILE = 99.5


def forward_recording(model: VGG19, x: torch.Tensor, layer: str) -> tuple[torch.Tensor, list]:
    """Run ``model`` up to ``layer``; record per layer what the backward walk needs: max-pool switches and input
    shapes, ReLU input signs."""
    records = []
    for module in model.layers[:LAYER_INDEX[layer] + 1]:
        if isinstance(module, nn.MaxPool2d):
            shape = x.shape[-2:]
            x, switches = F.max_pool2d(x, module.kernel_size, module.stride, return_indices=True)
            records.append((switches, shape))
        elif isinstance(module, nn.ReLU):
            records.append(x > 0)
            x = F.relu(x)
        elif isinstance(module, nn.Conv2d):
            records.append(None)
            x = module(x)
        else:
            raise ValueError(f"projections need max pooling and ReLUs; found {type(module).__name__}")
    return x, records


def project_back(model: VGG19, signal: torch.Tensor, layer: str, records: list, method: str) -> torch.Tensor:
    """Walk ``signal`` (layer ``layer``'s shape) back to the input with ``method`` (see the module docstring)."""
    for module, record in zip(reversed(model.layers[:LAYER_INDEX[layer] + 1]), reversed(records)):
        if isinstance(module, nn.Conv2d):
            signal = F.conv_transpose2d(signal, module.weight, padding=module.padding)
        elif isinstance(module, nn.MaxPool2d):
            switches, shape = record
            signal = F.max_unpool2d(signal, switches, module.kernel_size, module.stride, output_size=shape)
        else:
            signal = F.relu(signal) if method == "deconvnet" else F.relu(signal) * record
    return signal


def select_rows(record, rows: torch.Tensor):
    """A forward record for the batch rows ``rows`` (several projections may share one forward image)."""
    if record is None:
        return None
    if isinstance(record, tuple):
        switches, shape = record
        return switches[rows], shape
    return record[rows]


def project(model: VGG19, x: torch.Tensor, layer: str, units: Sequence[int], ys: Sequence[int],
            xs: Sequence[int], method: str = "deconvnet", rows: Sequence[int] | None = None) -> torch.Tensor:
    """Input-space projections ``(N, 3, H, W)`` of activation (units[i], ys[i], xs[i]) of image ``rows[i]`` of
    batch ``x`` (default: image i); each image's forward pass is run once however many projections use it."""
    if method not in METHODS:
        raise ValueError(f"projection method must be one of {', '.join(METHODS)}, got {method!r}")
    with torch.inference_mode():
        act, records = forward_recording(model, x, layer)
        if rows is not None:
            index = torch.as_tensor(rows)
            act, records = act[index], [select_rows(r, index) for r in records]
        signal = torch.zeros_like(act)
        n = torch.arange(len(units))
        c, y, x_ = torch.as_tensor(units), torch.as_tensor(ys), torch.as_tensor(xs)
        signal[n, c, y, x_] = act[n, c, y, x_]
        return project_back(model, signal, layer, records, method)


def rgb_signal(g: torch.Tensor, preprocessing: Preprocessing) -> np.ndarray:
    """Input-space signal ``(N, 3, H, W)`` -> the same signal on RGB pixels in [0, 1], ``(N, H, W, 3)`` float32:
    the adjoint of normalize (x = (rgb * scale - mean) / std), i.e. times scale / std, channels flipped if BGR."""
    std = torch.tensor(preprocessing.std).view(1, 3, 1, 1)
    g = g.float() * preprocessing.scale / std
    if preprocessing.bgr:
        g = g.flip(1)
    return g.permute(0, 2, 3, 1).numpy()


def projection_window(layer: str, y: int, x: int, height: int, width: int) -> tuple[int, int, int, int]:
    """Half-open ``(top, left, bottom, right)`` of the view that a projection of unit (y, x) needs."""
    rf = receptive_field(layer)
    top, left, bottom, right = rf.box(y, x)
    return (max(top, 0) // rf.jump * rf.jump, max(left, 0) // rf.jump * rf.jump, min(bottom, height),
            min(right, width))


def projection_network(model: VGG19, precision: str, window: tuple[int, int]) -> VGG19:
    """The network for windows of ``window`` (h, w) pixels: bf16 pays off on large windows only (measured:
    on a 12 px window fp32 is ~2.5x faster, on 224 px bf16 is ~3x faster), so small ones use fp32."""
    return scan_network(model, "fp32" if window[0] * window[1] <= SMALL_WINDOW else precision)


@dataclass(frozen=True)
class Request:
    """Project activation (``unit``, ``y``, ``x``) of the layer in view number ``view``."""

    view: int
    unit: int
    y: int
    x: int


def unit_projections(model: VGG19, views: Sequence[np.ndarray], layer: str, requests: Sequence[Request],
                     method: str = "deconvnet", precision: str = "fp32") -> list[np.ndarray]:
    """Per request, the projection (R x R x 3 float32 RGB signal, zero outside the view) of that activation of
    ``layer`` in RGB uint8 ``views[request.view]``, cropped to the unit's receptive-field box.

    Computed on windows (module docstring) batched by window shape, one forward pass per distinct (view,
    window) of a batch, in ``precision`` for large windows.
    """
    rf = receptive_field(layer)
    windows = [projection_window(layer, r.y, r.x, *views[r.view].shape[:2]) for r in requests]
    groups = defaultdict(list)
    for i, (top, left, bottom, right) in enumerate(windows):
        groups[(bottom - top, right - left)].append(i)
    out: list[np.ndarray | None] = [None] * len(requests)
    for shape, members in groups.items():
        net = projection_network(model, precision, shape)
        members.sort(key=lambda i: (requests[i].view, windows[i]))  # projections sharing a view share a batch
        for start in range(0, len(members), BATCH):
            chunk = members[start:start + BATCH]
            keys = list(dict.fromkeys((requests[i].view, windows[i]) for i in chunk))
            crops = [views[v][top:bottom, left:right] for v, (top, left, bottom, right) in keys]
            g = project(net, network_input(net, crops), layer, [requests[i].unit for i in chunk],
                        [requests[i].y - windows[i][0] // rf.jump for i in chunk],
                        [requests[i].x - windows[i][1] // rf.jump for i in chunk], method,
                        rows=[keys.index((requests[i].view, windows[i])) for i in chunk])
            for i, signal in zip(chunk, rgb_signal(g, model.preprocessing)):
                top, left, _, _ = rf.box(requests[i].y, requests[i].x)
                zeros = np.zeros((rf.size, rf.size, 3), np.float32)
                out[i] = cut_box(signal, top - windows[i][0], left - windows[i][1], rf.size, zeros)
    return out


def signal_to_image(p: np.ndarray, percentile: float = DISPLAY_PERCENTILE) -> np.ndarray:
    """A signal -> RGB uint8 for display: 128 + 127 * clip(p / s, -1, 1), s the ``percentile`` of |p| over its
    non-zero pixels (zero is mid grey; a few extreme pixels don't wash out the rest)."""
    magnitude = np.abs(p)
    nonzero = magnitude[magnitude > 0]
    scale = float(np.percentile(nonzero, percentile)) if nonzero.size else 1.0
    return (128 + 127 * np.clip(p / scale, -1, 1)).round().astype(np.uint8)
