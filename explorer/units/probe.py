"""Probe a photo: what every unit of one conv layer sees in the user's own picture (the DeepVis live view).

For unit c of layer l the photo gives the activation map a_c(y, x) = max(0, conv_c) over the layer's grid. The probe
reports, per unit, its peak max_{y,x} a_c(y, x) and where it is, and the input box that position sees (its
receptive field, rows y*J - P ... y*J - P + R - 1, columns alike, clipped to the photo). The photo goes through the
network exactly as a scan view does (same preprocessing, precision and fused conv + ReLU), so a photo that is in a
scanned dataset has the same peak here as in the index.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw

from nst_core.checks import InputError, one_of, whole_number
from nst_core.images import MIN_SIDE, resize_long_edge
from nst_core.vgg import CONV_LAYERS, VGG19

from .deconv import Request, signal_to_image, unit_projections
from .forward import rectified_activations
from .index import Index
from .patches import inside_mask, padding_pattern
from nst_core.receptive_field import receptive_field
from .batches import network_input, scan_precision, scan_network
from .tiles import labelled_page
from .topk import single_maxima

PROBE_SIZE = 224  # the photo's long edge as the network sees it, by default (a scan view's size)
MAX_PROBE_SIZE = 1024
PER_PAGE = 32  # heatmaps per page in the app (4 rows of 8)
HEATMAP_PX = 96  # each heatmap's long edge on a page
LAYERS_SAID = "a conv layer of VGG19 (conv1_1 … conv5_4)"


def heat_colours() -> np.ndarray:
    """A 256-entry colour map from black through red and orange to pale yellow (a 'hot' ramp): even where colours
    print grey, bright still means strong."""
    t = np.linspace(0, 1, 256)
    rgb = np.stack([np.clip(3 * t, 0, 1), np.clip(3 * t - 1, 0, 1), np.clip(3 * t - 2, 0, 1) * 0.8], axis=1)
    return (rgb * 255).round().astype(np.uint8)


HEAT = heat_colours()


@dataclass(frozen=True)
class UnitPeak:
    """One unit's strongest response to the photo: ``peak`` = max_{y,x} a(y, x) at grid cell (``y``, ``x``), and
    ``box`` = [top, left, bottom, right] (half-open) of the photo pixels that cell sees."""

    unit: int
    peak: float
    y: int
    x: int
    box: tuple[int, int, int, int]

    def as_dict(self) -> dict:
        return {"unit": self.unit, "peak": self.peak, "y": self.y, "x": self.x, "box": list(self.box)}


@dataclass
class Probe:
    """One layer's activation maps on a photo, and every unit's peak, strongest first."""

    layer: str
    photo: np.ndarray  # the RGB uint8 photo as the network saw it (after ``probe_view``)
    maps: torch.Tensor  # (units, n_H, n_W) float32: a = max(0, conv)
    peaks: list[UnitPeak]  # sorted by peak, strongest first (ties: lower unit first)
    note: str  # what was done to the photo before probing, or ""

    def peak_of(self, unit: int) -> UnitPeak:
        return next(p for p in self.peaks if p.unit == unit)

    def top(self, count) -> list[dict]:
        """The ``count`` strongest units as plain dicts (the CLI's JSON and the API's answer)."""
        count = whole_number("top", count, 1, len(self.peaks))
        return [p.as_dict() for p in self.peaks[:count]]


def probe_view(rgb: np.ndarray, size: int = PROBE_SIZE) -> tuple[np.ndarray, str]:
    """The photo with its long edge at ``size`` px (aspect kept; no side under 16 px), and a sentence saying how it
    was resized ("" when it was not)."""
    size = whole_number("probe size", size, MIN_SIDE, MAX_PROBE_SIZE)
    view = resize_long_edge(rgb, size)
    if view.shape[:2] == rgb.shape[:2]:
        return view, ""
    (h, w), (vh, vw) = rgb.shape[:2], view.shape[:2]
    return view, f"The photo ({w}×{h} px) was resized to {vw}×{vh} px, its long edge at {size} px, for the probe."


def clipped_box(layer: str, y: int, x: int, height: int, width: int) -> tuple[int, int, int, int]:
    """``receptive_field(layer).box(y, x)`` clipped to a ``height x width`` photo."""
    top, left, bottom, right = receptive_field(layer).box(y, x)
    return max(top, 0), max(left, 0), min(bottom, height), min(right, width)


def probe(model: VGG19, rgb: np.ndarray, layer: str, *, size: int = PROBE_SIZE, precision: str = "auto") -> Probe:
    """Run the photo through VGG19 up to ``layer`` (one forward pass, no gradient) and find each unit's peak."""
    layer = one_of("layer", layer, CONV_LAYERS, LAYERS_SAID)
    view, note = probe_view(rgb, size)
    net = scan_network(model, scan_precision(precision))
    with torch.inference_mode():
        (_, act), = rectified_activations(net, network_input(net, [view]), [layer])
        value, ys, xs = single_maxima(act)
        maps = act[0].float().contiguous()
    order = torch.argsort(value[0], descending=True, stable=True).tolist()
    h, w = view.shape[:2]
    peaks = [UnitPeak(u, float(value[0, u]), int(ys[0, u]), int(xs[0, u]),
                      clipped_box(layer, int(ys[0, u]), int(xs[0, u]), h, w)) for u in order]
    return Probe(layer, view, maps, peaks, note)


# --- pictures -----------------------------------------------------------------------------------------------------
def heatmap(a: torch.Tensor, scale: float, height: int, width: int) -> np.ndarray:
    """An activation map ``(n_H, n_W)`` as colours, a / ``scale`` through ``HEAT``, each cell a block of pixels
    (nearest neighbour: the layer's grid stays visible) filling ``height x width``."""
    level = (a / scale).clamp(0, 1) if scale > 0 else torch.zeros_like(a)
    colours = HEAT[(level * 255).round().to(torch.uint8).numpy()]
    return np.asarray(Image.fromarray(colours).resize((width, height), Image.NEAREST))


def thumbnail_shape(height: int, width: int, px: int) -> tuple[int, int]:
    """(h, w) with the long edge ``px``, aspect of ``height x width`` kept."""
    scale = px / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def unit_caption(peak: UnitPeak) -> str:
    """'unit 37 · 412.3': the unit and its peak on the photo."""
    return f"unit {peak.unit} · {peak.peak:.1f}"


def page_count(result: Probe, per_page: int = PER_PAGE) -> int:
    return max(1, math.ceil(len(result.peaks) / per_page))


def probe_page(result: Probe, page: int, per_page: int = PER_PAGE, px: int = HEATMAP_PX
               ) -> tuple[list[tuple[np.ndarray, str]], int, int]:
    """(heatmap, caption) of each unit on ``page`` (1-based, clamped), strongest first, with the page and the
    number of pages. Each map is scaled by its own peak, so every unit's pattern shows; the caption gives the peak."""
    pages = page_count(result, per_page)
    page = min(max(1, int(page)), pages)
    h, w = thumbnail_shape(*result.photo.shape[:2], px)
    chosen = result.peaks[(page - 1) * per_page:page * per_page]
    return ([(heatmap(result.maps[p.unit], p.peak, h, w), unit_caption(p)) for p in chosen],
            page, pages)


def grid_picture(result: Probe, count: int, columns: int = 8, px: int = HEATMAP_PX) -> np.ndarray:
    """The ``count`` strongest units' heatmaps as one labelled picture (the CLI's PNG)."""
    shown = probe_page(result, 1, count, px)[0]
    tiles = [tile for tile, _ in shown]
    labels = [f"{result.layer} {caption}" for _, caption in shown]
    return labelled_page(tiles, labels, min(columns, len(tiles)))


def unit_overlay(result: Probe, unit: int, px: int = 448) -> np.ndarray:
    """The photo darkened, the unit's activation map laid over it, and the receptive-field box at its peak drawn
    in cyan (clipped to the photo), the long edge ``px`` pixels."""
    peak = result.peak_of(unit)
    h, w = result.photo.shape[:2]
    heat = heatmap(result.maps[unit], peak.peak, h, w).astype(np.float32)
    mixed = (0.45 * result.photo.astype(np.float32) + 0.55 * heat).round().astype(np.uint8)
    th, tw = thumbnail_shape(h, w, px)
    image = Image.fromarray(mixed).resize((tw, th), Image.LANCZOS)
    top, left, bottom, right = (round(v * tw / w) for v in peak.box)
    line = max(2, px // 150)  # drawn just outside the box, so what the peak sees stays uncovered
    ImageDraw.Draw(image).rectangle([left - line, top - line, right + line - 1, bottom + line - 1],
                                    outline=(0, 255, 255), width=line)
    return np.asarray(image)


def peak_projection(model: VGG19, result: Probe, unit: int, method: str = "deconvnet",
                    precision: str = "auto") -> np.ndarray:
    """The deconvnet (or guided backprop) projection of the unit's peak activation back to the photo's pixels,
    R x R (the receptive-field box), grey-centred; the part of the box outside the photo as a checkerboard."""
    peak = result.peak_of(unit)
    signal, = unit_projections(model, [result.photo], result.layer, [Request(0, unit, peak.y, peak.x)], method,
                               scan_precision(precision))
    rf = receptive_field(result.layer)
    top, left, _, _ = rf.box(peak.y, peak.x)
    inside = inside_mask(result.photo.shape[:2], top, left, rf.size)
    return np.where(inside[..., None], signal_to_image(signal), padding_pattern(rf.size, rf.size))


def ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def placement(result: Probe, unit: int, index: Index) -> str:
    """One sentence placing the photo's peak among the unit's dataset top-k in ``index``: the rank it would take,
    1 + the number of dataset peaks above it."""
    peak = result.peak_of(unit)
    values = [v for v in index.top(result.layer).value[unit].tolist() if v > float("-inf")]
    k = index.settings.k
    rank = 1 + sum(v > peak.peak for v in values)
    where = f"the {index.dataset.name} dataset's top-{k} for {result.layer} unit {unit}"
    if rank <= k:
        return f"This photo's peak {peak.peak:.1f} would rank {ordinal(rank)} among {where}."
    return f"This photo's peak {peak.peak:.1f} is below {where} (its {ordinal(k)} is {values[-1]:.1f})."
