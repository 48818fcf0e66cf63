"""The scan index: which dataset views were scanned, how, and each layer's top-k per unit. Saved as one ``.pt``.

An index is keyed by ``sha256(format, weights, preprocessing, scan settings, dataset fingerprint)``; the layers
scanned so far are stored inside it, so asking for more layers later only scans those.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field

import torch

from nst_core.vgg import BLOCKS, CONV_LAYERS

from .datasets import Dataset, view_name
from .topk import TopK

FORMAT = 2  # 2: values are rectified activations max(0, conv)
PRECISIONS = ("auto", "fp32", "bf16")


class BadIndexError(ValueError):
    """An index file that can't be used (missing, not an index, other format). The message names the file."""


@dataclass(frozen=True)
class ScanSettings:
    """The explorer's scan defaults, in one place: view size, k, maxima per image, convolution precision."""

    size: int = 224  # scan views are size x size pixels
    k: int = 9  # patches kept per unit
    per_image: int = 1  # maxima per image and unit (> 1: greedy with spatial suppression)
    precision: str = "auto"  # "fp32", "bf16" (bf16 weights + channels_last) or "auto" (the faster one measured)
    batch_size: int = 16

    def validate(self) -> ScanSettings:
        if not 32 <= self.size <= 1024:
            raise ValueError(f"scan size must be 32 ... 1024 pixels, got {self.size}")
        if not 1 <= self.k <= 64:
            raise ValueError(f"k must be 1 ... 64, got {self.k}")
        if not 1 <= self.per_image <= 16:
            raise ValueError(f"per-image maxima must be 1 ... 16, got {self.per_image}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {self.batch_size}")
        return self

    def keyed(self) -> dict:
        """The settings that change results (the batch size does not)."""
        return {"size": self.size, "k": self.k, "per_image": self.per_image, "precision": self.precision}


def check_conv_layers(layers) -> tuple[str, ...]:
    """Conv layer names in network order, or ``ValueError`` naming the bad one."""
    layers = tuple(dict.fromkeys(layers))
    for name in layers:
        if name not in CONV_LAYERS:
            raise ValueError(f"unknown conv layer {name!r}; choose from conv1_1 ... conv5_4")
    if not layers:
        raise ValueError("no layers chosen")
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
    def from_dict(cls, d: dict) -> Index:
        """An index from ``to_dict``'s output, every field checked (type, shape, unit count against the layer);
        ``ValueError`` saying which field is wrong."""
        def need(ok: bool, what: str):
            if not ok:
                raise ValueError(what)

        need(all(k in d for k in ("weights", "preprocessing", "settings", "dataset", "fingerprint", "views",
                                  "skipped", "layers")), "fields are missing")
        need(isinstance(d["weights"], str) and isinstance(d["preprocessing"], str)
             and isinstance(d["fingerprint"], str), "weights, preprocessing or fingerprint is not text")
        need(isinstance(d["settings"], dict) and set(d["settings"]) <= {f.name for f in dataclasses.fields(ScanSettings)},
             "its settings are not scan settings")
        try:
            settings = ScanSettings(**d["settings"]).validate()
        except (TypeError, ValueError):
            raise ValueError("its settings are not scan settings") from None
        ds = d["dataset"]
        need(isinstance(ds, dict) and isinstance(ds.get("name"), str) and isinstance(ds.get("root"), str)
             and isinstance(ds.get("files"), list) and all(isinstance(f, str) for f in ds["files"])
             and isinstance(ds.get("zooms"), list) and all(isinstance(z, int) and 1 <= z <= 4 for z in ds["zooms"]),
             "its dataset entry is malformed")
        views = d["views"]
        need(isinstance(views, list) and all(
            isinstance(v, list) and len(v) == 3 and isinstance(v[0], str) and isinstance(v[1], int)
            and isinstance(v[2], list) and len(v[2]) == 2 and all(isinstance(t, int) for t in v[2]) for v in views),
             "its views are malformed")
        need(isinstance(d["skipped"], list) and all(isinstance(s, list) and len(s) == 2 for s in d["skipped"]),
             "its skipped list is malformed")
        need(isinstance(d["layers"], dict), "its layers are malformed")
        layers = {}
        for name, top in d["layers"].items():
            need(name in CONV_LAYERS, f"{name!r} is not a conv layer")
            need(isinstance(top, dict) and set(top) == {"value", "image", "y", "x"}
                 and all(isinstance(t, torch.Tensor) and t.dim() == 2 for t in top.values()),
                 f"layer {name} is malformed")
            units = BLOCKS[int(name[4]) - 1][0]
            need(all(t.shape == (units, settings.k) for t in top.values()),
                 f"layer {name} holds {tuple(top['value'].shape)} entries, not {units} units × k = {settings.k}")
            need(top["value"].dtype == torch.float32 and all(top[k].dtype == torch.int64 for k in ("image", "y", "x"))
                 and bool(((top["image"] >= -1) & (top["image"] < len(views))).all()),
                 f"layer {name} has values of the wrong kind")
            layers[name] = TopK(**top)
        return cls(d["weights"], d["preprocessing"], settings,
                   Dataset(ds["name"], ds["root"], tuple(ds["files"]), tuple(ds["zooms"])), d["fingerprint"],
                   [ViewRef(f, z, tuple(t)) for f, z, t in views], [tuple(s) for s in d["skipped"]], layers)

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically: a temporary file in the same folder, then renamed over ``path``."""
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(self.to_dict(), f)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> Index:
        name = os.path.basename(str(path))
        try:
            d = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise BadIndexError(f"{name}: no such index file") from None
        except Exception:  # pickle, zip and torch errors all mean "not an index"
            raise BadIndexError(f"{name}: not an explorer index") from None
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise BadIndexError(f"{name}: not an explorer index of format {FORMAT}")
        try:
            return cls.from_dict(d)
        except ValueError as e:
            raise BadIndexError(f"{name}: a damaged explorer index ({e}); scan the dataset again") from None
