"""The Stylize tab's controls <-> ``StyleOptions``.

Style strength is shown as s = log10(beta / alpha) with alpha = 1, so beta = 10^s (rounded to 6 significant
digits, so a restored beta such as 30 comes back exactly).
Style layers are written as text, ``relu1_1: 0.2, relu2_1: 0.2``, read by ``nst_core.options.parse_style_layers``.
"""
from __future__ import annotations

import math

import numpy as np

from nst_core import StyleOptions
from nst_core.checks import InputError, real_number
from nst_core.options import format_style_layers
from nst_core.regions import mask_labels
from nst_core.vgg import load_vgg19

STRENGTH_RANGE = (-2.0, 8.0)  # log10(beta / alpha) on the slider
# The other sliders' ends; a restored PNG's value outside them is clamped and reported.
SLIDER_RANGES = {"size": (32, 2048), "steps": (1, 1000), "scales": (1, 6), "style_scale": (0.1, 4.0)}
# Settings the app has no control for; a restored PNG that used other values is reported.
FIXED_IN_APP = ("pooling", "weights", "lbfgs_history", "palette_start", "step_ratio")


def style_strength(options: StyleOptions) -> float:
    """log10(beta / alpha), clipped to the slider's range (alpha = 0 or beta = 0 land on its ends)."""
    lo, hi = STRENGTH_RANGE
    if options.alpha == 0:
        return hi
    if options.beta == 0:
        return lo
    return min(hi, max(lo, math.log10(options.beta / options.alpha)))


def control_values(o: StyleOptions, blend=(1.0, 1.0, 1.0)) -> dict:
    """The tab's setting controls for options ``o`` and the styles' weights ``blend``, by ``stylize``'s parameter
    names (the names the restored PNGs and the tab's links use)."""
    return dict(size=o.size, steps=o.steps, scales=o.scales, content_layer=o.content_layer,
                style_layers=format_style_layers(o.style_layers), strength=style_strength(o), tv_weight=o.tv_weight,
                init=o.init, optimizer=o.optimizer, learning_rate=o.learning_rate, style_scale=o.style_scale,
                preserve_color=o.preserve_color, seed=o.seed, style_weight=blend[0], style_2_weight=blend[1],
                style_3_weight=blend[2], match_style_colors=o.match_style_colors)


def painted_labels(editor, restored: np.ndarray | None = None) -> np.ndarray | None:
    """The regions painted in the ``gr.ImageEditor`` value ``editor`` (its layers, over nothing: the content
    background is not part of the mask) as labels (``regions.mask_labels``), over the ``restored`` labels of a
    reproduced PNG where given; None when nothing is painted."""
    layers = [np.asarray(layer) for layer in (editor or {}).get("layers") or [] if layer is not None]
    if not layers:
        return restored if restored is not None and restored.any() else None
    if any(layer.ndim != 3 or layer.shape[2] != 4 or layer.dtype != np.uint8 for layer in layers):
        raise InputError("regions: the painted layers must be RGBA images; paint them in the editor.")
    mask = np.zeros(layers[0].shape, np.uint8)
    for layer in layers:  # later layers over earlier ones, where they are painted
        if layer.shape != mask.shape:
            raise InputError("regions: the painted layers differ in size; paint them on one image.")
        mask = np.where(layer[..., 3:] >= 128, layer, mask)
    labels = mask_labels(mask)
    if restored is not None and restored.shape == labels.shape:
        labels = np.where(mask[..., 3] >= 128, labels, restored).astype(np.uint8)
    return labels if labels.any() else None


def labels_layer(labels: np.ndarray) -> np.ndarray:
    """Labels as an RGBA layer for the editor: the regions in pure red, green, blue; the rest transparent."""
    colours = np.array([[0, 0, 0, 0], [255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]], np.uint8)
    return colours[labels]


def build_options(*, size, steps, scales, content_layer, style_layers, style_strength, tv_weight, init,
                  optimizer, learning_rate, style_scale, preserve_color, seed, blend, match_style_colors=False,
                  region_styles=(), palette_only=False) -> StyleOptions:
    """``StyleOptions`` from the tab's control values; its ``validate`` names the first bad one (``InputError``)."""
    strength = real_number("style strength log10(beta/alpha)", style_strength, *STRENGTH_RANGE)
    return StyleOptions(
        size=size, steps=steps, scales=scales, content_layer=content_layer,
        style_layers=str(style_layers or ""), alpha=1.0, beta=float(f"{10.0 ** strength:.6g}"),
        tv_weight=tv_weight, init=init, optimizer=optimizer, learning_rate=learning_rate, style_scale=style_scale,
        preserve_color=preserve_color, seed=seed, style_blend=tuple(blend), match_style_colors=match_style_colors,
        region_styles=tuple(region_styles), palette_only=palette_only,
    )


def clamp_to_sliders(values: dict) -> list[str]:
    """Clamp ``values`` (control name -> value) into ``SLIDER_RANGES`` in place; a note for each one moved."""
    notes = []
    for name, (lo, hi) in SLIDER_RANGES.items():
        if not lo <= values[name] <= hi:
            notes.append(f"{name}={values[name]:g} is outside the app's {lo:g}–{hi:g}")
            values[name] = min(hi, max(lo, values[name]))
    return notes


def restore_notes(options: StyleOptions, weights_identity: str) -> list[str]:
    """What the app can't reproduce from stored settings: fixed settings that differ, other weights."""
    default = StyleOptions()
    notes = [f"{name}={getattr(options, name)!r} is fixed to {getattr(default, name)!r} here"
             for name in FIXED_IN_APP if getattr(options, name) != getattr(default, name)]
    if weights_identity and weights_identity != load_vgg19(default.weights, default.pooling).identity:
        notes.append(f"it was made with other VGG19 weights ({weights_identity})")
    if options.alpha == 0 or options.beta == 0 or style_strength(options) != math.log10(options.beta / options.alpha):
        notes.append(f"alpha={options.alpha:g}, beta={options.beta:g} is outside the style-strength slider")
    return notes
