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
