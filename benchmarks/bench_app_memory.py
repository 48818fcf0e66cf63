"""The app under load: resident memory and page latency while a 512 px job runs and others wait in the queue.

    python benchmarks/bench_app_memory.py --out benchmarks/results/app_memory.json

Starts ``python app.py``, submits one Quick-preset job (512 px) from one gradio_client session and ``--queued``
more from other sessions, and samples the server's resident memory (VmRSS, /proc) and the time to fetch the page
and the API info every ``--every`` seconds until the first job ends. Target: peak RSS < 3 GB, page < 1 s.
The machine's load average is recorded; other processes on a 2-core box slow every number.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from gradio_client import Client, handle_file  # noqa: E402

from app_server import serve_app  # noqa: E402
from nst_core.options import PRESETS  # noqa: E402
from nst_studio.images import SKIMAGE_DATA  # noqa: E402

TARGET_RSS_GB = 3.0
TARGET_PAGE_S = 1.0


def rss_gb(pid: int) -> float:
    """Resident memory of process ``pid`` in GB (VmRSS from /proc)."""
    with open(f"/proc/{pid}/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kb / 1e6


def fetch_seconds(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/app_memory.json")
    parser.add_argument("--queued", type=int, default=4, help="jobs waiting behind the first one")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between samples")
    args = parser.parse_args()
    content, style = str(SKIMAGE_DATA / "chelsea.png"), str(SKIMAGE_DATA / "hubble_deep_field.jpg")
    log = Path(tempfile.mkdtemp()) / "app.log"
    load_before = os.getloadavg()
    with serve_app(str(log), NST_JOB_BUDGET_S="600") as server:
        idle_gb = rss_gb(server.pid)
        clients = [Client(server.url, verbose=False) for _ in range(args.queued + 1)]
        jobs = [c.submit(handle_file(content), handle_file(style), api_name="/stylize") for c in clients]
        samples, pages = [], []
        start = time.perf_counter()
        while not any(job.done() for job in jobs):  # the first to run is not necessarily the first submitted
            samples.append((time.perf_counter() - start, rss_gb(server.pid)))
            pages.append(max(fetch_seconds(server.url), fetch_seconds(server.url + "gradio_api/info")))
            time.sleep(args.every)
        job_s = time.perf_counter() - start
        first = next(job for job in jobs if job.done())
        status = first.result()[2]
        waiting = sum(not job.done() for job in jobs) - 1  # minus the one running now
        for job in jobs:
            job.cancel()
    peak_gb = max(gb for _, gb in samples)
    result = {
        "preset": "Quick", **PRESETS["Quick"], "queued_jobs": args.queued, "still_queued_at_end": waiting,
        "rss_idle_gb": round(idle_gb, 3), "rss_peak_gb": round(peak_gb, 3), "target_rss_gb": TARGET_RSS_GB,
        "page_latency_max_s": round(max(pages), 3), "page_latency_median_s": round(sorted(pages)[len(pages) // 2], 3),
        "target_page_s": TARGET_PAGE_S, "first_job_s": round(job_s, 1), "first_job_status": status,
        "samples": [(round(t, 1), round(gb, 3)) for t, gb in samples],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
    }
    rows = [("resident memory, idle", f"{idle_gb:.2f} GB"),
            ("resident memory, peak (512 px job + queue)", f"{peak_gb:.2f} GB (target < {TARGET_RSS_GB:g} GB)"),
            ("page + API info fetch, worst", f"{max(pages):.2f} s (target < {TARGET_PAGE_S:g} s)"),
            ("first job (Quick, 512 px), wall", f"{job_s:.0f} s"),
            ("jobs still queued when it ended", f"{waiting} of {args.queued}"),
            ("load average before / after", f"{load_before[0]:.1f} / {os.getloadavg()[0]:.1f}")]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"first job: {status}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
