"""Files the explorer reads back (an index, a scan checkpoint, a zip's skipped note) and settings PNGs are checked
before use: a damaged or tampered one is named in one sentence; a cache file is then made again, an index the user
gave is refused (exit status 2, no traceback)."""
import copy
import io
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image, PngImagePlugin

from explorer.__main__ import main
from explorer.units import scan as scan_module
from explorer.units.datasets import SKIPPED_NOTE, folder_dataset, read_skipped_note
from explorer.units.index import FORMAT, BadIndexError, Index, ScanSettings
from explorer.units.scan import cached_scan, scan
from explorer.units.shards import ScanState
from explorer.units.topk import TopK
from nst_core.checks import InputError
from nst_core.metadata import SETTINGS_KEY, VERSION_KEY, read_settings
from nst_core.options import StyleOptions
from nst_core.vgg import load_vgg19
from units_helpers import write_random_images

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = ScanSettings(size=32, k=4, precision="fp32")
LAYERS = ("conv1_1", "conv2_1")


@pytest.fixture(scope="module")
def model():
    return load_vgg19("caffe")


@pytest.fixture(scope="module")
def good(model, tmp_path_factory):
    """A real index of three random images (conv1_1, conv2_1), as saved: its file and its dict."""
    folder = tmp_path_factory.mktemp("stored")
    write_random_images(folder / "data", 3)
    index = scan(model, folder_dataset(folder / "data"), LAYERS, SETTINGS)
    index.save(folder / "index.pt")
    return folder / "index.pt", index.to_dict()


def changed(d: dict, change) -> dict:
    d = copy.deepcopy(d)
    change(d)
    return d


class Runs:
    """A pickle that would create a file when loaded, if the loader ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def tampered(d, kind, tmp_path):
    """The bytes of one tampered index file of ``kind`` and the words its error must hold."""
    good_bytes = io.BytesIO()
    torch.save(d, good_bytes)
    data = good_bytes.getvalue()
    saved = lambda value: (lambda b: (torch.save(value, b), b.getvalue())[1])(io.BytesIO())  # noqa: E731
    conv1 = lambda f: (lambda d: d["layers"]["conv1_1"].update(f(d["layers"]["conv1_1"])))  # noqa: E731
    return {
        "truncated": (data[:len(data) // 2], "not an explorer index file"),
        "empty": (b"", "not an explorer index file"),
        "png": (Image_bytes(), "not an explorer index file"),
        "json": (json.dumps({"format": FORMAT}).encode(), "not an explorer index file"),
        "tag only": (saved({"format": FORMAT}), "the field 'settings' is missing"),
        "old format": (saved({**d, "format": 1}), "not an explorer index of format 2"),
        "tensor format": (saved({**d, "format": torch.tensor([2, 2])}), "not an explorer index of format 2"),
        "list": (saved([1, 2, 3]), "holds no table of fields"),
        "settings type": (saved(changed(d, lambda d: d["settings"].update(k="4"))), "'k' should be a whole number"),
        "settings range": (saved(changed(d, lambda d: d["settings"].update(size=10**9))), "out of range"),
        "views type": (saved(changed(d, lambda d: d.update(views="img0.png"))), "'views' should be a list"),
        "view of no file": (saved(changed(d, lambda d: d["views"][0].__setitem__(0, "other.png"))), "'views'"),
        "tile outside zoom": (saved(changed(d, lambda d: d["views"][0].__setitem__(2, [3, 0]))), "'views'"),
        "path outside": (saved(changed(d, lambda d: d["dataset"].update(files=["../../etc/passwd"]))), "'files'"),
        "zooms": (saved(changed(d, lambda d: d["dataset"].update(zooms=[9]))), "'zooms'"),
        "wrong shape": (saved(changed(d, conv1(lambda t: {k: v[:, :3] for k, v in t.items()}))),
                        "64 units x 4 entries, not 64 x 3"),
        "unit count": (saved(changed(d, conv1(lambda t: {k: v.repeat(2, 1) for k, v in t.items()}))),
                       "conv1_1 should hold 64 units x 4 entries, not 128 x 4"),
        "dtype": (saved(changed(d, conv1(lambda t: {"value": t["value"].double()}))), "value, image, y and x"),
        "missing tensor": (saved(changed(d, lambda d: d["layers"]["conv1_1"].pop("y"))), "value, image, y and x"),
        "view id": (saved(changed(d, conv1(lambda t: {"image": t["image"] + 100}))), "refers to views"),
        "position": (saved(changed(d, conv1(lambda t: {"y": t["y"] + 32}))), "outside its 32 x 32 activation"),
        "nan": (saved(changed(d, conv1(lambda t: {"value": t["value"] * float("nan")}))), "not numbers"),
        "not a conv layer": (saved(changed(d, lambda d: d["layers"].update(pool1=d["layers"]["conv1_1"]))),
                             "'pool1' is not a conv layer"),
        "pickle that runs code": (pickle.dumps({"format": FORMAT, "x": Runs(tmp_path / "ran")}),
                                  "not an explorer index file"),
        "torch pickle that runs code": (saved({"format": FORMAT, "x": Runs(tmp_path / "ran")}),
                                        "not an explorer index file"),
    }[kind]


def Image_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG")
    return out.getvalue()


KINDS = ["truncated", "empty", "png", "json", "tag only", "old format", "tensor format", "list", "settings type",
         "settings range", "views type", "view of no file", "tile outside zoom", "path outside", "zooms", "wrong shape",
         "unit count", "dtype", "missing tensor", "view id", "position", "nan", "not a conv layer",
         "pickle that runs code", "torch pickle that runs code"]


def test_the_untouched_index_loads(good):
    path, d = good
    index = Index.load(path)
    assert set(index.layers) == set(LAYERS) and index.top("conv2_1").value.shape == (128, 4)


@pytest.mark.parametrize("kind", KINDS)
def test_a_tampered_index_is_refused_in_one_sentence_naming_the_file(good, tmp_path, kind):
    data, words = tampered(good[1], kind, tmp_path)
    path = tmp_path / "tampered.pt"
    path.write_bytes(data)
    with pytest.raises(BadIndexError) as info:
        Index.load(path)
    message = str(info.value)
    assert message.startswith("tampered.pt: ") and words in message, message
    assert "\n" not in message and str(tmp_path) not in message
    assert not (tmp_path / "ran").exists()  # no code ran


@pytest.mark.parametrize("kind", ["tag only", "unit count", "position", "pickle that runs code"])
def test_render_of_a_tampered_index_exits_2_with_one_line(good, tmp_path, kind, capsys):
    data, words = tampered(good[1], kind, tmp_path)
    (tmp_path / "tampered.pt").write_bytes(data)
    code = main(["render", str(tmp_path / "tampered.pt"), "--layer", "conv1_1", "-o", str(tmp_path / "o.png")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("explorer: error: tampered.pt: ") and words in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o.png").exists()


def test_the_command_line_on_an_index_with_only_its_format_tag_exits_2_without_a_traceback(tmp_path):
    torch.save({"format": FORMAT}, tmp_path / "tag.pt")
    result = subprocess.run([sys.executable, "-m", "explorer", "render", str(tmp_path / "tag.pt"), "--layer",
                             "conv1_1", "-o", str(tmp_path / "o.png")], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "explorer: error: tag.pt: the field 'settings' is missing"


@pytest.fixture
def counted_scans(monkeypatch):
    calls = []
    real = scan_module.scan

    def counting(model, dataset, layers, *args, **kw):
        calls.append(tuple(layers))
        return real(model, dataset, layers, *args, **kw)

    monkeypatch.setattr(scan_module, "scan", counting)
    return calls


@pytest.mark.parametrize("kind", ["truncated", "tag only", "unit count", "view id"])
def test_a_damaged_cache_index_is_named_in_the_log_and_scanned_again(model, good, tmp_path, kind, counted_scans,
                                                                      caplog):
    write_random_images(tmp_path / "data", 2)
    dataset = folder_dataset(tmp_path / "data")
    first = cached_scan(model, dataset, ["conv1_1"], SETTINGS, cache=tmp_path / "cache")
    (path,) = (tmp_path / "cache").glob("index-*.pt")
    path.write_bytes(tampered(good[1], kind, tmp_path)[0])
    again = cached_scan(model, dataset, ["conv1_1"], SETTINGS, cache=tmp_path / "cache")
    assert counted_scans == [("conv1_1",), ("conv1_1",)]
    assert torch.equal(again.top("conv1_1").value, first.top("conv1_1").value)
    assert torch.equal(Index.load(path).top("conv1_1").value, first.top("conv1_1").value)  # the cache is good again
    assert any(path.name in r.getMessage() and "scanning again" in r.getMessage() for r in caplog.records)


def checkpoint_dict(views=2, units=64, k=4):
    top = TopK.empty(units, k)
    top.value[:, 0], top.image[:, 0], top.y[:, 0], top.x[:, 0] = 1.0, 1, 3, 4
    return {"done": 2, "names": ["a.png", "b.png"], "views": [["a.png", 1, [0, 0]], ["b.png", 1, [0, 0]]][:views],
            "skipped": [], "tops": {"conv1_1": top.as_dict()}}


@pytest.mark.parametrize("saved, resumed", [
    (checkpoint_dict(), 2),
    (checkpoint_dict(views=1), 0),  # view id 1 of a single view
    (checkpoint_dict(units=65), 0),  # more units than conv1_1 has
    ({**checkpoint_dict(), "done": 5}, 0),  # five items done, two names
    ({**checkpoint_dict(), "tops": {}}, 0),  # other layers
    ({"done": 2}, 0),
    ("not a dict", 0),
])
def test_a_checkpoint_is_resumed_only_when_it_passes_its_checks(tmp_path, saved, resumed):
    torch.save(saved, tmp_path / "partial.pt")
    state = ScanState.start({"conv1_1": TopK.empty(64, 4)}, (1,), tmp_path / "partial.pt", size=32)
    assert state.done == resumed and len(state.views) == resumed
    assert state.tops["conv1_1"].value.shape == (64, 4)


def test_a_checkpoint_with_positions_outside_the_layer_is_scanned_again(tmp_path):
    torch.save(checkpoint_dict(), tmp_path / "partial.pt")
    assert ScanState.start({"conv1_1": TopK.empty(64, 4)}, (1,), tmp_path / "partial.pt", size=4).done == 0


@pytest.mark.parametrize("note, read", [
    ([["a.png", "a.png: bad CRC"]], (("a.png", "a.png: bad CRC"),)), (5, ()), ([["a", 1]], ()), ([[1, 2, 3]], ()),
    ("[[" * 3000, ()),
])
def test_a_damaged_skipped_note_counts_as_none(tmp_path, note, read):
    (tmp_path / SKIPPED_NOTE).write_text(note if isinstance(note, str) else json.dumps(note))
    assert read_skipped_note(tmp_path) == read


def settings_png(path, version):
    info = PngImagePlugin.PngInfo()
    info.add_text(SETTINGS_KEY, json.dumps(StyleOptions().to_dict()))
    if version is not None:
        info.add_text(VERSION_KEY, version)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path, pnginfo=info)
    return path


def test_settings_of_another_format_version_are_refused_by_name(tmp_path):
    assert read_settings(settings_png(tmp_path / "v1.png", "1"))[0] == StyleOptions()
    assert read_settings(settings_png(tmp_path / "none.png", None))[0] == StyleOptions()  # before the version chunk
    with pytest.raises(InputError) as info:
        read_settings(settings_png(tmp_path / "v9.png", "9"))
    assert str(info.value) == "v9.png: its settings are in format '9'; this version reads format 1 only."
