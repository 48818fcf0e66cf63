"""Hugging Face Hub datasets for the explorer, streamed: ``hf:OWNER/NAME[:split[:column]]``.

Read with ``datasets.load_dataset(path, split=split, streaming=True)``: items arrive one at a time, so a 50k-image set
never sits in memory or on disk. The same call takes a local folder that ``datasets`` can read (an image folder, a
folder of parquet files), written ``hf:/path/to/folder``; that is how this path is tested without internet.

The image column (the first ``Image`` column unless named) is read undecoded, so each item arrives as its bytes or
a local path and is checked like every input image; unreadable items are skipped and listed. Items are named by
their position in the split (``000042.jpg``). After the scan, only the items that the index shows (its top-k) are
written into the store folder, so that patches can be drawn again without streaming the split a third time.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from nst_core.checks import real_number, shown
from nst_core.metadata import write_bytes

from .network import port_answers
from .sources import Dataset, DatasetError, Item

PREFIX = "hf:"
DEFAULT_SPLIT = "train"
REPO_ID = re.compile(r"(?:[A-Za-z0-9][\w-]*(?:\.[\w-]+)*/)?[A-Za-z0-9][\w-]*(?:\.[\w-]+)*")  # [OWNER/]NAME, no '..'
SPLIT = re.compile(r"[\w.-]{1,100}")  # a split's or a column's name
SPEC_SAID = "write a Hub dataset as hf:OWNER/NAME, hf:OWNER/NAME:SPLIT or hf:OWNER/NAME:SPLIT:COLUMN"
TIMEOUT_ENV = "NST_HUB_TIMEOUT"
TIMEOUT_S = 3.0  # the longest wait for the Hub to answer before a scan says it is unreachable


def parse_spec(spec: str) -> tuple[str, str, str | None]:
    """``hf:[OWNER/]NAME[:split[:column]]``, or ``hf:FOLDER[:split[:column]]`` for a local folder that the datasets
    library reads (not the file system's root, no ``..``) -> (path, split, column or None); anything else is one
    sentence (``DatasetError``), before any network use."""
    text = spec[len(PREFIX):] if isinstance(spec, str) and spec.startswith(PREFIX) else None
    if text is None or len(text) > 1000:
        raise DatasetError(f"{shown(spec)}: {SPEC_SAID}")
    parts = text.split(":")
    folder = os.path.abspath(parts[0]) if parts[0] else ""
    local = os.path.isdir(parts[0]) and ".." not in Path(parts[0]).parts and os.path.dirname(folder) != folder
    named = local or (REPO_ID.fullmatch(parts[0]) and not os.path.exists(parts[0]))  # not a server file
    if not named or len(parts) > 3 or not all(SPLIT.fullmatch(p) for p in parts[1:]):
        raise DatasetError(f"{shown(spec)}: {SPEC_SAID}")
    return parts[0], parts[1] if len(parts) > 1 else DEFAULT_SPLIT, parts[2] if len(parts) > 2 else None


def hub_timeout() -> float:
    """Seconds to wait for the Hub: ``NST_HUB_TIMEOUT`` if set, else ``TIMEOUT_S``."""
    return real_number(TIMEOUT_ENV, os.environ.get(TIMEOUT_ENV) or TIMEOUT_S, 0.1, 120)


def hub_reachable(timeout: float | None = None) -> bool:
    """Whether the Hub's endpoint answers within ``timeout`` seconds (default ``hub_timeout()``; without a network
    the datasets library only gives up after about 25 s of retries)."""
    from huggingface_hub import constants

    url = urllib.parse.urlsplit(constants.ENDPOINT)
    return port_answers(url.hostname, url.port or 443, hub_timeout() if timeout is None else timeout)


def open_stream(path: str, split: str):
    """``datasets.load_dataset(path, split=split, streaming=True)``, its failures said in one sentence."""
    import datasets
    import huggingface_hub

    datasets.disable_progress_bars()
    huggingface_hub.utils.logging.set_verbosity_error()  # no retry chatter on stderr: one sentence if it fails
    name = PREFIX + path
    unreachable = DatasetError(f"{name}: the Hugging Face Hub could not be reached; check the internet "
                               "connection, or scan a folder or zip instead")
    if not os.path.isdir(path) and not huggingface_hub.constants.HF_HUB_OFFLINE and not hub_reachable():
        raise unreachable
    try:
        return datasets.load_dataset(path, split=split, streaming=True)
    except ConnectionError:
        raise unreachable from None
    except FileNotFoundError:
        raise DatasetError(f"{name}: no such dataset on the Hugging Face Hub (or it holds no data files)") from None
    except ValueError as e:
        if "split" in str(e).lower():
            raise DatasetError(f"{name}: no split {split!r} ({e})") from None
        raise DatasetError(f"{name}: the datasets library cannot read it ({e})") from None


def image_column(stream, path: str, column: str | None) -> str:
    """``column`` checked to be an image column, or the first image column of the split."""
    import datasets

    features = stream.features or {}
    images = [c for c, f in features.items() if isinstance(f, datasets.Image)]
    if column is None and images:
        return images[0]
    if column is not None and column in images:
        return column
    listed = ", ".join(images) or "none"
    wanted = f"has no image column {column!r}" if column else "has no image column"
    raise DatasetError(f"{PREFIX}{path}: the split {wanted} (image columns: {listed})")


def source_identity(path: str) -> str:
    """What the stream reads, for the scan key: a local folder's file names, sizes and times; a Hub repo's
    current commit."""
    if os.path.isdir(path):
        stats = [(str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns)
                 for p in sorted(Path(path).rglob("*")) if p.is_file()]
        return repr(stats)
    import huggingface_hub

    try:
        return huggingface_hub.HfApi().dataset_info(path).sha or path
    except Exception:  # offline, or a repo the listing can't see: the stream itself opened, so key by name
        return path


@dataclass(frozen=True)
class HubDataset:
    """A split of a Hub (or local) dataset, streamed; ``root`` keeps the images the index shows."""

    path: str
    split: str
    column: str
    root: str
    identity: str
    zooms: tuple[int, ...] = (1,)
    size: int | None = None  # items in the split, when the dataset card says
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.path}:{self.split}"

    def count(self) -> int | None:
        return self.size

    def fingerprint(self) -> str:
        """sha256 over the zooms, the split, the column and what the stream reads."""
        blob = repr((self.zooms, self.path, self.split, self.column, self.identity))
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def items(self, start: int = 0) -> Iterator[Item]:
        """The split's items from position ``start`` on, undecoded."""
        import datasets

        stream = open_stream(self.path, self.split).select_columns([self.column])
        stream = stream.cast_column(self.column, datasets.Image(decode=False))
        for position, row in enumerate(stream.skip(start) if start else stream, start=start):
            image = row[self.column] or {}
            name = f"{position:06d}" + os.path.splitext(image.get("path") or "")[1].lower()
            if image.get("bytes") is None and image.get("path"):
                yield Item(name, path=image["path"])
            else:
                yield Item(name, data=image.get("bytes") or b"")

    def finished(self, names: list[str], used: set[str]) -> Dataset:
        """Write the ``used`` items into ``root`` (streaming the split once more, up to the last one needed) and
        return the split as a folder dataset of all ``names``, only those on disk."""
        os.makedirs(self.root, exist_ok=True)
        missing = {name for name in used if not os.path.isfile(os.path.join(self.root, name))}
        for item in self.items():
            if not missing:
                break
            if item.name in missing:
                missing.discard(item.name)
                write_bytes(os.path.join(self.root, item.name),
                           item.data if item.path is None else Path(item.path).read_bytes())
        return Dataset(self.name, self.root, tuple(names), self.zooms)


def hub_dataset(spec: str, store: str | os.PathLike, zooms: tuple[int, ...] = (1,)) -> HubDataset:
    """``hf:OWNER/NAME[:split[:column]]`` -> a streamed dataset, checked now (reachable, split and image column
    exist); its shown images will be kept under ``store``."""
    path, split, column = parse_spec(spec)
    stream = open_stream(path, split)
    column = image_column(stream, path, column)
    splits = stream.info.splits or {}
    size = splits[split].num_examples if split in splits and splits[split].num_examples else None
    dataset = HubDataset(path, split, column, "", source_identity(path), tuple(zooms), size)
    return dataclasses.replace(dataset, root=os.path.join(store, "hub-" + dataset.fingerprint()))
