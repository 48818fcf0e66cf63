"""The scan's engines: an unknown name lists those that exist; ``--engine ray`` with RAY_ADDRESS where no Ray
cluster answers (nothing listening, or a port that is not Ray) is one sentence, exit status 2, within 30 s."""
import http.server
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from explorer.units import engines
from explorer.units.datasets import folder_dataset
from explorer.units.scan import scan
from nst_core.checks import InputError
from units_helpers import write_random_images

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def explorer_scan(tmp_path, *flags, env=None):
    write_random_images(tmp_path / "data", 1)
    return subprocess.run([sys.executable, "-m", "explorer", "scan", str(tmp_path / "data"), "--layers", "conv1_1",
                           "--size", "32", "--no-cache", "--out", str(tmp_path / "i.pt"), *flags], cwd=ROOT,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=120)


def test_an_unknown_engine_is_one_line_listing_the_engines(tmp_path):
    run = explorer_scan(tmp_path, "--engine", "spark")
    assert run.returncode == 2
    assert run.stderr.strip() == "explorer: error: argument --engine: invalid choice: 'spark' (choose from 'local', " \
                                 "'ray')"


def test_scan_called_with_an_unknown_engine_names_those_that_exist(tmp_path):
    write_random_images(tmp_path / "data", 1)
    with pytest.raises(InputError, match=r"^engine must be one of local, ray; got 'spark'\.$"):
        scan(None, folder_dataset(tmp_path / "data"), ["conv1_1"], engine="spark")


def test_ray_where_nothing_listens_is_one_sentence_within_30_s(tmp_path):
    start = time.monotonic()
    run = explorer_scan(tmp_path, "--engine", "ray", env={"RAY_ADDRESS": f"127.0.0.1:{free_port()}"})
    assert time.monotonic() - start < 30
    assert run.returncode == 2 and not (tmp_path / "i.pt").exists()
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("explorer: error: RAY_ADDRESS=127.0.0.1:") and \
        lines[0].endswith("no Ray cluster answers there; start one (ray start --head), correct RAY_ADDRESS, or unset "
                          "it to scan on a local Ray."), run.stderr


def test_a_port_that_answers_but_is_not_ray_is_refused_within_the_connect_timeout(monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(engines, "CONNECT_TIMEOUT_S", 8.0)
    try:
        start = time.monotonic()
        assert not engines.cluster_answers(f"127.0.0.1:{server.server_address[1]}")
        assert time.monotonic() - start < 8 + 2
    finally:
        server.shutdown()


@pytest.mark.parametrize("address, endpoint", [
    ("10.0.0.5:6379", ("10.0.0.5", 6379)), ("ray://head:10001", ("head", 10001)), ("auto", None), ("local", None),
    ("http://head:8265", "must be"), ("head", "must be"), ("head:port", "must be"), ("head:99999", "must be"),
    (":6379", "must be"),
])
def test_ray_addresses_are_parsed_or_refused_in_one_sentence(address, endpoint):
    if isinstance(endpoint, str):
        with pytest.raises(InputError) as info:
            engines.cluster_endpoint(address)
        assert str(info.value) == f"RAY_ADDRESS must be HOST:PORT, ray://HOST:PORT, auto or local; got {address!r}."
    else:
        assert engines.cluster_endpoint(address) == endpoint
