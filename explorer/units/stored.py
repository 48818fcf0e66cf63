"""Checks of the explorer's files read back from disk (an index, a scan checkpoint): each field's type, shape and
range before use, so that a damaged or tampered file is refused in one sentence that names it.

Files are read with ``torch.load(weights_only=True)``, which rebuilds only tensors and plain containers (a pickle
that would run code is refused); these checks then make sure the plain values are the ones the code expects.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import PurePath

import torch

from nst_core.checks import InputError
from nst_core.vgg import CONV_LAYERS, layer_channels

from .topk import NO_IMAGE

TOPK_FIELDS = {"value": torch.float32, "image": torch.int64, "y": torch.int64, "x": torch.int64}
KINDS = {str: "text", int: "a whole number", list: "a list", dict: "a table of named fields"}


class StoredFileError(InputError):
    """A file read back that can't be used. The message names the file (its base name only) and what is wrong."""


def read_stored(path: str | os.PathLike, kind: str) -> dict:
    """The dict saved at ``path`` by ``torch.save``, loaded without running code; else ``StoredFileError``
    naming the file and ``kind`` ("index", "checkpoint")."""
    name = os.path.basename(str(path))
    try:
        with warnings.catch_warnings():  # the one sentence below, not torch's notes on pickle protocols
            warnings.simplefilter("ignore")
            d = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise StoredFileError(f"{name}: no such {kind} file") from None
    except IsADirectoryError:
        raise StoredFileError(f"{name}: is a folder, not an explorer {kind} file") from None
    except Exception:  # pickle, zip and torch errors all mean "not such a file" (or one that would run code)
        raise StoredFileError(f"{name}: not an explorer {kind} file (empty, cut short, another format, or a "
                              "pickle that would run code)") from None
    if not isinstance(d, dict):
        raise StoredFileError(f"{name}: not an explorer {kind} file (it holds no table of fields)")
    return d


def entry(d: dict, key: str, kind: type, name: str):
    """``d[key]``, which must exist and be a ``kind`` (a bool is not a whole number), else ``StoredFileError``."""
    if key not in d:
        raise StoredFileError(f"{name}: the field {key!r} is missing")
    value = d[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise StoredFileError(f"{name}: the field {key!r} should be {KINDS[kind]}")
    return value


def safe_relative(file: str) -> bool:
    """A relative path that stays inside its folder: no root, no drive, no ``..``."""
    parts = PurePath(file).parts
    return bool(parts) and not file.startswith(("/", "\\")) and ".." not in parts and ":" not in parts[0]


def checked_files(files, name: str, key: str = "files") -> tuple[str, ...]:
    """A list of relative file names inside the dataset's folder."""
    if not isinstance(files, list) or not all(isinstance(f, str) and safe_relative(f) for f in files):
        raise StoredFileError(f"{name}: the field {key!r} should be a list of file names inside the dataset folder")
    return tuple(files)


def checked_pairs(pairs, name: str, key: str) -> list[tuple[str, str]]:
    """A list of two-text entries, e.g. (file, why it was skipped)."""
    if not isinstance(pairs, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2
                                              and all(isinstance(s, str) for s in p) for p in pairs):
        raise StoredFileError(f"{name}: the field {key!r} should be a list of (file, reason) pairs")
    return [tuple(p) for p in pairs]


def checked_views(views, files: Sequence[str], zooms: Sequence[int], name: str) -> list[tuple[str, int, tuple]]:
    """Views ``[file, zoom, [row, col]]``: a known file, one of the zooms, a tile inside that zoom."""
    known, wanted = set(files), set(zooms)
    said = f"{name}: the field 'views' should list [file, zoom, [row, col]] of the dataset's files and zooms"
    if not isinstance(views, list):
        raise StoredFileError(said)
    out = []
    for view in views:
        if not (isinstance(view, (list, tuple)) and len(view) == 3 and isinstance(view[0], str)
                and view[0] in known and type(view[1]) is int and view[1] in wanted
                and isinstance(view[2], (list, tuple)) and len(view[2]) == 2
                and all(type(i) is int and 0 <= i < view[1] for i in view[2])):
            raise StoredFileError(said)
        out.append((view[0], view[1], tuple(view[2])))
    return out


def checked_zooms(zooms, name: str) -> tuple[int, ...]:
    if not isinstance(zooms, list) or not zooms or not all(type(z) is int and 1 <= z <= 4 for z in zooms):
        raise StoredFileError(f"{name}: the field 'zooms' should be a list of whole numbers from 1 to 4")
    return tuple(zooms)



def layer_grid(layer: str, size: int) -> int:
    """Rows (= columns) of ``layer``'s activation for a ``size`` px square view: each pooling before block B floors
    a half, so H = size >> (B - 1)."""
    return size >> (int(layer[4]) - 1)


def checked_topk(top, layer: str, k: int, views: int, grid: int | None, name: str) -> dict[str, torch.Tensor]:
    """One layer's top-k fields: tensors ``(units of layer, k)`` of the right dtypes; image ids -1 (empty) or a
    view; positions inside the layer's ``grid`` (when known); no NaN."""
    if layer not in CONV_LAYERS:
        raise StoredFileError(f"{name}: {str(layer)[:40]!r} is not a conv layer of VGG19")
    units = layer_channels(layer)
    if not isinstance(top, dict) or set(top) != set(TOPK_FIELDS) or not all(
            isinstance(top[f], torch.Tensor) and top[f].dtype == dtype for f, dtype in TOPK_FIELDS.items()):
        raise StoredFileError(f"{name}: layer {layer} should hold value, image, y and x tensors")
    if any(tuple(t.shape) != (units, k) for t in top.values()):
        raise StoredFileError(f"{name}: layer {layer} should hold {units} units x {k} entries, "
                              f"not {' x '.join(map(str, top['value'].shape))}")
    image, value, y, x = top["image"], top["value"], top["y"], top["x"]
    used = image != NO_IMAGE
    if ((image < NO_IMAGE) | (image >= views)).any():
        raise StoredFileError(f"{name}: layer {layer} refers to views that the file does not list")
    if value.isnan().any() or (value == float("inf")).any():
        raise StoredFileError(f"{name}: layer {layer} holds values that are not numbers")
    limit = grid if grid is not None else torch.iinfo(torch.int64).max
    if ((y[used] < 0) | (y[used] >= limit) | (x[used] < 0) | (x[used] >= limit)).any():
        raise StoredFileError(f"{name}: layer {layer} holds positions outside its {grid} x {grid} activation")
    return dict(top)
