"""PNG results that carry their settings, so a picture can be reproduced and shared.

The settings go into PNG text chunks: ``nst:settings`` holds ``StyleOptions`` as
JSON, ``nst:weights`` the VGG19 weights' identity, ``nst:version`` this format,
``nst:regions`` the regions mask if one was painted.
Files are written to a temporary name and renamed, so an existing file is never
left half-written.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from .atomic import replacing
from .checks import InputError, shown
from .options import StyleOptions
from .regions import labels_from_png_text

SETTINGS_KEY = "nst:settings"
WEIGHTS_KEY = "nst:weights"
VERSION_KEY = "nst:version"
REGIONS_KEY = "nst:regions"  # the regions mask, when one was used: base64 PNG of its labels
FORMAT_VERSION = "1"
MAX_SETTINGS_CHARS = 16_384  # settings JSON is about 700 characters; anything far larger is not ours


def png_info(options: StyleOptions, weights_identity: str, extra: dict[str, str] | None = None) -> PngImagePlugin.PngInfo:
    """PNG text chunks holding every setting and the weights' identity."""
    info = PngImagePlugin.PngInfo()
    info.add_text(VERSION_KEY, FORMAT_VERSION)
    info.add_text(SETTINGS_KEY, json.dumps(options.to_dict(), sort_keys=True))
    info.add_text(WEIGHTS_KEY, weights_identity)
    info.add_text("Software", "nst_core (Neural Style Transfer Studio)")
    for k, v in (extra or {}).items():
        info.add_text(k, v)
    return info


def write_png(path: str | os.PathLike, rgb: np.ndarray, info: PngImagePlugin.PngInfo | None = None) -> Path:
    """Write ``rgb`` as a PNG with the text chunks of ``info``, atomically (``atomic.replacing``): an existing file is
    never left half-written."""
    with replacing(path) as f:
        Image.fromarray(rgb).save(f, format="PNG", pnginfo=info)
    return Path(path)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (``atomic.replacing``)."""
    with replacing(path) as f:
        f.write(data)
    return Path(path)


def save_png(path: str | os.PathLike, rgb: np.ndarray, options: StyleOptions, weights_identity: str,
             extra: dict[str, str] | None = None) -> Path:
    """Write ``rgb`` as a PNG carrying its settings (``png_info``), atomically."""
    return write_png(path, rgb, png_info(options, weights_identity, extra))


def read_settings(path: str | os.PathLike) -> tuple[StyleOptions, str] | None:
    """The (options, weights identity) stored in a PNG made by ``save_png``, or None if it has none.

    The format version must be ``FORMAT_VERSION``; the stored JSON goes through ``StyleOptions.from_dict``, the same
    validation as the form and the command line; a damaged, oversized or tampered chunk or another version raises ``InputError`` naming the file and the problem.
    """
    name = os.path.basename(str(path))
    try:
        with Image.open(path) as img:
            text = dict(getattr(img, "text", None) or {})
    except (OSError, ValueError, SyntaxError, UnicodeError, Image.DecompressionBombError):
        raise InputError(f"{name}: not a PNG whose settings can be read (the file or a text chunk is damaged "
                         "or too large).") from None
    if SETTINGS_KEY not in text:
        return None
    version = text.get(VERSION_KEY, FORMAT_VERSION)  # files from before the version chunk are format 1
    if version != FORMAT_VERSION:
        raise InputError(f"{name}: its settings are in format {shown(version)}; this version reads format "
                         f"{FORMAT_VERSION} only.")
    raw = text[SETTINGS_KEY]
    if not isinstance(raw, str) or len(raw) > MAX_SETTINGS_CHARS:
        raise InputError(f"{name}: its stored settings are too large ({len(raw):,} characters; at most "
                         f"{MAX_SETTINGS_CHARS:,}).")
    try:
        stored = json.loads(raw)
    except (ValueError, RecursionError):
        raise InputError(f"{name}: its stored settings are not valid JSON.") from None
    try:
        options = StyleOptions.from_dict(stored)
    except InputError as e:
        raise InputError(f"{name}: its stored settings are invalid: {e}") from None
    except TypeError:
        raise InputError(f"{name}: its stored settings are invalid.") from None
    identity = text.get(WEIGHTS_KEY, "")
    return options, identity if isinstance(identity, str) and len(identity) <= 200 else ""


MAX_REGIONS_CHARS = 4_000_000  # the base64 PNG of a regions mask


def read_regions(path: str | os.PathLike) -> np.ndarray | None:
    """The regions mask (labels, ``regions.mask_labels``) stored in a PNG made with regions, or None if it has none;
    a damaged or oversized one raises ``InputError``."""
    name = os.path.basename(str(path))
    try:
        with Image.open(path) as img:
            raw = (getattr(img, "text", None) or {}).get(REGIONS_KEY)
    except (OSError, ValueError, SyntaxError, UnicodeError, Image.DecompressionBombError):
        raise InputError(f"{name}: not a PNG whose settings can be read (the file or a text chunk is damaged "
                         "or too large).") from None
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > MAX_REGIONS_CHARS:
        raise InputError(f"{name}: its stored regions mask is too large.")
    return labels_from_png_text(raw, MAX_REGIONS_CHARS)

