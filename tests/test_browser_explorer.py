"""The Unit explorer in real headless Chromium at 1400 x 1000: a page of 16 conv1_1 units in "both" mode, then one
unit's synthesised image. Measured in the rendered page: every tile whole, no scrolling inside the gallery, every
caption whole, no server path on screen, no traceback in the server log."""
import re

import pytest
from playwright.sync_api import expect

from browser_page import app_page, layout, set_number

SERVER_PATH = re.compile(r"(/tmp/|/root|/home/|/work/|site-packages|\.cache|[A-Z]:\\)")


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("server")
    log = folder / "app.log"
    with app_page(log, tab="Unit explorer", timeout_ms=120_000, NST_EXPLORER_CACHE=str(folder / "cache")) as page:
        yield page, log


def test_a_page_of_units_in_both_modes_shows_every_tile_and_caption_whole(explorer, tmp_path):
    page, log = explorer
    page.get_by_label("both").check()  # shows the page: patches and projections
    tiles = page.locator("#units-gallery .thumbnail-item img")
    expect(tiles).to_have_count(16, timeout=300_000)
    page.evaluate("document.querySelectorAll('#units-gallery img').forEach(i => i.loading = 'eager')")  # off-screen too
    page.wait_for_function("[...document.querySelectorAll('#units-gallery .thumbnail-item img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    facts = layout(page, "#units-gallery")
    page.screenshot(path=str(tmp_path / "explorer_both.png"), full_page=True)
    assert all(i["inside"] for i in facts["items"]), facts["items"]  # nothing sticks out of its box or the gallery
    assert all(abs(i["shown"] / i["natural"] - 1) < 0.03 for i in facts["items"])  # drawn whole, not cropped
    assert all(i["width"] >= 300 for i in facts["items"])  # wide "both" tiles get two columns, not four
    assert facts["inner"] <= 1 and facts["innerX"] <= 1  # the page grows; the gallery does not scroll inside
    assert len(facts["captions"]) == 16 and all(c["whole"] for c in facts["captions"]), facts["captions"]
    assert all(re.fullmatch(r"conv1_1 unit \d+ · peak [\d.]+( · dead)?", c["text"]) for c in facts["captions"])
    assert not SERVER_PATH.search(page.locator("body").inner_text())


def test_one_units_synthesised_image_with_its_caption(explorer):
    page, log = explorer
    set_number(page, "vis-size", 32)
    page.get_by_role("button", name="Synthesise this unit").click()
    expect(page.locator("#unit-synthesis img")).to_be_visible(timeout=300_000)
    expect(page.get_by_text(re.compile(r"conv1_1 unit 0 — synthesised image that maximises the unit's mean of "
                                       r"max\(0, conv\) \(32 px, seed 0\)"))).to_be_visible()
    drawn = page.locator("#unit-synthesis img").evaluate(
        "i => ({natural: i.naturalWidth, shown: Math.min(i.clientWidth, i.clientHeight), fit: getComputedStyle(i).objectFit})")
    assert drawn["natural"] == 32 and drawn["shown"] >= 180 and drawn["fit"] == "contain", drawn  # enlarged to its box
    assert not SERVER_PATH.search(page.locator("body").inner_text())
    assert "Traceback" not in log.read_text()


def test_probing_a_photo_shows_sorted_maps_and_a_clicked_unit_whole(explorer, tmp_path):
    page, log = explorer
    page.get_by_role("button", name="Probe", exact=True).click()
    maps = page.locator("#probe-maps .thumbnail-item img")
    expect(maps).to_have_count(32, timeout=120_000)  # conv1_1's 64 units, a page of 32
    page.wait_for_function("[...document.querySelectorAll('#probe-maps .thumbnail-item img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    facts = layout(page, "#probe-maps")
    assert all(i["inside"] for i in facts["items"]) and facts["inner"] <= 1 and facts["innerX"] <= 1, facts
    assert all(c["whole"] for c in facts["captions"]), facts["captions"]
    peaks = [float(re.fullmatch(r"unit \d+ · ([\d.]+)", c["text"]).group(1)) for c in facts["captions"]]
    assert peaks == sorted(peaks, reverse=True) and len(peaks) == 32
    page.locator("#probe-maps .thumbnail-item").first.click()
    expect(page.locator("#probe-synthesis img")).to_be_visible(timeout=300_000)
    for box in ("#probe-on-photo", "#probe-projection", "#probe-top9", "#probe-synthesis"):
        img = page.locator(f"{box} img")
        expect(img).to_be_visible()
        r = img.bounding_box()
        assert r["width"] > 100 and r["x"] >= 0 and r["x"] + r["width"] <= 1400, (box, r)  # whole on the screen
    said = page.locator("#probe-unit-said").inner_text()
    assert re.search(r"conv1_1 unit \d+: peak [\d.]+ on your photo", said), said
    assert re.search(r"(would rank \d+(st|nd|rd|th) among|is below) the scikit-image sample photos dataset's top-9",
                     said), said
    page.screenshot(path=str(tmp_path / "probe.png"), full_page=True)
    assert not SERVER_PATH.search(page.locator("body").inner_text())
    assert "Traceback" not in log.read_text()
