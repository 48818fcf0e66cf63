"""Hub datasets (hf:...) go through datasets.load_dataset(..., streaming=True); tested on datasets built here with
the datasets library (an image folder and a parquet file), since the machines have no internet."""
import io
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.units.datasets import DatasetError, folder_dataset, open_dataset
from explorer.units.hub import HubDataset
from explorer.units.index import ScanSettings
from explorer.units.scan import scan
from explorer.units.tiles import ViewLoader
from nst_core.vgg import load_vgg19
from units_helpers import write_random_images

datasets = pytest.importorskip("datasets")  # a listed dependency (requirements.txt)

LAYERS = ("conv1_1", "conv2_1")
SETTINGS = ScanSettings(size=32, precision="fp32", batch_size=4)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def model():
    return load_vgg19("caffe")


@pytest.fixture
def image_folder(tmp_path):
    """An image folder as datasets reads it: five photos and one broken file."""
    folder = tmp_path / "photos"
    write_random_images(folder, 5, size=40, seed=2)
    (folder / "img9.png").write_bytes(b"\x89PNG\r\n\x1a\n cut off")
    return folder


def png_bytes(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (36, 44, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_hub_path_scans_like_the_same_folder(model, image_folder, tmp_path):
    hub = open_dataset(f"hf:{image_folder}", tmp_path / "store")
    assert isinstance(hub, HubDataset) and hub.name == f"hf:{image_folder}:train" and hub.column == "image"
    streamed = scan(model, hub, LAYERS, SETTINGS)
    direct = scan(model, folder_dataset(image_folder), LAYERS, SETTINGS)
    assert [v.file for v in streamed.views] == [f"{i:06d}.png" for i in range(5)]  # named by position
    assert [why for _, why in streamed.skipped] == [why for _, why in direct.skipped]
    assert streamed.skipped[0][0] == "000005.png" and "img9.png" in streamed.skipped[0][1]
    for layer in LAYERS:
        assert torch.equal(streamed.layers[layer].value, direct.layers[layer].value)
        assert torch.equal(streamed.layers[layer].image, direct.layers[layer].image)
    # patches are drawn from the images kept after the scan, exactly as scanned
    shown = {streamed.views[i].file for top in streamed.layers.values() for i in top.image.flatten().tolist()
             if i >= 0}
    assert set(os.listdir(streamed.dataset.root)) == shown
    assert np.array_equal(ViewLoader(streamed)(3), ViewLoader(direct)(3))


def test_parquet_with_image_bytes_named_column_and_a_broken_item(model, tmp_path):
    rows = {"label": [0, 1, 2], "picture": [{"bytes": png_bytes(0), "path": None},
                                              {"bytes": b"not an image", "path": None},
                                              {"bytes": png_bytes(1), "path": None}]}
    table = datasets.Dataset.from_dict(rows).cast_column("picture", datasets.Image())
    table.to_parquet(str(tmp_path / "parquet" / "validation.parquet"))
    hub = open_dataset(f"hf:{tmp_path / 'parquet'}:validation:picture", tmp_path / "store")
    index = scan(model, hub, ["conv1_1"], SETTINGS)
    assert [v.file for v in index.views] == ["000000", "000002"]
    assert index.skipped == [("000001", "000001: not an image file Pillow can read")]
    assert index.dataset.files == ("000000", "000001", "000002")


@pytest.mark.parametrize("suffix, message", [
    (":test", "no split 'test'"),
    (":train:label", "has no image column 'label' (image columns: image)"),
    (":train:image:extra", "write a Hub dataset as hf:OWNER/NAME"),
])
def test_bad_split_or_column_is_one_sentence(image_folder, tmp_path, suffix, message):
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        open_dataset(f"hf:{image_folder}{suffix}", tmp_path / "store")


def test_unreachable_hub_is_one_line_and_exit_2(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # what load_dataset meets without a network, without waiting
    run = subprocess.run([sys.executable, "-m", "explorer", "scan", "hf:someone/photos", "--layers", "conv1_1",
                          "--out", str(tmp_path / "i.pt"), "--cache", str(tmp_path / "cache")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "explorer: error: hf:someone/photos: the Hugging Face Hub could not be reached; check the internet "
        "connection, or scan a folder or zip instead"]
    assert not (tmp_path / "i.pt").exists()


@pytest.mark.parametrize("name, message", [
    ("", "type a Hugging Face dataset name first"),
    ("../..", "'../..' is not a Hugging Face dataset name"),
    ("/etc", "'/etc' is not a Hugging Face dataset name"),
    ("tests/units_helpers.py", "'tests/units_helpers.py' is not a Hugging Face dataset name"),  # a server file
])
def test_app_takes_hub_names_only_with_one_sentence(name, message, monkeypatch):
    from explorer.units import service

    monkeypatch.chdir(ROOT)
    with pytest.raises(DatasetError, match="^" + message.replace(".", r"\.")):
        service.dataset_choice(False, None, name)
