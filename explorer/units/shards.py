"""The scan's reduction: batch results, in dataset order, folded into the views, the skipped list and each layer's
top-k, with a checkpoint at every shard end so that a stopped scan resumes after its last finished shard.

A batch covers consecutive dataset items; its top-k counts view ids from the batch's first view. The reduction
shifts them to global view ids and merges: top_k(A ∪ B) = top_k(top_k(A) ∪ top_k(B)), so it does not matter which
worker or batch found a candidate. A shard is ``shard_items`` consecutive items. Candidates are merged per shard
(a batch that spans a shard end is split by item), so the checkpoint at a shard end holds exactly the items before
it: on resume the items after it are scanned again without being counted twice. Memory: the layers' units x k
entries, twice (finished shards and the open one), plus the view list.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from nst_core.atomic import replacing

from .index import ViewRef
from .stored import StoredFileError, checked_pairs, checked_topk, checked_views, entry, layer_grid, read_stored
from .topk import TopK

SHARD_ITEMS = 256  # dataset items per checkpointed shard
log = logging.getLogger("explorer")


@dataclass
class BatchResult:
    """Consecutive dataset items scanned together: each item's name, why it was skipped (None: it was read), and
    each layer's top-k over the batch's views (view ids from 0: readable items in order, each item's views in
    ``views_of`` order)."""

    names: list[str]
    errors: list[str | None]
    tops: dict[str, TopK]


def views_of(zooms: tuple[int, ...]) -> list[tuple[int, tuple[int, int]]]:
    """(zoom, tile) of each view of one image, in scan order."""
    return [(z, (r, c)) for z in zooms for r in range(z) for c in range(z)]


@dataclass
class ScanState:
    """What a scan has gathered after ``done`` items (see the module docstring)."""

    zooms: tuple[int, ...]
    tops: dict[str, TopK]  # finished shards
    shard_items: int = SHARD_ITEMS
    done: int = 0
    names: list[str] = field(default_factory=list)
    views: list[ViewRef] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    checkpoint: Path | None = None
    current: dict[str, TopK] = field(default_factory=dict)  # the open shard

    @classmethod
    def start(cls, empty: dict[str, TopK], zooms: tuple[int, ...], checkpoint: str | os.PathLike | None = None,
              size: int | None = None) -> ScanState:
        """A fresh state, or the one saved in ``checkpoint`` (left by a stopped scan of the same key and layers,
        views of ``size`` px); a checkpoint that fails its checks is named in the log and scanned again."""
        state = cls(zooms, empty, SHARD_ITEMS, checkpoint=Path(checkpoint) if checkpoint else None)
        if state.checkpoint is not None and state.checkpoint.is_file():
            try:
                state.restore(read_stored(state.checkpoint, "checkpoint"), size)
            except StoredFileError as e:  # a damaged checkpoint only costs a rescan
                log.warning("%s; scanning its items again", e)
                state = cls(zooms, empty, SHARD_ITEMS, checkpoint=state.checkpoint)
        state.current = {layer: TopK.empty(*top.value.shape) for layer, top in state.tops.items()}
        return state

    def restore(self, saved: dict, size: int | None) -> None:
        """Take over what ``save`` wrote, every field checked first: item names as many as ``done``, views of those
        items, the same layers with each layer's units x k."""
        name = self.checkpoint.name
        done, names = entry(saved, "done", int, name), entry(saved, "names", list, name)
        if done != len(names) or not all(isinstance(n, str) for n in names):
            raise StoredFileError(f"{name}: its item count and item names disagree")
        views = checked_views(entry(saved, "views", list, name), names, self.zooms, name)
        skipped = checked_pairs(entry(saved, "skipped", list, name), name, "skipped")
        tops = entry(saved, "tops", dict, name)
        if set(tops) != set(self.tops):
            raise StoredFileError(f"{name}: it holds other layers than this scan's")
        self.tops = {layer: TopK(**checked_topk(tops[layer], layer, top.value.shape[1], len(views),
                                                None if size is None else layer_grid(layer, size), name))
                     for layer, top in self.tops.items()}
        self.done, self.names, self.skipped = done, names, skipped
        self.views = [ViewRef(*v) for v in views]

    def add(self, batch: BatchResult) -> None:
        """Fold one batch in; it must start at item ``done``."""
        per_item = len(views_of(self.zooms))
        first_view = len(self.views)
        item_of_view = torch.tensor([i for i, e in enumerate(batch.errors) if e is None for _ in range(per_item)],
                                    dtype=torch.int64)
        start = 0
        while start < len(batch.names):
            stop = min(len(batch.names), start + self.shard_items - self.done % self.shard_items)
            keep = (item_of_view >= start) & (item_of_view < stop)
            for layer, top in batch.tops.items():
                self.current[layer].merge(top.where_images(keep, first_view))
            for name, error in zip(batch.names[start:stop], batch.errors[start:stop]):
                self.names.append(name)
                if error is None:
                    self.views += [ViewRef(name, z, t) for z, t in views_of(self.zooms)]
                else:
                    self.skipped.append((name, error))
            self.done += stop - start
            if self.done % self.shard_items == 0:
                self.close_shard()
            start = stop

    def close_shard(self) -> None:
        """Merge the open shard into the finished ones and save the checkpoint."""
        for layer, top in self.current.items():
            self.tops[layer].merge(top)
            self.current[layer] = TopK.empty(*top.value.shape)
        if self.checkpoint is not None:
            self.save()

    def finish(self) -> dict[str, TopK]:
        """Every layer's top-k over all items; the checkpoint is no longer needed."""
        for layer, top in self.current.items():
            self.tops[layer].merge(top)
        if self.checkpoint is not None:
            self.checkpoint.unlink(missing_ok=True)
        return self.tops

    def save(self) -> None:
        """Write the checkpoint atomically (temporary file in the same folder, then renamed)."""
        self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        with replacing(self.checkpoint) as f:
            torch.save({"done": self.done, "names": self.names,
                        "views": [[v.file, v.zoom, list(v.tile)] for v in self.views],
                        "skipped": [list(s) for s in self.skipped],
                        "tops": {layer: top.as_dict() for layer, top in self.tops.items()}}, f)
