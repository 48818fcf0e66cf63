"""Image inputs of the app: uploads that fail give one-line errors; scikit-image's sample pictures."""
from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from pathlib import Path

import gradio as gr
import numpy as np
import skimage.data
from gradio.utils import get_upload_folder

from explorer.units.scan import cache_dir
from nst_core import ImageError, load_image
from nst_core.checks import InputError
from nst_core.disk import cache_limit, trim

from .errors import guard_controls


MAX_INPUT_PIXELS = 16_000_000  # uploads larger than this (e.g. 4000 x 4000) are refused
SKIMAGE_DATA = Path(skimage.data.__file__).parent  # sample photos and textures that ship with scikit-image
RESULTS_DIR = Path(tempfile.gettempdir()) / "nst-studio-results"
RESULT_MAX_AGE_S = 3600  # result PNGs older than this are deleted when a new one is written
TRIM_EVERY_S = 60  # how often the served app checks its files against NST_CACHE_LIMIT
log = logging.getLogger("nst_studio")


def result_path(kind: str) -> Path:
    """A new file name ``RESULTS_DIR/{kind}-XXXXXXXX.png`` for a PNG the user can download (it carries its
    settings); results of any kind older than ``RESULT_MAX_AGE_S`` are deleted first, and the app's files are kept
    within the disk bound (``trim_app_files``)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in RESULTS_DIR.glob("*.png"):
        try:
            if now - old.stat().st_mtime > RESULT_MAX_AGE_S:
                old.unlink(missing_ok=True)
        except FileNotFoundError:  # another session's job deleted it first
            pass
    trim_app_files()
    return RESULTS_DIR / f"{kind}-{uuid.uuid4().hex[:8]}.png"


def app_folders() -> list[Path]:
    """Where the app keeps files: its results, Gradio's uploads and cached outputs (GRADIO_TEMP_DIR), the explorer's
    cache (indexes, uploaded datasets, Hub items)."""
    return [RESULTS_DIR, Path(get_upload_folder()), cache_dir()]


def trim_app_files() -> tuple[int, int]:
    """The app's files kept within ``NST_CACHE_LIMIT``, oldest first out, files in use kept (``nst_core.disk``)."""
    return trim(app_folders(), cache_limit())


def trim_app_files_every(seconds: float) -> threading.Thread:
    """A daemon thread running ``trim_app_files`` every ``seconds`` (uploads arrive without any result written)."""
    def loop():
        while True:
            time.sleep(seconds)
            try:
                trim_app_files()
            except Exception:  # a folder changing under the walk: try again next time
                log.warning("keeping the app's files within the disk bound failed; trying again later", exc_info=True)

    thread = threading.Thread(target=loop, name="disk-bound", daemon=True)
    thread.start()
    return thread


def image_input(value: str | None = None, *, label: str, **kwargs) -> gr.Image:
    """A ``gr.Image`` giving the upload's file path as it is: Gradio only reads its header (``image_mode=None``: no
    decoding and re-encoding), ``load_input`` checks its size before decoding. An unreadable upload is one sentence
    naming the input (``errors.guard_controls``)."""
    guard_controls()
    kwargs.setdefault("sources", ["upload", "clipboard"])
    return gr.Image(value, label=label, type="filepath", image_mode=None, **kwargs)


def load_input(path: str | None, what: str) -> np.ndarray:
    """The upload at ``path`` as RGB uint8; a missing or unusable image is an ``InputError`` naming the input."""
    if not path:
        raise InputError(f"Please give a {what}.")
    try:
        return load_image(path, max_pixels=MAX_INPUT_PIXELS)
    except ImageError as e:
        advice = "" if ";" in str(e) else "; choose another image, or save this one again as PNG or JPEG"
        raise InputError(f"{what}: {str(e).rstrip('.')}{advice}.") from None
