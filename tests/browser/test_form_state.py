"""The form keeps what was chosen, in a real browser: through language switches on every page
(any number of them), through a reload while the comparison runs; a double click on Start
queues the comparison once, and a K-shot sweep waits its turn behind it in the one queue.

Streamlit's browser side keeps a select box's choice by its label, so a switch of language used
to hand a translated label back as a value ("Unknown preset 'No preset (choose the settings
yourself)'"); only a browser shows that, AppTest does not.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.support import (
    CHROMIUM,
    app_server,
    browser_page,
    pick,
    select,
    settle,
    type_number,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium")]
PAGES = ["train", "data", "results", "playground", "history", "learn", "inspector",
         "inner_loop", "sweep", "add_class"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_server(tmp_path_factory.mktemp("home"), OMP_NUM_THREADS="1",
                    METACORE_TEACH_BACKBONE="tiny") as url:
        yield url


def go(page, path: str) -> None:
    """Open a page through the sidebar (the session stays), whatever its language; the Data
    page is the default one, at the root."""
    links = page.locator('[data-testid="stSidebarNav"] a')
    (links.first if path == "data" else links.and_(page.locator(f'a[href$="/{path}"]'))
     .first).click()
    settle(page)


def language(page, name: str) -> None:
    page.get_by_test_id("stSidebar").get_by_text(name, exact=True).first.click()
    settle(page)


def value(page, key: str) -> str:
    return page.locator(f".st-key-{key} input").first.input_value()


def form_state(page, suffix: str = "") -> tuple[str, str, str]:
    """(chosen methods as shown, K, seeds) of the adapt form."""
    return (page.locator(f".st-key-train_methods{suffix}").inner_text(),
            value(page, "train_shots"), value(page, "train_seeds"))


def choose(page, server: str, methods: list[str]) -> None:
    """A fresh session's Train & compare with ``methods`` on the tiny backbone at K = 4."""
    page.goto(server)
    settle(page)
    go(page, "train")
    pick(page, "train_methods", methods)
    select(page, "train_backbone", "Tiny random model (smoke test)")
    type_number(page, "train_shots", "4")


# Draws each character into a canvas in the page's own font and compares the pixels: a
# character no installed font has is drawn as the same box (tofu) as U+10FFFF, which no font
# has, and as every other missing character. "missing" when any is.
GLYPHS = """([chars, selector]) => {
  const family = getComputedStyle(document.querySelector(selector)).fontFamily;
  const ctx = Object.assign(document.createElement('canvas'), {width: 48, height: 48})
    .getContext('2d', {willReadFrequently: true});
  const draw = (ch) => {
    ctx.clearRect(0, 0, 48, 48);
    ctx.font = `32px ${family}`;
    ctx.textBaseline = 'top';
    ctx.fillText(ch, 4, 4);
    return ctx.getImageData(0, 0, 48, 48).data.join(',');
  };
  const tofu = draw(String.fromCodePoint(0x10FFFF));
  const drawn = chars.map(draw);
  return drawn.some(d => d === tofu) || new Set(drawn).size < drawn.length ? 'missing' : 'drawn';
}"""


def glyphs(page, chars: str, selector: str = "h1") -> str:
    """Whether the page's font draws ``chars`` ("drawn") or shows boxes ("missing")."""
    return page.evaluate(GLYPHS, [sorted(set(chars)), selector])


def test_language_switches_on_every_page_keep_every_choice(server) -> None:
    with browser_page() as page:
        choose(page, server, ["tfidf-logreg", "nearest-centroid"])
        type_number(page, "train_seeds", "0, 2")
        before = form_state(page)
        assert "tfidf-logreg" in before[0] and "protonet" not in before[0]
        # the language switches on every page, so each is drawn in both (the next page opens
        # in the language the last one switched to); there and back where it used to fail
        names = iter(("中文", "English") * len(PAGES))
        for path in PAGES:
            go(page, path)
            language(page, next(names))  # settle() fails on any traceback on the page
            if path in ("train", "sweep"):
                language(page, next(names))
                language(page, next(names))
        language(page, "English")
        go(page, "train")
        assert form_state(page) == before
        language(page, "中文")
        # Chinese is drawn, not boxes (a CJK font is installed: scripts/test.sh), and the check
        # does tell: characters that no font has are "missing"
        title = page.locator("h1").first.inner_text()
        assert title == "训练与比较" and glyphs(page, title) == "drawn", title
        assert glyphs(page, "\u0378\u0379") == "missing"  # unassigned code points
        methods, shots, seeds = form_state(page, "__zh")
        assert "tfidf-logreg" in methods and "nearest-centroid" in methods
        assert (shots, seeds) == ("4", "0, 2")
        language(page, "English")


def test_double_click_queues_once_and_a_reload_restores_the_running_form(server) -> None:
    with browser_page() as page:
        choose(page, server, ["tfidf-logreg", "full-finetune"])
        page.get_by_text("full-finetune settings").click()
        type_number(page, "cfg_full-finetune_epochs", "1000")  # runs until it is stopped:
        page.locator(".st-key-cfg_full-finetune__advanced label").click()  # no early stop
        settle(page)
        type_number(page, "cfg_full-finetune_patience", "0")
        page.get_by_role("button", name="Start comparison").dblclick()
        settle(page)
        page.locator('[class*="st-key-job_"]').first.wait_for()
        assert page.locator('[class*="st-key-job_"]').count() == 2  # one per method, once
        page.get_by_text("running").first.wait_for()
        page.reload()  # a new session: the owner in the cookie finds the comparison again
        settle(page)
        assert "owner" not in page.url
        go(page, "train")
        methods, shots, _ = form_state(page)
        assert "full-finetune" in methods and "tfidf-logreg" in methods, methods
        assert "linear-probe" not in methods and shots == "4"  # not the defaults
        page.get_by_text("full-finetune settings").click()
        assert value(page, "cfg_full-finetune_epochs") == "1000"
        assert page.locator('[class*="st-key-job_"]').count() == 2  # and its live cards
        # a K-shot sweep waits behind the running fine-tuning, in the one queue, and says so
        go(page, "sweep")
        page.get_by_role("button", name="Run the sweep").click()
        page.get_by_text("Waiting in the queue: 1 job ahead of you").wait_for()
        go(page, "train")
        page.locator('[class*="st-key-stop_"] button').first.click()  # do not wait 1000 epochs
        page.get_by_role("button", name="See the results").wait_for()
        go(page, "sweep")  # its turn came: it ran, and its plot is there
        page.locator(".st-key-sweep_fig").wait_for()
        settle(page)
