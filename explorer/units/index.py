"""The scan index: which dataset views were scanned, how, and each layer's top-k per unit. Saved as one ``.pt``.

An index is keyed by ``sha256(format, weights, preprocessing, scan settings, dataset fingerprint)``; the layers
scanned so far are stored inside it, so asking for more layers later only scans those.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field

import torch

from nst_core.atomic import replacing
from nst_core.checks import InputError, shown
from nst_core.device import PRECISIONS
from nst_core.schema import check, setting
from nst_core.vgg import CONV_LAYERS

from .datasets import Dataset, view_name
from .stored import (StoredFileError, checked_files, checked_pairs, checked_topk, checked_views, checked_zooms, entry,
                     layer_grid, read_stored)
from .topk import TopK

FORMAT = 2  # 2: values are rectified activations max(0, conv)


class BadIndexError(StoredFileError):
    """An index file that can't be used (missing, not an index, other format, a field missing or of the wrong type
    or shape). The message names the file."""


@dataclass(frozen=True)
class ScanSettings:
    """The explorer's scan defaults, in one place: view size, k, maxima per image, convolution precision."""

    size: int = setting("scan views are SIZE x SIZE pixels", range=(32, 1024), label="scan size", default=224)
    k: int = setting("patches kept per unit", range=(1, 64), default=9)
    per_image: int = setting("maxima per image and unit (>1: spatially suppressed picks)", range=(1, 16),
                             label="per-image maxima", default=1)
    precision: str = setting("fp32, bf16 (bf16 weights + channels_last) or auto (the faster one measured here)",
                             choices=PRECISIONS, default="auto")
    batch_size: int = setting("views per batch (fewer where the memory budget needs it)", range=(1, None),
                              label="batch size", default=16)

    def validate(self) -> ScanSettings:
        """These settings checked (``schema.check``) and converted, else ``InputError`` naming the first bad one."""
        return dataclasses.replace(self, **check(self))

    def keyed(self) -> dict:
        """The settings that change results (the batch size does not)."""
        return {"size": self.size, "k": self.k, "per_image": self.per_image, "precision": self.precision}


def check_conv_layers(layers) -> tuple[str, ...]:
    """Conv layer names in network order, or ``InputError`` naming the bad one."""
    layers = tuple(dict.fromkeys(layers))
    for name in layers:
        if name not in CONV_LAYERS:
            raise InputError(f"unknown conv layer {shown(name)}; choose from conv1_1 ... conv5_4")
    if not layers:
        raise InputError("no layers chosen")
    return tuple(sorted(layers, key=CONV_LAYERS.index))


def scan_key(weights: str, preprocessing: str, settings: ScanSettings, fingerprint: str) -> str:
    """sha256 of everything that determines a scan's result, layers aside."""
    blob = json.dumps([FORMAT, weights, preprocessing, settings.keyed(), fingerprint], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class ViewRef:
    """A scanned view: ``file`` of the dataset at ``zoom``, tile ``(row, col)``."""

    file: str
    zoom: int
    tile: tuple[int, int]

    @property
    def name(self) -> str:
        return view_name(self.file, self.zoom, self.tile)


@dataclass
class Index:
    weights: str  # the model's identity
    preprocessing: str
    settings: ScanSettings  # with the precision resolved
    dataset: Dataset
    fingerprint: str
    views: list[ViewRef]
    skipped: list[tuple[str, str]]  # (file, why)
    layers: dict[str, TopK] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return scan_key(self.weights, self.preprocessing, self.settings, self.fingerprint)

    def top(self, layer: str) -> TopK:
        if layer not in self.layers:
            scanned = ", ".join(self.layers) or "none"
            raise ValueError(f"layer {layer} is not in this index (scanned: {scanned})")
        return self.layers[layer]

    def merged(self, other: Index) -> Index:
        """This index with ``other``'s layers added; both must come from the same key."""
        if other.key != self.key or other.views != self.views:
            raise ValueError("cannot merge indexes of different scans")
        return dataclasses.replace(self, layers={**self.layers, **other.layers})

    # --- files ----------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": FORMAT, "weights": self.weights, "preprocessing": self.preprocessing,
            "settings": dataclasses.asdict(self.settings),
            "dataset": {"name": self.dataset.name, "root": self.dataset.root, "files": list(self.dataset.files),
                        "zooms": list(self.dataset.zooms)},
            "fingerprint": self.fingerprint,
            "views": [[v.file, v.zoom, list(v.tile)] for v in self.views],
            "skipped": [list(s) for s in self.skipped],
            "layers": {name: top.as_dict() for name, top in self.layers.items()},
        }

    @classmethod
    def from_dict(cls, d: dict, name: str = "the index") -> Index:
        """The index ``to_dict`` gave, every field checked first (``StoredFileError`` naming ``name``): types,
        dataset files inside its folder, views of those files, each layer's top-k of its unit count x k."""
        settings = checked_settings(entry(d, "settings", dict, name), name)
        ds = entry(d, "dataset", dict, name)
        files = checked_files(entry(ds, "files", list, name), name)
        zooms = checked_zooms(entry(ds, "zooms", list, name), name)
        dataset = Dataset(entry(ds, "name", str, name), entry(ds, "root", str, name), files, zooms)
        views = [ViewRef(*v) for v in checked_views(entry(d, "views", list, name), files, zooms, name)]
        layers = {layer: TopK(**checked_topk(top, layer, settings.k, len(views), layer_grid(layer, settings.size),
                                             name))
                  for layer, top in entry(d, "layers", dict, name).items()}
        skipped = checked_pairs(entry(d, "skipped", list, name), name, "skipped")
        return cls(entry(d, "weights", str, name), entry(d, "preprocessing", str, name), settings, dataset,
                   entry(d, "fingerprint", str, name), views, skipped, layers)

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically: a temporary file in the same folder, then renamed over ``path``."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with replacing(path) as f:
            torch.save(self.to_dict(), f)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Index:
        """The index saved at ``path``, checked (``from_dict``); else ``BadIndexError`` naming the file."""
        name = os.path.basename(str(path))
        try:
            d = read_stored(path, "index")
            if type(d.get("format")) is not int or d["format"] != FORMAT:
                raise StoredFileError(f"{name}: not an explorer index of format {FORMAT}")
            return cls.from_dict(d, name)
        except StoredFileError as e:
            raise BadIndexError(f"{e}; give an index made by explorer scan, or scan again") from None


def checked_settings(d: dict, name: str) -> ScanSettings:
    """The stored scan settings: exactly ScanSettings' fields, each of its type and in its range."""
    fields = {f.name: f.type for f in dataclasses.fields(ScanSettings)}
    if set(d) != set(fields):
        raise StoredFileError(f"{name}: the field 'settings' should hold {', '.join(fields)}")
    for key in fields:
        entry(d, key, str if key == "precision" else int, name)
    try:
        return ScanSettings(**d).validate()
    except ValueError as e:
        raise StoredFileError(f"{name}: its scan settings are out of range ({e})") from None
