"""Hostile input at the newer doors: Hub specs, Ray addresses, engine names, memory sizes, tampered files; for any
text, the shared parsers either parse or raise the studio's one-sentence input error."""
import os
import re
import subprocess
import sys
import time

import pytest
from gradio_client import Client, handle_file
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app_server import ROOT, serve_app
from explorer.__main__ import main as explorer_main
from explorer.units.datasets import DatasetError
from explorer.units.hub import parse_spec
from nst_core.checks import InputError
from nst_core.memory import parse_size
from nst_core.options import StyleOptions
from nst_core.regions import labels_from_png_text
from units_helpers import write_random_images


@pytest.mark.parametrize("spec", ["hf:", "hf:/", "hf:owner/name:::", "hf:../../x", "hf:a/b/c", "hf:owner/.."])
def test_malformed_hub_specs_are_one_sentence_without_a_network_wait(spec, tmp_path, capsys):
    start = time.monotonic()
    assert explorer_main(["scan", spec, "--out", str(tmp_path / "i.pt")]) == 2
    err = capsys.readouterr().err
    assert "write a Hub dataset as hf:OWNER/NAME" in err and "Traceback" not in err
    assert time.monotonic() - start < 10


def test_a_ray_address_where_nothing_listens_is_one_sentence_within_30_s(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:9")
    write_random_images(tmp_path / "photos", 2)
    start = time.monotonic()
    assert explorer_main(["scan", str(tmp_path / "photos"), "--engine", "ray", "--out", str(tmp_path / "i.pt")]) == 2
    assert time.monotonic() - start < 30
    err = capsys.readouterr().err
    assert "RAY_ADDRESS=127.0.0.1:9: no Ray cluster answers there" in err and "Traceback" not in err


def test_an_unknown_engine_lists_those_that_exist(tmp_path, capsys):
    assert explorer_main(["scan", str(tmp_path), "--engine", "spark", "--out", str(tmp_path / "i.pt")]) == 2
    assert "choose from 'local', 'ray'" in capsys.readouterr().err


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_a_size_or_one_sentence(text):
    try:
        assert parse_size("budget", text) >= 2**26
    except InputError as e:
        assert str(e).startswith("budget must be") and str(e).endswith(".")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
@example("/proc/self/fd")
@example("/")
@example("../x")
def test_any_text_is_a_hub_spec_or_one_sentence(text):
    try:
        path, split, column = parse_spec("hf:" + text)
        assert ".." not in path.split("/") and split
        folder = os.path.abspath(path)
        # OWNER/NAME, or a local folder (the CLI reads those; not the file system's root)
        assert path.count("/") <= 1 or (os.path.isdir(path) and os.path.dirname(folder) != folder), path
    except DatasetError as e:
        assert "write a Hub dataset as" in str(e)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=20), st.integers(), st.floats(allow_nan=True), st.none()),
       st.one_of(st.text(max_size=20), st.integers(-10**6, 10**6), st.floats(allow_nan=True)))
def test_memory_and_tile_options_parse_or_say_one_sentence(max_memory, tile):
    try:
        o = StyleOptions(max_memory=max_memory, tile=tile)
        assert o.tile % 16 == 0 and isinstance(o.max_memory, str)
    except InputError as e:
        assert str(e).count(".") >= 1 and "Traceback" not in str(e)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_stored_regions_text_is_a_mask_or_one_sentence(text):
    try:
        labels_from_png_text(text, 10_000)
    except InputError as e:
        assert "regions mask is damaged" in str(e)


def test_a_print_past_the_memory_budget_is_one_sentence_and_the_server_stays_up(tmp_path, pair):
    with serve_app(str(tmp_path / "app.log"), NST_MAX_MEMORY="1G") as server:
        client = Client(server.url, verbose=False)
        with pytest.raises(Exception) as info:
            client.predict(handle_file(pair[0]), handle_file(pair[1]), size=2048, steps=1, scales=1,
                           api_name="/stylize")
        assert re.search(r"size 2048 needs more memory than the budget of [\d.]+ GB allows, even tiled; choose a "
                         r"size up to \d+ px", str(info.value))
        status = client.predict(handle_file(pair[0]), handle_file(pair[1]), size=48, steps=1, scales=1,
                                api_name="/stylize")[2]
        assert status.startswith("Done: 1 step in ")
    assert "Traceback" not in (tmp_path / "app.log").read_text()


def test_every_door_of_round_two_through_the_hostile_script():
    """``tests/hostile/run_all.py --quick`` against a running app and the explorer's command line: every answer one
    sentence, the server alive after each case, no traceback in its log, no canary file outside the studio's
    folders opened, the result saved first unchanged, the app's files within NST_CACHE_LIMIT."""
    run = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "hostile", "run_all.py"), "--quick"],
                         cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ cases, 0 failed; 0 other checks failed", summary) and int(summary.split()[0]) >= 25
