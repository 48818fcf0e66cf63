"""The Convolutions tab in real headless Chromium at 1400×1000: layout facts measured in the rendered page."""
import pytest
from playwright.sync_api import expect

from browser_page import app_page

# every element of a box whose content is wider than the element itself: [tag, class, scrollWidth, clientWidth]
OVERFLOWING = """(selector) => [document.querySelector(selector), ...document.querySelectorAll(selector + ' *')]
    .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth)
    .map(e => [e.tagName, String(e.className).slice(0, 40), e.scrollWidth, e.clientWidth])"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "app.log"
    with app_page(log, tab="Convolutions 1D/2D/3D") as page:
        yield page, log


def test_dismissing_the_examples_dropdown_changes_nothing_and_logs_nothing(app):
    page, log = app
    sizes = page.get_by_label("input sizes (1, 2 or 3 numbers)")
    expect(sizes).to_have_value("14×14×14")
    page.get_by_label("the course's examples").click()
    page.keyboard.press("Escape")
    page.get_by_role("heading", name="Convolutions in 1D, 2D and 3D").click()  # click away: the dropdown closes
    page.wait_for_timeout(2000)
    expect(sizes).to_have_value("14×14×14")
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    expect(page.locator(".toast-body")).to_have_count(0)
    assert "Traceback" not in log.read_text()


def test_the_stacks_table_fits_its_box(app):
    page, _ = app
    page.get_by_role("tab", name="Stacks", exact=True).click()
    result = page.locator("#conv-stack-result")
    expect(result.get_by_text("pool2 (max pool)")).to_be_visible()  # drawn when the sub-tab is first shown
    assert page.evaluate(OVERFLOWING, "#conv-stack-result") == []
    box = result.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1400


def test_the_3d_view_is_shown_and_follows_the_position_slider(app):
    page, log = app
    page.get_by_role("tab", name="See it work: 3D").click()
    figure = page.locator("#conv-see-it-3d img")
    expect(figure).to_be_visible()
    box = figure.bounding_box()
    assert box["width"] >= 900 and box["height"] >= 300  # the whole figure, at a readable size
    assert page.evaluate("(img) => img.naturalWidth", figure.element_handle()) >= 1200
    first = figure.get_attribute("src")
    depth = page.get_by_label("output cell: depth index").first
    depth.fill("3")
    depth.press("Enter")
    expect(figure).not_to_have_attribute("src", first)  # the filter moved: a new drawing
    assert "Traceback" not in log.read_text()


def test_a_refused_field_names_itself_and_the_old_report_goes(app):
    page, log = app
    page.get_by_role("tab", name="One layer", exact=True).click()
    channels = page.get_by_label("input channels", exact=True).first  # the one-layer form's (Stacks has one too)
    channels.fill("0")
    channels.press("Enter")
    expect(page.locator(".toast-body").last).to_contain_text(
        "input channels must be a whole number from 1 to 1,000,000,000; got 0.")  # not Gradio's nameless message
    expect(page.get_by_text("No report: the message above names the field to fix.")).to_be_visible()
    expect(page.get_by_text("Output 10×10×10×16", exact=False)).to_have_count(0)  # the last layer's report is gone
    channels.fill("3")
    channels.press("Enter")
    expect(page.get_by_text("Output 10×10×10×16", exact=False)).to_be_visible()
    assert "Traceback" not in log.read_text()


def test_the_position_slider_ends_at_the_last_output_cell(app):
    page, _ = app
    page.get_by_role("tab", name="See it work: 1D").click()
    size = page.get_by_label("filter size F").first
    size.fill("15")
    size.press("Enter")
    position = page.get_by_label("output cell: length index").first  # the number box beside the slider
    expect(position).to_have_attribute("max", "585")  # 600 ⊛ 15 → 586 cells: 0 … 585
