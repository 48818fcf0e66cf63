"""``python -m explorer scan|render``: files written, bad input -> one line and exit status 2, nothing written."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.__main__ import main
from explorer.units.tiles import labelled_page
from explorer.featurevis.vis_settings import PNG_KEY, VisSettings
from nst_core.receptive_field import receptive_field
from explorer.units.index import Index
from units_helpers import write_random_images


@pytest.fixture
def scanned(tmp_path):
    write_random_images(tmp_path / "data", 3)
    (tmp_path / "data" / "readme.txt").write_text("hi")
    out = tmp_path / "index.pt"
    code = main(["scan", str(tmp_path / "data"), "--layers", "conv1_1,conv2_1", "--size", "32", "--precision",
                 "fp32", "--cache", str(tmp_path / "cache"), "--out", str(out)])
    assert code == 0
    return out


def test_scan_writes_an_index_and_reports_skipped_files(scanned, tmp_path, capsys):
    index = Index.load(scanned)
    assert set(index.layers) == {"conv1_1", "conv2_1"} and len(index.views) == 3
    capsys.readouterr()
    assert main(["scan", str(tmp_path / "data"), "--layers", "conv1_1", "--size", "32", "--precision", "fp32",
                 "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "again.pt")]) == 0  # from the cache
    assert "skipped readme.txt: not an image file" in capsys.readouterr().err
    assert Index.load(tmp_path / "again.pt").skipped == index.skipped


@pytest.mark.parametrize("mode", ["patches", "both"])
def test_render_writes_a_grid(scanned, tmp_path, mode):
    out = tmp_path / "grid.png"
    assert main(["render", str(scanned), "--layer", "conv2_1", "--units", "0-5", "--mode", mode,
                 "--columns", "3", "-o", str(out)]) == 0
    with Image.open(out) as img:
        w, h = img.size
    tile = 3 * 64 + 2 * 2
    assert w > 3 * tile * (2 if mode == "both" else 1) and h > 2 * tile


@pytest.mark.parametrize("argv, message", [
    (["render", "{index}", "--layer", "conv3_1", "-o", "{out}"], "layer conv3_1 is not in this index"),
    (["render", "{index}", "--layer", "conv1_1", "--units", "64", "-o", "{out}"], "conv1_1 has units 0 ... 63"),
    (["render", "{index}", "--layer", "conv1_1", "--units", "x", "-o", "{out}"], "write topN, A-B or a,b,c"),
    (["render", "{data}/readme.txt", "--layer", "conv1_1", "-o", "{out}"], "readme.txt: not an explorer index"),
    (["render", "{index}", "--layer", "relu1_1", "-o", "{out}"], "argument --layer: invalid choice"),
    (["scan", "{data}/nothing", "--out", "{out_pt}"], "nothing: not 'builtin', a folder, a .zip file"),
    (["scan", "{data}", "--layers", "pool1", "--out", "{out_pt}"], "unknown conv layer 'pool1'"),
    (["scan", "{data}", "--size", "8", "--out", "{out_pt}"], "scan size must be a whole number from 32 to 1024; got 8."),
    (["visualize", "conv2_1", "--units", "128", "-o", "{out}"], "conv2_1 has units 0 ... 127"),
    (["visualize", "conv2_1", "--units", "a-b", "-o", "{out}"], "write topN, A-B or a,b,c"),
    (["visualize", "relu2_1", "-o", "{out}"], "argument LAYER: invalid choice: 'relu2_1'"),
    (["visualize", "conv2_1", "--size", "8", "-o", "{out}"], "size must be a whole number from 32 to 512; got 8"),
    (["visualize", "conv2_1"], "say where to write: -o GRID.png, --save-dir DIR or both"),
    (["visualize", "conv2_1", "--columns", "0", "-o", "{out}"], "--columns must be a whole number from 1 to 64; got 0"),
    (["render", "{index}", "--layer", "conv1_1", "--columns", "-3", "-o", "{out}"], "--columns must be a whole number"),
    (["visualize", "conv2_1", "--learning-rate", "fast", "-o", "{out}"], "argument --learning-rate: invalid float"),
    (["visualize", "conv2_1", "--steps", "5000", "--scales", "3", "-o", "{out}"], "make 105000 steps in all"),
    (["visualize", "conv2_1", "--units", "0-99999999999999", "-o", "{out}"], "conv2_1 has units 0 ... 127"),
    (["visualize", "conv2_1", "--units", "top-5", "-o", "{out}"], "conv2_1 has units 0 ... 127"),
    (["visualize", "conv2_1", "--steps", "0", "-o", "{out}"], "steps must be a whole number from 1 to 5000; got 0"),
    (["visualize", "conv2_1", "--size", "0", "-o", "{out}"], "size must be a whole number from 32 to 512; got 0"),
    (["visualize", "conv2_1", "--size", "513", "-o", "{out}"], "size must be a whole number from 32 to 512; got 513"),
    (["visualize", "conv2_1", "--objective", "brightest", "-o", "{out}"],
     "argument --objective: invalid choice: 'brightest' (choose from 'channel', 'neuron')"),
    (["visualize", "pool2", "-o", "{out}"], "argument LAYER: invalid choice: 'pool2'"),
    (["visualize", "conv2_1", "--steps", "0", "--save-dir", "{data}/new"], "steps must be"),  # no folder made
])
def test_bad_input_exits_2_with_one_line(scanned, tmp_path, capsys, argv, message):
    out = tmp_path / "out.png"
    capsys.readouterr()
    argv = [a.format(index=scanned, data=tmp_path / "data", out=out, out_pt=tmp_path / "out.pt") for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("explorer: error:")
    assert not out.exists() and not (tmp_path / "out.pt").exists() and not (tmp_path / "data" / "new").exists()


OUTPUTS = [  # (command, the output flag's place in it), every output path of python -m explorer
    (["scan", "{data}", "--layers", "conv1_1", "--size", "32", "--out", "{path}"], ".pt"),
    (["render", "{index}", "--layer", "conv1_1", "-o", "{path}"], ".png"),
    (["visualize", "conv1_1", "--units", "0", "--size", "32", "--steps", "1", "-o", "{path}"], ".png"),
    (["visualize", "conv1_1", "--units", "0", "--size", "32", "--steps", "1", "--save-dir", "{folder}"], None),
]


@pytest.mark.parametrize("argv, suffix", OUTPUTS)
@pytest.mark.parametrize("case", ["missing folder", "a folder", "unwritable folder", "wrong extension"])
def test_every_output_path_is_checked_before_any_work(scanned, tmp_path, capsys, argv, suffix, case):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.geteuid() == 0:  # root writes through file modes; a read-only mount stops it
        locked = Path("/sys")
    target = {"missing folder": tmp_path / "no" / f"x{suffix}", "a folder": tmp_path / "data",
              "unwritable folder": locked / f"x{suffix}", "wrong extension": tmp_path / "x.jpg"}[case]
    if suffix is None:  # --save-dir names a folder (made if missing): a file, or a file in the way of its path
        target = {"missing folder": tmp_path / "data" / "readme.txt" / "no",
                  "a folder": tmp_path / "data" / "readme.txt",
                  "unwritable folder": locked, "wrong extension": tmp_path / "data" / "img0.png"}[case]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    argv = [a.format(index=scanned, data=tmp_path / "data", path=target, folder=target) for a in argv]
    capsys.readouterr()
    try:
        assert main(argv) == 2
    finally:
        (tmp_path / "locked").chmod(0o700)
    err = capsys.readouterr().err.strip()
    expected = {"missing folder": "no such folder", "a folder": "is a folder",
                "unwritable folder": "is not writable", "wrong extension": f"must be a {suffix} file"}[case]
    if suffix is None:
        expected = {"missing folder": "a file is in the way", "unwritable folder": "is not writable"}.get(
            case, "not a folder")
    assert len(err.splitlines()) == 1 and err.startswith("explorer: error:") and expected in err, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written, no temporary left


def test_visualize_writes_each_unit_and_a_labelled_grid(tmp_path):
    argv = ["visualize", "conv1_2", "--units", "2,5", "--size", "32", "--steps", "3", "--seed", "0",
            "--save-dir", str(tmp_path / "made" / "here"), "-o", str(tmp_path / "grid.png")]
    assert main(argv) == 0  # the save folder is made as by mkdir -p
    units = [np.asarray(Image.open(tmp_path / "made" / "here" / f"conv1_2_unit{u}.png")) for u in (2, 5)]
    assert all(u.shape == (32, 32, 3) for u in units) and not np.array_equal(*units)
    with Image.open(tmp_path / "grid.png") as grid:
        assert grid.size[0] > 4 * 32 and grid.size[1] > 32
        assert json.loads(grid.text[PNG_KEY])["units"] == [2, 5]
    with Image.open(tmp_path / "made" / "here" / "conv1_2_unit5.png") as png:  # the PNG says how it was made
        made = json.loads(png.text[PNG_KEY])
    assert made["layer"] == "conv1_2" and made["units"] == [5] and made["weights"].startswith("caffe")
    assert VisSettings(**made["settings"]) == VisSettings(size=32, steps=3, seed=0)
    again = tmp_path / "again"
    again.mkdir()
    assert main(argv[:-4] + ["--save-dir", str(again)]) == 0
    assert np.array_equal(np.asarray(Image.open(again / "conv1_2_unit5.png")), units[1])  # same seed, same pixels


def test_runs_as_a_module_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "explorer", "render", str(tmp_path / "missing.pt"),
                             "--layer", "conv1_1", "-o", str(tmp_path / "g.png")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == ("explorer: error: missing.pt: no such index file; give an index made by "
                                     "explorer scan, or scan again")


def test_rendered_patch_is_the_receptive_field_of_the_unit(scanned, tmp_path):
    """The first cell of a 1-unit grid shows the R x R box around the unit's best position, enlarged 64 / R."""
    index = Index.load(scanned)
    top = index.top("conv2_1")
    rf = receptive_field("conv2_1")
    inside = [u for u in range(top.value.shape[0])
              if 0 <= rf.start(int(top.y[u, 0])) <= 32 - rf.size and 0 <= rf.start(int(top.x[u, 0])) <= 32 - rf.size]
    unit = inside[0]
    out = tmp_path / "one.png"
    assert main(["render", str(scanned), "--layer", "conv2_1", "--units", str(unit), "--columns", "1",
                 "-o", str(out)]) == 0
    grid = np.asarray(Image.open(out).convert("RGB"))
    view = np.asarray(Image.open(tmp_path / "data" / index.views[int(top.image[unit, 0])].file).convert("RGB"))
    t, l = rf.start(int(top.y[unit, 0])), rf.start(int(top.x[unit, 0]))
    expected = np.asarray(Image.fromarray(view[t:t + rf.size, l:l + rf.size]).resize((64, 64), Image.NEAREST))
    assert any((grid[r:r + 64, c:c + 64] == expected).all() for r in range(40) for c in range(16))


def test_grid_labels_wider_than_their_tile_wrap_instead_of_running_into_the_next():
    tiles = [np.zeros((32, 32, 3), np.uint8)] * 8
    one_line = labelled_page(tiles, ["a"] * 8, 4)
    page = labelled_page(tiles, ["conv3_1 unit 12 · a long label"] * 8, 4)
    assert page.shape[0] > one_line.shape[0] and page.shape[1] == one_line.shape[1]  # taller, not wider
    gaps = [x for x in range(page.shape[1]) if (x - 8) % 40 >= 32]  # the 8 px columns between and around tiles
    assert (page[:, gaps] == 255).all()  # no ink from any label crosses into them
