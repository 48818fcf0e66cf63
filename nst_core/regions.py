"""Regions painted on the content image: the mask format, its checks, and the guidance channels the style cost uses.

A mask is an image the size of the content (another size is resized, and said so). Pure red, green and blue paint
regions 1, 2 and 3; black, white, grey and transparent pixels are "the rest". A pixel counts as a colour when that
channel is above half and the other two below (so a soft brush edge still reads as its colour); any other colour
(yellow, cyan, magenta, ...) is refused. Region k takes the style image ``region_styles[k - 1]`` (1-based; by default
red the 1st, green the 2nd, blue the 3rd); the rest takes the blend of the style images, as without regions.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .checks import InputError
from .images import load_image

REGION_COLOURS = ("red", "green", "blue")  # region k is painted in REGION_COLOURS[k - 1]
MAX_REGIONS = len(REGION_COLOURS)
MASK_FORMAT = ("a mask image: pure red, green and blue paint regions 1, 2 and 3; black, white, grey or transparent "
               "pixels are the rest")
_NAMED = {(1, 1, 0): "yellow", (0, 1, 1): "cyan", (1, 0, 1): "magenta"}


def mask_labels(rgba: np.ndarray) -> np.ndarray:
    """An RGB or RGBA uint8 mask -> labels ``(H, W)`` uint8: 0 the rest, k for region k. Raises ``InputError`` for
    a colour that is not red, green, blue or one of the rest's."""
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or rgba.dtype != np.uint8 or 0 in rgba.shape[:2]:
        raise InputError(f"the regions mask must be an RGB or RGBA image; {MASK_FORMAT}.")
    high = rgba[..., :3] > 127
    painted = rgba[..., 3] >= 128 if rgba.shape[2] == 4 else np.ones(rgba.shape[:2], bool)
    labels = np.zeros(rgba.shape[:2], np.uint8)
    for k, bits in enumerate(((1, 0, 0), (0, 1, 0), (0, 0, 1)), start=1):
        labels[painted & np.all(high == np.array(bits, bool), axis=2)] = k
    count = high.sum(axis=2)
    odd = painted & (count == 2)
    if odd.any():
        y, x = np.argwhere(odd)[0]
        name = _NAMED[tuple(int(b) for b in high[y, x])]
        raise InputError(f"the regions mask has {name} pixels (e.g. at x={x}, y={y}); paint at most "
                         f"{MAX_REGIONS} regions, in red, green and blue only (black, white or transparent is the rest).")
    return labels


def read_mask(path) -> np.ndarray:
    """The labels of a mask file (``mask_labels``; transparent pixels read as white, the rest); ``ImageError`` if it
    is not an image."""
    return mask_labels(load_image(path))


def fit_labels(labels: np.ndarray, height: int, width: int) -> tuple[np.ndarray, str]:
    """``labels`` at ``height x width`` (nearest neighbour, so no new labels appear), and a sentence saying it was
    resized ("" when it was not)."""
    h, w = labels.shape
    if (h, w) == (height, width):
        return labels, ""
    resized = np.asarray(Image.fromarray(labels).resize((width, height), Image.NEAREST))
    return resized, f"The regions mask ({w}×{h} px) was resized to the content's {width}×{height} px."


def check_regions(labels: np.ndarray, region_styles: tuple[int, ...], n_styles: int) -> list[int]:
    """The regions painted in ``labels`` (1-based), each with a style image: ``InputError`` for a painted region
    with no style, or a style given to a region with no pixels."""
    present = sorted(int(k) for k in np.unique(labels) if k)
    styles = region_styles or tuple(range(1, n_styles + 1))
    for k in present:
        chosen = styles[k - 1] if k <= len(styles) else k
        if chosen == 0:
            raise InputError(f"the {REGION_COLOURS[k - 1]} region is painted but has no style image; give it one, "
                             "or erase it.")
        if not 1 <= chosen <= n_styles:
            raise InputError(f"the {REGION_COLOURS[k - 1]} region has no style image (it takes style image {chosen}, "
                             f"and {n_styles} {'was' if n_styles == 1 else 'were'} given); give one style image per "
                             "painted region, or say which it takes with region styles.")
    for k, s in enumerate(region_styles, start=1):
        if s and k not in present:
            raise InputError(f"the {REGION_COLOURS[k - 1]} region has a style image but no painted pixels; paint it "
                             "or leave its style out.")
    return present


def guidance(labels: np.ndarray, height: int, width: int, device=None) -> torch.Tensor:
    """One guidance channel per label 0 … ``MAX_REGIONS`` at ``height x width``: ``(1 + MAX_REGIONS, h, w)`` float32,
    the share of each output pixel that the label covers (area-weighted downsampling; the channels sum to 1)."""
    one_hot = F.one_hot(torch.from_numpy(labels.astype(np.int64)), 1 + MAX_REGIONS).permute(2, 0, 1).float()
    return F.interpolate(one_hot[None], size=(height, width), mode="area")[0].to(device)


def labels_to_png_text(labels: np.ndarray) -> str:
    """The labels as base64 PNG text (one byte per pixel, compressed), for a result PNG's settings."""
    buffer = io.BytesIO()
    Image.fromarray(labels).save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def labels_from_png_text(text: str, max_bytes: int) -> np.ndarray:
    """Inverse of ``labels_to_png_text``; ``InputError`` when the text is not such a PNG of labels 0 … 3."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
        if len(data) > max_bytes:
            raise ValueError
        with Image.open(io.BytesIO(data)) as img:
            if img.mode != "L" or img.width * img.height > 40_000_000:
                raise ValueError
            labels = np.asarray(img).copy()
    except (ValueError, OSError, Image.DecompressionBombError):
        raise InputError("the stored regions mask is damaged; paint the regions again.") from None
    if labels.max(initial=0) > MAX_REGIONS:
        raise InputError("the stored regions mask is damaged; paint the regions again.")
    return labels


def preview(labels: np.ndarray) -> np.ndarray:
    """The mask as the algorithm sees it: the rest mid grey, the regions in their colours, RGB uint8."""
    palette = np.array([[128, 128, 128], [220, 40, 40], [40, 170, 60], [50, 90, 230]], np.uint8)
    return palette[labels]
