"""Results at 77 classes with long names, in a real browser: the confusion matrix is wide
enough to read, a click on a cell lists its texts (a diagonal cell titled as correct), and
every per-class column is in view.

A generated CSV (77 classes, 6 texts each, words of its own per class so tfidf-logreg learns
something) is uploaded and run with tfidf-logreg (no backbone); it takes well under a minute.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from tests.browser.support import CHROMIUM, browser_page, nav, pick, settle, shot, upload_file

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]

TOPICS = ["balance", "cheque", "transfer", "card", "refund", "pin", "atm", "fee", "loan",
          "savings", "mortgage", "statement", "overdraft", "exchange", "wallet", "salary"]


def many_classes_csv(path: Path, n: int = 77, per_class: int = 6, seed: int = 0) -> Path:
    """``n`` long-named classes, ``per_class`` texts each: two words of the class's own, one
    it shares with its partner class (``k ^ 1``, so there is something to confuse) and filler."""
    rng = random.Random(seed)
    labels = [f"{TOPICS[k % len(TOPICS)]}_{k:02d}_not_updated_after_cheque_or_cash_deposit"
              for k in range(n)]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for k, label in enumerate(labels):
            own, shared = [f"w{k}x{i}" for i in range(3)], [f"p{k // 2}x{i}" for i in range(3)]
            for i in range(per_class):
                words = rng.sample(own, 2 if i % 2 else 1) + rng.sample(shared, 2)
                words += ["my", "account", "please"][: i % 3]
                rng.shuffle(words)
                writer.writerow([" ".join(words) + f" {i}", label])
    return path


def _click_cell(page, row: int, col: int, n: int) -> None:
    """Click the matrix cell (true ``row``, predicted ``col``), the matrix's middle in the
    window (its top would sit under Streamlit's fixed header)."""
    plot = page.locator(".st-key-results_confusion .nsewdrag").first
    plot.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    box = plot.bounding_box()
    page.mouse.click(box["x"] + (col + 0.5) * box["width"] / n,
                     box["y"] + (row + 0.5) * box["height"] / n)
    settle(page)


def test_results_at_77_classes(server, tmp_path) -> None:
    upload = many_classes_csv(tmp_path / "many_intents.csv")
    with browser_page() as page:
        page.goto(server)
        settle(page)
        upload_file(page, upload)
        nav(page, "Train & compare")
        pick(page, "train_methods", ["tfidf-logreg"])
        page.get_by_role("button", name="Start comparison").click()
        page.get_by_role("button", name="See the results").wait_for()
        settle(page)
        page.get_by_role("button", name="See the results").click()
        chart = page.locator(".st-key-results_confusion")
        chart.wait_for()
        settle(page)

        # wide enough to read: the whole width of the page, not half of it
        assert chart.bounding_box()["width"] >= 600
        assert page.locator(".st-key-results_confusion .nsewdrag").first \
            .bounding_box()["width"] >= 500

        # a diagonal cell: its texts, titled as correct
        _click_cell(page, 38, 38, 77)
        cell = page.locator(".st-key-results_cell")
        cell.get_by_text("Correctly classified as").wait_for(timeout=60_000)
        assert cell.locator("table").count() == 1
        # an off-diagonal cell: titled as a confusion (it may hold no text)
        _click_cell(page, 39, 38, 77)
        cell.get_by_text("Correctly classified as").wait_for(state="detached", timeout=60_000)
        assert "predicted" in cell.inner_text() and "Correctly" not in cell.inner_text()

        # every per-class column inside the table's own viewport: no horizontal scroll
        box = page.locator(".st-key-results_per_class_box")
        box.scroll_into_view_if_needed()
        scroller = box.locator(".dvn-scroller").first
        scroller.wait_for()
        wide, room = scroller.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert wide <= room, (wide, room)
        shot(page, "results-77-browser.png", 1000)
