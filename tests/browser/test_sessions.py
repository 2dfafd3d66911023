"""Two people on one server at once (two browser contexts), and hostile text in a real browser.

Each session sees only its own upload and runs; runs wait in one queue per device; a session's
Stop stops only its own run. Texts, labels, column and file names such as
``<img src=x onerror=alert(1)>`` or ``[Reset your password](https://example.com)`` show
literally on every page and in the exported figures, and never run, link or load.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import ROOT, app_server
from tests.browser.support import (
    ARGS,
    CHROMIUM,
    nav,
    pick,
    select,
    settle,
    type_number,
    upload_file,
)

MS = 120_000

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def server(home) -> Iterator[str]:
    # One torch thread: the long tiny run must not starve the server on a 2-core machine.
    with app_server(home, OMP_NUM_THREADS="1") as url:
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
        upload_file(ana, mine)
        upload_file(bo, theirs)
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


# Hostile text a file may hold: HTML, and Markdown that Streamlit would make a live link or an
# image every viewer's browser fetches (127.0.0.1:9 answers nothing; a request to it is a fetch).
XSS_TEXT = "<img src=x onerror=alert(1)>"
MD_LINK = "[Reset your password](https://example.com)"
MD_IMAGE = "![x](http://127.0.0.1:9/t.png)"
A_TAG = "<a href='http://127.0.0.1:9/a'>go</a>"
LABELS = ["<b>x</b>", MD_LINK, MD_IMAGE, A_TAG]
# Every link and image on the page (SVG ones too), and bold text Plotly drew from "<b>".
LIVE = """() => {
  const url = e => e.getAttribute('href') || e.getAttribute('src')
                   || e.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || '';
  const hostile = u => /example\\.com|127\\.0\\.0\\.1:9\\/|^x$|t\\.png$/.test(u);
  return {
    links: [...document.querySelectorAll('a')].map(url).filter(hostile),
    images: [...document.querySelectorAll('img, image')].map(url).filter(hostile),
    bold: [...document.querySelectorAll('b, strong, tspan')].filter(e =>
      (e.tagName !== 'tspan' || /bold/.test(e.getAttribute('style') || ''))
      && ['x', 'go'].includes(e.textContent.trim())).length,
    plots: [...document.querySelectorAll('.js-plotly-plot')].map(e => e.textContent).join(' '),
  };
}"""


def _hostile_csv(folder: Path) -> Path:
    """Texts and labels that are HTML and Markdown, under column names that are Markdown, in a
    file whose name is Markdown."""
    rows = [f'"{XSS_TEXT} no {i}",<b>x</b>' for i in range(12)]
    rows += [f'"{MD_LINK} please {i}","{MD_LINK}"' for i in range(12)]
    rows += [f'"look {i} {MD_IMAGE}","{MD_IMAGE}"' for i in range(12)]
    rows += [f'"where {i} {A_TAG}","{A_TAG}"' for i in range(12)]
    rows += ["one of a kind,<i>solo</i>", "two of a kind,<i>solo</i>"]  # a tiny class
    path = folder / "[Reset your password](https:example.com) ![x](t.png).csv"
    path.write_text(f'"{MD_LINK} text","{MD_IMAGE} label"\n' + "\n".join(rows) + "\n",
                    encoding="utf-8")
    return path


def _text(page, selector: str = "body") -> str:
    """What a reader sees (without the invisible word joiners that break autolinks)."""
    return page.inner_text(selector).replace("\u2060", "")


def _assert_literal(page, where: str, *, plots: bool = False, shows: str | None = MD_LINK
                    ) -> None:
    """No hostile link, image or bold anywhere on the page; Plotly shows the labels' tags;
    ``shows`` is on the page, as written."""
    settle(page)
    if plots:  # the teaching pages embed the texts first, then draw
        page.locator(".js-plotly-plot").first.wait_for(state="attached")
    found = page.evaluate(LIVE)
    assert not found["links"] and not found["images"] and not found["bold"], (where, found)
    assert page.locator("i", has_text="solo").count() == 0, where
    if plots:
        assert "<b>x</b>" in found["plots"], (where, found["plots"][:300])
    if shows:
        assert shows in _text(page) + found["plots"].replace("\u2060", ""), (where, shows)


def test_hostile_text_shows_literally_and_never_runs(browser, server, home, tmp_path) -> None:
    """Upload it, train on it, open every page that shows texts, labels or the file name, and
    the exported HTML figures: everything shows as written, nothing is a link, an image or
    bold, no script runs."""
    hostile = _hostile_csv(tmp_path)
    context, page = _session(browser, server)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        upload_file(page, hostile)
        body = _text(page)
        assert "<i>solo</i>" in body  # the finding about the tiny class, literally
        assert f"{MD_LINK} text" in body  # the guessed column's name, in a finding
        _assert_literal(page, "Data", plots=True)

        nav(page, "Train & compare")
        assert hostile.name in _text(page)  # the file's name, as written
        pick(page, "train_methods", ["tfidf-logreg"])
        page.get_by_role("button", name="Start comparison").click()
        page.get_by_role("button", name="See the results").wait_for()
        _assert_literal(page, "Train", shows=hostile.name)

        page.get_by_role("button", name="See the results").click()
        page.locator(".st-key-results_confusion").wait_for()
        _assert_literal(page, "Results", plots=True)

        nav(page, "Playground")
        page.locator(".st-key-play_text textarea").fill(f"{MD_LINK} please 3")
        page.get_by_role("button", name="Predict").click()
        page.get_by_text("Predicted label").wait_for()
        _assert_literal(page, "Playground", plots=True)
        assert MD_LINK in _text(page, ".st-key-play_answer")

        nav(page, "History")
        _assert_literal(page, "History", shows=None)  # run ids and method names only
        for title in ("Learn", "Episode inspector"):
            nav(page, title)
            _assert_literal(page, title, plots=True, shows=hostile.name)
        assert dialogs == []
    finally:
        context.close()
    _exported_figures_are_literal(browser, home, tmp_path)


def _exported_figures_are_literal(browser, home: Path, tmp_path: Path) -> None:
    """The run's HTML figures file (History's download), opened in the browser."""
    from metacore.runs import export
    from metacore.runs.store import RunStore

    store = RunStore(home)
    run = next(s for s in store.list_runs() if s.method == "tfidf-logreg"
               and s.status == "completed")
    path = tmp_path / "figures.html"
    path.write_bytes(export.figures_html(store.get(run.run_id)))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(path.as_uri())
        page.locator(".js-plotly-plot").first.wait_for()
        found = page.evaluate(LIVE)
        assert not found["links"] and not found["images"] and not found["bold"], found
        # long labels are shortened on the axes (the full name is in the hover): its start and
        # end are there, literally
        assert "<b>x</b>" in found["plots"] and MD_LINK[:15] in found["plots"]
        assert "example.com)" in found["plots"]
    finally:
        context.close()
