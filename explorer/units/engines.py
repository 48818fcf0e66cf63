"""The Ray engine: the scan as a Ray Data pipeline, on a local Ray or the cluster at $RAY_ADDRESS.

    read (one streaming task: the dataset's items in order)
      -> preprocess (tasks: decode and check each item, cut its views; batches.read_views)
      -> forward (an actor pool, one VGG19 per actor: each batch's top-k per unit; scan.top_of_views)
      -> the driver folds the per-batch top-k in dataset order (shards.ScanState: merge, checkpoints)

Blocks keep their order (``preserve_order``), so view ids, and hence the index, are the local engine's. Ray Data's
streaming executor holds only a few blocks per stage, so memory stays at units x k per layer plus the batches in
flight, whatever the dataset's size. On a cluster the workers import this project from the driver (``py_modules``)
and read items themselves: Hub datasets work anywhere, a folder must be on storage that every node sees.
"""
from __future__ import annotations

import logging
import os
import pickle
import socket
from collections.abc import Iterator, Sequence

import numpy as np

import explorer
import nst_core
from nst_core.checks import InputError
from nst_core.vgg import VGG19

from .sources import Item, Source
from .index import ScanSettings
from .batches import items_per_batch, read_views, scan_network, top_of_views
from .shards import BatchResult, views_of

ITEMS_PER_BLOCK = 64  # items the read task hands on at a time


RAY_CONNECT_S = 5.0  # how long to wait for the cluster at RAY_ADDRESS to answer


def cluster_answers(address: str, timeout: float = RAY_CONNECT_S) -> bool:
    """Whether a TCP connection opens to RAY_ADDRESS (``host:port`` or ``ray://host:port``; "auto" and "local"
    are left to Ray) within ``timeout`` seconds."""
    if address in ("auto", "local"):
        return True
    host, _, port = address.split("://")[-1].rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
    except (OSError, ValueError):
        return False
    return True


def ray_session():
    """The running Ray, else a local one (RAY_ADDRESS unset) or a connection to the cluster at RAY_ADDRESS."""
    import ray

    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS") or None
        if address and not cluster_answers(address):
            raise InputError(f"RAY_ADDRESS={address}: no Ray cluster answers there within {RAY_CONNECT_S:.0f} s; "
                             "start the cluster, or unset RAY_ADDRESS to scan on a local Ray.")
        runtime_env = {"py_modules": [explorer, nst_core]} if address else None
        ray.init(address=address, runtime_env=runtime_env, include_dashboard=False,
                 logging_level=logging.WARNING, log_to_driver=False)
    return ray


def items_datasource(dataset: Source, start: int):
    """A Ray Data source with one read task: the dataset's items from ``start`` on, in order, as
    (name, path, data) rows."""
    import pyarrow as pa
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    def read() -> Iterator[pa.Table]:
        block = []
        for item in dataset.items(start):
            block.append(item)
            if len(block) == ITEMS_PER_BLOCK:
                yield items_table(block)
                block = []
        if block:
            yield items_table(block)

    class Items(Datasource):
        def estimate_inmemory_data_size(self):
            return None

        def get_read_tasks(self, parallelism, per_task_row_limit=None, data_context=None):
            return [ReadTask(read, BlockMetadata(num_rows=None, size_bytes=None, input_files=None,
                                                 exec_stats=None), per_task_row_limit=per_task_row_limit)]

    return Items()


def items_table(items: list[Item]):
    import pyarrow as pa

    return pa.table({"name": pa.array([i.name for i in items], pa.string()),
                     "path": pa.array([i.path for i in items], pa.string()),
                     "data": pa.array([i.data for i in items], pa.binary())})


def preprocess(batch: dict, size: int, zooms: tuple[int, ...]) -> dict:
    """Items -> one row each: name, why it was skipped ("" when read), its views ``(V, size, size, 3)`` (zeros
    when skipped)."""
    items = [Item(str(n), p if isinstance(p, str) else None, d if isinstance(d, bytes) else None)
             for n, p, d in zip(batch["name"], batch["path"], batch["data"])]
    errors, readable = read_views(items, size, zooms)
    per_item = len(views_of(zooms))
    views = np.zeros((len(items), per_item, size, size, 3), np.uint8)
    ok = [i for i, e in enumerate(errors) if e is None]
    views[ok] = readable.reshape(len(ok), per_item, size, size, 3)
    return {"name": np.array([i.name for i in items], dtype=object),
            "error": np.array([e or "" for e in errors], dtype=object), "views": views}


class Forward:
    """A Ray actor holding one VGG19: a batch of preprocessed items -> one row, the pickled ``BatchResult``."""

    def __init__(self, model_ref: list, layers: Sequence[str], settings: ScanSettings):
        import ray
        import torch

        torch.set_num_threads(max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1))))
        self.net = scan_network(ray.get(model_ref[0]), settings.precision)
        self.layers, self.settings = layers, settings

    def __call__(self, batch: dict) -> dict:
        errors = [str(e) or None for e in batch["error"]]
        ok = [i for i, e in enumerate(errors) if e is None]
        views = batch["views"][ok].reshape(-1, *batch["views"].shape[2:])
        result = BatchResult([str(n) for n in batch["name"]], errors,
                             top_of_views(self.net, views, self.layers, self.settings))
        return {"result": np.array([pickle.dumps(result)], dtype=object)}


def workers(ray) -> int:
    """Forward actors: one per CPU of the cluster, less one left for reading and preprocessing."""
    return max(1, int(ray.cluster_resources().get("CPU", 2)) - 1)


def ray_batches(model: VGG19, dataset: Source, layers: Sequence[str], settings: ScanSettings,
                start: int) -> Iterator[BatchResult]:
    """The scan's batch results from item ``start`` on, computed by Ray Data, in dataset order."""
    ray = ray_session()
    from ray.data import ActorPoolStrategy, DataContext

    logging.getLogger("ray.data").setLevel(logging.WARNING)  # after its import, which sets it: no plans on stderr
    context = DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    per_batch = items_per_batch(settings, dataset.zooms)
    pipeline = (ray.data.read_datasource(items_datasource(dataset, start))
                .map_batches(preprocess, batch_size=per_batch, batch_format="numpy",
                             fn_kwargs={"size": settings.size, "zooms": dataset.zooms})
                .map_batches(Forward, batch_size=per_batch, batch_format="numpy", num_cpus=1,
                             compute=ActorPoolStrategy(size=workers(ray)),
                             fn_constructor_kwargs={"model_ref": [ray.put(model)], "layers": tuple(layers),
                                                    "settings": settings}))
    for row in pipeline.iter_rows():
        yield pickle.loads(row["result"])
