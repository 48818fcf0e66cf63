"""Image inputs of the app: uploads that fail give one-line errors; scikit-image's sample pictures."""
from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

import gradio as gr
import numpy as np
import skimage.data
from PIL import Image

from nst_core import ImageError, load_image
from nst_core.checks import InputError

from .errors import bad_input

MAX_INPUT_PIXELS = 16_000_000  # uploads larger than this (e.g. 4000 x 4000) are refused
SKIMAGE_DATA = Path(skimage.data.__file__).parent  # sample photos and textures that ship with scikit-image
RESULTS_DIR = Path(tempfile.gettempdir()) / "nst-studio-results"
RESULT_MAX_AGE_S = 3600  # result PNGs older than this are deleted when a new one is written


def result_path(kind: str) -> Path:
    """A new file name ``RESULTS_DIR/{kind}-XXXXXXXX.png`` for a PNG the user can download (it carries its
    settings); results of any kind older than ``RESULT_MAX_AGE_S`` are deleted first."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in RESULTS_DIR.glob("*.png"):
        try:
            if now - old.stat().st_mtime > RESULT_MAX_AGE_S:
                old.unlink(missing_ok=True)
        except FileNotFoundError:  # another session's job deleted it first
            pass
    return RESULTS_DIR / f"{kind}-{uuid.uuid4().hex[:8]}.png"


def image_input(value: str | None = None, *, label: str, **kwargs) -> gr.Image:
    """A ``gr.Image`` (giving a file path) whose unreadable uploads raise a one-line ``gr.Error`` naming the input.

    Gradio's own check would fail with a traceback-like message, so the instance's ``preprocess`` is wrapped
    (a subclass would make Gradio write a ``.pyi`` stub next to this file on import).
    """
    kwargs.setdefault("sources", ["upload", "clipboard"])
    image = gr.Image(value, label=label, type="filepath", image_mode=None, **kwargs)
    preprocess = image.preprocess

    def checked_preprocess(payload):
        try:
            return preprocess(payload)
        except Image.DecompressionBombError:
            raise bad_input(f"{label}: the image is too large.") from None
        except Exception:
            name = os.path.basename(str(getattr(payload, "orig_name", None) or "the upload"))
            raise bad_input(f"{label}: {name} is not an image file Pillow can read.") from None

    image.preprocess = checked_preprocess
    return image


def load_input(path: str | None, what: str) -> np.ndarray:
    """The upload at ``path`` as RGB uint8; a missing or unusable image is an ``InputError`` naming the input."""
    if not path:
        raise InputError(f"Please give a {what}.")
    try:
        return load_image(path, max_pixels=MAX_INPUT_PIXELS)
    except ImageError as e:
        raise InputError(f"{what}: {e}") from None
