"""What a Hugging Face Space installs and how soon it serves: a fresh venv per requirements file, its size on disk,
the install's time, and the time from ``python app.py`` to the page answering.

    git show REF:requirements.txt > /tmp/requirements-before.txt
    python benchmarks/bench_space_install.py --case before=/tmp/requirements-before.txt \
        --case after=requirements.txt --out benchmarks/results/space_install.json

For each case: ``python3 -m venv`` in a new temporary folder, ``pip install -r FILE`` (timed), ``du`` of the venv,
whether ``import ray`` works there, then ``python app.py`` of this repository run by that venv's Python until
``GET /`` answers 200 (timed). ``--repeat`` runs the cases again in turn (the machine's other load varies). pip's
cache and any configured wheel folders and indexes are used as they are; the JSON records the cache's size before
each install (a warm cache makes installs faster; a Space starts cold).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests")]

from app_server import free_port, wait_until_serving  # noqa: E402
from bench_stylize import cpu_name  # noqa: E402

SERVE_TIMEOUT_S = 600


def folder_bytes(path: Path) -> int:
    """Bytes on disk under ``path`` (``du -sb``); 0 if it does not exist."""
    if not path.exists():
        return 0
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def pip_cache() -> Path:
    done = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True)
    folder = done.stdout.strip() if done.returncode == 0 else ""
    return Path(folder) if folder else Path("~/.cache/pip").expanduser()


def seconds_to_serve(python: Path, log_path: Path) -> float:
    """Start this repository's ``app.py`` with ``python``; seconds until ``GET /`` answers 200."""
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONWARNINGS": "ignore"}
    env.pop("VIRTUAL_ENV", None)
    with open(log_path, "w") as log:
        start = time.perf_counter()
        proc = subprocess.Popen([str(python), "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/", proc, str(log_path), SERVE_TIMEOUT_S)
            return time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def measure(name: str, requirements: Path, workdir: Path) -> dict:
    """One case: a fresh venv, the install, its size, Ray or not, the time to serve."""
    venv = workdir / name
    workdir.mkdir(parents=True, exist_ok=True)
    cache_before = folder_bytes(pip_cache())
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    start = time.perf_counter()
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(requirements.resolve())],
                             cwd=workdir, capture_output=True, text=True)
    install_s = time.perf_counter() - start
    if install.returncode != 0:
        raise SystemExit(f"{name}: pip install -r {requirements} failed:\n{install.stderr[-3000:]}")
    has_ray = subprocess.run([str(python), "-c", "import ray"], capture_output=True).returncode == 0
    size = folder_bytes(venv)
    serve_s = seconds_to_serve(python, workdir / f"{name}-app.log")
    packages = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True,
                              text=True).stdout.split()
    return {"case": name, "requirements": str(requirements), "install_s": round(install_s, 1),
            "venv_bytes": size, "venv_gb": round(size / 1e9, 2), "ray_installed": has_ray,
            "packages": len(packages), "serve_s": round(serve_s, 1), "pip_cache_bytes_before": cache_before}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", required=True, metavar="NAME=REQUIREMENTS",
                        help="a label and a requirements file; give one per case")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each round runs the cases in turn")
    parser.add_argument("--out", default="benchmarks/results/space_install.json")
    args = parser.parse_args()
    cases = [c.split("=", 1) for c in args.case]
    if any(len(c) != 2 or not Path(c[1]).is_file() for c in cases):
        parser.error("each --case is NAME=REQUIREMENTS, with a requirements file that exists")
    workdir = Path(tempfile.mkdtemp(prefix="space-install-"))
    try:
        rows = [{**measure(name, Path(path), workdir / str(round_)), "round": round_}
                for round_ in range(1, args.repeat + 1) for name, path in cases]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{'round':>5} {'case':<10} {'venv GB':>8} {'packages':>9} {'Ray':>4} {'install s':>10} {'serve s':>8} "
          f"{'pip cache GB':>13}")
    for r in rows:
        print(f"{r['round']:>5} {r['case']:<10} {r['venv_gb']:>8.2f} {r['packages']:>9} "
              f"{'yes' if r['ray_installed'] else 'no':>4} {r['install_s']:>10.1f} {r['serve_s']:>8.1f} "
              f"{r['pip_cache_bytes_before'] / 1e9:>13.2f}")
    result = {"command": "python " + " ".join(sys.argv),
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpu": cpu_name(),
              "cores": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg(),
              "cases": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
