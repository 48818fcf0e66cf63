"""The Video tab in real headless Chromium: a clip and a style uploaded, frames appearing as they are done, Stop
keeping the clip so far as a playable MP4 and a GIF download; no server path in the page."""
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from browser_page import app_page, set_number
from video_clips import write_pan


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "app.log"
    with app_page(log, tab="Video") as page:
        yield page, log


def test_frames_appear_and_stop_keeps_the_clip(page, tmp_path, tiny_pair):
    page, log = page
    write_pan(tmp_path / "clip.mp4", tiny_pair[0], 30, fps=10, h=32, w=48, step=1)
    Image.fromarray(tiny_pair[1]).save(tmp_path / "style.png")
    page.locator("#video-input input[type=file]").set_input_files(str(tmp_path / "clip.mp4"))
    page.locator("#video-style input[type=file]").set_input_files(str(tmp_path / "style.png"))
    expect(page.locator("#video-input video")).to_have_count(1)
    for elem_id, value in (("video-size", 48), ("video-seconds", 3), ("video-fps", 10)):
        set_number(page, elem_id, value)
    status = page.locator("#video-status textarea")
    page.locator("#video-run").click()
    expect(status).to_have_value(re.compile(r"^(Starting: 30 frames at 48×32 px|Frame )"), timeout=60_000)
    expect(status).to_have_value(re.compile(r"^Frame \d+/30 · [2-9] done"), timeout=120_000)
    expect(page.locator("#video-frame img")).to_have_count(1)  # the latest finished frame is shown
    page.locator("#video-stop").click()
    expect(status).to_have_value(re.compile(r"^Stopped: \d+ of 30 frames, 48×32 px at 10 fps"), timeout=60_000)
    kept = int(re.search(r"Stopped: (\d+)", status.input_value()).group(1))
    assert 2 <= kept < 30
    expect(page.locator("#video-result video")).to_have_attribute("src", re.compile(r"video-[0-9a-f]{8}\.mp4$"))
    with page.expect_download() as download:
        page.locator("#video-gif").click()
    saved = tmp_path / "clip.gif"
    download.value.save_as(saved)
    with Image.open(saved) as gif:
        assert gif.format == "GIF" and gif.n_frames == kept and gif.size == (48, 32)
    text = page.locator("body").inner_text()
    assert "/tmp/" not in text and "Traceback" not in text
    assert "Traceback" not in log.read_text()
