"""End to end in real headless Chromium: load an example, stylize, stop a second run, see the lab's formulas."""
import re

import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from app_server import serve_app

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
RESULT_PNG = re.compile(r"stylized-[0-9a-f]{8}\.png$")  # the final result, not a preview


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    with serve_app(str(tmp_path_factory.mktemp("server") / "app.log")) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(server.url)
        yield page
        browser.close()


def set_number(page, elem_id, value):
    """Type into a slider's number box. Retried: on a busy machine a just-opened accordion can still reset it."""
    box = page.locator(f"#{elem_id} input[data-testid='number-input']")
    for _ in range(5):
        box.fill(str(value))
        box.press("Enter")
        page.wait_for_timeout(500)
        if box.input_value() == str(value):
            return
    raise AssertionError(f"#{elem_id} keeps {box.input_value()!r} instead of {value}")


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
    set_number(page, "steps-input", 500)
    page.locator("#stylize-button").click()
    expect(status).to_have_value(re.compile(r"^Step \d+/500"), timeout=120_000)
    page.locator("#stop-button").click()
    expect(status).to_have_value(re.compile(r"^Stopped at step \d+/500 .* best image so far"),
                                 timeout=60_000)
    expect(result).to_have_attribute("src", RESULT_PNG)  # the stopped run's best image, as a PNG
    assert result.get_attribute("src") != first_result

    shot = tmp_path / "stylize.png"
    page.screenshot(path=str(shot), full_page=True)
    assert Image.open(shot).size[0] == 1400


def test_layer_lab_shows_its_formulas_rendered(page, tmp_path):
    page.get_by_role("tab", name="Layer-depth lab").click()
    expect(page.locator(".katex").first).to_be_visible()
    assert page.locator(".katex").count() >= 5
    page.screenshot(path=str(tmp_path / "lab.png"), full_page=True)
