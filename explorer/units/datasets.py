"""Image datasets for the explorer: scikit-image's sample photos, a folder, a zip or a few uploaded files.

A dataset is a folder and a sorted list of files in it. Each readable file becomes one or more *scan views* of
``size x size`` pixels: at zoom z the image is resized so its short side is z*size, centre-cropped to a
z*size square and cut into z x z tiles (zoom 1: the whole centre square; zoom 2: four close-ups).
Unreadable files are not filtered here: the scan skips them and reports them by name.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from nst_core.images import load_image, resize_to

BUILTIN = "builtin"
BUILTIN_SUFFIXES = (".png", ".jpg")
BUILTIN_MIN_SIDE = 128  # leaves out scikit-image's thumbnails (a 15x10 tif, a 25x14 gif, ...)
# drawings, not photographs: their hard black/white edges would win most shallow units' top 9
BUILTIN_NOT_PHOTOS = ("chessboard_GRAY.png", "chessboard_RGB.png", "color.png", "horse.png", "logo.png",
                      "phantom.png")
BUILTIN_ZOOMS = (1, 2)
MAX_ZIP_BYTES = 2_000_000_000  # uncompressed
MAX_FILES = 10_000


class DatasetError(ValueError):
    """A dataset that can't be used at all (missing folder, bad zip, no files). The message says which and why."""


@dataclass(frozen=True)
class Dataset:
    """``files`` (paths relative to ``root``, sorted) scanned at each zoom in ``zooms``."""

    name: str
    root: str
    files: tuple[str, ...]
    zooms: tuple[int, ...] = (1,)

    def path(self, file: str) -> str:
        return os.path.join(self.root, file)

    def fingerprint(self) -> str:
        """sha256 over the zooms and every (relative name, sha256 of the file's bytes)."""
        digest = hashlib.sha256(repr(self.zooms).encode())
        for file in self.files:
            digest.update(file.encode() + b"\0" + file_hash(self.path(file)).encode() + b"\0")
        return digest.hexdigest()[:24]


def file_hash(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes; ``"unreadable"`` when it can't be read (the scan will report it)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return "unreadable"
    return digest.hexdigest()


def _is_hidden(rel: str) -> bool:
    """OS clutter inside folders and zips: dotfiles and ``__MACOSX/`` resource forks."""
    return any(part.startswith(".") or part == "__MACOSX" for part in Path(rel).parts)


def list_files(root: str | os.PathLike) -> tuple[str, ...]:
    """Every regular file under ``root`` (recursively, sorted, relative paths), OS clutter left out."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in filenames:
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            if not _is_hidden(rel):
                found.append(rel)
    if len(found) > MAX_FILES:
        raise DatasetError(f"{os.path.basename(str(root))}: too many files ({len(found)}, at most {MAX_FILES})")
    return tuple(sorted(found))


def builtin_dataset(zooms: tuple[int, ...] = BUILTIN_ZOOMS) -> Dataset:
    """scikit-image's sample photos (PNG/JPEG, short side at least BUILTIN_MIN_SIDE, drawings left out) at each
    zoom."""
    import skimage.data

    root = os.path.dirname(skimage.data.__file__)
    files = []
    for f in sorted(os.listdir(root)):
        if f.lower().endswith(BUILTIN_SUFFIXES) and f not in BUILTIN_NOT_PHOTOS:
            with Image.open(os.path.join(root, f)) as img:
                if min(img.size) >= BUILTIN_MIN_SIDE:
                    files.append(f)
    return Dataset("scikit-image sample photos", root, tuple(files), tuple(zooms))


def folder_dataset(folder: str | os.PathLike, zooms: tuple[int, ...] = (1,), name: str | None = None) -> Dataset:
    """Every file in ``folder`` (recursively)."""
    if not os.path.isdir(folder):
        raise DatasetError(f"{folder}: no such folder")
    files = list_files(folder)
    if not files:
        raise DatasetError(f"{folder}: the folder has no files")
    return Dataset(name or os.path.basename(os.path.abspath(folder)), os.path.abspath(folder), files, tuple(zooms))


def _store_folder(store: str | os.PathLike, key: str, fill) -> str:
    """``store/key``, created once by ``fill(tmp_dir)`` and renamed into place (never half-written)."""
    final = os.path.join(store, key)
    if not os.path.isdir(final):
        os.makedirs(store, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".tmp-", dir=store)
        try:
            fill(tmp)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


def zip_dataset(zip_path: str | os.PathLike, store: str | os.PathLike, zooms: tuple[int, ...] = (1,)) -> Dataset:
    """The files of a zip archive, extracted once into ``store/<sha256 of the zip>``.

    Entries with absolute paths or ``..`` are refused; at most MAX_ZIP_BYTES uncompressed, MAX_FILES files.
    """
    name = os.path.basename(str(zip_path))
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as e:
        raise DatasetError(f"{name}: not a readable zip file ({e})") from None
    with archive:
        for m in archive.infolist():
            parts = Path(m.filename).parts
            if m.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
                raise DatasetError(f"{name}: unsafe path in the zip: {m.filename!r}")
        members = [m for m in archive.infolist() if not m.is_dir() and not _is_hidden(m.filename)]
        if not members:
            raise DatasetError(f"{name}: the zip has no files")
        if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise DatasetError(f"{name}: the zip is too large (at most {MAX_FILES} files, {MAX_ZIP_BYTES:,} bytes)")
        folder = _store_folder(store, "zip-" + file_hash(zip_path)[:24],
                               lambda tmp: archive.extractall(tmp, members))
    return folder_dataset(folder, zooms, name=os.path.splitext(name)[0])


def files_dataset(paths: Iterable[str | os.PathLike], store: str | os.PathLike,
                  zooms: tuple[int, ...] = (1,)) -> Dataset:
    """Several loose files (e.g. uploads), copied once into ``store/<hash of names and contents>`` by base name."""
    paths = list(paths)
    if not paths:
        raise DatasetError("no files given")
    names = [os.path.basename(str(p)) for p in paths]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise DatasetError(f"{dup}: two files have this name")
    digest = hashlib.sha256()
    for name, p in sorted(zip(names, paths)):
        digest.update(name.encode() + b"\0" + file_hash(p).encode() + b"\0")

    def copy_all(tmp: str):
        for name, p in zip(names, paths):
            shutil.copyfile(p, os.path.join(tmp, name))

    folder = _store_folder(store, "files-" + digest.hexdigest()[:24], copy_all)
    return folder_dataset(folder, zooms, name=f"{len(paths)} uploaded files")


def open_dataset(spec: str, store: str | os.PathLike, zooms: tuple[int, ...] | None = None) -> Dataset:
    """``"builtin"``, a folder or a ``.zip`` file -> Dataset (zooms default: BUILTIN_ZOOMS for builtin, else (1,))."""
    if spec == BUILTIN:
        return builtin_dataset(zooms or BUILTIN_ZOOMS)
    if os.path.isdir(spec):
        return folder_dataset(spec, zooms or (1,))
    if os.path.isfile(spec) and spec.lower().endswith(".zip"):
        return zip_dataset(spec, store, zooms or (1,))
    raise DatasetError(f"{spec}: not 'builtin', a folder or a .zip file")


# --- scan views ---------------------------------------------------------------------------------------------------
def zoom_square(rgb: np.ndarray, side: int) -> np.ndarray:
    """Resize so the short side is ``side`` (aspect kept, Lanczos), then centre-crop a ``side x side`` square.

    The project's rule for thin images: any image, down to 1 x 1 or a 1-pixel sliver, is enlarged to the size it
    needs. A very long image is first centre-cropped to 2:1, so a sliver never becomes a huge resized copy.
    """
    h, w = rgb.shape[:2]
    if max(h, w) > 2 * min(h, w):
        keep = 2 * min(h, w)
        top, left = (h - min(h, keep)) // 2, (w - min(w, keep)) // 2
        rgb = rgb[top:top + min(h, keep), left:left + min(w, keep)]
        h, w = rgb.shape[:2]
    scale = side / min(h, w)
    rh, rw = max(side, round(h * scale)), max(side, round(w * scale))
    resized = resize_to(rgb, rh, rw)
    top, left = (rh - side) // 2, (rw - side) // 2
    return resized[top:top + side, left:left + side]


def tile(square: np.ndarray, size: int, row: int, col: int) -> np.ndarray:
    """The ``size x size`` tile at (row, col) of a zoomed square."""
    return np.ascontiguousarray(square[row * size:(row + 1) * size, col * size:(col + 1) * size])


def scan_views(rgb: np.ndarray, size: int, zoom: int) -> list[tuple[tuple[int, int], np.ndarray]]:
    """The z x z tiles ``((row, col), size x size view)`` of the image at zoom z (see the module docstring)."""
    square = zoom_square(rgb, size * zoom)
    return [((r, c), tile(square, size, r, c)) for r in range(zoom) for c in range(zoom)]


def view_name(file: str, zoom: int, tile_rc: tuple[int, int]) -> str:
    """How a scan view is named to people: the file, plus zoom and tile when zoomed in."""
    return file if zoom == 1 else f"{file} ×{zoom} tile {tile_rc[0]},{tile_rc[1]}"


def load_view(dataset_root: str, file: str, size: int, zoom: int, tile_rc: tuple[int, int]) -> np.ndarray:
    """One scan view, rebuilt from its file exactly as the scan saw it."""
    square = zoom_square(load_image(os.path.join(dataset_root, file)), size * zoom)
    return tile(square, size, *tile_rc)
