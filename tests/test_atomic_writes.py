"""Files the app serves or reads back are written to a temporary name and renamed into place: a reader looping
over a file while a writer rewrites it sees a whole file every time, and a failed write leaves the old file."""
import io
import threading

import numpy as np
import pytest
import torch
from gradio import processing_utils
from PIL import Image

from explorer.units.datasets import Dataset
from explorer.units.index import Index, ScanSettings
from explorer.units.topk import TopK
from nst_core.atomic import replacing
from nst_core.metadata import write_bytes, write_png
from nst_studio import served

REWRITES = 60


def race(write, read, rewrites: int = REWRITES) -> list:
    """Run ``write(i)`` ``rewrites`` times in a thread while this thread calls ``read()`` in a loop; the reads."""
    done = threading.Event()
    failures = []

    def writer():
        try:
            for i in range(rewrites):
                write(i)
        except BaseException as e:  # pragma: no cover - reported below
            failures.append(e)
        finally:
            done.set()

    write(0)
    thread = threading.Thread(target=writer)
    thread.start()
    reads = []
    while not done.is_set() or not reads:
        reads.append(read())
    thread.join()
    assert not failures, failures
    return reads


def noise(side: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)


def test_a_png_rewritten_in_a_loop_is_always_read_whole(tmp_path):
    pictures = [noise(96, 0), noise(160, 1)]  # two sizes: a partial file would show as a broken or short PNG
    path = tmp_path / "result.png"

    def read():
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # raises on a cut-off file
            return np.asarray(img)

    reads = race(lambda i: write_png(path, pictures[i % 2]), read)
    assert len(reads) > 1
    assert all(any(np.array_equal(r, p) for p in pictures) for r in reads)
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]  # no temporary files left


def test_an_index_rewritten_in_a_loop_is_always_read_whole(tmp_path):
    def index(units_of_conv1: int) -> Index:
        top = TopK.empty(64, 9)
        return Index("w", "p", ScanSettings(), Dataset("d", "/nowhere", ("a.png",)), "f", [], [],
                     {"conv1_1": top} if units_of_conv1 else {})

    versions = [index(0), index(64)]
    path = tmp_path / "index.pt"
    reads = race(lambda i: versions[i % 2].save(path), lambda: set(Index.load(path).layers))
    assert set(map(frozenset, reads)) <= {frozenset(), frozenset({"conv1_1"})}


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = write_bytes(tmp_path / "kept.bin", b"old")
    with pytest.raises(RuntimeError):
        with replacing(path) as f:
            f.write(b"new, half")
            raise RuntimeError("disk full")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["kept.bin"]


def test_gradio_cache_images_returned_again_are_served_whole(tmp_path, monkeypatch):
    """The same image returned by two events lands on the same cache file: with the writers of ``served`` it is
    replaced whole, so a reader never sees it short."""
    picture = Image.fromarray(noise(300, 2))
    expected = processing_utils.encode_pil_to_bytes(picture, "webp")
    monkeypatch.setattr(processing_utils, "save_pil_to_cache", processing_utils.save_pil_to_cache)
    monkeypatch.setattr(processing_utils, "save_bytes_to_cache", processing_utils.save_bytes_to_cache)
    served.write_cache_atomically()
    first = processing_utils.save_img_array_to_cache(np.asarray(picture), str(tmp_path))  # as gr.Image does
    assert open(first, "rb").read() == expected

    def read():
        with open(first, "rb") as f:
            return len(f.read())

    reads = race(lambda i: processing_utils.save_pil_to_cache(picture, str(tmp_path)), read)
    assert set(reads) == {len(expected)}
    path = processing_utils.save_bytes_to_cache(b"RIFF0000WAVEdata", "clip", str(tmp_path))
    assert path.endswith("clip.wav") and open(path, "rb").read() == b"RIFF0000WAVEdata"
