"""Links in real headless Chromium at 1400 x 1000: each kind of link opens its view in a fresh page; *Copy link*
puts on the clipboard (and in its box) an address that, opened in another fresh page, shows the same view; a bad
parameter is one sentence on the page, which still loads."""
import re
import urllib.parse

import pytest
from playwright.sync_api import expect, sync_playwright

from app_server import serve_app
from nst_core.options import PRESETS
from video_clips import write_pan
from browser_page import CHROMIUM_ARGS


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("links")
    log = folder / "app.log"
    with serve_app(str(log), NST_EXPLORER_CACHE=str(folder / "cache")) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url.rstrip("/"))
        context.set_default_timeout(120_000)
        try:
            yield server.url, context, log
        finally:
            browser.close()


def opened(context, url: str):
    """A fresh page showing ``url``, once the page has loaded; the pages opened before are closed (Chromium opens
    at most six connections to one server, and each Gradio page keeps one)."""
    for old in context.pages:
        old.close()
    page = context.new_page()
    page.goto(url)
    expect(page.get_by_role("tab", name="Stylize")).to_be_visible(timeout=60_000)
    return page


def picture(page, label: str) -> str:
    """The file name of the picture shown in the image box labelled ``label`` on the tab shown."""
    return page.wait_for_function("""(label) => {
        const name = [...document.querySelectorAll("[data-testid='block-label']")]
            .find(e => e.offsetParent !== null && e.innerText.trim() === label);
        const img = name && name.closest('.block').querySelector('img');
        return img && img.getAttribute('src').split('/').pop();
    }""", arg=label).json_value()


def selected_tab(page) -> str:
    return page.locator("button[role=tab][aria-selected=true]").first.inner_text()


def copied(page, tab: str) -> str:
    """Press the tab's *Copy link*: the address in its box, which must be the one on the clipboard."""
    page.locator(f"#{tab}-copy-link").click()
    box = page.locator(f"#{tab}-link textarea, #{tab}-link input").first
    expect(box).to_have_value(re.compile(r"^http"))
    url = box.input_value()
    assert page.evaluate("navigator.clipboard.readText()") == url
    return url


def params(url: str) -> dict:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True))


def number(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} input[data-testid='number-input']").input_value()


def unit_view(page) -> tuple[str, list[str], str]:
    """The unit shown large: its sentence, its patches' captions, the page of units."""
    said = page.locator("#unit-said")
    expect(said).to_contain_text(re.compile(r"conv\d_\d unit \d+"), timeout=300_000)
    expect(page.locator("#unit-detail .thumbnail-item")).to_have_count(9)
    captions = page.locator("#unit-detail .caption-label").all_inner_texts()
    return said.inner_text(), captions, page.get_by_label("Page", exact=True).input_value()


def test_a_unit_link_shows_the_unit_as_a_click_would_and_copy_link_reopens_it(site):
    url, context, log = site
    page = opened(context, url + "?tab=explorer&layer=conv1_1&unit=5")
    said, captions, page_number = unit_view(page)
    assert selected_tab(page) == "Unit explorer"
    assert re.match(r"conv1_1 unit 5 · peak [\d.]+: the views of scikit-image sample photos where it fires most",
                    said), said
    assert all(re.match(r"#\d ", c) for c in captions) and " · a = " in captions[0]
    assert page.locator("#unit-said").bounding_box()["y"] < 1000  # scrolled into view, under the page of units
    link = copied(page, "explorer")
    assert params(link) == {"tab": "explorer", "layer": "conv1_1", "unit": "5", "units_page": page_number}
    again = opened(context, link)
    assert unit_view(again) == (said, captions, page_number) and selected_tab(again) == "Unit explorer"
    again.locator("#units-gallery .thumbnail-item").filter(has_not_text="conv1_1 unit 5 ·").first.click()  # by a click
    expect(again.locator("#unit-said")).not_to_contain_text("conv1_1 unit 5 ·")
    clicked = again.locator("#unit-said").inner_text()
    assert params(copied(again, "explorer"))["unit"] == re.search(r"unit (\d+)", clicked).group(1)
    assert "Traceback" not in log.read_text()


def test_a_stylize_link_fills_the_pictures_and_settings_and_copy_link_reopens_it(site):
    url, context, _ = site
    page = opened(context, url + "?tab=stylize&content=coffee&style=gravel&preset=Balanced&strength=4")

    def shown(page):
        expect(page.get_by_role("radio", name="Balanced")).to_be_checked()
        page.get_by_text("Advanced settings").click()
        assert selected_tab(page) == "Stylize" and number(page, "steps-input") == str(PRESETS["Balanced"]["steps"])
        assert (picture(page, "Content image"), picture(page, "Style image")) == ("coffee.png", "gravel.png")

    shown(page)
    link = copied(page, "stylize")
    assert params(link) == {"tab": "stylize", "content": "coffee", "style": "gravel", "preset": "Balanced",
                            "strength": "4"}
    shown(opened(context, link))


def test_a_lab_link_and_a_convolution_link(site):
    url, context, _ = site
    page = opened(context, url + "?tab=layer_lab&content=astronaut&size=96&sublayer=2")
    expect(page.get_by_role("radio", name="relu1_2 … relu5_2")).to_be_checked()
    assert selected_tab(page) == "Layer-depth lab" and number(page, "lab-size") == "96"
    assert picture(page, "Content image") == "astronaut.png"
    link = copied(page, "layer_lab")
    assert params(link) == {"tab": "layer_lab", "content": "astronaut", "style": "ihc", "size": "96", "sublayer": "2"}
    again = opened(context, link)
    expect(again.get_by_role("radio", name="relu1_2 … relu5_2")).to_be_checked()
    assert number(again, "lab-size") == "96" and picture(again, "Content image") == "astronaut.png"

    page = opened(context, url + "?tab=conv&sizes=32x32&channels=3&filters=8&kernel=3&stride=2&padding=1")
    report = page.get_by_text(re.compile(r"^Output 16×16×8"))
    expect(report).to_be_visible()
    link = copied(page, "conv")
    assert params(link) == {"tab": "conv", "sizes": "32x32", "filters": "8", "kernel": "3", "stride": "2",
                            "padding": "1"}  # channels=3 is the form's own
    expect(opened(context, link).get_by_text(re.compile(r"^Output 16×16×8"))).to_be_visible()


def test_links_to_the_convolution_sub_tabs(site):
    """A Stacks link and a 'See it work' link open their sub-tab with its controls, report and figure; each
    sub-tab's own Copy link gives them back."""
    url, context, _ = site
    stack = "?tab=conv&part=stacks&stack_sizes=64x64&layers=" + urllib.parse.quote("conv,8,5,1,2,1;avg pool,,3")
    page = opened(context, url + stack)
    expect(page.get_by_role("tab", name="Stacks")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#conv-stack-result")).to_contain_text("avg pool")
    expect(page.locator("#conv-stack-result")).to_contain_text("21×21×8")
    link = copied(page, "conv-stacks")
    assert params(link) == {"tab": "conv", "part": "stacks", "stack_sizes": "64x64", "layers": "conv,8,5,1,2,1;avg pool,,3"}
    expect(opened(context, link).locator("#conv-stack-result")).to_contain_text("21×21×8")

    page = opened(context, url + "?tab=conv&part=see_2d&filter=blur (average)&F=7&cell=20,30")
    expect(page.get_by_role("tab", name="See it work: 2D")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#conv-see-it-2d img")).to_be_visible()
    width = page.get_by_label("output cell: width index").first  # the number box beside the slider
    expect(width).to_have_value("30")
    expect(width).to_have_attribute("max", "89")  # 96 ⊛ 7 → 90 cells: 0 … 89
    link = copied(page, "conv-see-2d")
    assert params(link) == {"tab": "conv", "part": "see_2d", "filter": "blur (average)", "F": "7", "cell": "20,30"}
    expect(opened(context, link).get_by_label("output cell: height index").first).to_have_value("20")


def test_a_bad_parameter_is_one_sentence_and_the_page_still_loads(site):
    url, context, log = site
    page = opened(context, url + "?tab=explorer&layer=conv9_9&show=both")
    status = page.locator("#link-status")
    expect(status).to_contain_text("This link's layer must be one of conv1_1")
    assert status.inner_text().endswith("got 'conv9_9' (left out).")
    assert selected_tab(page) == "Unit explorer"
    expect(page.get_by_role("radio", name="both")).to_be_checked()  # the rest of the link applies
    expect(page.get_by_role("button", name="Show units")).to_be_enabled()
    page = opened(context, url + "?tab=gallery")
    expect(page.locator("#link-status")).to_contain_text("This link opens no tab: tab must be one of stylize")
    assert selected_tab(page) == "Stylize"
    page = opened(context, url + "?tab=conv&" + urllib.parse.quote("**[here](http://example.org)**") + "=1")
    expect(page.locator("#link-status")).to_contain_text("This link's '**[here](http://example.org)**' is not a")
    assert page.locator("#link-status a, #link-status strong").count() == 0  # shown as written, not as Markdown
    assert not opened(context, url).locator("#link-status").is_visible()
    assert "Traceback" not in log.read_text()


def test_copying_a_video_link_says_the_clip_stays_behind(site, tmp_path, tiny_pair):
    url, context, _ = site
    page = opened(context, url + "?tab=video&style=chelsea")
    write_pan(tmp_path / "clip.mp4", tiny_pair[0], 4)
    page.locator("#video-input input[type=file]").set_input_files(str(tmp_path / "clip.mp4"))
    expect(page.locator("#video-input video")).to_have_count(1)
    link = copied(page, "video")
    assert params(link) == {"tab": "video", "style": "chelsea"}
    expect(page.locator(".toast-body").last).to_contain_text("The link cannot carry the clip")


def test_a_video_link_fills_the_style_and_bounds_and_copy_link_reopens_it(site):
    url, context, _ = site
    page = opened(context, url + "?tab=video&style=chelsea&size=128&preset=Balanced&seconds=1.5")

    def shown(page):
        expect(page.get_by_role("radio", name="Balanced").first).to_be_checked()
        assert selected_tab(page) == "Video" and number(page, "video-size") == "128"
        assert number(page, "video-seconds") == "1.5" and picture(page, "Style image") == "chelsea.png"

    shown(page)
    link = copied(page, "video")
    assert params(link) == {"tab": "video", "style": "chelsea", "preset": "Balanced", "size": "128", "seconds": "1.5"}
    shown(opened(context, link))
