"""Scan engines on this machine, in one run: views/s of ``scan(..., engine="local")`` and ``engine="ray"`` over the
same images (224 px views, all 16 conv layers, file decoding included), and what a 50,000-image scan of all 16
layers would take on N Ray workers, from the measured per-worker rate.

Ray runs a local instance with ``--cpus`` CPUs (one is left for reading and preprocessing, so ``cpus - 1`` VGG19
actors). Its time includes the pipeline start (actors load VGG19) but not ``ray.init``, which is reported apart.
The estimate assumes workers scale linearly (Ray Data's streaming keeps them fed while reading is cheap next to
the forward pass); it leaves out start-up, so it is a floor.

    python benchmarks/bench_scan_engines.py --images 16 --out benchmarks/results/scan_engines.json

The machine's load average is recorded; other processes on a shared 2-core box slow every number.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer.units.datasets import folder_dataset  # noqa: E402
from explorer.units.index import ScanSettings  # noqa: E402
from explorer.units.scan import resolved, scan  # noqa: E402
from nst_core.vgg import CONV_LAYERS, load_vgg19  # noqa: E402

FULL_SCAN_IMAGES = 50_000  # ImageNet validation, as Zeiler & Fergus scanned it
WORKER_COUNTS = (1, 8, 32, 128)


def photo_folder(folder: str, count: int, seed: int = 0) -> None:
    """``count`` 320 x 256 smooth random photos-like PNGs (low-frequency noise), so decoding and resizing are real."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        coarse = rng.integers(0, 256, (8, 10, 3), dtype=np.uint8)
        Image.fromarray(coarse).resize((320, 256), Image.BICUBIC).save(os.path.join(folder, f"photo{i:03d}.png"))


def timed_scan(model, dataset, settings, engine: str) -> tuple[float, object]:
    start = time.perf_counter()
    index = scan(model, dataset, CONV_LAYERS, settings, engine=engine)
    return time.perf_counter() - start, index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs given to the local Ray")
    parser.add_argument("--out", default="benchmarks/results/scan_engines.json")
    args = parser.parse_args()

    import ray

    model = load_vgg19("caffe")
    settings = resolved(ScanSettings())
    with tempfile.TemporaryDirectory() as folder:
        photo_folder(folder, args.images)
        dataset = folder_dataset(folder)
        load_before = os.getloadavg()
        local_s, local = timed_scan(model, dataset, settings, "local")
        start = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        init_s = time.perf_counter() - start
        from explorer.units.engines import workers

        actors = workers(ray)
        ray_s, remote = timed_scan(model, dataset, settings, "ray")
        ray.shutdown()
        load_after = os.getloadavg()
    views = len(local.views)
    same_top1 = {layer: float((local.layers[layer].image[:, 0] == remote.layers[layer].image[:, 0]).float().mean())
                 for layer in CONV_LAYERS}
    per_worker = views / ray_s / actors
    estimate = {n: FULL_SCAN_IMAGES / (per_worker * n) / 3600 for n in WORKER_COUNTS}
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_before": load_before,
                    "load_after": load_after},
        "settings": {"images": args.images, "views": views, "size": settings.size, "precision": settings.precision,
                     "batch_size": settings.batch_size, "layers": len(CONV_LAYERS), "ray_cpus": args.cpus,
                     "ray_actors": actors},
        "local": {"seconds": local_s, "views_per_s": views / local_s},
        "ray": {"init_seconds": init_s, "seconds": ray_s, "views_per_s": views / ray_s,
                "views_per_s_per_worker": per_worker},
        "top1_same_view_ray_vs_local": min(same_top1.values()),
        "estimate_50k_images_all_layers_hours": {str(n): h for n, h in estimate.items()},
    }
    print(f"{views} views of {settings.size} px, all {len(CONV_LAYERS)} conv layers, precision {settings.precision};"
          f" load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"{'engine':<8}{'seconds':>10}{'views/s':>10}")
    print(f"{'local':<8}{local_s:>10.1f}{views / local_s:>10.2f}")
    print(f"{'ray':<8}{ray_s:>10.1f}{views / ray_s:>10.2f}   ({actors} actor(s); ray.init {init_s:.1f} s apart)")
    print(f"top-1 view same as local in every layer for at least {min(same_top1.values()):.0%} of units")
    print(f"50,000 images x 16 layers at {per_worker:.2f} views/s per worker:")
    for n, hours in estimate.items():
        print(f"  {n:>4} workers: {hours:8.2f} h")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
