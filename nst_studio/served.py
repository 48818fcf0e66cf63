"""Images an event returns reach the browser through Gradio's cache folder, each file named by a hash of its bytes.

Gradio's own writers (``processing_utils.save_pil_to_cache`` and ``save_bytes_to_cache``) write that file in place
every time the same image is returned again, so a browser fetching it meanwhile could receive a short file (the
server then logs h11's "Too little data for declared Content-Length"). ``write_cache_atomically`` puts writers with
the same names and results in their place, which write through ``nst_core.atomic``.
"""
from __future__ import annotations

from pathlib import Path

from gradio import processing_utils
from PIL import Image

from nst_core.metadata import write_bytes


def cached_file(cache_dir: str, data: bytes, name: str) -> str:
    """``cache_dir/<hash of data>/<name>`` holding ``data``, written atomically; its absolute path."""
    path = Path(cache_dir) / processing_utils.hash_bytes(data) / Path(name).name
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(write_bytes(path, data).resolve())


def save_pil_to_cache(img: Image.Image, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    """Gradio's ``save_pil_to_cache``, written atomically."""
    return cached_file(cache_dir, processing_utils.encode_pil_to_bytes(img, format), f"{name}.{format}")


def save_bytes_to_cache(data: bytes, file_name: str, cache_dir: str) -> str:
    """Gradio's ``save_bytes_to_cache`` (a name without a suffix gets the audio format's), written atomically."""
    suffix = "" if Path(file_name).suffix else processing_utils.detect_audio_format(data)
    return cached_file(cache_dir, data, file_name + suffix)


def write_cache_atomically() -> None:
    """Make Gradio write every returned image or byte string into its cache atomically."""
    processing_utils.save_pil_to_cache = save_pil_to_cache
    processing_utils.save_bytes_to_cache = save_bytes_to_cache
