"""The disk bound on the files the studio keeps (uploads, results, caches): ``NST_CACHE_LIMIT`` bytes (default 2G),
oldest first out, never a file in use.

A file is in use while this process has it open (a download being served, an image being read: the links in
``/proc/self/fd``) or while it is younger than ``MIN_AGE_S`` (just written: a result about to be fetched, an upload
about to be read). Ages are modification times; readers that keep a file longer touch it (``os.utime``).
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

from .memory import parse_size

LIMIT_ENV = "NST_CACHE_LIMIT"
DEFAULT_LIMIT = "2G"
MIN_AGE_S = 300  # younger files are never deleted


def cache_limit() -> int:
    """Bytes the studio's files may take on disk: ``NST_CACHE_LIMIT`` (a size such as 2G), else 2G."""
    return parse_size(LIMIT_ENV, os.environ.get(LIMIT_ENV, "").strip() or DEFAULT_LIMIT)


def open_files() -> set[str]:
    """Real paths of the files this process has open now (empty where ``/proc`` is not there)."""
    found = set()
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            found.add(os.path.realpath(os.readlink(f"/proc/self/fd/{fd}")))
        except OSError:
            pass
    return found


def files_under(folders: Iterable[str | os.PathLike]) -> list[tuple[float, int, str]]:
    """(modification time, bytes, path) of every regular file under ``folders``, oldest first."""
    found = []
    for folder in folders:
        for dirpath, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                except OSError:  # deleted meanwhile
                    continue
                if os.path.isfile(path) and not os.path.islink(path):
                    found.append((st.st_mtime, st.st_size, path))
    return sorted(found)


def trim(folders: Iterable[str | os.PathLike], limit: int, now: float | None = None) -> tuple[int, int]:
    """Delete the oldest files under ``folders`` until they take at most ``limit`` bytes, skipping files in use
    (see the module docstring); empty folders left behind go too. Returns (bytes deleted, bytes kept)."""
    folders = [Path(f) for f in folders if Path(f).is_dir()]
    files = files_under(folders)
    total = sum(size for _, size, _ in files)
    now = time.time() if now is None else now
    busy = open_files() if total > limit else set()
    freed = 0
    for mtime, size, path in files:
        if total - freed <= limit:
            break
        if now - mtime < MIN_AGE_S or os.path.realpath(path) in busy:
            continue
        try:
            os.unlink(path)
        except FileNotFoundError:  # another job deleted it first
            pass
        except OSError:
            continue
        freed += size
        remove_empty_parents(Path(path).parent, folders)
    return freed, total - freed


def remove_empty_parents(folder: Path, roots: list[Path]) -> None:
    """Remove ``folder`` and its parents while they are empty, up to (not including) one of ``roots``."""
    while folder not in roots and any(root in folder.parents for root in roots):
        try:
            folder.rmdir()
        except OSError:  # not empty, or gone
            return
        folder = folder.parent
