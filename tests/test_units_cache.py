"""The scan cache is reused (nothing recomputed), keyed by the data; unreadable files are skipped and reported."""
import os
import shutil
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.units import scan as scan_module
from explorer.units.datasets import BUILTIN_NOT_PHOTOS, DatasetError, builtin_dataset, files_dataset, folder_dataset, zip_dataset
from explorer.units.index import BadIndexError, Index, ScanSettings
from explorer.units.scan import cached_scan
from nst_core.vgg import load_vgg19
from units_helpers import write_random_images

SETTINGS = ScanSettings(size=32, precision="fp32")


@pytest.fixture(scope="module")
def model():
    return load_vgg19("caffe")


@pytest.fixture
def counted_scans(monkeypatch):
    """Records the layers of every real scan that cached_scan starts."""
    calls = []
    real = scan_module.scan

    def counting(model, dataset, layers, *args, **kw):
        calls.append(tuple(layers))
        return real(model, dataset, layers, *args, **kw)

    monkeypatch.setattr(scan_module, "scan", counting)
    return calls


def test_second_scan_reuses_the_cache(model, tmp_path, counted_scans):
    write_random_images(tmp_path / "data", 4)
    dataset = folder_dataset(tmp_path / "data")
    first = cached_scan(model, dataset, ["conv1_1", "conv2_1"], SETTINGS, cache=tmp_path / "cache")
    (path,) = (tmp_path / "cache").glob("index-*.pt")
    stamp = os.stat(path).st_mtime_ns
    again = cached_scan(model, folder_dataset(tmp_path / "data"), ["conv2_1"], SETTINGS, cache=tmp_path / "cache")
    assert counted_scans == [("conv1_1", "conv2_1")]  # nothing recomputed
    assert os.stat(path).st_mtime_ns == stamp
    assert (again.top("conv2_1").value == first.top("conv2_1").value).all()
    more = cached_scan(model, dataset, ["conv1_1", "conv3_1"], SETTINGS, cache=tmp_path / "cache")
    assert counted_scans[-1] == ("conv3_1",)  # only the missing layer
    assert set(Index.load(path).layers) == {"conv1_1", "conv2_1", "conv3_1"} == set(more.layers)


def test_changed_file_or_settings_mean_a_new_scan(model, tmp_path, counted_scans):
    write_random_images(tmp_path / "data", 3)
    cached_scan(model, folder_dataset(tmp_path / "data"), ["conv1_1"], SETTINGS, cache=tmp_path / "cache")
    write_random_images(tmp_path / "data", 1, seed=9)  # img0.png now has other pixels
    cached_scan(model, folder_dataset(tmp_path / "data"), ["conv1_1"], SETTINGS, cache=tmp_path / "cache")
    cached_scan(model, folder_dataset(tmp_path / "data"), ["conv1_1"], ScanSettings(size=40, precision="fp32"),
                cache=tmp_path / "cache")
    assert len(counted_scans) == 3
    assert len(list((tmp_path / "cache").glob("index-*.pt"))) == 3


def test_unreadable_files_are_skipped_and_reported(model, tmp_path, skimage_dir):
    data = tmp_path / "data"
    write_random_images(data, 2)
    (data / "notes.txt").write_text("not an image")
    (data / "empty.png").write_bytes(b"")
    with open(os.path.join(skimage_dir, "rocket.jpg"), "rb") as f:
        (data / "cut.jpg").write_bytes(f.read(2000))
    index = cached_scan(model, folder_dataset(data), ["conv1_1"], SETTINGS, cache=tmp_path / "cache")
    assert [v.file for v in index.views] == ["img0.png", "img1.png"]
    reasons = dict(index.skipped)
    assert set(reasons) == {"notes.txt", "empty.png", "cut.jpg"}
    assert reasons["empty.png"] == "empty.png: the file is empty"
    assert reasons["notes.txt"].startswith("notes.txt: not an image file")


def test_a_dataset_with_no_readable_image_is_an_error(model, tmp_path):
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(DatasetError, match="no readable images"):
        cached_scan(model, folder_dataset(tmp_path), ["conv1_1"], SETTINGS, cache=tmp_path / "cache")


def test_zip_and_uploaded_files_become_datasets(tmp_path):
    names = write_random_images(tmp_path / "src", 2)
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for n in names:
            z.write(tmp_path / "src" / n, f"inner/{n}")
        z.writestr("__MACOSX/inner/._img0.png", b"junk")
    from_zip = zip_dataset(archive, tmp_path / "store")
    assert from_zip.files == tuple(f"inner/{n}" for n in names)
    assert zip_dataset(archive, tmp_path / "store").root == from_zip.root  # extracted once, reused
    uploaded = files_dataset([tmp_path / "src" / n for n in names], tmp_path / "store")
    assert uploaded.files == tuple(names) and uploaded.fingerprint() != from_zip.fingerprint()
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("../escape.png", b"x")
    with pytest.raises(DatasetError, match="unsafe path"):
        zip_dataset(bad, tmp_path / "store")
    (tmp_path / "fake.zip").write_text("hello")
    with pytest.raises(DatasetError, match="fake.zip: not a readable zip"):
        zip_dataset(tmp_path / "fake.zip", tmp_path / "store")


def test_builtin_dataset_is_scikit_image_photos_at_two_zooms(skimage_dir):
    dataset = builtin_dataset()
    assert dataset.root == skimage_dir and dataset.zooms == (1, 2)
    assert {"astronaut.png", "coffee.png", "chelsea.png"} <= set(dataset.files)
    assert not set(BUILTIN_NOT_PHOTOS) & set(dataset.files)
    for f in dataset.files:
        with Image.open(dataset.path(f)) as img:
            assert min(img.size) >= 128


def test_fingerprint_follows_content_not_file_times(tmp_path):
    write_random_images(tmp_path / "a", 2)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    os.utime(tmp_path / "b" / "img0.png", (0, 0))
    assert folder_dataset(tmp_path / "a").fingerprint() == folder_dataset(tmp_path / "b").fingerprint()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(tmp_path / "b" / "img0.png")
    assert folder_dataset(tmp_path / "a").fingerprint() != folder_dataset(tmp_path / "b").fingerprint()


def test_stopped_scan_resumes_after_its_last_finished_shard(model, tmp_path, monkeypatch):
    import threading

    import torch

    from explorer.units import shards
    from explorer.units.scan import Stopped

    monkeypatch.setattr(shards, "SHARD_ITEMS", 3)
    write_random_images(tmp_path / "data", 10)
    dataset = folder_dataset(tmp_path / "data")
    settings = ScanSettings(size=32, precision="fp32", batch_size=2)  # 2 items per batch: batches span shard ends
    whole = scan_module.scan(model, dataset, ["conv1_1", "conv2_1"], settings)
    stop = threading.Event()
    with pytest.raises(Stopped):
        cached_scan(model, dataset, ["conv1_1", "conv2_1"], settings, cache=tmp_path / "cache",
                    progress=lambda done, total: done >= 7 and stop.set(), stop=stop)
    [checkpoint] = (tmp_path / "cache" / "partial").iterdir()
    assert torch.load(checkpoint, weights_only=True)["done"] == 6  # shards [0, 3) and [3, 6) finished
    read = []
    real_items = type(dataset).items
    monkeypatch.setattr(type(dataset), "items", lambda self, start=0: (read.append(start), real_items(self, start))[1])
    resumed = cached_scan(model, dataset, ["conv1_1", "conv2_1"], settings, cache=tmp_path / "cache")
    assert read == [6]  # the finished shards were not read again
    assert resumed.views == whole.views
    for layer in ("conv1_1", "conv2_1"):
        assert torch.equal(resumed.layers[layer].image, whole.layers[layer].image)
        assert torch.allclose(resumed.layers[layer].value, whole.layers[layer].value)
    assert not checkpoint.exists()


@pytest.mark.parametrize("payload, said", [
    ({"format": 2}, "the field 'settings' is missing"),
    ({"format": 2, "weights": 3, "preprocessing": "", "settings": {}, "dataset": {}, "fingerprint": "", "views": [],
      "skipped": [], "layers": {}}, "the field 'settings' should hold"),
    ({"format": 1}, "not an explorer index of format 2"),
    (b"", "not an explorer index"),
    (b"PK\x03\x04cut off", "not an explorer index"),
])
def test_a_tampered_index_is_one_sentence_and_exit_2(tmp_path, capsys, payload, said):
    from explorer.__main__ import main
    path = tmp_path / "bad.pt"
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        torch.save(payload, path)
    assert main(["render", str(path), "--layer", "conv1_1", "-o", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_an_index_whose_unit_count_disagrees_with_its_layer_is_refused(tmp_path):
    entry = {k: torch.zeros(10, 9, dtype=torch.float32 if k == "value" else torch.int64) for k in ("value", "image",
                                                                                                   "y", "x")}
    d = {"format": 2, "weights": "w", "preprocessing": "p",
         "settings": {"size": 224, "k": 9, "per_image": 1, "precision": "fp32", "batch_size": 16},
         "dataset": {"name": "n", "root": str(tmp_path), "files": [], "zooms": [1]}, "fingerprint": "f",
         "views": [], "skipped": [], "layers": {"conv1_1": entry}}
    torch.save(d, tmp_path / "i.pt")
    with pytest.raises(BadIndexError, match=r"conv1_1 should hold 64 units x 9 entries, not 10 x 9"):
        Index.load(tmp_path / "i.pt")
