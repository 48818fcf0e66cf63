"""The app's uploads, results and caches stay within NST_CACHE_LIMIT: filled past the bound, the oldest files go
first until the bound holds; files in use (open in this process, or younger than MIN_AGE_S) are never deleted."""
import os
import time

import pytest

from nst_core import disk
from nst_core.checks import InputError
from nst_studio import images

KB = 1024


def fill(folder, names_and_ages, size=10 * KB):
    """Files of ``size`` bytes with modification times ``age`` seconds ago; their paths."""
    now = time.time()
    paths = []
    for name, age in names_and_ages:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
        os.utime(path, (now - age, now - age))
        paths.append(path)
    return paths


def test_past_the_bound_the_oldest_files_go_first_until_it_holds(tmp_path):
    uploads, results = tmp_path / "uploads", tmp_path / "results"
    old = fill(uploads, [(f"h{i}/upload{i}.png", 10_000 - i) for i in range(6)])  # h0 is the oldest
    newer = fill(results, [(f"result{i}.png", 3000 - i) for i in range(4)])
    freed, kept = disk.trim([uploads, results], limit=55 * KB)
    assert kept <= 55 * KB and freed == 50 * KB
    assert [p.exists() for p in old] == [False] * 5 + [True]
    assert all(p.exists() for p in newer)
    assert sorted(p.name for p in uploads.iterdir()) == ["h5"]  # emptied folders are gone, the roots stay
    assert disk.trim([uploads, results], limit=55 * KB) == (0, kept)  # within the bound: nothing to do


def test_files_in_use_are_never_deleted(tmp_path):
    young = fill(tmp_path, [("just_written.png", 10)])[0]
    served = fill(tmp_path, [("being_served.png", 9_000)])[0]
    others = fill(tmp_path, [(f"old{i}.png", 5_000) for i in range(3)])
    with open(served, "rb"):  # a download in progress holds the file open
        freed, kept = disk.trim([tmp_path], limit=0)
    assert young.exists() and served.exists() and not any(p.exists() for p in others)
    assert (freed, kept) == (30 * KB, 20 * KB)


def test_the_limit_comes_from_nst_cache_limit(monkeypatch):
    monkeypatch.delenv(disk.LIMIT_ENV, raising=False)
    assert disk.cache_limit() == 2 * 2**30
    monkeypatch.setenv(disk.LIMIT_ENV, "500M")
    assert disk.cache_limit() == 500 * 2**20
    monkeypatch.setenv(disk.LIMIT_ENV, "lots")
    with pytest.raises(InputError, match=r"^NST_CACHE_LIMIT must be a size such as 4G"):
        disk.cache_limit()


def test_the_app_keeps_uploads_results_and_explorer_caches_within_the_bound(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.setenv("NST_EXPLORER_CACHE", str(tmp_path / "explorer"))
    monkeypatch.setattr(images, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setenv(disk.LIMIT_ENV, "64M")
    assert images.app_folders() == [tmp_path / "results", tmp_path / "gradio", tmp_path / "explorer"]
    mb = 2**20
    fill(tmp_path / "gradio", [(f"u{i}/photo.png", 2000 + i) for i in range(40)], size=mb)
    fill(tmp_path / "explorer", [(f"datasets/zip-{i}/a.png", 1000 + i) for i in range(40)], size=mb)
    path = images.result_path("stylized")  # writing a result keeps the bound
    assert path.parent == tmp_path / "results"
    total = sum(size for _, size, _ in disk.files_under(images.app_folders()))
    assert 60 * mb <= total <= 64 * mb
    left = sorted(p.parent.name for p in (tmp_path / "gradio").rglob("photo.png"))
    assert left and all(int(n[1:]) < len(left) for n in left)  # the newest uploads (youngest: u0) are kept
    assert len(list((tmp_path / "explorer").rglob("a.png"))) == 40  # the explorer's files were newer
