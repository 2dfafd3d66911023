"""What every browser test shares: Debian's Chromium through Playwright, against
``streamlit run app.py`` started by ``tests.browser.server``, and the few moves a person makes
on a Streamlit page (wait for the script, open a page, pick options, type a number)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.browser.server import ROOT, app_server, free_port  # noqa: F401 - re-exported

CHROMIUM = "/usr/bin/chromium"
# Screenshots go to a scratch folder, so a test run never changes the repository; the
# documentation's are refreshed with METACORE_SCREENSHOTS_DIR=docs/screenshots.
SHOTS = Path(os.environ.get("METACORE_SCREENSHOTS_DIR")
             or Path(tempfile.gettempdir()) / "metacore-screenshots")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"]
MS = 180_000


@contextmanager
def browser_page(width: int = 1400, height: int = 1000) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(MS)
        try:
            yield page
        finally:
            browser.close()


def settle(page, timeout: int = MS) -> None:
    """Wait until Streamlit has finished running the script, and check for tracebacks."""
    page.wait_for_timeout(400)
    # The running indicator can lag a script that has just started, so also wait until no
    # element is stale (kept from the previous run while the new one has not drawn it yet):
    # a click on a stale button can be lost, as a person's would be.
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')", timeout=timeout)
    page.wait_for_timeout(300)
    assert page.locator('[data-testid="stException"]').count() == 0


def shot(page, name: str, height: int = 1400, full: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": height})
    page.wait_for_timeout(800)
    path = SHOTS / name
    page.screenshot(path=str(path), full_page=full)
    page.set_viewport_size({"width": 1400, "height": 1000})
    return path


def upload_file(page, path) -> None:
    """Upload ``path`` on the Data page (open on the page) and wait until it is read."""
    page.get_by_text("Upload a file").click()
    settle(page)
    page.locator(".st-key-data_upload input[type=file]").set_input_files(str(path))
    page.get_by_text("Examples", exact=True).first.wait_for()
    settle(page)


def nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    settle(page)


def pick(page, key: str, values: list[str]) -> None:
    """Set a multiselect (found by its key) to exactly ``values``."""
    box = page.locator(f".st-key-{key}")
    box.get_by_role("button", name="Clear all").click()
    settle(page)
    for value in values:
        box.locator("input").fill(value)
        page.keyboard.press("Enter")
        settle(page)
    page.keyboard.press("Escape")
    # say at once when the choice did not take (instead of running other, slower methods)
    shown = box.inner_text()
    assert all(v in shown for v in values), (values, shown)
    if key == "train_methods":
        # the picker keeps its height when it loses focus, so the Start button below does not
        # move under the click that blurs it (that click was lost)
        focused = box.bounding_box()["height"]
        box.locator("input").blur()
        page.wait_for_timeout(200)
        assert box.bounding_box()["height"] == focused, "the methods picker resizes on blur"
        from metacore.methods import registry

        others = [s.name for s in registry.available() if s.name not in values
                  and not any(s.name in v for v in values)]
        assert not [o for o in others if f"{o} ·" in shown], (values, shown)


def select(page, key: str, option: str) -> None:
    """Choose ``option`` (its label) in the select box found by its key."""
    page.locator(f".st-key-{key} [role=combobox]").first.click()  # its box, not its label
    page.get_by_role("option", name=option).click()
    settle(page)


def type_number(page, key: str, value: int | str) -> None:
    """Type ``value`` into the text or number input found by its key, then Enter."""
    box = page.locator(f".st-key-{key} input").first
    box.fill(str(value))
    box.press("Enter")
    settle(page)
