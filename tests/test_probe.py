"""Probe a photo: the peaks are VGG19's channel maxima, the boxes are the receptive fields at the peaks, a photo of a
scanned dataset shows the index's own values, and the CLI's JSON and the API's answer agree with the model."""
import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.__main__ import main
from explorer.units.datasets import folder_dataset
from explorer.units.index import ScanSettings
from explorer.units.probe import grid_picture, placement, probe, probe_page, unit_overlay
from nst_core.receptive_field import receptive_field
from explorer.units.scan import scan
from nst_core.checks import InputError
from nst_core.vgg import load_vgg19
from units_helpers import write_random_images


@pytest.fixture(scope="module")
def model():
    return load_vgg19("caffe")


@pytest.fixture(scope="module")
def photo(skimage_dir):
    return np.asarray(Image.open(os.path.join(skimage_dir, "chelsea.png")).convert("RGB").resize((72, 48)))


@pytest.mark.parametrize("layer", ["conv1_2", "conv3_1", "conv4_1"])
def test_peaks_are_the_channel_maxima_of_vgg19_and_boxes_its_receptive_fields(model, photo, layer):
    result = probe(model, photo, layer, size=72, precision="fp32")
    x = model.normalize(torch.from_numpy(photo.copy()).permute(2, 0, 1)[None].float() / 255)
    with torch.no_grad():
        a = torch.relu(model(x, [layer])[layer])[0]  # (C, H, W): max(0, conv)
    peaks = a.amax(dim=(1, 2))
    assert len(result.peaks) == a.shape[0]
    got = torch.tensor([p.peak for p in result.peaks])
    assert torch.all(got[:-1] >= got[1:])  # strongest first
    rf = receptive_field(layer)
    for p in result.peaks:
        assert p.peak == pytest.approx(float(peaks[p.unit]), rel=1e-4, abs=1e-3)
        assert float(a[p.unit, p.y, p.x]) == pytest.approx(p.peak, rel=1e-4, abs=1e-3)  # the peak sits at (y, x)
        top, left, bottom, right = rf.box(p.y, p.x)
        assert p.box == (max(top, 0), max(left, 0), min(bottom, 48), min(right, 72))


def test_a_photo_of_the_scanned_dataset_shows_the_index_values(model, tmp_path):
    folder = tmp_path / "photos"
    names = write_random_images(folder, 3, size=48, seed=4)
    settings = ScanSettings(size=48, k=3, per_image=1, precision="fp32", batch_size=4)
    index = scan(model, folder_dataset(folder), ["conv2_1"], settings)
    rgb = np.asarray(Image.open(folder / names[1]))
    result = probe(model, rgb, "conv2_1", size=48, precision="fp32")
    strongest = result.peaks[0]
    top = index.top("conv2_1")
    view = [v.file for v in index.views].index(names[1])
    slot = top.image[strongest.unit].tolist().index(view)  # k = 3 images: every image is in every unit's top-k
    assert float(top.value[strongest.unit, slot]) == pytest.approx(strongest.peak, rel=1e-5)
    assert (int(top.y[strongest.unit, slot]), int(top.x[strongest.unit, slot])) == (strongest.y, strongest.x)
    assert placement(result, strongest.unit, index).startswith(
        f"This photo's peak {strongest.peak:.1f} would rank {['1st', '2nd', '3rd'][slot]} among")


def test_pages_grid_and_overlay_have_the_shapes_promised(model, photo):
    result = probe(model, photo, "conv1_1", size=72, precision="fp32")
    tiles, page, pages = probe_page(result, 9, per_page=32, px=60)
    assert (page, pages) == (2, 2) and len(tiles) == 32  # 64 units, clamped to the last page
    assert tiles[0][0].shape == (40, 60, 3)  # the photo's aspect, long edge 60
    assert tiles[0][1] == f"unit {result.peaks[32].unit} · {result.peaks[32].peak:.1f}"
    assert grid_picture(result, 5, columns=3).shape[1] > 3 * 60
    assert unit_overlay(result, result.peaks[0].unit, px=144).shape == (96, 144, 3)


def test_resizing_is_said_and_bad_layers_and_tops_are_one_sentence(model):
    big = np.zeros((600, 900, 3), np.uint8)
    assert "900×600 px) was resized to 224×149 px" in probe(model, big, "conv1_1").note
    assert probe(model, np.zeros((3, 2, 3), np.uint8), "conv1_1", size=32).photo.shape[:2] == (32, 21)
    for call, said in ((lambda: probe(model, big, "relu3_1"), "layer must be a conv layer"),
                       (lambda: probe(model, big, "conv1_1", size=0), "probe size must be"),
                       (lambda: probe(model, big, "conv1_1").top(65), "top must be a whole number from 1 to 64")):
        with pytest.raises(InputError, match=said):
            call()


def test_cli_writes_the_picture_and_the_json_of_the_model(model, photo, tmp_path, capsys):
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    out, js = tmp_path / "probe.png", tmp_path / "probe.json"
    assert main(["probe", str(path), "--layer", "conv2_1", "--top", "5", "--size", "72", "--precision", "fp32",
                 "-o", str(out), "--json", str(js)]) == 0
    assert json.loads(js.read_text()) == probe(model, photo, "conv2_1", size=72, precision="fp32").top(5)
    assert Image.open(out).size[0] > 5 * 60
    for argv, said in ((["--layer", "conv2_1", "--top", "0"], "top must be a whole number from 1 to 128"),
                       (["--layer", "pool2"], "invalid choice"),
                       (["--layer", "conv2_1", "--json", str(tmp_path / "x.txt")], "must be a .json file")):
        assert main(["probe", str(path), *argv]) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    assert main(["probe", str(not_image), "--layer", "conv1_1"]) == 2
    assert "not an image" in capsys.readouterr().err
