"""Image datasets for the explorer: scikit-image's sample photos, a folder, a zip or a few uploaded files.

A dataset is a folder and a sorted list of files in it. Each readable file becomes one or more *scan views* of
``size x size`` pixels: at zoom z the image is resized so its short side is z*size, centre-cropped to a
z*size square and cut into z x z tiles (zoom 1: the whole centre square; zoom 2: four close-ups).
Unreadable files are not filtered here: the scan skips them and reports them by name. Damaged zips give what they
can: members with a bad CRC or broken data are left out and listed, and a zip cut off before its central directory
is read member by member from its local headers up to the cut.
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from nst_core.images import load_image, resize_to

from .hub import hub_dataset
from .sources import Dataset, DatasetError, Item, Source, file_hash
from .stored import checked_pairs

BUILTIN = "builtin"
BUILTIN_SUFFIXES = (".png", ".jpg")
BUILTIN_MIN_SIDE = 128  # leaves out scikit-image's thumbnails (a 15x10 tif, a 25x14 gif, ...)
# drawings, not photographs: their hard black/white edges would win most shallow units' top 9
BUILTIN_NOT_PHOTOS = ("chessboard_GRAY.png", "chessboard_RGB.png", "color.png", "horse.png", "logo.png",
                      "phantom.png")
BUILTIN_ZOOMS = (1, 2)
MAX_ZIP_BYTES = 2_000_000_000  # uncompressed
MAX_FILES = 10_000
SKIPPED_NOTE = ".skipped.json"  # inside an extracted zip: members that could not be extracted, with why


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
    skipped = read_skipped_note(folder)
    name = name or os.path.basename(os.path.abspath(folder))
    if not files:
        raise DatasetError(f"{name}: no usable files" + (f" ({describe_skipped(skipped)})" if skipped else "")
                           + "; add JPEG or PNG images")
    return Dataset(name, os.path.abspath(folder), files, tuple(zooms), skipped)


def describe_skipped(skipped) -> str:
    """``"3 skipped: a.jpg: bad CRC; ..."``, the first three reasons."""
    shown = "; ".join(why for _, why in list(skipped)[:3])
    return f"{len(skipped)} skipped: {shown}" + ("; ..." if len(skipped) > 3 else "")


def read_skipped_note(folder: str | os.PathLike) -> tuple[tuple[str, str], ...]:
    """The (member, why) pairs a zip's extraction left in ``folder``; none when the note is missing or damaged."""
    try:
        with open(os.path.join(folder, SKIPPED_NOTE)) as f:
            return tuple(checked_pairs(json.load(f), SKIPPED_NOTE, "skipped"))
    except (OSError, ValueError, RecursionError):  # StoredFileError is a ValueError
        return ()


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


def unsafe_member(filename: str) -> bool:
    """An absolute path, a drive letter or ``..``: a zip entry that would land outside its folder."""
    parts = Path(filename).parts
    return filename.startswith(("/", "\\")) or ".." in parts or bool(parts and ":" in parts[0])


def extract_members(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], folder: str) -> list[tuple[str, str]]:
    """Extract each member into ``folder``; a member with a bad CRC or broken data is removed and listed."""
    skipped = []
    for m in members:
        try:
            archive.extract(m, folder)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as e:
            Path(folder, m.filename).unlink(missing_ok=True)
            why = "bad CRC" if "CRC" in str(e) else "damaged data"
            skipped.append((m.filename, f"{m.filename}: the zip holds {why} for this file"))
    return skipped


LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # PK\3\4, version, flags, method, time, date, crc, sizes, name, extra


def inflate(data, start: int, limit: int) -> tuple[bytes, int | None]:
    """Raw deflate from ``data[start:]``: (content, offset where the stream ended), the offset None when the data
    stops first. More than ``limit`` bytes out: ``DatasetError``."""
    stream, out, pos, size = zlib.decompressobj(-15), [], start, 0
    while not stream.eof and pos < len(data):
        chunk = data[pos:pos + (1 << 20)]
        out.append(stream.decompress(chunk))
        size += len(out[-1])
        if size > limit:
            raise DatasetError(f"the zip is too large (at most {MAX_ZIP_BYTES:,} bytes)")
        pos += len(chunk)
    return b"".join(out), (pos - len(stream.unused_data) if stream.eof else None)


def salvage_members(data, folder: str) -> list[tuple[str, str]]:
    """A zip without its central directory (cut off): walk the local headers from the start and extract each
    member whose data is complete and matches its CRC (stored or deflated). Returns the members left out."""
    skipped, pos, total = [], 0, 0
    while data[pos:pos + 4] == b"PK\x03\x04" and pos + LOCAL_HEADER.size <= len(data):
        _, _, flags, method, _, _, crc, csize, _, name_len, extra_len = LOCAL_HEADER.unpack_from(data, pos)
        name = bytes(data[pos + LOCAL_HEADER.size:pos + LOCAL_HEADER.size + name_len]).decode("utf-8", "replace")
        start = pos + LOCAL_HEADER.size + name_len + extra_len
        if unsafe_member(name):
            raise DatasetError(f"unsafe path in the zip: {name!r}")
        if method == 8:
            try:
                content, end = inflate(data, start, MAX_ZIP_BYTES - total)
            except zlib.error:
                skipped.append((name, f"{name}: the zip holds damaged data for this file"))
                break
            complete = end is not None
        elif method == 0 and not flags & 0x08:
            content, end = bytes(data[start:start + csize]), start + csize
            complete = end <= len(data)
        else:
            skipped.append((name, f"{name}: the zip is cut off and this file's size is unknown"))
            break
        total += len(content)
        if total > MAX_ZIP_BYTES:
            raise DatasetError(f"the zip is too large (at most {MAX_ZIP_BYTES:,} bytes)")
        if flags & 0x08 and complete:  # the CRC follows the data, in a data descriptor (signed PK\7\8 or not)
            signed = data[end:end + 4] == b"PK\x07\x08"
            complete = end + (16 if signed else 12) <= len(data)
            crc = struct.unpack_from("<L", data, end + 4 * signed)[0] if complete else None
            end += 16 if signed else 12
        if not complete:
            skipped.append((name, f"{name}: the zip is cut off inside this file"))
            break
        if not name.endswith("/") and not _is_hidden(name):
            if zlib.crc32(content) != crc:
                skipped.append((name, f"{name}: the zip holds bad CRC for this file"))
            else:
                target = Path(folder, name)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
        pos = end
    return skipped


def write_skipped_note(folder: str, skipped: list[tuple[str, str]]) -> None:
    if skipped:
        with open(os.path.join(folder, SKIPPED_NOTE), "w") as f:
            json.dump(skipped, f)


def zip_dataset(zip_path: str | os.PathLike, store: str | os.PathLike, zooms: tuple[int, ...] = (1,)) -> Dataset:
    """The files of a zip archive, extracted once into ``store/<sha256 of the zip>``.

    Entries with absolute paths or ``..`` are refused; at most MAX_ZIP_BYTES uncompressed, MAX_FILES files.
    Members that fail their CRC or can't be decompressed are left out and listed as skipped; a truncated zip
    (no central directory) is salvaged up to the cut.
    """
    name = os.path.basename(str(zip_path))
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        return salvaged_zip_dataset(zip_path, store, zooms)
    except OSError as e:
        raise DatasetError(f"{name}: not a readable zip file ({e.strerror or e})") from None
    with archive:
        for m in archive.infolist():
            if unsafe_member(m.filename):
                raise DatasetError(f"{name}: unsafe path in the zip: {m.filename!r}")
        members = [m for m in archive.infolist() if not m.is_dir() and not _is_hidden(m.filename)]
        if not members:
            raise DatasetError(f"{name}: the zip has no files; add JPEG or PNG images")
        if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise DatasetError(f"{name}: the zip is too large (at most {MAX_FILES} files, {MAX_ZIP_BYTES:,} bytes)")

        def fill(tmp: str):
            write_skipped_note(tmp, extract_members(archive, members, tmp))

        folder = _store_folder(store, "zip-" + file_hash(zip_path)[:24], fill)
    return folder_dataset(folder, zooms, name=os.path.splitext(name)[0])


def salvaged_zip_dataset(zip_path: str | os.PathLike, store: str | os.PathLike, zooms: tuple[int, ...]) -> Dataset:
    """A zip whose end is missing: its complete members up to the cut (see ``salvage_members``)."""
    name = os.path.basename(str(zip_path))
    with open(zip_path, "rb") as f:
        if f.read(4) != b"PK\x03\x04" or os.path.getsize(zip_path) <= LOCAL_HEADER.size:
            raise DatasetError(f"{name}: not a readable zip file (no zip header)")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            def fill(tmp: str):
                try:
                    write_skipped_note(tmp, salvage_members(data, tmp))
                except DatasetError as e:
                    raise DatasetError(f"{name}: {e}") from None

            folder = _store_folder(store, "zip-" + file_hash(zip_path)[:24], fill)
    return folder_dataset(folder, zooms, name=os.path.splitext(name)[0])


def distinct_names(names: list[str]) -> list[str]:
    """``names`` with each repeat numbered before its extension: a.png, a.png -> a.png, a-2.png (files sent as data:
    URLs all arrive as file.png)."""
    seen: dict[str, int] = {}
    distinct = []
    for name in names:
        stem, ext = os.path.splitext(name)
        seen[name] = seen.get(name, 0) + 1
        candidate = name if seen[name] == 1 else f"{stem}-{seen[name]}{ext}"
        while candidate in distinct:
            seen[name] += 1
            candidate = f"{stem}-{seen[name]}{ext}"
        distinct.append(candidate)
    return distinct


def files_dataset(paths: Iterable[str | os.PathLike], store: str | os.PathLike,
                  zooms: tuple[int, ...] = (1,)) -> Dataset:
    """Several loose files (e.g. uploads), copied once into ``store/<hash of names and contents>`` by base name."""
    paths = list(paths)
    if not paths:
        raise DatasetError("no files given")
    names = distinct_names([os.path.basename(str(p)) for p in paths])
    digest = hashlib.sha256()
    for name, p in sorted(zip(names, paths)):
        digest.update(name.encode() + b"\0" + file_hash(p).encode() + b"\0")

    def copy_all(tmp: str):
        for name, p in zip(names, paths):
            shutil.copyfile(p, os.path.join(tmp, name))

    folder = _store_folder(store, "files-" + digest.hexdigest()[:24], copy_all)
    return folder_dataset(folder, zooms, name=f"{len(paths)} uploaded file{'s' * (len(paths) != 1)}")


def open_dataset(spec: str, store: str | os.PathLike, zooms: tuple[int, ...] | None = None) -> Source:
    """``"builtin"``, a folder, a ``.zip`` file or ``hf:OWNER/NAME[:split[:column]]`` (a streamed Hugging Face
    dataset) -> a dataset to scan (zooms default: BUILTIN_ZOOMS for builtin, else (1,))."""
    if spec == BUILTIN:
        return builtin_dataset(zooms or BUILTIN_ZOOMS)
    if spec.startswith("hf:"):
        return hub_dataset(spec, store, zooms or (1,))
    if os.path.isdir(spec):
        return folder_dataset(spec, zooms or (1,))
    if os.path.isfile(spec) and spec.lower().endswith(".zip"):
        return zip_dataset(spec, store, zooms or (1,))
    raise DatasetError(f"{spec}: not 'builtin', a folder, a .zip file or hf:OWNER/NAME")


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
