"""Multi-label in a real browser: the bundled multi-label sample is detected on the Data page,
the Train page offers only the methods that learn several labels, and Results shows the
multi-label scores, the per-label table and the label co-occurrence; the Playground gives every
label above its threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.support import CHROMIUM, browser_page, nav, pick, select, settle, shot

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]


def test_multi_label_data_train_results_playground(server) -> None:
    with browser_page() as page:
        page.goto(server)
        settle(page)
        select(page, "data_sample", "support_tickets_multilabel.csv")
        picker = page.locator(".st-key-data_label_format")
        assert picker.locator("input").input_value() == "Detect automatically"
        assert page.get_by_text("Detected: Several, separated by ';'").count()
        assert page.get_by_text("Rows carry several labels").count()
        assert page.get_by_text("never occurs alone").count()  # 'urgent', on purpose
        shot(page, "multilabel-data.png", 1300)

        nav(page, "Train & compare")
        offered = page.get_by_text("Not offered:").first.inner_text()
        assert "protonet" in offered and "centroid-blend" in offered
        pick(page, "train_methods", ["linear-probe"])
        page.get_by_role("button", name="Start comparison").click()
        page.get_by_role("button", name="See the results").wait_for()
        page.get_by_role("button", name="See the results").click()
        page.get_by_role("heading", name="Multi-label scores").wait_for()
        settle(page)
        # the table draws on a canvas: its rows are not in the page's text
        assert page.locator(".st-key-results_multi_label [data-testid=stDataFrame]").count()
        page.get_by_role("heading", name="Per-label scores").wait_for()
        page.get_by_role("heading", name="Label co-occurrence").wait_for()
        assert page.locator(".st-key-results_cooccurrence_truth .main-svg").count()
        assert page.locator(".st-key-results_cooccurrence_predicted .main-svg").count()
        assert page.get_by_text("Thresholds per label:").count()
        assert page.get_by_text("Confusion matrix").count() == 0  # no single-label views
        shot(page, "multilabel-results.png", 2600, full=True)

        nav(page, "Playground")
        page.locator(".st-key-play_text textarea").fill(
            "I was charged twice and need my money back today")
        page.get_by_role("button", name="Predict").click()
        page.get_by_text("Predicted labels").wait_for()
        settle(page)
        assert page.locator(".st-key-play_label_table [data-testid=stDataFrame]").count()
        answer = page.locator(".st-key-play_answer").inner_text()
        assert "billing" in answer or "None of the labels" in answer
        shot(page, "multilabel-playground.png", 900)
