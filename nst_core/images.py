"""Loading images safely: every Pillow mode becomes RGB, bad files raise ``ImageError``."""
from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image, ImageOps

from .checks import InputError

MAX_PIXELS = 40_000_000  # refuse anything larger (Pillow's bomb guard starts warning at 89 M)
MIN_SIDE = 16  # every side of an image fed to VGG19 is enlarged to at least this (relu5_x sees it at 1 x 1)


class ImageError(InputError):
    """A file that can't be used as an image. The message names the file and the problem."""


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB. Transparency is composited over white; 16-bit greys are scaled to 8 bits, float greys
    from [0, 1] (or [0, 255] where a value is above 1)."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif img.mode == "F":  # floats: in [0, 1] when none is above 1, else in [0, 255]
        arr = np.nan_to_num(np.asarray(img, dtype=np.float64))
        top = 1.0 if arr.max() <= 1.0 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def load_image(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read ``path`` as an RGB uint8 ``H x W x 3`` array (EXIF orientation applied, first frame if animated).

    Raises ``ImageError("<file>: <problem>")`` for an empty, truncated, unreadable,
    zero-sized or too-large file.
    """
    name = os.path.basename(str(path))
    try:
        if os.path.getsize(path) == 0:
            raise ImageError(f"{name}: the file is empty")
    except OSError as e:
        raise ImageError(f"{name}: cannot read the file ({e.strerror or e})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                w, h = img.size
                if w == 0 or h == 0:
                    raise ImageError(f"{name}: the image is zero-sized ({w}x{h})")
                if w * h > max_pixels:
                    raise ImageError(f"{name}: the image is too large ({w}x{h}, more than {max_pixels:,} pixels); "
                                     "resize it first")
                img.seek(0)
                img.load()
                img = ImageOps.exif_transpose(img) or img
                rgb = to_rgb(img)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name}: the image is too large (refused as a possible decompression bomb); "
                         "resize it first") from None
    except Image.UnidentifiedImageError:
        raise ImageError(f"{name}: not an image file Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"{name}: the image data is broken or truncated") from None
    return np.asarray(rgb, dtype=np.uint8).copy()


def resize_long_edge(rgb: np.ndarray, size: int, min_side: int = MIN_SIDE) -> np.ndarray:
    """Resize so the long edge is ``size`` pixels, aspect kept (Lanczos).

    The project's one rule for thin images: no side ends up shorter than ``min_side`` (VGG19's four poolings before
    conv5 need 16 px), so a 1 x 1 image becomes a square and a 1-pixel sliver is stretched across its thin side.
    """
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    floor = min(min_side, size)
    new = (max(floor, round(w * scale)), max(floor, round(h * scale)))
    if new == (w, h):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize(new, Image.LANCZOS))


def resize_to(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize to exactly ``height x width`` (Lanczos)."""
    if rgb.shape[:2] == (height, width):
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.LANCZOS))
