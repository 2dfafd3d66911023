"""Screenshots of the teaching views for the documentation (docs/screenshots/).

Slow (it meta-trains a protonet with the bundled MiniLM), so it runs only when asked:

    METACORE_SCREENSHOTS=1 pytest tests/browser/test_screenshots.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.teaching_support import (
    CHROMIUM,
    app_server,
    browser_page,
    nav,
    settle,
    shot,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium"),
    pytest.mark.skipif(os.environ.get("METACORE_SCREENSHOTS") != "1",
                       reason="set METACORE_SCREENSHOTS=1 to refresh the screenshots"),
]
LONG = 900_000  # brief meta-training on a busy laptop CPU


def _open(page, title: str, ready: str) -> None:
    nav(page, title)
    page.get_by_text(ready, exact=True).first.wait_for(timeout=LONG)
    settle(page, LONG)


def _learn(page) -> None:
    _open(page, "Learn", "Look inside")
    shot(page, "learn.png", 5600)


def _inspector(page) -> None:
    _open(page, "Episode inspector", "Queries and predictions")
    page.locator(".st-key-insp_train button").click()
    page.locator(".stPlotlyChart").nth(2).wait_for(timeout=LONG)  # the "after" heat map
    settle(page, LONG)
    shot(page, "inspector.png", 2150)


def _inner_loop(page) -> None:
    _open(page, "Inner loop", "Test-time inner steps")
    shot(page, "inner_loop.png", 1650)


def _sweep(page) -> None:
    _open(page, "K-shot sweep", "Run the sweep")
    page.locator(".st-key-sweep_preset").click()
    page.get_by_text("K-shot sweep in 1 minute", exact=False).last.click()
    settle(page)
    page.get_by_role("button", name="Run the sweep").click()
    page.locator(".st-key-sweep_fig").wait_for(timeout=LONG)
    settle(page)
    shot(page, "sweep.png", 1450)


def _add_class(page) -> None:
    _open(page, "Add a class", "Add the class")
    page.get_by_role("button", name="Add the class").click()
    page.locator(".st-key-add_fig_cost").wait_for(timeout=LONG)
    settle(page, LONG)
    shot(page, "add_class.png", 1750)


def _chinese(page) -> None:
    _open(page, "Learn", "Look inside")
    page.get_by_text("中文", exact=True).first.click()
    page.get_by_text("深入查看", exact=True).first.wait_for(timeout=LONG)
    settle(page, LONG)
    shot(page, "learn_zh.png", 2300)


def test_screenshots(tmp_path) -> None:
    with app_server(tmp_path / "home") as url, browser_page() as page:
        page.goto(url)
        page.locator("h1").first.wait_for()
        settle(page)
        for step in (_learn, _inspector, _inner_loop, _sweep, _add_class, _chinese):
            step(page)
