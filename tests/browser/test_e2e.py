"""End to end in a real browser: upload, compare two methods, results, playground, history.

Drives Debian's Chromium through Playwright against ``streamlit run app.py`` started here, and
takes a screenshot of every page (``METACORE_SCREENSHOTS_DIR=docs/screenshots`` refreshes the
README's; otherwise they go to a scratch folder).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser.server import ROOT
from tests.browser.support import CHROMIUM, browser_page, nav, pick, settle, shot, upload_file

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]


@pytest.fixture(scope="module")
def page(server):
    with browser_page() as page:
        yield page


def test_upload_compare_predict_history(page, server, tmp_path) -> None:
    upload = tmp_path / "my_intents.csv"
    shutil.copy(ROOT / "sample_data" / "support_intents_en.csv", upload)
    page.goto(server)
    settle(page)
    upload_file(page, upload)
    shot(page, "data.png", 1250)

    nav(page, "Train & compare")
    pick(page, "train_methods", ["tfidf-logreg", "linear-probe"])
    page.get_by_role("button", name="Start comparison").click()
    page.get_by_role("button", name="See the results").wait_for()
    settle(page)
    shot(page, "train.png", 1300)

    page.get_by_role("button", name="See the results").click()
    page.get_by_role("heading", name="Leaderboard").wait_for()
    page.locator(".st-key-results_confusion").wait_for()
    settle(page)
    board = page.locator('[data-testid="stDataFrame"]').first.inner_text()
    assert "tfidf-logreg" in board or page.get_by_text("tfidf-logreg").count()
    shot(page, "results.png", 2900)

    nav(page, "Playground")
    page.locator(".st-key-play_text textarea").fill("I want my money back for this order")
    page.get_by_role("button", name="Predict").click()
    page.get_by_text("Predicted label").wait_for()
    settle(page)
    shot(page, "playground.png", 900)

    assert "owner" not in page.url  # the owner id is never in the address people share
    cookie = {c["name"]: c for c in page.context.cookies()}["metacore_owner"]
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    page.reload()  # a new session: the owner comes back from the cookie, the data from the URL
    settle(page)
    assert "owner" not in page.url
    nav(page, "Data")
    page.get_by_text("my_intents.csv, uploaded earlier").wait_for()
    nav(page, "History")
    page.locator(".st-key-history_table").wait_for()
    settle(page)
    assert page.locator('[data-testid="stDataFrame"]').count() == 1  # its runs are there
    assert "owner" not in page.url
    shot(page, "history.png", 900)
