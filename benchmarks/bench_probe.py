"""Probe a photo: seconds to probe one conv layer of a 224 px photo once the model is loaded (target < 2 s on 2 cores).

    python benchmarks/bench_probe.py --out benchmarks/results/probe.json

Per layer: the median of --repeats probes of chelsea.png at 224 px (long edge), after one warm-up, in the precision
the app uses here ("auto": bf16 where the CPU has native bf16, else fp32) and in fp32. The CPU, its bf16 support, the
date and the load average are recorded.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer.units.probe import PROBE_SIZE, probe  # noqa: E402
from explorer.units.batches import scan_precision  # noqa: E402
from nst_core import load_image  # noqa: E402
from nst_core.device import cpu_supports_bf16  # noqa: E402
from nst_core.vgg import load_vgg19  # noqa: E402
from nst_studio.images import SKIMAGE_DATA  # noqa: E402

TARGET_S = 2.0
LAYERS = ("conv1_1", "conv3_1", "conv4_1", "conv5_1", "conv5_4")


def cpu_name() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/probe.json")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, photo = load_vgg19("caffe"), load_image(SKIMAGE_DATA / "chelsea.png")
    load_before = os.getloadavg()
    rows = []
    print(f"{'layer':<8} {'precision':<9} {'median s':>9} {'target':>7}")
    for precision in dict.fromkeys(["auto", "fp32"]):
        for layer in LAYERS:
            probe(model, photo, layer, size=PROBE_SIZE, precision=precision)  # warm-up (packs the filters once)
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                probe(model, photo, layer, size=PROBE_SIZE, precision=precision)
                times.append(time.perf_counter() - start)
            rows.append({"layer": layer, "precision": scan_precision(precision), "asked": precision,
                         "median_s": round(statistics.median(times), 3), "all_s": [round(t, 3) for t in times]})
            print(f"{layer:<8} {rows[-1]['precision']:<9} {rows[-1]['median_s']:9.3f} {TARGET_S:7.1f}", flush=True)
    result = {"photo": "chelsea.png", "size": PROBE_SIZE, "threads": args.threads, "target_s": TARGET_S, "rows": rows,
              "machine": {"cpu": cpu_name(), "bf16": cpu_supports_bf16(), "cpus": os.cpu_count(),
                          "platform": platform.platform(), "date": datetime.date.today().isoformat(),
                          "loadavg_before": load_before, "loadavg_after": os.getloadavg()}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    partial = Path(args.out).with_suffix(".json.partial")  # written whole, then renamed
    partial.write_text(json.dumps(result, indent=1))
    os.replace(partial, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
