"""Hostile input through a real ``gradio_client`` against ``python app.py``, and through both command lines.

Each bad input must get one sentence that names the setting or file, with no exception class name, no server path
and no traceback; the server keeps serving, its log has no traceback for expected bad input, and no file is left
half-written.
"""
import json
import os
import re
import subprocess
import sys
import urllib.request

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image, PngImagePlugin

from app_server import ROOT, serve_app
from nst_core.metadata import SETTINGS_KEY, save_png
from nst_core.options import PRESETS, StyleOptions

CLASS_NAMES = re.compile(r"\b\w*(Error|Exception)\b|Traceback|File \"")
TINY = dict(size=32, steps=1, scales=1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "app.log"
    with serve_app(str(log)) as running:
        yield running, Client(running.url, verbose=False), log


@pytest.fixture(scope="module")
def images(tmp_path_factory, skimage_dir):
    folder = tmp_path_factory.mktemp("hostile")
    content, style = folder / "content.png", folder / "style.png"
    Image.open(f"{skimage_dir}/chelsea.png").convert("RGB").resize((60, 40)).save(content)
    Image.open(f"{skimage_dir}/ihc.png").convert("RGB").resize((40, 40)).save(style)
    return folder, str(content), str(style)


def message_of(call) -> str:
    """The one-line message a client sees when ``call`` fails."""
    with pytest.raises(Exception) as info:
        call()
    return str(info.value)


def assert_clean(message: str, *names: str):
    """One sentence, naming each of ``names``; no class names, server paths or tracebacks."""
    assert "\n" not in message.strip(), message
    assert not CLASS_NAMES.search(message), message
    assert ROOT not in message and "/tmp/" not in message and "site-packages" not in message, message
    for name in names:
        assert name.lower() in message.lower(), (name, message)  # "Seed" (its label) names the seed


def assert_still_serving(server_info):
    running, _, log = server_info
    with urllib.request.urlopen(running.url, timeout=10) as response:
        assert response.status == 200
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.mark.parametrize("setting, value, named", [
    ("size", 10**30, "Size"), ("size", -5, "Size"), ("size", 3.5, "Size"),
    ("steps", "nan", "Steps"), ("steps", "inf", "Steps"), ("steps", "12", "Steps"),
    ("scales", 0, "Scales"), ("strength", 99, "Style strength"), ("tv_weight", -1, "TV weight"),
    ("tv_weight", "-inf", "TV weight"), ("learning_rate", "fast", "Adam learning rate"),
    ("seed", 2**70, "seed"), ("seed", 1.5, "Seed"), ("style_scale", 0, "Style scale"),
    ("style_layers", "relu1_1: -1", "relu1_1 must be a number from 0 to 1e+12; got -1.0"),
    ("style_layers", "relu1_1: nan", "relu1_1 must be a number from 0 to 1e+12; got nan"),
    ("style_layers", "conv9_9: 1", "style layer must be a conv or relu layer of VGG19 (conv1_1 … conv5_4, "
                                   "relu1_1 … relu5_4); got 'conv9_9'"), ("content_layer", "fc7", "Content layer"),
    ("init", "paint", "Start from"), ("style_weight", -0.5, "First style weight"),
])
def test_numbers_and_names_out_of_range_name_the_setting_its_range_and_the_value(server, images, setting, value,
                                                                                 named):
    _, client, _ = server
    _, content, style = images
    message = message_of(lambda: client.predict(handle_file(content), handle_file(style), **{**TINY, setting: value},
                                                api_name="/stylize"))
    assert_clean(message, named)
    if setting != "style_layers":  # (there ``named`` holds the value received, as parsed from the text)
        assert repr(value)[:20] in message, message  # the value received
    assert re.search(r"from -?[\d.e+]+ to|one of|a whole number|a number|at least|layer", message), message


@pytest.mark.parametrize("shape", [(1, 1), (1, 300), (500, 1), (2, 4000)])
def test_degenerate_image_shapes_are_enlarged_to_a_16_px_side(server, images, shape):
    _, client, _ = server
    folder, content, style = images
    thin = folder / f"thin_{shape[0]}x{shape[1]}.png"
    Image.fromarray(np.full((*shape, 3), 128, np.uint8)).save(thin)
    for pair in ((thin, style), (content, thin)):
        image, *_ = client.predict(handle_file(str(pair[0])), handle_file(str(pair[1])), size=64, steps=1, scales=2,
                                   api_name="/stylize")
        assert min(Image.open(image).size) >= 16 and max(Image.open(image).size) == 64


def tampered_png(folder, name, settings_text, **extra_chunks):
    info = PngImagePlugin.PngInfo()
    if settings_text is not None:
        info.add_text(SETTINGS_KEY, settings_text)
    for key, value in extra_chunks.items():
        info.add_text(key, value)
    path = folder / name
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    return path


@pytest.mark.parametrize("name, settings_text, named", [
    ("unknown.png", json.dumps({**StyleOptions().to_dict(), "rm -rf": 1}), "unknown setting 'rm -rf'"),
    ("wrongtype.png", json.dumps({**StyleOptions().to_dict(), "steps": "many"}), "steps must be a whole number"),
    ("range.png", json.dumps({**StyleOptions().to_dict(), "size": 10**9}), "size must be a whole number from 32"),
    ("nan.png", json.dumps({**StyleOptions().to_dict(), "beta": float("nan")}), "beta must be a number"),
    ("list.png", json.dumps([1, 2, 3]), "settings must be a JSON object"),
    ("nested.png", "[" * 5000 + "]" * 5000, "stored settings"),
    ("huge.png", json.dumps({"x": "y" * 500_000}), "too large"),
    ("notjson.png", "{size: 512", "not valid JSON"),
    ("layers.png", json.dumps({**StyleOptions().to_dict(), "style_layers": {"relu1_1": [1]}}), "relu1_1"),
])
def test_tampered_settings_in_a_png_restore_nothing_and_say_why(server, images, name, settings_text, named):
    _, client, _ = server
    path = tampered_png(images[0], name, settings_text)
    message = message_of(lambda: client.predict(handle_file(str(path)), api_name="/restore_settings"))
    assert_clean(message, name, named)


def test_a_giant_or_broken_text_chunk_is_refused_by_name(server, images):
    _, client, _ = server
    folder = images[0]
    giant = tampered_png(folder, "giant.png", None, **{"Comment": "z" * 3_000_000})
    broken = folder / "badutf8.png"
    good = save_png(folder / "good.png", np.zeros((8, 8, 3), np.uint8), StyleOptions(), "w")
    data = bytearray(good.read_bytes())
    data[data.find(b"nst:settings") + 20] ^= 0xFF  # damage the chunk: its CRC no longer matches
    broken.write_bytes(bytes(data))
    for path in (giant, broken):
        message = message_of(lambda: client.predict(handle_file(str(path)), api_name="/restore_settings"))
        assert_clean(message, path.name)


def test_a_good_png_restores_its_settings_and_the_preset(server, images):
    _, client, _ = server
    good = save_png(images[0] / "balanced.png", np.zeros((8, 8, 3), np.uint8),
                    StyleOptions(**PRESETS["Balanced"]), "w")
    *values, preset, status = client.predict(handle_file(str(good)), api_name="/restore_settings")
    assert preset == "Balanced" and status.startswith("Restored the settings of balanced.png")


# --- the command lines -----------------------------------------------------------------------------------------
def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd or ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("make_output, named", [
    (lambda d: d / "missing" / "out.png", "does not exist"),
    (lambda d: d, "is a folder"),
    (lambda d: d / "out.jpg", "must be a .png file"),
])
def test_nst_core_output_paths_exit_2_with_one_line_and_leave_nothing(tmp_path, images, make_output, named):
    out = make_output(tmp_path)
    before = set(os.listdir(tmp_path))
    result = cli("nst_core", images[1], images[2], "-o", str(out), "--size", "32", "--steps", "1")
    assert result.returncode == 2 and named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert set(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("flag, value, named", [
    ("--size", "1e400", "size"), ("--steps", "-3", "steps"), ("--seed", str(2**80), "seed"),
    ("--beta", "nan", "beta"), ("--style-layers", "relu1_1:inf", "relu1_1"), ("--content-layer", "pool9", "content"),
])
def test_nst_core_numbers_exit_2_naming_the_setting(tmp_path, images, flag, value, named):
    result = cli("nst_core", images[1], images[2], "-o", str(tmp_path / "o.png"), flag, value)
    assert result.returncode == 2 and named in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "o.png").exists()


def test_nst_core_on_a_sliver_writes_a_picture(tmp_path, images):
    sliver = tmp_path / "sliver.png"
    Image.fromarray(np.full((1, 200, 3), 200, np.uint8)).save(sliver)
    result = cli("nst_core", str(sliver), images[2], "-o", str(tmp_path / "o.png"), "--size", "64", "--steps", "1",
                 "--scales", "2", "--quiet")
    assert result.returncode == 0, result.stderr
    assert Image.open(tmp_path / "o.png").size == (64, 16)


@pytest.mark.parametrize("table", ["not a table", 5, [1, 2]])
def test_a_table_sent_in_the_wrong_shape_names_the_table(server, table):
    _, client, _ = server
    message = message_of(lambda: client.predict("14x14", 3, table, api_name="/conv_stack"))
    assert_clean(message, "layers", 'a table {"headers"', repr(table))


def test_feature_visualization_names_a_bad_objective_and_four_argument_calls_still_work(server):
    _, client, _ = server
    message = message_of(lambda: client.predict("conv1_1", 0, 32, 0, "brightest", api_name="/feature_visualization"))
    assert_clean(message, "Maximise", "channel, neuron", "'brightest'")
    png, caption = client.predict("conv1_1", 0, 32, 0, api_name="/feature_visualization")  # the default objective
    assert Image.open(png).size == (32, 32) and "mean of max(0, conv) (32 px, seed 0)" in caption


def test_eight_concurrent_clients_all_complete_within_the_memory_bound(server, images):
    """Eight sessions press Stylize at once: the queue runs them one by one, every one completes, and the server's
    peak resident memory (VmHWM) stays under 2.6 GB."""
    from concurrent.futures import ThreadPoolExecutor
    running, _, _ = server
    _, content, style = images

    def one(i):
        client = Client(running.url, verbose=False)  # its own session
        image, _, status, *_ = client.predict(handle_file(content), handle_file(style), size=48, steps=2, scales=1,
                                              seed=i, api_name="/stylize")
        return Image.open(image).size, status

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert [size for size, _ in results] == [(48, 32)] * 8
    assert all(status.startswith("Done: 2 steps") for _, status in results)
    with open(f"/proc/{running.pid}/status") as f:
        peak_kb = int(next(line for line in f if line.startswith("VmHWM:")).split()[1])
    assert peak_kb < 2.6 * 1024 * 1024, f"peak RSS {peak_kb / 1024 / 1024:.2f} GB"


def test_the_server_keeps_serving_and_logs_no_traceback_for_bad_input(server):
    """Last in the module: after every hostile input above."""
    assert_still_serving(server)


def raw_call(url: str, endpoint: str, data: list) -> str:
    """A raw HTTP call (no client to fill in the inputs): the answer's event stream."""
    post = urllib.request.Request(f"{url}gradio_api/call/{endpoint}", json.dumps({"data": data}).encode(),
                                  {"Content-Type": "application/json"})
    with urllib.request.urlopen(post) as response:
        event = json.load(response)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/{endpoint}/{event}") as response:
        return response.read().decode()


@pytest.mark.parametrize("endpoint, data, inputs", [
    ("conv_output_shape", ["32x32", 3, 16, "3"], "input_sizes, input_channels, filters, kernel_size, stride, padding, "
                                                 "dilation; got 4."),
    ("palette_only", [], "content, style, size; got 0."),
])
def test_a_raw_call_short_of_inputs_names_them_in_order(server, endpoint, data, inputs):
    running, _, _ = server
    stream = raw_call(running.url, endpoint, data)
    error = json.loads(stream.split("event: error\ndata: ", 1)[1].splitlines()[0])["error"]
    assert error.startswith(f"/{endpoint} takes ") and inputs in error
    assert_clean(error)


def test_a_raw_file_payload_without_meta_must_still_be_an_upload(server):
    running, _, log = server
    anywhere = os.path.join(os.path.dirname(__import__("matplotlib").__file__), "mpl-data", "images", "hand.png")
    for payload in ({"path": anywhere}, {"path": anywhere, "meta": {}}):  # not this app's upload: never opened
        stream = raw_call(running.url, "palette_only", [payload, payload, 32])
        assert "event: error" in stream and "hand.png" not in stream.split("event: error", 1)[1]
        error = json.loads(stream.split("event: error\ndata: ", 1)[1].splitlines()[0])["error"]
        assert error == ("Content image: that file is not an upload; upload the image, or give a public http(s) "
                         "address of one.")
    assert "Traceback" not in log.read_text()


def test_stylize_short_of_inputs_counts_only_what_a_caller_sends(server):
    running, _, _ = server
    stream = raw_call(running.url, "stylize", [None] * 24)
    error = json.loads(stream.split("event: error\ndata: ", 1)[1].splitlines()[0])["error"]
    assert error.startswith("/stylize takes 25 inputs, in this order: content, style,") and "got 24." in error
    assert "restored_regions" not in error  # the page's own state: no caller sends it
