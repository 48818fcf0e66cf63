"""Atomic file writes: a temporary file beside the target, then ``os.replace`` onto its name, so that a reader (a
download being served, a cache read back) sees the whole old file or the whole new one, never part of one, and a
write that fails leaves the old file as it was."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def replacing(path: str | os.PathLike, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A binary file to write inside the ``with`` block; leaving it without error renames the file onto ``path``
    (permissions ``mode``: a result is meant to be shared), an error removes it."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
