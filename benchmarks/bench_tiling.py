"""Tiled stylization: seconds per evaluation tiled against untiled, peak memory against the size under a budget,
and the estimate against what a run measures.

    python benchmarks/bench_tiling.py --out benchmarks/results/tiling.json
    python benchmarks/bench_tiling.py --parts eval rss --sizes 1024 2048 --out benchmarks/results/tiling_part.json

Parts:
- ``eval``: one evaluation of J and dJ/dG at 1024 px, untiled and tiled (``--tile``, default 512; the pass-1
  graphs that ``--budget`` holds kept, and none kept), the median of ``--repeats`` after a warm-up; the overhead
  ratio (target <= 1.6).
- ``rss``: ``python -m nst_core ... --max-memory 4G`` at each long edge of ``--sizes`` (a few steps, coarse to fine),
  each in a fresh process; its peak RSS (target <= 4.4 GB) and the plan's peak.
- ``estimate``: the Quick, Balanced and Best presets and 2048 px, each run end to end in a fresh process: the plan's
  seconds and peak (``--dry-run``) against the measured wall time and peak RSS (target: within +-30 %).
The CPU, whether bf16 was used, the date and the load average go into the JSON.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nst_core import StyleOptions, StyleTransfer  # noqa: E402
from nst_core.options import PRESETS  # noqa: E402
from nst_core.device import cpu_supports_bf16, platform_cpu  # noqa: E402
from nst_core.tiling import halo_for, split  # noqa: E402
from nst_studio.images import SKIMAGE_DATA  # noqa: E402

CONTENT, STYLE = SKIMAGE_DATA / "chelsea.png", SKIMAGE_DATA / "ihc.png"
TIME_RE = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def eval_part(size: int, tile: int, repeats: int, budget: str) -> dict:
    """Seconds of one evaluation at ``size`` px: untiled; with ``tile``, keeping the pass-1 graphs that ``budget``
    holds (as a run plans it); and with ``tile``, keeping none (every window forward twice)."""
    st = StyleTransfer(StyleOptions(size=size, scales=1, tile=tile, max_memory=budget))
    gen = torch.Generator().manual_seed(0)
    C = torch.rand(1, 3, size * 2 // 3, size, generator=gen)
    a_C, grams = st.targets(C, [torch.rand(1, 3, 256, 256, generator=gen)])
    G = C.clone().requires_grad_(True)
    planned_keep = st.plan(tuple(C.shape[-2:])).stage_keep[-1]

    def untiled():
        G.grad = None
        st.costs(G, a_C, grams, [1.0])["J"].backward()

    def tiled(keep):
        def run():
            G.grad = None
            st.tiled_costs(G, a_C, grams, [1.0], tile, keep=keep)
        return run

    result = {}
    for name, fn in (("untiled", untiled), ("tiled", tiled(planned_keep)), ("tiled_nothing_kept", tiled(0))):
        fn()  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        result[f"{name}_s"] = round(statistics.median(times), 3)
    tiles = len(split(*C.shape[-2:], tile, halo_for([st.options.content_layer, *st.options.style_layers])))
    result.update(size=size, tile=tile, tiles=tiles, budget=budget, kept=planned_keep,
                  precision=st.evaluation_precision(), overhead=round(result["tiled_s"] / result["untiled_s"], 2),
                  overhead_nothing_kept=round(result["tiled_nothing_kept_s"] / result["untiled_s"], 2),
                  target_overhead=1.6)
    print(f"eval at {size} px ({result['precision']}): untiled {result['untiled_s']:.2f} s; tile {tile} "
          f"({tiles} tiles), {planned_keep} graphs kept (budget {budget}): {result['tiled_s']:.2f} s, overhead "
          f"{result['overhead']:.2f}x (target <= 1.6x); none kept: {result['tiled_nothing_kept_s']:.2f} s, "
          f"{result['overhead_nothing_kept']:.2f}x", flush=True)
    return result


def run_cli(flags: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (bytes) and stdout of ``python -m nst_core CONTENT STYLE FLAGS`` in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "nst_core", str(CONTENT), str(STYLE),
               "-o", os.path.join(tmp, "out.png"), "--quiet", *flags]
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return seconds, int(TIME_RE.search(done.stderr).group(1)) * 1024, done.stdout


def planned(flags: list[str]) -> tuple[float, float, str]:
    """The plan's seconds and GB for the same command (``--dry-run``)."""
    _, _, out = run_cli([*flags, "--dry-run"])
    match = re.search(r"about (\d+) s and ([\d.]+) GB", out)
    return float(match.group(1)), float(match.group(2)), out.strip()


def rss_part(sizes: list[int], budget: str) -> list[dict]:
    rows = []
    for size in sizes:
        flags = ["--size", str(size), "--steps", "2", "--scales", "3", "--max-memory", budget]
        plan_s, plan_gb, said = planned(flags)
        seconds, peak, _ = run_cli(flags)
        rows.append({"size": size, "budget": budget, "peak_rss_gb": round(peak / 1e9, 2), "planned_gb": plan_gb,
                     "seconds": round(seconds, 1), "planned_s": plan_s, "plan": said, "target_gb": 4.4})
        print(f"{size} px, --max-memory {budget}: peak RSS {peak / 1e9:.2f} GB (plan {plan_gb} GB), {seconds:.0f} s "
              f"(plan {plan_s:.0f} s) — {said}", flush=True)
    return rows


def estimate_part() -> list[dict]:
    runs = {name: ["--size", str(p["size"]), "--steps", str(p["steps"]), "--scales", str(p["scales"])]
            for name, p in PRESETS.items()}
    runs["2048 px"] = ["--size", "2048", "--steps", "4", "--scales", "4"]
    rows = []
    for name, flags in runs.items():
        plan_s, plan_gb, said = planned(flags)
        seconds, peak, _ = run_cli(flags)
        rows.append({"run": name, "flags": flags, "planned_s": plan_s, "seconds": round(seconds, 1),
                     "time_error": round(plan_s / seconds - 1, 3), "planned_gb": plan_gb,
                     "peak_rss_gb": round(peak / 1e9, 2), "memory_error": round(plan_gb / (peak / 1e9) - 1, 3)})
        print(f"{name:<9} plan {plan_s:6.0f} s {plan_gb:5.2f} GB | measured {seconds:6.1f} s {peak / 1e9:5.2f} GB | "
              f"time {rows[-1]['time_error']:+.0%}, memory {rows[-1]['memory_error']:+.0%} (target within ±30 %)",
              flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/tiling.json")
    parser.add_argument("--parts", nargs="+", choices=("eval", "rss", "estimate"), default=["eval", "rss", "estimate"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1024, 2048, 3072, 4096])
    parser.add_argument("--budget", default="4G")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    result = {"machine": {"cpu": platform_cpu(), "bf16": cpu_supports_bf16(), "cpus": os.cpu_count(),
                          "threads": torch.get_num_threads(), "platform": platform.platform(),
                          "date": datetime.date.today().isoformat(), "loadavg_before": load_before}}
    if "eval" in args.parts:
        result["eval"] = eval_part(1024, args.tile, args.repeats, args.budget)
    if "rss" in args.parts:
        result["rss"] = rss_part(args.sizes, args.budget)
    if "estimate" in args.parts:
        result["estimate"] = estimate_part()
    result["machine"]["loadavg_after"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    partial = Path(args.out).with_suffix(".json.partial")  # written whole, then renamed
    partial.write_text(json.dumps(result, indent=1))
    os.replace(partial, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
