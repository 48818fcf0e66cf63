"""The app in real headless Chromium at 1400 x 1000, for the browser tests: one page, optionally on one tab."""
from __future__ import annotations

import contextlib

from playwright.sync_api import sync_playwright

from app_server import serve_app

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@contextlib.contextmanager
def app_page(log_path, tab: str | None = None, timeout_ms: int = 60_000, **env: str):
    """Start the app (its output in ``log_path``) and yield a Chromium page showing it, on ``tab`` if given."""
    with serve_app(str(log_path), **env) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(timeout_ms)
        page.goto(server.url)
        if tab:
            page.get_by_role("tab", name=tab).click()
        try:
            yield page
        finally:
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


def layout(page, gallery: str) -> dict:
    """Facts about a gallery as drawn: its pictures against their boxes, its scrolling, its captions."""
    return page.evaluate("""(gallery) => {
        const root = document.querySelector(gallery);
        const wrap = root.querySelector('.grid-wrap');
        const box = root.getBoundingClientRect();
        const items = [...root.querySelectorAll('.thumbnail-item')].map(item => {
            const img = item.querySelector('img'), r = img.getBoundingClientRect(), c = item.getBoundingClientRect();
            return {natural: img.naturalWidth / img.naturalHeight, shown: r.width / r.height,
                    inside: r.left >= c.left - 1 && r.right <= c.right + 1 && r.top >= c.top - 1
                            && r.bottom <= c.bottom + 1 && r.left >= box.left - 1 && r.right <= box.right + 1,
                    fit: getComputedStyle(img).objectFit, width: r.width};
        });
        const captions = [...root.querySelectorAll('.caption-label')].map(c => ({
            text: c.innerText, whole: c.scrollWidth <= c.clientWidth + 1 && c.scrollHeight <= c.clientHeight + 1}));
        return {items, captions, inner: wrap.scrollHeight - wrap.clientHeight,
                innerX: wrap.scrollWidth - wrap.clientWidth};
    }""", gallery)
