"""Screenshots of the teaching views for the documentation (docs/screenshots/): a tool, not a
test (it checks nothing but that each page draws without a traceback).

Slow (it meta-trains a protonet with the bundled MiniLM), so it runs only when asked:

    .venv/bin/python scripts/screenshots.py               # all of them
    .venv/bin/python scripts/screenshots.py --train-live  # only train_live.png (the README's)

The workbench pages' screenshots (data, train, results, playground, history) come from the
browser test: ``METACORE_SCREENSHOTS_DIR=docs/screenshots pytest tests/browser/test_e2e.py``.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("METACORE_SCREENSHOTS_DIR", str(Path(__file__).resolve().parents[1]
                                                      / "docs" / "screenshots"))

from tests.browser.support import (  # noqa: E402
    app_server,
    browser_page,
    nav,
    select,
    settle,
    shot,
)

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


def _train_live(page) -> None:
    """Train & compare with its default methods (the recommended one first) while the last
    one is still training: two runs done, the third's loss curve growing."""
    _open(page, "Data", "Upload a file")
    select(page, "data_sample", "support_intents_en.csv")
    nav(page, "Train & compare")
    page.get_by_role("button", name="Start comparison").click()
    page.get_by_text("completed", exact=True).nth(1).wait_for(timeout=LONG)
    progress = page.get_by_text(re.compile(r"^step \d+ of \d+")).first
    for _ in range(600):  # until the running run is a third of the way: a curve, not a dot
        done = re.match(r"step (\d+) of (\d+)", progress.inner_text(timeout=LONG))
        if done and 3 * int(done[1]) >= int(done[2]):
            break
        page.wait_for_timeout(500)
    shot(page, "train_live.png", 2350)
    page.get_by_role("button", name="See the results").wait_for(timeout=LONG)
    settle(page)


def _chinese(page) -> None:
    _open(page, "Learn", "Look inside")
    page.get_by_text("中文", exact=True).first.click()
    page.get_by_text("深入查看", exact=True).first.wait_for(timeout=LONG)
    settle(page, LONG)
    shot(page, "learn_zh.png", 2300)


def main() -> None:
    with app_server(Path(tempfile.mkdtemp()) / "home") as url, browser_page() as page:
        page.goto(url)
        page.locator("h1").first.wait_for()
        settle(page)
        steps = (_train_live, _learn, _inspector, _inner_loop, _sweep, _add_class, _chinese)
        for step in steps[:1] if "--train-live" in sys.argv else steps:
            step(page)


if __name__ == "__main__":
    main()
