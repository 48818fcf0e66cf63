"""The command line: a PNG whose metadata round-trips the settings; bad input exits 2 with one line."""
import os
import subprocess
import sys

import pytest
from PIL import Image

from nst_core.cli import main
from nst_core.metadata import read_settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def images(tmp_path, tiny_pair):
    c, s = tmp_path / "content.png", tmp_path / "style.png"
    Image.fromarray(tiny_pair[0]).save(c)
    Image.fromarray(tiny_pair[1]).save(s)
    return str(c), str(s)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "nst_core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_cli_writes_png_with_settings(images, tmp_path):
    out = tmp_path / "out.png"
    r = cli(*images, "-o", str(out), "--size", "64", "--steps", "10", "--seed", "0", "--beta", "25",
            "--style-layers", "relu1_1:0.5,relu2_1:0.5", "--tv", "0.1")
    assert r.returncode == 0, r.stderr
    assert "10/10" in r.stderr  # the tqdm bar reached the end
    with Image.open(out) as img:
        assert img.size == (64, 64)
    options, weights = read_settings(out)
    assert (options.size, options.steps, options.seed, options.beta, options.tv_weight) == (64, 10, 0, 25.0, 0.1)
    assert options.style_layers == {"relu1_1": 0.5, "relu2_1": 0.5}
    assert weights.startswith("caffe-vgg19:")


def test_settings_from_png_reproduce_the_image(images, tmp_path):
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    assert main([*images, "-o", str(first), "--size", "32", "--steps", "3", "--seed", "7", "--quiet"]) == 0
    assert main([*images, "-o", str(second), "--from-png", str(first), "--quiet"]) == 0
    assert read_settings(second)[0] == read_settings(first)[0]
    with Image.open(first) as a, Image.open(second) as b:
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("make_bad,message", [
    (lambda p: p.write_bytes(b""), "style.png: the file is empty"),
    (lambda p: p.write_text("not an image"), "style.png: not an image file"),
])
def test_bad_style_file_exits_2_with_one_line(images, tmp_path, make_bad, message):
    from pathlib import Path
    make_bad(Path(images[1]))
    out = tmp_path / "out.png"
    out.write_bytes(b"previous result")
    r = cli(*images, "-o", str(out), "--size", "32", "--steps", "1")
    assert r.returncode == 2
    assert r.stderr.strip() == f"nst_core: error: {message}" or r.stderr.strip().startswith(f"nst_core: error: {message}")
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert out.read_bytes() == b"previous result"  # an existing OUT is untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.png")] == []


@pytest.mark.parametrize("args,message", [
    (["--content-layer", "relu9_1"], "content layer must be a conv or relu layer"),
    (["--size", "abc"], "argument --size: invalid int value: 'abc'"),
    (["--style-layers", "relu1_1:x"], "bad weight in 'relu1_1:x'"),
    (["--style-blend", "1", "2"], "2 style blend weights given for 1 style images"),
])
def test_bad_settings_exit_2(images, tmp_path, capsys, args, message):
    out = tmp_path / "out.png"
    assert main([*images, "-o", str(out), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_output_and_wrong_extension(images, tmp_path, capsys):
    assert main([*images]) == 2
    assert "give the output file with -o OUT.png" in capsys.readouterr().err
    assert main([*images, "-o", str(tmp_path / "out.jpg")]) == 2
    assert "the output must be a .png file" in capsys.readouterr().err


def test_list_layers(capsys):
    assert main(["--list-layers"]) == 0
    out = capsys.readouterr().out
    assert "block 4 (512 channels): conv4_1 relu4_1 conv4_2 relu4_2" in out and out.count("\n") == 5
