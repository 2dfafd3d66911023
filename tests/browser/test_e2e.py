"""End to end in a real browser: upload, compare two methods, results, playground, history.

Drives Debian's Chromium through Playwright against ``streamlit run app.py`` started here, and
saves a screenshot of every page under docs/screenshots/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import ROOT, app_server

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"]
MS = 180_000

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    with app_server(tmp_path_factory.mktemp("home")) as url:
        yield url


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(MS)
        yield page
        browser.close()


def _settle(page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_timeout(400)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=MS)
    page.wait_for_timeout(300)
    assert page.locator('[data-testid="stException"]').count() == 0


def _shot(page, name: str, height: int = 1400) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": height})
    page.wait_for_timeout(800)
    page.screenshot(path=str(SHOTS / name))
    page.set_viewport_size({"width": 1400, "height": 1000})


def _nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    _settle(page)


def _choose_methods(page, names: list[str]) -> None:
    box = page.locator(".st-key-train_methods")
    box.get_by_role("button", name="Clear all").click()
    _settle(page)
    for name in names:
        box.locator("input").fill(name)
        page.keyboard.press("Enter")
        _settle(page)
    page.keyboard.press("Escape")


def test_upload_compare_predict_history(page, server, tmp_path) -> None:
    upload = tmp_path / "my_intents.csv"
    shutil.copy(ROOT / "sample_data" / "support_intents_en.csv", upload)
    page.goto(server)
    _settle(page)
    page.get_by_text("Upload a file").click()
    _settle(page)
    page.locator(".st-key-data_upload input[type=file]").set_input_files(str(upload))
    page.get_by_text("Examples per class").wait_for()
    _settle(page)
    _shot(page, "data.png", 1250)

    _nav(page, "Train & compare")
    _choose_methods(page, ["tfidf-logreg", "linear-probe"])
    page.get_by_role("button", name="Start comparison").click()
    page.get_by_role("button", name="See the results").wait_for()
    _settle(page)
    _shot(page, "train.png", 1300)

    page.get_by_role("button", name="See the results").click()
    page.get_by_role("heading", name="Leaderboard").wait_for()
    page.locator(".st-key-results_confusion").wait_for()
    _settle(page)
    board = page.locator('[data-testid="stDataFrame"]').first.inner_text()
    assert "tfidf-logreg" in board or page.get_by_text("tfidf-logreg").count()
    _shot(page, "results.png", 2900)

    _nav(page, "Playground")
    page.locator(".st-key-play_text textarea").fill("I want my money back for this order")
    page.get_by_role("button", name="Predict").click()
    page.get_by_text("Predicted label").wait_for()
    _settle(page)
    _shot(page, "playground.png", 900)

    page.reload()  # a new session: the owner and the uploaded data come back from the URL
    _settle(page)
    _nav(page, "Data")
    page.get_by_text("my_intents.csv, uploaded earlier").wait_for()
    _nav(page, "History")
    page.locator(".st-key-history_table").wait_for()
    _settle(page)
    assert page.locator('[data-testid="stDataFrame"]').count() == 1
    _shot(page, "history.png", 900)
