"""Install the project as a user would and use it with the source gone (issue 14's install check).

    python scripts/check_install.py [--keep]

1. copies the working tree's files (tracked and new, not ignored) to a temporary folder;
2. makes a fresh venv there and runs ``pip install .`` (not editable) from the copy;
3. deletes the copy, so nothing can be read from the source tree;
4. runs ``nst --help`` and ``nst-explorer --help`` from an empty folder;
5. starts ``nst-studio`` on a free port and calls its MCP tool ``conv_output_shape`` with the course's 3D example
   through the ``mcp`` package's streamable-HTTP client.

Prints each step's time; exits 1 at the first failure. Slow (it installs torch, Gradio ... into the venv).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from app_server import free_port, wait_until_serving  # noqa: E402
from mcp_client import call_tool, text_of  # noqa: E402

COURSE_3D = {"input_sizes": "14x14x14", "input_channels": 3, "filters": 16, "kernel_size": "5"}
EXPECTED = ("10x10x10x16", "(16, 10, 10, 10)")
START_TIMEOUT_S = 300


class CheckFailed(Exception):
    pass


def step(name: str, started: float) -> None:
    """Print the step's name with the seconds since the check began."""
    print(f"[{time.monotonic() - started:7.1f} s] {name}", flush=True)


def run(command: list[str], cwd: str, **kwargs) -> str:
    """Run ``command``; its output, or ``CheckFailed`` with the output's tail if it fails."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise CheckFailed(f"{' '.join(command)} exited with {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


def copy_source(target: str) -> None:
    """The working tree's files that git tracks or would track (new files, not ignored ones)."""
    files = run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], ROOT).split("\0")
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
            shutil.copy2(source, os.path.join(target, name))


def check(work: str) -> None:
    started = time.monotonic()
    source, venv, empty = (os.path.join(work, name) for name in ("source", "venv", "empty"))
    os.makedirs(empty)
    step("copy the source", started)
    copy_source(source)
    step("python -m venv", started)
    run([sys.executable, "-m", "venv", venv], work)
    bin_dir = os.path.join(venv, "bin")
    step("pip install . (not editable)", started)
    run([os.path.join(bin_dir, "pip"), "install", "--no-cache-dir", "."], source)
    step("delete the source copy", started)
    shutil.rmtree(source)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "PYTHONPATH": "",
           "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("VIRTUAL_ENV", None)
    for command in (["nst", "--help"], ["nst-explorer", "--help"]):
        step(" ".join(command), started)
        usage = run(command, empty, env=env)
        if "usage:" not in usage:
            raise CheckFailed(f"{' '.join(command)} printed no usage:\n{usage[:1000]}")
        print("    " + usage.splitlines()[0])
    port = free_port()
    log_path = os.path.join(work, "nst-studio.log")
    step(f"nst-studio on port {port}", started)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["nst-studio"], cwd=empty, stdout=log, stderr=subprocess.STDOUT,
                                env={**env, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)})
    try:
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/", proc, log_path, START_TIMEOUT_S, "nst-studio")
        except RuntimeError as e:
            raise CheckFailed(str(e)) from None
        step("MCP tools/call conv_output_shape (14x14x14x3, 16 filters of 5x5x5x3)", started)
        result = call_tool(f"http://127.0.0.1:{port}/gradio_api/mcp/", "conv_output_shape", COURSE_3D)
        text = text_of(result)
        print("    " + text.splitlines()[0])
        if result.isError or not all(e in text for e in EXPECTED):
            raise CheckFailed(f"conv_output_shape answered without {' and '.join(EXPECTED)}:\n{text[:1000]}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    step("done: all checks passed", started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (venv and server log)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="nst-install-check-")
    try:
        check(work)
        return 0
    except CheckFailed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
