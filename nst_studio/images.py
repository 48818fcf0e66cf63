"""Image inputs of the app: uploads that fail give one-line errors; scikit-image's sample pictures."""
from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

import gradio as gr
import numpy as np
import skimage.data

from nst_core import ImageError, load_image
from nst_core.checks import InputError

from .errors import named_image_check

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
    """A ``gr.Image`` giving the upload's file path as it is: Gradio only reads its header (``image_mode=None``: no
    decoding and re-encoding), ``load_input`` checks its size before decoding. An unreadable upload is one sentence
    naming the input (``errors.named_image_check``)."""
    kwargs.setdefault("sources", ["upload", "clipboard"])
    image = gr.Image(value, label=label, type="filepath", image_mode=None, **kwargs)
    image.preprocess = named_image_check(image)
    return image


def load_input(path: str | None, what: str) -> np.ndarray:
    """The upload at ``path`` as RGB uint8; a missing or unusable image is an ``InputError`` naming the input."""
    if not path:
        raise InputError(f"Please give a {what}.")
    try:
        return load_image(path, max_pixels=MAX_INPUT_PIXELS)
    except ImageError as e:
        raise InputError(f"{what}: {e}") from None
