"""Explorer speed on this machine: scan throughput and page render time.

* scan: views/s of ``explorer.units.scan.scan`` over the built-in dataset (224 px views, all 16 conv layers at once,
  file decoding included), for each precision; plus the bare forward pass (decoded batch of 8 -> 16 conv layers)
  for fp32, bf16 autocast + channels_last, and bf16 weights + channels_last (what ``precision="bf16"`` runs);
* ``scan_share_of_floor``: the fastest scan's views/s over the floor's, the fastest forward pass above (a decoded
  batch of 8 through conv5_4, nothing else), both measured in this run: how close the scan stays to its floor;
* agreement of each precision's top 9 with fp32's (same view and position at #1; overlap of the 9 views);
* render: seconds to draw a page of 16 units as patches, and with deconvnet projections.

Rates are wall-clock, and "if idle": views per CPU-second of this process times its threads, what the rate would
be with the cores to ourselves (the machine's load average is recorded too).

    python benchmarks/bench_explorer.py --out benchmarks/results/explorer.json

The machine's load average is recorded; other processes on a 2-core box slow every number.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer.units import service  # noqa: E402
from explorer.units.datasets import builtin_dataset, scan_views  # noqa: E402
from explorer.units.forward import rectified_activations  # noqa: E402
from explorer.units.index import ScanSettings  # noqa: E402
from explorer.units.batches import network_input, scan_network  # noqa: E402
from explorer.units.scan import scan  # noqa: E402
from nst_core.images import load_image  # noqa: E402
from nst_core.vgg import CONV_LAYERS, load_vgg19  # noqa: E402

TARGET_VIEWS_PER_S = 8.0
RENDER_LAYERS = ("conv1_1", "conv3_1", "conv5_4")


FORWARD_VARIANTS = ("fp32 nn.Conv2d", "bf16 autocast + channels_last", "bf16 weights + channels_last",
                    "fp32 packed, fused ReLU (scan)", "bf16 packed, fused ReLU (scan)")


def forward_rate(model, variant: str, views, repeats: int) -> dict:
    """Views/s of the forward pass to conv5_4 (all 16 conv outputs) for one ``variant`` on a decoded batch."""
    precision = "bf16" if variant.startswith("bf16") else "fp32"
    net = scan_network(model, precision)
    context = contextlib.nullcontext
    if variant == "bf16 autocast + channels_last":
        net = copy.deepcopy(model).to(memory_format=torch.channels_last)
        context = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
    if "(scan)" in variant:
        def run(x):
            for _ in rectified_activations(net, x, CONV_LAYERS):
                pass
    else:
        def run(x):
            net(x, CONV_LAYERS)
    x = network_input(net, views)
    with torch.inference_mode(), context():
        run(x)  # warm-up: oneDNN picks its kernels
        seconds, cpu_seconds, _ = timed(lambda: [run(x) for _ in range(repeats)])
    return rates(repeats * len(views), seconds, cpu_seconds)


def rates(views: int, seconds: float, cpu_seconds: float) -> dict:
    """Wall-clock views/s, and views per CPU-second times the thread count: the rate if the cores were ours
    alone (an estimate: other processes on a 2-core box take wall time, not our CPU time)."""
    return {"views": views, "seconds": seconds, "views_per_s": views / seconds,
            "views_per_s_if_idle": views / cpu_seconds * torch.get_num_threads()}


def scan_share_of_floor(scan_rates: dict, forward: dict) -> dict:
    """The scan's views/s over the floor's, the fastest of the ``forward`` passes (wall-clock and if idle)."""
    floor = max(forward, key=lambda k: forward[k]["views_per_s"])
    return {"floor": floor, "scan_share_of_floor": scan_rates["views_per_s"] / forward[floor]["views_per_s"],
            "scan_share_of_floor_if_idle": scan_rates["views_per_s_if_idle"] / forward[floor]["views_per_s_if_idle"]}


def agreement(reference, other) -> dict:
    """Per layer, then averaged: #1 at the same (view, y, x); mean overlap of the top-9 view sets."""
    same_top1, overlap = [], []
    for layer in CONV_LAYERS:
        a, b = reference.top(layer), other.top(layer)
        same_top1.append(((a.image[:, 0] == b.image[:, 0]) & (a.y[:, 0] == b.y[:, 0])
                          & (a.x[:, 0] == b.x[:, 0])).float().mean().item())
        overlap.append(sum(len(set(ra) & set(rb)) / len(ra) for ra, rb in zip(a.image.tolist(), b.image.tolist()))
                       / a.image.shape[0])
    return {"same_top1": sum(same_top1) / len(same_top1), "top9_overlap": sum(overlap) / len(overlap),
            "worst_layer_top9_overlap": min(overlap)}


def timed(fn):
    """(wall seconds, CPU seconds of this process, result) of ``fn()``."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - start, time.process_time() - cpu, result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--repeats", type=int, default=3, help="forward passes per variant")
    p.add_argument("--no-projections", action="store_true", help="skip timing pages of projections")
    p.add_argument("--out", help="write the results as JSON here")
    args = p.parse_args(argv)

    load_before = os.getloadavg()
    model = load_vgg19("caffe")
    dataset = builtin_dataset()
    views = [v for _, v in scan_views(load_image(dataset.path("astronaut.png")), args.size, 2)] * 2  # 8 views
    results = {"machine": platform.processor() or platform.machine(), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "size": args.size, "load_before": load_before,
               "forward": {}, "scan": {}, "agreement": {}, "render": {}}

    for variant in FORWARD_VARIANTS:
        results["forward"][variant] = forward_rate(model, variant, views, args.repeats)

    indexes = {}
    for precision in ("fp32", "bf16"):
        settings = ScanSettings(size=args.size, precision=precision)
        seconds, cpu_seconds, indexes[precision] = timed(lambda: scan(model, dataset, CONV_LAYERS, settings))
        results["scan"][precision] = rates(len(indexes[precision].views), seconds, cpu_seconds)
    results["agreement"]["bf16 vs fp32"] = agreement(indexes["fp32"], indexes["bf16"])
    fastest = max(results["scan"], key=lambda k: results["scan"][k]["views_per_s"])
    results["fastest_scan"] = fastest
    results.update(scan_share_of_floor(results["scan"][fastest], results["forward"]))

    index = indexes[fastest]
    for layer in RENDER_LAYERS:
        units, _ = service.page_units(index, layer, 1)
        row = {"patches_s": timed(lambda: service.page_tiles(index, layer, units, "patches", "deconvnet"))[0]}
        if not args.no_projections:
            service.PROJECTIONS = service.ProjectionMemory()  # forget earlier projections: time a cold page
            row["projections_s"] = timed(lambda: service.page_tiles(index, layer, units, "both", "deconvnet"))[0]
        results["render"][layer] = row
    results["load_after"] = os.getloadavg()

    print(f"explorer benchmark · {args.size} px views · {results['threads']} threads · load "
          f"{load_before[0]:.1f} -> {results['load_after'][0]:.1f}")
    print(f"{'views/s':>52s} {'if idle':>8s}   (target >= {TARGET_VIEWS_PER_S:g} for the scan)")
    for title, table in (("forward pass, 16 conv layers", results["forward"]),
                         ("scan: decode + forward + top-9", results["scan"])):
        print(title)
        for name, row in table.items():
            print(f"  {name:42s} {row['views_per_s']:8.2f} {row['views_per_s_if_idle']:8.2f}")
    print(f"scan ({results['fastest_scan']}) / floor ({results['floor']}): {results['scan_share_of_floor']:.0%} "
          f"(if idle {results['scan_share_of_floor_if_idle']:.0%})")
    a = results["agreement"]["bf16 vs fp32"]
    print(f"bf16 vs fp32: same #1 {a['same_top1']:.1%}, top-9 overlap {a['top9_overlap']:.1%} "
          f"(worst layer {a['worst_layer_top9_overlap']:.1%})")
    print(f"{'render a page of 16 units':26s} {'patches s':>10s} {'+projections s':>15s}")
    for layer, row in results["render"].items():
        print(f"  {layer:24s} {row['patches_s']:10.2f} {row.get('projections_s', float('nan')):15.2f}")
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
