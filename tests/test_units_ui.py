"""The Unit explorer tab's handlers on two uploaded images: a page of unit tiles, a unit's detail, clear errors."""
import gradio as gr
import numpy as np
import pytest
from PIL import Image

from nst_studio import explorer_tab


class Request:
    session_hash = "test-session"


class Click:
    index = 0


def no_progress(*args, **kwargs):
    pass


@pytest.fixture
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("NST_EXPLORER_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(5)
    paths = []
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(tmp_path / name)
        paths.append(str(tmp_path / name))
    (tmp_path / "notes.txt").write_text("not an image")
    return paths + [str(tmp_path / "notes.txt")]


def test_page_of_units_and_a_unit_in_detail(uploads, tmp_path):
    tiles, summary, page, state, detail = explorer_tab.show_page(
        explorer_tab.UPLOAD, uploads, "conv1_1", "patches", "deconvnet", 9, Request(), no_progress)
    assert len(tiles) == 16 and page == 4  # 64 units, 16 a page: page 9 is clamped to the last
    assert all(t.ndim == 3 and t.shape[2] == 3 for t, _ in tiles)
    peaks = [float(caption.split("peak ")[1].split(" ")[0]) for _, caption in tiles]
    assert peaks == sorted(peaks, reverse=True)
    assert "Skipped 1 unreadable files: notes.txt: not an image file" in summary
    assert "R = 3 px" in summary and list((tmp_path / "cache").glob("index-*.pt"))
    detail = explorer_tab.show_unit(state, "both", "guided", Click())
    assert len(detail) == 4  # 2 views, each a projection and a patch
    assert detail[0][1].startswith("projection (guided) · #1 ") and " · a = " in detail[1][1]
    assert detail[0][0].shape == detail[1][0].shape == (224, 224, 3)


def test_errors_are_one_line_gradio_errors(uploads, tmp_path):
    with pytest.raises(gr.Error, match="upload a zip of images or a few image files first"):
        explorer_tab.show_page(explorer_tab.UPLOAD, None, "conv1_1", "patches", "deconvnet", 1, Request(),
                               no_progress)
    (tmp_path / "x.zip").write_text("not a zip")
    with pytest.raises(gr.Error, match="upload either one zip or image files, not both"):
        explorer_tab.show_page(explorer_tab.UPLOAD, [str(tmp_path / "x.zip")] + uploads, "conv1_1", "patches",
                               "deconvnet", 1, Request(), no_progress)
    with pytest.raises(gr.Error, match="Show a page of units first"):
        explorer_tab.show_unit(None, "patches", "deconvnet", Click())


def test_stop_button_stops_the_scan(uploads):
    def stop_at_once(*args, **kwargs):
        explorer_tab.stop(Request())

    with pytest.raises(gr.Error, match="Stopped: scan stopped; finished shards are kept for the next run"):
        explorer_tab.show_page(explorer_tab.UPLOAD, uploads, "conv1_1", "patches", "deconvnet", 1, Request(),
                               stop_at_once)
