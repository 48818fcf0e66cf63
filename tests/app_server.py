"""Start ``python app.py`` in a subprocess on a free port, for the API and browser tests and the memory benchmark."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Server(NamedTuple):
    url: str
    pid: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, proc: subprocess.Popen, log_path: str, timeout: float, name: str = "app.py"):
    """Return once ``url`` answers 200; ``RuntimeError`` (with the log's tail) if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}: {open(log_path).read()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer on {url} within {timeout:.0f} s") from None
            time.sleep(0.5)


# Gradio's launch gives up if its own 3-second probe of localhost times out, which a loaded 2-core machine can cause;
# that start (and only that) is tried again.
LOCALHOST_PROBE_FAILED = "When localhost is not accessible"
STARTS = 3


@contextlib.contextmanager
def serve_app(log_path: str, timeout: float = 120.0, **env: str):
    """Yield the ``Server`` (URL, process id) of a freshly started app; its output goes to ``log_path``."""
    for attempt in range(1, STARTS + 1):
        port = free_port()
        environ = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
                   "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONWARNINGS": "ignore", **env}
        url = f"http://127.0.0.1:{port}/"
        log = open(log_path, "w")
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=environ, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            wait_until_serving(url, proc, log_path, timeout)
            break
        except RuntimeError:
            log.close()
            if attempt == STARTS or LOCALHOST_PROBE_FAILED not in open(log_path).read():
                _end(proc)
                raise
    try:
        yield Server(url, proc.pid)
    finally:
        _end(proc)
        log.close()


def _end(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
