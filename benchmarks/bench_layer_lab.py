"""The Layer-depth lab at its defaults: seconds and PSNR per panel, and the whole grid (target: 120 s on 2 cores).

    python benchmarks/bench_layer_lab.py --out benchmarks/results/layer_lab.json --grid lab.png

Runs the lab's ten reconstructions (five content, five style) exactly as the tab does, at its default size and
steps, with each panel's PSNR against its target (targets: relu1_1 … relu3_1 >= 30 dB, relu5_1 at least 10 dB below
relu1_1), and optionally saves the grid as one picture. Other processes on a 2-core box slow every wall-clock number
(and make OpenMP threads spin, so CPU seconds are no better), so each panel's time is also estimated from its
fastest quarter of steps: steps x mean of those, what an idle machine would take. The load average is recorded.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nst_core import StyleTransfer, load_image  # noqa: E402
from nst_core.images import resize_long_edge  # noqa: E402
from nst_studio.images import SKIMAGE_DATA  # noqa: E402
from nst_studio.layer_lab_tab import LabSettings, lab_panels, psnr  # noqa: E402

TARGET_GRID_S = 120.0


def grid_picture(rows: list[list[np.ndarray]]) -> Image.Image:
    """Rows of panels side by side, each row padded to the widest."""
    height = max(image.shape[0] for row in rows for image in row)
    strips = [np.concatenate([np.pad(im, ((0, height - im.shape[0]), (0, 4), (0, 0)), constant_values=255)
                              for im in row], axis=1) for row in rows]
    width = max(strip.shape[1] for strip in strips)
    return Image.fromarray(np.concatenate([np.pad(s, ((0, 4), (0, width - s.shape[1]), (0, 0)), constant_values=255)
                                           for s in strips]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/layer_lab.json")
    parser.add_argument("--grid", help="save the ten panels as one PNG here")
    parser.add_argument("--size", type=int, default=LabSettings.size)
    parser.add_argument("--steps", type=int, default=LabSettings.steps)
    args = parser.parse_args()
    content, style = load_image(SKIMAGE_DATA / "chelsea.png"), load_image(SKIMAGE_DATA / "ihc.png")
    load_before = os.getloadavg()
    rows: dict[str, list[np.ndarray]] = {"content": [], "style": []}
    panels = []
    start = time.perf_counter()
    for panel in lab_panels(content, style, LabSettings(size=args.size, steps=args.steps)):
        step_s, last = [], time.perf_counter()
        for p in StyleTransfer(panel.options).iter_stylize(panel.target, [panel.target]):
            now = time.perf_counter()
            step_s.append(now - last)
            last = now
        fastest = sorted(step_s[1:-1] or step_s)[:max(1, len(step_s) // 4)]  # not the warm-up nor the final report
        db = psnr(p.image, resize_long_edge(panel.target, args.size))
        panels.append({"row": panel.row, "layers": panel.label, "steps": p.total_steps, "psnr_db": round(db, 1),
                       "seconds": round(sum(step_s), 2),
                       "idle_estimate_s": round(p.total_steps * sum(fastest) / len(fastest), 2)})
        rows[panel.row].append(p.image)
        print(f"{panel.row:<8} {panel.label:<20} {p.total_steps:4d} steps {db:5.1f} dB {panels[-1]['seconds']:6.1f} s"
              f"  (idle estimate {panels[-1]['idle_estimate_s']:5.1f} s)", flush=True)
    total, estimate = time.perf_counter() - start, sum(p["idle_estimate_s"] for p in panels)
    print(f"{'whole grid':<49} {total:6.1f} s  (idle estimate {estimate:5.1f} s; target about {TARGET_GRID_S:.0f} s)")
    result = {"size": args.size, "steps": args.steps, "grid_s": round(total, 1), "grid_idle_estimate_s": round(estimate, 1),
              "target_grid_s": TARGET_GRID_S,
              "psnr_targets": {"relu1_1..relu3_1": ">= 30 dB", "relu5_1": "<= relu1_1 - 10 dB"},
              "panels": panels, "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                            "loadavg_before": load_before, "loadavg_after": os.getloadavg()}}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    partial = Path(args.out).with_suffix(".json.partial")  # written whole, then renamed: never half-written
    partial.write_text(json.dumps(result, indent=1))
    os.replace(partial, args.out)
    print(f"wrote {args.out}")
    if args.grid:
        grid_picture([rows["content"], rows["style"]]).save(args.grid)
        print(f"wrote {args.grid}")


if __name__ == "__main__":
    main()
