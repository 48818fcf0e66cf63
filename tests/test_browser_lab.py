"""The Layer-depth lab in real headless Chromium at 1400 x 1000, at 48 px and 2 steps per panel (set through the
controls). Measured in the rendered page: both rows show all five panels whole with whole captions that give the PSNR,
the galleries keep their height while the panels fill in, no traceback in the server log."""
import re

import pytest
from playwright.sync_api import expect

from browser_page import app_page, layout, set_number

ROWS = ("#lab-content-row", "#lab-style-row")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "app.log"
    with app_page(log, tab="Layer-depth lab", timeout_ms=120_000) as page:
        yield page, log


def heights(page) -> list[float]:
    """Each row's height, and the width of each row's first panel once there is one (0 before)."""
    tiles = [page.locator(f"{row} .thumbnail-item") for row in ROWS]
    return ([page.locator(row).bounding_box()["height"] for row in ROWS]
            + [t.first.bounding_box()["width"] if t.count() else 0 for t in tiles])


def test_both_rows_show_all_panels_with_whole_psnr_captions_and_hold_still(lab, tmp_path):
    page, log = lab
    set_number(page, "lab-size", 48)
    set_number(page, "lab-steps", 2)
    before = heights(page)
    page.locator("#lab-run").click()
    status = page.locator("#lab-status textarea")
    seen = [before]
    while not status.input_value().startswith("Done"):  # sample the rows' heights while the panels fill in
        page.wait_for_timeout(300)
        seen.append(heights(page))
        assert "rror" not in status.input_value(), status.input_value()
    expect(status).to_have_value(re.compile(r"^Done: 10 panels in \d+ s\.$"))
    page.wait_for_function("[...document.querySelectorAll('#lab-content-row img, #lab-style-row img')]"
                           ".filter(i => i.complete && i.naturalWidth > 0).length >= 10")
    seen.append(heights(page))
    page.screenshot(path=str(tmp_path / "lab.png"), full_page=True)
    for k in range(4):  # the rows' heights, and their panels' widths from the first panel on, never change
        sizes = [h[k] for h in seen if h[k] > 0]
        assert max(sizes) - min(sizes) < 2, seen
    for row in ROWS:
        facts = layout(page, row)
        assert len(facts["items"]) == 5 and all(i["inside"] for i in facts["items"]), (row, facts["items"])
        assert all(i["fit"] == "contain" for i in facts["items"])  # each picture drawn whole in its tile, never cropped
        assert facts["inner"] <= 1 and facts["innerX"] <= 1, (row, facts)  # no scrolling inside the row
        assert len(facts["captions"]) == 5 and all(c["whole"] for c in facts["captions"]), facts["captions"]
        assert all(re.fullmatch(r"relu\S+( (\+|…) relu\S+)? · \d+\.\d dB", c["text"]) for c in facts["captions"])
        gallery = page.locator(row).bounding_box()
        for caption in page.locator(f"{row} .caption-label").all():  # drawn below its picture, inside the row
            box = caption.bounding_box()
            assert box["height"] >= 10 and box["y"] + box["height"] <= gallery["y"] + gallery["height"], (box, gallery)
            tile = caption.evaluate("c => { const r = c.closest('.thumbnail-item').getBoundingClientRect(); "
                                    "return r.y + r.height; }")
            assert box["y"] + box["height"] <= tile + 1  # not cut off by its tile
        for item in page.locator(f"{row} .thumbnail-item").all():  # inside the window: all five seen at once
            box = item.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1400
    assert "Traceback" not in log.read_text()
