"""Damaged archives and folders: good files are used, bad ones listed as skipped, an empty dataset is one sentence."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from explorer.__main__ import main
from explorer.units.datasets import DatasetError, folder_dataset, zip_dataset
from explorer.units.index import ScanSettings
from explorer.units.scan import scan
from explorer.units.service import layer_summary
from nst_core.checks import InputError
from nst_core.vgg import load_vgg19

SETTINGS = ScanSettings(size=32, precision="fp32")


@pytest.fixture(scope="module")
def model():
    return load_vgg19("caffe")


def png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def write_zip(path, members: dict, method=zipfile.ZIP_DEFLATED) -> bytes:
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path.read_bytes()


def corrupt_member(raw: bytes, path, name: str) -> bytes:
    """Flip one byte inside member ``name``'s data."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(name)
    data = bytearray(raw)
    data[info.header_offset + 30 + len(info.filename) + len(info.extra) + 10] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_member_with_bad_crc_is_skipped_and_listed(model, tmp_path, method):
    source = tmp_path / "photos.zip"
    raw = write_zip(source, {"a.png": png(0), "b.png": png(1), "c.png": png(2)}, method)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(corrupt_member(raw, source, "b.png"))
    dataset = zip_dataset(damaged, tmp_path / "store")
    assert dataset.files == ("a.png", "c.png")
    index = scan(model, dataset, ["conv1_1"], SETTINGS)
    assert [v.file for v in index.views] == ["a.png", "c.png"]
    assert [name for name, _ in index.skipped] == ["b.png"]
    assert index.skipped[0][1].startswith("b.png: the zip holds")
    assert "2 views of 32×32 px from 2 images" in layer_summary(index, "conv1_1")  # not 3 − 1 − 1
    again = zip_dataset(damaged, tmp_path / "store")  # extracted once; the skipped list is kept with it
    assert again.skipped == dataset.skipped


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_truncated_zip_gives_the_members_before_the_cut(model, tmp_path, method):
    raw = write_zip(tmp_path / "photos.zip", {"a.png": png(0), "b.png": png(1), "c.png": png(2)}, method)
    with zipfile.ZipFile(tmp_path / "photos.zip") as z:
        cut = z.getinfo("c.png").header_offset + 60  # inside c.png's data; the central directory is gone
    (tmp_path / "cut.zip").write_bytes(raw[:cut])
    dataset = zip_dataset(tmp_path / "cut.zip", tmp_path / "store")
    assert dataset.files == ("a.png", "b.png")
    assert dataset.skipped == (("c.png", "c.png: the zip is cut off inside this file"),)
    index = scan(model, dataset, ["conv1_1"], SETTINGS)
    assert len(index.views) == 2 and [n for n, _ in index.skipped] == ["c.png"]


def test_unreadable_files_among_good_ones_in_a_zip(model, tmp_path):
    write_zip(tmp_path / "mixed.zip", {"a.png": png(0), "notes.txt": b"hello", "empty.jpg": b"",
                                       "sub/b.png": png(1), "half.png": png(2)[:80]})
    index = scan(model, zip_dataset(tmp_path / "mixed.zip", tmp_path / "store"), ["conv1_1"], SETTINGS)
    assert [v.file for v in index.views] == ["a.png", "sub/b.png"]
    assert sorted(n for n, _ in index.skipped) == ["empty.jpg", "half.png", "notes.txt"]
    assert dict(index.skipped)["empty.jpg"] == "empty.jpg: the file is empty"


@pytest.mark.parametrize("members", [{"readme.txt": b"no pictures here"}, {"a.png": b"", "b.jpg": b"xx"}])
def test_zip_without_images_is_one_sentence(model, tmp_path, members):
    write_zip(tmp_path / "none.zip", members)
    with pytest.raises(DatasetError, match=r"^none: no readable images \(\d+ skipped: .*\); add JPEG or PNG images$"):
        scan(model, zip_dataset(tmp_path / "none.zip", tmp_path / "store"), ["conv1_1"], SETTINGS)


def test_empty_zip_and_empty_or_imageless_folder_are_one_sentence(model, tmp_path):
    write_zip(tmp_path / "empty.zip", {})
    with pytest.raises(DatasetError, match="^empty.zip: the zip has no files; add JPEG or PNG images$"):
        zip_dataset(tmp_path / "empty.zip", tmp_path / "store")
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / ".DS_Store").write_bytes(b"clutter")
    with pytest.raises(DatasetError, match="^nothing: no usable files; add JPEG or PNG images$"):
        folder_dataset(tmp_path / "nothing")
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a.txt").write_text("words")
    with pytest.raises(InputError, match="^texts: no readable images \\(1 skipped: a.txt: "):
        scan(model, folder_dataset(tmp_path / "texts"), ["conv1_1"], SETTINGS)


def test_not_a_zip_at_all_is_one_sentence(tmp_path):
    (tmp_path / "fake.zip").write_bytes(b"hello, not a zip")
    with pytest.raises(DatasetError, match="^fake.zip: not a readable zip file"):
        zip_dataset(tmp_path / "fake.zip", tmp_path / "store")


def test_command_line_uses_a_damaged_zip_and_refuses_an_empty_one(tmp_path, capsys):
    raw = write_zip(tmp_path / "photos.zip", {"a.png": png(0), "b.png": png(1)})
    (tmp_path / "cut.zip").write_bytes(raw[:-30])  # the central directory's end is gone
    args = ["--layers", "conv1_1", "--size", "32", "--cache", str(tmp_path / "cache")]
    assert main(["scan", str(tmp_path / "cut.zip"), "--out", str(tmp_path / "i.pt"), *args]) == 0
    assert "2 views of 2 images, 0 files skipped" in capsys.readouterr().out
    write_zip(tmp_path / "empty.zip", {"readme.txt": b"x"})
    assert main(["scan", str(tmp_path / "empty.zip"), "--out", str(tmp_path / "j.pt"), *args]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == ("explorer: error: empty: no readable images (1 skipped: readme.txt: not "
                                            "an image file Pillow can read); add JPEG or PNG images")
    assert err.count("error") == 1 and "Traceback" not in err  # above it only the progress bar
    assert not (tmp_path / "j.pt").exists()
