"""End to end in real headless Chromium: load an example, stylize, stop a second run, see the lab's formulas.

Layout facts are measured in the rendered page: the result box keeps its size from the first preview on, the cost
plot keeps its ink after Stop, no server path in the page text, no traceback in the server log.
"""
import io
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from app_server import ROOT
from browser_page import app_page, set_number

RESULT_PNG = re.compile(r"stylized-[0-9a-f]{8}\.png$")  # the final result, not a preview


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "app.log"
    with app_page(log) as page:
        yield page, log


@pytest.fixture(scope="module")
def page(served):
    return served[0]


def ink(locator) -> float:
    """The fraction of an element's pixels that are not near-white (0 for a blank box)."""
    shot = np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("L"))
    return float((shot < 200).mean())


def test_stylize_an_example_then_stop_a_second_run(page, tmp_path):
    status = page.locator("#status-line textarea")
    page.locator("tr", has=page.locator("img[src*='chelsea.png']")).first.click()  # the first example
    expect(page.locator("img[src*='chelsea.png']")).to_have_count(2)  # the example row and the content input
    page.get_by_text("Advanced settings").click()
    for elem_id, value in (("size-input", 48), ("steps-input", 3), ("scales-input", 1)):
        set_number(page, elem_id, value)

    page.locator("#stylize-button").click()
    expect(status).to_have_value(re.compile(r"^Done: 3 steps in .* 48×32 px"), timeout=120_000)
    result = page.locator("#result-image img")
    expect(result).to_have_attribute("src", RESULT_PNG)

    first_result = result.get_attribute("src")
    set_number(page, "size-input", 128)
    set_number(page, "scales-input", 2)  # the first previews are 64 px: they must still fill the box
    set_number(page, "steps-input", 500)
    page.locator("#stylize-button").click()
    expect(status).to_have_value(re.compile(r"^Step \d+/1500 · stage 1/2 at 64×"), timeout=120_000)
    expect(result).not_to_have_attribute("src", first_result, timeout=60_000)  # the first preview is painted
    heights = [result.bounding_box()["height"]]
    page.wait_for_timeout(1500)
    heights.append(result.bounding_box()["height"])
    assert min(heights) >= 250 and max(heights) - min(heights) < 2, heights  # fills the box, never jumps
    page.locator("#stop-button").click()
    expect(status).to_have_value(re.compile(r"^Stopped at step \d+/1500 .* best image so far"),
                                 timeout=60_000)
    expect(result).to_have_attribute("src", RESULT_PNG)  # the stopped run's best image, as a PNG
    assert result.get_attribute("src") != first_result
    assert result.bounding_box()["height"] >= 250
    page.wait_for_timeout(1000)
    assert ink(page.locator("#cost-plot")) > 0.02  # the plot of what ran is still drawn
    expect(page.locator("#before-after img")).to_have_count(2)  # the before/after slider: content and result

    shot = tmp_path / "stylize.png"
    page.screenshot(path=str(shot), full_page=True)
    assert Image.open(shot).size[0] == 1400


def test_a_number_past_its_range_is_one_toast_naming_it_and_no_failed_request(page):
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 500 else None)
    tv = page.get_by_label("TV weight (smoothness)")
    tv.fill("-5")
    page.locator("#stylize-button").click()
    toast = page.locator(".toast-body", has_text="TV weight (smoothness) must be a number from 0 to 1e+12; got -5.")
    expect(toast).to_have_count(1)  # once: the job is not asked for after the check refused the form
    page.wait_for_timeout(1000)
    assert failed == []  # the refusal is an answer, not a server error
    tv.fill("0")
    for close in page.locator(".toast-body .toast-close").all():
        close.click()


def test_layer_lab_shows_its_formulas_rendered(page, tmp_path):
    page.get_by_role("tab", name="Layer-depth lab").click()
    expect(page.locator(".katex").first).to_be_visible()
    assert page.locator(".katex").count() >= 5
    page.screenshot(path=str(tmp_path / "lab.png"), full_page=True)


def test_no_server_path_on_screen_and_no_traceback_in_the_log(served):
    page, log = served
    for tab in ("Stylize", "Layer-depth lab", "Convolutions 1D/2D/3D", "Unit explorer"):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(1000)
        text = page.inner_text("body")
        for path in (ROOT, "/tmp/", "site-packages", "/root", "/home/"):
            assert path not in text, (tab, path)
    assert "Traceback" not in log.read_text()
