"""In a real browser: run the K-shot sweep on the bundled sample and find its plot.

Drives Debian's Chromium through Playwright against ``streamlit run app.py`` (the pattern of
``test_e2e.py``, helpers in ``teaching_support``), with the bundled MiniLM and two fast methods.
The sweep is a task of the app's one queue; the page shows its expected time (the methods'
cost models at MiniLM's measured speed) before it starts and its plot once it has finished.
The documentation's screenshots come from ``test_screenshots.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.support import (
    CHROMIUM,
    app_server,
    browser_page,
    nav,
    pick,
    settle,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]


def test_sweep_runs_and_plots(tmp_path) -> None:
    with app_server(tmp_path / "home") as url, browser_page() as page:
        page.goto(url)
        page.locator("h1").first.wait_for()
        settle(page)
        nav(page, "K-shot sweep")
        page.get_by_role("button", name="Run the sweep").wait_for()
        pick(page, "sweep_methods", ["nearest-centroid", "linear-probe"])
        settle(page)
        assert page.get_by_text("Expected: about").count() == 1
        page.get_by_role("button", name="Run the sweep").click()
        page.locator(".st-key-sweep_fig").wait_for()  # appears when the sweep has finished
        settle(page)
        plot = page.locator(".st-key-sweep_fig .js-plotly-plot")
        assert plot.count() == 1
        assert page.locator(".st-key-sweep_fig").get_by_text("nearest-centroid").count() >= 1
        assert page.get_by_text("Download the table (CSV)").count() == 1
