"""PNG results that carry their settings, so a picture can be reproduced and shared.

The settings go into PNG text chunks: ``nst:settings`` holds ``StyleOptions`` as
JSON, ``nst:weights`` the VGG19 weights' identity, ``nst:version`` this format.
Files are written to a temporary name and renamed, so an existing file is never
left half-written.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from .options import StyleOptions

SETTINGS_KEY = "nst:settings"
WEIGHTS_KEY = "nst:weights"
VERSION_KEY = "nst:version"
FORMAT_VERSION = "1"


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


def save_png(path: str | os.PathLike, rgb: np.ndarray, options: StyleOptions, weights_identity: str,
             extra: dict[str, str] | None = None) -> Path:
    """Write ``rgb`` as a PNG with its settings, atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            Image.fromarray(rgb).save(f, format="PNG", pnginfo=png_info(options, weights_identity, extra))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a result is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def read_settings(path: str | os.PathLike) -> tuple[StyleOptions, str] | None:
    """The (options, weights identity) stored in a PNG made by ``save_png``, or None if it has none."""
    with Image.open(path) as img:
        text = getattr(img, "text", None) or {}
    if SETTINGS_KEY not in text:
        return None
    try:
        options = StyleOptions.from_dict(json.loads(text[SETTINGS_KEY]))
    except (ValueError, TypeError) as e:
        raise ValueError(f"{os.path.basename(str(path))}: its stored settings are invalid ({e})") from None
    return options, text.get(WEIGHTS_KEY, "")
