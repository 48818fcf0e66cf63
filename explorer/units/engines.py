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
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator, Sequence

import numpy as np

import explorer
import nst_core
from nst_core.checks import InputError, shown
from nst_core.vgg import VGG19

from .sources import Item, Source
from .index import ScanSettings
from .batches import items_per_batch, read_views, scan_network, top_of_views
from .network import port_answers
from .shards import BatchResult, views_of

ITEMS_PER_BLOCK = 64  # items the read task hands on at a time
PORT_TIMEOUT_S = 5.0  # the longest wait for the port at RAY_ADDRESS to open
CONNECT_TIMEOUT_S = 20.0  # then for Ray to connect there (a child process: Ray's import and start included)
CONNECT_PROBE = ("import sys, ray; ray.init(address=sys.argv[1], include_dashboard=False, log_to_driver=False, "
                 "logging_level=40); ray.shutdown()")


def cluster_endpoint(address: str) -> tuple[str, int] | None:
    """(host, port) of ``RAY_ADDRESS`` written ``host:port`` or ``ray://host:port``; None for ``auto`` and
    ``local`` (Ray itself looks for those); anything else ``InputError``."""
    if address in ("auto", "local"):
        return None
    said = f"RAY_ADDRESS must be HOST:PORT, ray://HOST:PORT, auto or local; got {shown(address)}."
    try:
        parts = urllib.parse.urlsplit(address if "://" in address else "//" + address)
        port = parts.port
    except ValueError:  # an unclosed [ of an IPv6 address, a port out of range
        raise InputError(said) from None
    if parts.scheme not in ("", "ray") or not parts.hostname or port is None:
        raise InputError(said)
    return parts.hostname, port


def cluster_answers(address: str) -> bool:
    """Whether a Ray cluster answers at ``address``: its port opens within PORT_TIMEOUT_S, then ``ray.init`` in a
    child process connects within CONNECT_TIMEOUT_S. (In this process a port that answers but is not Ray keeps
    ``ray.init`` retrying for minutes, and Ray's own shorter timeouts end the process instead of raising.)"""
    endpoint = cluster_endpoint(address)
    if endpoint is not None and not port_answers(*endpoint, PORT_TIMEOUT_S):
        return False
    try:
        return subprocess.run([sys.executable, "-c", CONNECT_PROBE, address], capture_output=True,
                              timeout=CONNECT_TIMEOUT_S).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def ray_session():
    """The running Ray, else a local one (RAY_ADDRESS unset) or a connection to the cluster at RAY_ADDRESS, which
    must answer within PORT_TIMEOUT_S + CONNECT_TIMEOUT_S; a failure to start or connect is one sentence
    (``InputError``), as is Ray not being installed (it is the extra ``ray``: a Space serves no scan on a cluster)."""
    try:
        import ray
    except ImportError:
        raise InputError("--engine ray needs Ray, which is not installed: pip install \"nst-studio[ray]\" (from a "
                         "clone: pip install \".[ray]\" or pip install -r requirements-dev.txt), or use --engine "
                         "local.") from None

    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS") or None
        if address and not cluster_answers(address):
            raise InputError(f"RAY_ADDRESS={address[:80]}: no Ray cluster answers there; start one (ray start "
                             "--head), correct RAY_ADDRESS, or unset it to scan on a local Ray.")
        runtime_env = {"py_modules": [explorer, nst_core]} if address else None
        try:
            ray.init(address=address, runtime_env=runtime_env, include_dashboard=False,
                     logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as e:
            where = f"the cluster at RAY_ADDRESS {shown(address)}" if address else "a local Ray"
            raise InputError(f"Ray could not start or connect to {where} ({shown(str(e).splitlines()[0], 80)}); "
                             "use --engine local.") from None
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
