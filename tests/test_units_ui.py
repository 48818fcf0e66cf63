"""The Unit explorer tab's handlers on two uploaded images: a page of unit tiles, a unit's detail, synthesised
images beside the patches, and a sentence (never an IndexError) for out-of-range or stale selections."""
import json

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from explorer.featurevis.vis_settings import PNG_KEY, VisSettings
from nst_studio import explorer_tab


class Request:
    session_hash = "test-session"


class Click:
    def __init__(self, index=0, caption=None):
        self.index, self.value = index, None if caption is None else {"caption": caption}


def last(generator):
    *_, final = generator
    return final


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
    gallery, summary, page, state, detail = last(explorer_tab.show_page(
        explorer_tab.UPLOAD, uploads, "conv1_1", "patches", "deconvnet", 9, Request(), no_progress))
    tiles = gallery["value"]
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


def test_synthesised_images_sit_beside_the_patches_and_in_the_detail(uploads, monkeypatch):
    monkeypatch.setattr(explorer_tab, "VIS", VisSettings(steps=3, scales=1))
    calls = []
    first, final = list(explorer_tab.show_page(explorer_tab.UPLOAD, uploads, "conv1_1", "both", "deconvnet", 1,
                                               Request(), lambda *a, **k: calls.append(a), synthesise=True,
                                               vis_size=32, vis_seed=0))
    waiting, done = first[0]["value"][0][0], final[0]["value"][0][0]
    assert waiting.shape == done.shape and not np.array_equal(waiting, done)  # the tile keeps its size meanwhile
    assert waiting.shape[1] > 2.9 * waiting.shape[0]  # synthesis, projections, patches side by side
    assert first[0]["columns"] == final[0]["columns"] == 2 and "synthesised image that maximises the unit's mean of max(0, conv)" in final[1]
    assert calls[-1][0] == (3, 3)  # the last progress report: step 3 of 3
    detail = explorer_tab.show_unit(final[3], "patches", "deconvnet", Click(0, final[0]["value"][0][1]))
    assert detail[0][1].startswith("Synthesised image that maximises") and detail[0][0].shape == (224, 224, 3)
    unit = final[3]["units"][0]
    png, caption = explorer_tab.visualize_unit("conv1_1", unit, 32, 0, "channel", Request(), no_progress)
    with Image.open(png) as image:  # a PNG to download that says how it was made
        made = json.loads(image.text[PNG_KEY])
        assert np.array_equal(np.asarray(image), final[3]["synthesis"][0][unit])  # remembered, not redone
    assert made["layer"] == "conv1_1" and made["units"] == [unit] and made["settings"]["size"] == 32
    png, caption = explorer_tab.visualize_unit("conv1_1", unit, 32, 0, "neuron", Request(), no_progress)
    with Image.open(png) as image:
        assert json.loads(image.text[PNG_KEY])["settings"]["objective"] == "neuron"
        assert not np.array_equal(np.asarray(image), final[3]["synthesis"][0][unit])  # its own image, not the cached one
    assert "maximises the unit's centre value of max(0, conv)" in caption
    assert "conv1_1 unit" in caption and "32 px, seed 0" in caption


def test_errors_are_one_line_gradio_errors(uploads, tmp_path):
    with pytest.raises(gr.Error, match="give a zip of images or a few image files first"):
        last(explorer_tab.show_page(explorer_tab.UPLOAD, None, "conv1_1", "patches", "deconvnet", 1, Request(),
                                    no_progress))
    (tmp_path / "x.zip").write_text("not a zip")
    with pytest.raises(gr.Error, match="upload either one zip or image files, not both"):
        last(explorer_tab.show_page(explorer_tab.UPLOAD, [str(tmp_path / "x.zip")] + uploads, "conv1_1",
                                    "patches", "deconvnet", 1, Request(), no_progress))
    with pytest.raises(gr.Error, match="Show a page of units first"):
        explorer_tab.show_unit(None, "patches", "deconvnet", Click())


def test_out_of_range_and_stale_selections_get_a_sentence(uploads):
    *_, state, _ = last(explorer_tab.show_page(explorer_tab.UPLOAD, uploads, "conv1_1", "patches", "deconvnet", 1,
                                               Request(), no_progress))
    stale = "That unit is not on the page shown any more; click a unit of the current page."
    with pytest.raises(gr.Error, match=stale):
        explorer_tab.show_unit(state, "patches", "deconvnet", Click(16))  # past the end of a 16-unit page
    with pytest.raises(gr.Error, match=stale):  # a click on the previous page's gallery, answered after this page
        explorer_tab.show_unit(state, "patches", "deconvnet", Click(0, "conv1_1 unit 999 · peak 1"))
    with pytest.raises(gr.Error, match="unit of conv1_1 must be a whole number from 0 to 63; got 64"):
        explorer_tab.visualize_unit("conv1_1", 64, 32, 0, "channel", Request(), no_progress)
    with pytest.raises(gr.Error, match="layer must be one of conv1_1, .*conv5_4; got 'conv6_1'"):
        explorer_tab.visualize_unit("conv6_1", 0, 32, 0, "channel", Request(), no_progress)
    with pytest.raises(gr.Error, match="Layer must be one of .*; got 'relu1_1'"):
        last(explorer_tab.show_page(explorer_tab.UPLOAD, uploads, "relu1_1", "patches", "deconvnet", 1, Request(),
                                    no_progress))


def test_stop_button_stops_the_scan(uploads):
    def stop_at_once(*args, **kwargs):
        explorer_tab.stop(Request())

    with pytest.raises(gr.Error, match="Stopped: scan stopped; finished shards are kept for the next run"):
        last(explorer_tab.show_page(explorer_tab.UPLOAD, uploads, "conv1_1", "patches", "deconvnet", 1, Request(),
                                    stop_at_once))
