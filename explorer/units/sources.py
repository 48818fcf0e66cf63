"""What a dataset is to the explorer: a ``Dataset`` (a folder and its sorted files), the ``Item`` a scan reads, the
``Source`` protocol that a streamed Hub dataset (hub.py) also follows, and ``DatasetError``."""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from nst_core.checks import InputError
from nst_core.images import load_image


class DatasetError(InputError):
    """A dataset that can't be used at all (missing folder, bad zip, no files). The message says which and why."""


@dataclass(frozen=True)
class Item:
    """One dataset entry to read: its name, and its bytes as a file ``path`` or as ``data``."""

    name: str
    path: str | None = None
    data: bytes | None = None

    def rgb(self) -> np.ndarray:
        """The entry as RGB uint8, checked as every input image is (``ImageError`` naming the entry)."""
        if self.data is None:
            return load_image(self.path)
        with tempfile.TemporaryDirectory(prefix="nst-item-") as tmp:
            path = os.path.join(tmp, os.path.basename(self.name))
            with open(path, "wb") as f:
                f.write(self.data)
            return load_image(path)


@dataclass(frozen=True)
class Dataset:
    """``files`` (paths relative to ``root``, sorted) scanned at each zoom in ``zooms``; ``skipped``: entries that
    never became files (a damaged zip's members), as (name, why)."""

    name: str
    root: str
    files: tuple[str, ...]
    zooms: tuple[int, ...] = (1,)
    skipped: tuple[tuple[str, str], ...] = ()

    def path(self, file: str) -> str:
        return os.path.join(self.root, file)

    def count(self) -> int:
        return len(self.files)

    def items(self, start: int = 0) -> Iterator[Item]:
        """The files from position ``start`` on, in order."""
        for file in self.files[start:]:
            yield Item(file, self.path(file))

    def finished(self, names: list[str], used: set[str]) -> Dataset:
        """The dataset as an index keeps it, ``used`` being the item names its top-k show (a folder's files are
        all on disk already)."""
        return self

    def fingerprint(self) -> str:
        """sha256 over the zooms and every (relative name, sha256 of the file's bytes)."""
        digest = hashlib.sha256(repr(self.zooms).encode())
        for file in self.files:
            digest.update(file.encode() + b"\0" + file_hash(self.path(file)).encode() + b"\0")
        return digest.hexdigest()[:24]


class Source(Protocol):
    """What a scan reads: a folder-like ``Dataset`` or a streamed Hub dataset (hub.py)."""

    name: str
    zooms: tuple[int, ...]
    skipped: tuple[tuple[str, str], ...]

    def count(self) -> int | None: ...  # items in all (None: not known before the end)

    def items(self, start: int = 0) -> Iterator[Item]: ...

    def fingerprint(self) -> str: ...

    def finished(self, names: list[str], used: set[str]) -> Dataset: ...


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
