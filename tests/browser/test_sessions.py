"""Two people on one server at once (two browser contexts), and hostile text in a real browser.

Each session sees only its own upload and runs; runs wait in one queue per device; a session's
Stop stops only its own run. Texts and labels such as ``<img src=x onerror=alert(1)>`` show
literally and never run.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import ROOT, app_server
from tests.browser.support import ARGS, CHROMIUM, nav, pick, select, settle, type_number

MS = 120_000

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    # One torch thread: the long tiny run must not starve the server on a 2-core machine.
    with app_server(tmp_path_factory.mktemp("home"), OMP_NUM_THREADS="1") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _session(browser, server: str):
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(MS)
    page.goto(server)
    settle(page)
    return context, page


def _upload(page, path: Path) -> None:
    page.get_by_text("Upload a file").click()
    settle(page)
    page.locator(".st-key-data_upload input[type=file]").set_input_files(str(path))
    page.get_by_text("Examples", exact=True).first.wait_for()
    settle(page)


def _start_long_finetune(page) -> None:
    """Full fine-tuning of the tiny model for 1000 epochs without early stopping."""
    select(page, "train_backbone", "Tiny random model (smoke test)")
    pick(page, "train_methods", ["full-finetune"])
    page.get_by_text("full-finetune settings").click()
    type_number(page, "cfg_full-finetune_epochs", 1000)
    page.locator(".st-key-cfg_full-finetune__advanced label").click()
    settle(page)
    type_number(page, "cfg_full-finetune_patience", 0)
    page.locator(".st-key-train_start button").click()


def _card(page, text: str):
    return page.locator("[class*='st-key-job_']").filter(has_text=text)


def test_two_sessions_are_isolated_and_share_one_queue(browser, server, tmp_path) -> None:
    mine, theirs = tmp_path / "ana_intents.csv", tmp_path / "bo_intents.csv"
    for path in (mine, theirs):
        shutil.copy(ROOT / "sample_data" / "support_intents_en.csv", path)
    ctx_a, ana = _session(browser, server)
    ctx_b, bo = _session(browser, server)
    try:
        _upload(ana, mine)
        _upload(bo, theirs)
        assert "bo_intents.csv" not in ana.inner_text("body")
        assert "ana_intents.csv" not in bo.inner_text("body")

        # Ana starts a long fine-tuning run; Bo's run has to wait behind it on the one CPU queue.
        nav(ana, "Train & compare")
        _start_long_finetune(ana)
        _card(ana, "full-finetune").get_by_text("running").wait_for()
        nav(bo, "Train & compare")
        pick(bo, "train_methods", ["tfidf-logreg"])
        bo.locator(".st-key-train_start button").click()
        _card(bo, "tfidf-logreg").get_by_text("place 1 in the queue").wait_for()
        assert _card(bo, "full-finetune").count() == 0  # Ana's run is not Bo's business
        assert _card(ana, "tfidf-logreg").count() == 0

        # Bo's Stop stops Bo's run only.
        _card(bo, "tfidf-logreg").get_by_role("button", name="Stop").click()
        _card(bo, "tfidf-logreg").get_by_text("stopped").wait_for()
        ana.wait_for_timeout(1500)
        assert _card(ana, "full-finetune").get_by_text("running").count() == 1
        _card(ana, "full-finetune").get_by_role("button", name="Stop").click()
        _card(ana, "full-finetune").get_by_text("stopped").wait_for()

        # History: each sees only their own runs (none is shared).
        for page, own, other in ((ana, "full-finetune", "tfidf-logreg"),
                                 (bo, "tfidf-logreg", "full-finetune")):
            nav(page, "History")
            table = page.locator(".st-key-history_table")
            table.wait_for()
            # The grid draws on a canvas; its hidden accessible table holds the cells.
            table.locator("[role=gridcell]").first.wait_for(state="attached")
            cells = [c.strip() for c in table.locator("[role=gridcell]").all_text_contents()]
            assert own in cells and other not in cells, cells
    finally:
        ctx_a.close()
        ctx_b.close()


def test_hostile_text_shows_literally_and_never_runs(browser, server, tmp_path) -> None:
    hostile = tmp_path / "hostile.csv"
    rows = [f'"<img src=x onerror=alert(1)> no {i}",<b>x</b>' for i in range(5)]
    rows += [f"fine text {i},fine" for i in range(5)] + ["one of a kind,<i>solo</i>"]
    hostile.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    context, page = _session(browser, server)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        _upload(page, hostile)
        body = page.inner_text("body")
        assert "<i>solo</i>" in body  # the finding about the one-example class, literally
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("i", has_text="solo").count() == 0
        assert page.locator("b").evaluate_all(
            "els => els.filter(e => e.textContent === 'x').length") == 0
        assert dialogs == []
        # Results, Playground and History after training on such data: see
        # tests/reliability/test_safety.py (AppTest) and the HTML rule there.
    finally:
        context.close()
