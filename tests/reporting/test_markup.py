"""User text is text: ``metacore.text`` escapes it for Markdown and for Plotly, the coded
messages escape the values they quote (never their own markup), and every figure, given
hostile class names, method names and texts, draws them as characters, never as tags.

No streamlit, no training: hand-made inputs, a few milliseconds each.
"""

from __future__ import annotations

import html
import re
import string
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from markdown_it import MarkdownIt

from metacore.messages import msg, render
from metacore.reporting import figures, tables
from metacore.runs.result import RunResult
from metacore.text import JOINER, html_literal, markdown_literal, plotly_literal

LINK = "[Reset your password](https://example.com)"
IMAGE = "![x](http://127.0.0.1:9/t.png)"
HTML = [
    "<b>bold</b>",
    '<a href="https://evil.test/x">click</a>',
    "a<br>b",
    "<img src=http://127.0.0.1:9/i.png onerror=alert(1)>",
    "<i>solo</i>",
]
MARKDOWN = [
    LINK, IMAGE, "**bold** _it_ ~~gone~~ `code`", "# Heading", "- item", "+ item", "1. first",
    "> quote", "| a | b |", ":red[red] :material/home: :smile:", "$x^2$", "<https://evil.test>",
    "a \\[b] c", "line one\n\n===", "x\r\n- y", "&lt;b&gt; &#x3C;", "https://evil.test/raw",
    "see www.evil.test", "mail me@evil.test", "HTTP://EVIL.TEST",
]
# What GitHub-flavoured Markdown (remark-gfm, in Streamlit) turns into a link in plain text,
# after the escapes are read.
AUTOLINK = re.compile(r"(https?://|www\.)|[-.\w+]@[-\w]", re.IGNORECASE)
HOSTILE = HTML + MARKDOWN
# A tag Plotly would draw (its HTML subset), anywhere in a figure's JSON.
TAG = re.compile(r"<\s*/?\s*(a|b|br|i|em|sup|sub|span|img|s|u)\b", re.IGNORECASE)
# The tags the figures write themselves, in hover templates.
OWN_TAGS = re.compile(r"<br>|<extra>|</extra>")
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _shown(markdown: str) -> str:
    """What a reader sees of ``markdown``: its HTML's text."""
    rendered = MD.render(markdown)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


# --- the helpers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_literal_shows_the_text_and_nothing_else(text: str) -> None:
    literal = markdown_literal(text)
    rendered = MD.render(literal)
    # one paragraph of text: no link, image, emphasis, code, heading, list, quote, table, HTML
    assert re.fullmatch(r"<p>[^<>]*</p>\n", rendered), rendered
    shown = _shown(literal)
    assert shown.replace(JOINER, "") == re.sub(r"[\r\n]+", " ", text).strip()  # as written
    assert not AUTOLINK.search(shown)
    # Streamlit's own extras (directives, math, bare URLs) are cut too: no punctuation
    # character is left without its backslash
    assert not set(re.sub(r"\\.", "", literal)) & set(string.punctuation), literal


def test_markdown_literal_keeps_plain_words_and_handles_any_value() -> None:
    assert markdown_literal("退款 refund 42") == "退款 refund 42"
    assert markdown_literal(None) == "" and markdown_literal(3.5) == "3\\.5"
    assert _shown(markdown_literal("it's a_b.csv")) == "it's a_b.csv"


@pytest.mark.parametrize("text", HOSTILE)
def test_html_literal_is_text_in_html_and_in_markdown(text: str) -> None:
    literal = html_literal(text)
    assert "<" not in literal and ">" not in literal
    assert html.unescape(literal).replace(JOINER, "") == re.sub(r"[\r\n]+", " ", text)
    # inside an HTML block Markdown reads nothing; outside one, the references are text
    rendered = MD.render(literal)
    assert re.fullmatch(r"<p>[^<>]*</p>\n", rendered), rendered
    assert not AUTOLINK.search(_shown(literal))


@pytest.mark.parametrize("text", HTML)
def test_plotly_literal_writes_entities(text: str) -> None:
    literal = plotly_literal(text)
    assert not TAG.search(literal) and "<" not in literal and ">" not in literal
    assert html.unescape(literal) == text  # Plotly shows the entities as the characters
    assert plotly_literal("a & b") == "a &amp; b" and plotly_literal("&lt;") == "&amp;lt;"


# --- coded messages: the values are escaped, the template's markup is kept ----------------------
def test_say_escapes_the_values_a_message_quotes_but_not_its_template() -> None:
    from ui.i18n import say

    message = msg("link.backbone", value=LINK)  # "the backbone **{value}** is not ..."
    text = say(message, lang="en")
    assert "**" in text and "\\[Reset your password\\]" in text and "](" not in text
    assert LINK in _shown(text).replace(JOINER, "") and "<a" not in MD.render(text)
    assert say(message, lang="en", markdown=False) == render(message)  # the plain sentence
    assert LINK in say(message, lang="zh", markdown=False)
    # lists, tallies and nested terms: every quoted value escaped
    listed = say(msg("finding.unknown_split_values", values=[IMAGE, "<b>x</b>"]), lang="en")
    assert "<img" not in MD.render(listed) and "![" not in listed and "<b>" not in listed
    assert IMAGE in _shown(listed).replace(JOINER, "")
    # a plain exception's text, and a finding written as a sentence, are escaped too
    assert say(ValueError(LINK)) == markdown_literal(LINK)
    from metacore.data import Finding

    assert "<a" not in MD.render(say(Finding("warning", "new_code", LINK)))


def test_messages_render_unchanged_without_an_escape() -> None:
    message = msg("finding.single_class", label="a_b")
    assert render(message) == render(message, escape=None)
    assert "\\'a\\_b\\'" in render(message, escape=markdown_literal)


# --- figures -------------------------------------------------------------------------------------
def _strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every (key, string) in a figure's JSON."""
    if isinstance(value, str):
        return [(key, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, k)]
    if isinstance(value, (list, tuple, np.ndarray, pd.Series, pd.Index)):
        return [s for v in value for s in _strings(v, key)]
    return []


def assert_no_live_markup(fig: go.Figure) -> None:
    """No tag of Plotly's HTML subset in any string of the figure, except the figure's own
    ``<br>`` and ``<extra>`` in its hover templates; the hostile text is there, escaped."""
    found = _strings(fig.to_plotly_json())
    for key, value in found:
        rest = OWN_TAGS.sub("", value) if key in ("hovertemplate",) else value
        assert not TAG.search(rest) and "<" not in rest, (key, value)
    assert any("&lt;" in value for _, value in found), "the hostile labels are not drawn"


def _result(method: str = "<b>method</b>", run_id: str = "<a href=x>r1</a>") -> RunResult:
    labels = [HTML[0], HTML[1], HTML[3], LINK]
    texts = [HTML[3], HTML[2], HTML[1], IMAGE]
    preds = [{"text": t, "label": y, "predicted": labels[(i + 1) % 4], "confidence": 0.6,
              "proba": [0.1, 0.6, 0.2, 0.1]} for i, (t, y) in enumerate(zip(texts, labels))]
    return RunResult(
        run_id=run_id, method=method, backbone="<b>bb</b>", protocol="episodic",
        status="completed",
        metrics={"accuracy": 0.5, "macro_f1": 0.4, "accuracy_mean": 0.5, "accuracy_ci95": 0.1,
                 "macro_f1_mean": 0.4, "macro_f1_ci95": 0.1},
        per_class={y: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 1}
                   for y in labels},
        confusion={"labels": labels, "matrix": np.eye(4, dtype=int).tolist()},
        history={"steps": [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.5}],
                 "evals": [{"step": 2, "val_loss": 0.7, "val_accuracy": 0.5}]},
        inner_loop=[{"step": 0, "loss": 1.0, "accuracy": 0.3},
                    {"step": 1, "loss": 0.5, "accuracy": 0.6}],
        predictions=preds,
        extra={"episodes": [{"classes": labels[:2], "accuracy": a} for a in (0.4, 0.6)],
               "projection": {"index": [0, 1, 2, 3], "labels": labels,
                              "before": [[0, 0], [1, 1], [2, 2], [3, 3]],
                              "after": [[0, 1], [1, 2], [2, 3], [3, 4]]}},
        config={"run": {"seed": 1}}, data={"shots": 1},
    )


def _engine_figures() -> dict[str, go.Figure]:
    res, twin = _result(), _result(run_id="<i>r2</i>")
    frame = pd.DataFrame({"text": [p["text"] for p in res.predictions] * 2,
                          "label": [p["label"] for p in res.predictions] * 2,
                          "split": ["train", "<b>part</b>"] * 4})
    probs = tables.probabilities_table([0.1, 0.2, 0.3, 0.4], res.confusion["labels"])
    return {
        **{f"all_{k}": v for k, v in figures.all_figures(res).items()},
        "class_distribution": figures.class_distribution(frame),
        "loss_curves": figures.loss_curves([res, twin]),
        "leaderboard_bars": figures.leaderboard_bars([res, twin]),
        "per_class_bars": figures.per_class_bars(res),
        "confusion_heatmap": figures.confusion_heatmap(res, normalize=True),
        "inner_loop_curve": figures.inner_loop_curve([res, twin]),
        "embedding_projection": figures.embedding_projection(res),
        "probability_bars": figures.probability_bars(probs),
    }


ENGINE_FIGURES = ["all_loss", "all_per_class", "all_confusion", "all_inner_loop",
                  "all_episodes", "all_projection", "class_distribution", "loss_curves",
                  "leaderboard_bars", "per_class_bars", "confusion_heatmap", "inner_loop_curve",
                  "embedding_projection", "probability_bars"]


@pytest.fixture(scope="module")
def engine_figures() -> dict[str, go.Figure]:
    return _engine_figures()


@pytest.mark.parametrize("name", ENGINE_FIGURES)
def test_every_engine_figure_draws_hostile_labels_as_text(engine_figures, name) -> None:
    if name == "all_episodes":  # no class names in it: the method name stays out of its text
        assert not TAG.search(engine_figures[name].to_json())
        return
    assert_no_live_markup(engine_figures[name])


def test_the_html_export_has_no_live_hostile_tag() -> None:
    from metacore.runs import export

    page = export.figures_html(_result()).decode("utf-8")
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S)
    figures_json = "".join(s for s in scripts if "Plotly.newPlot" in s)
    assert figures_json and "&lt;" in figures_json
    drawn = (figures_json.replace("\\u003c", "<").replace("\\u003e", ">")
             .replace("\\u002f", "/").replace("\\u0026", "&"))
    assert not TAG.search(OWN_TAGS.sub("", drawn))
    outside = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)
    for text in ("<b>method", "<a href=x", "<img", "<b>bb"):
        assert text not in outside


def _view(classes: list[str]) -> Any:
    from metacore.teaching import EpisodeView

    rng = np.random.default_rng(0)
    n = len(classes)
    return EpisodeView(
        classes=tuple(classes), support_texts=tuple(HTML[:n]), support_labels=tuple(classes),
        query_texts=tuple(MARKDOWN[:n]), query_labels=tuple(reversed(classes)),
        support_xy=rng.normal(size=(n, 2)), query_xy=rng.normal(size=(n, 2)),
        prototype_xy=rng.normal(size=(n, 2)), distances=rng.random((n, n)),
        probabilities=np.full((n, n), 1 / n))


def _teaching_figures() -> dict[str, go.Figure]:
    from ui import teach_figures as figs

    classes = [HTML[0], HTML[1], HTML[3], LINK]
    frame = pd.DataFrame({"x": range(8), "y": range(8), "label": classes * 2,
                          "text": HTML[:4] + MARKDOWN[:4]})
    centres = np.arange(8, dtype=float).reshape(4, 2)
    view = _view(classes)
    methods = ["<b>m</b>", '<a href="x">n</a>']
    summary = pd.DataFrame([{"method": m, "shots": s, "order": i, "n": 2,
                             "accuracy_mean": 0.5, "accuracy_ci95": 0.1,
                             "macro_f1_mean": 0.5, "macro_f1_ci95": 0.1}
                            for m in methods for i, s in enumerate(["1", "2"])])
    rows = pd.DataFrame({"method": methods, "seconds": [0.1, 2.0], "estimated": [False, True],
                         "time_text": ["<b>1 s</b>", "2 s"], "old_accuracy": [0.5, 0.6],
                         "new_accuracy": [0.7, 0.8]})
    picture = pd.DataFrame({
        "x": range(7), "y": range(7),
        "kind": ["example", "example", "prototype", "prototype", "new example",
                 "new prototype", "tried"],
        "label": [classes[0], classes[1], classes[0], classes[1], LINK, "<b>new</b>", ""],
        "text": [HTML[3], HTML[2], "", "", IMAGE, "", HTML[1]]})
    return {
        "class_map": figs.class_map_figure(frame, centres, classes, title="t"),
        "class_map_kshot": figs.class_map_figure(frame, centres, classes, title="t",
                                                 labelled=np.array([True, False] * 4)),
        "episode": figs.episode_figure([("<b>before</b>", view), ("after", view)], title="t",
                                       selected=0, all_classes=classes),
        "distance_heatmap": figs.distance_heatmap(view, "t"),
        "sweep": figs.sweep_figure(summary, "t"),
        "absorb": figs.absorb_figure(rows, "t"),
        "new_class": figs.new_class_figure(picture, "t"),
    }


@pytest.fixture(scope="module")
def teaching_figures() -> dict[str, go.Figure]:
    return _teaching_figures()


@pytest.mark.parametrize("name", ["class_map", "class_map_kshot", "episode", "distance_heatmap",
                                  "sweep", "absorb", "new_class"])
def test_every_teaching_figure_draws_hostile_labels_as_text(teaching_figures, name) -> None:
    assert_no_live_markup(teaching_figures[name])


def test_the_figure_check_catches_a_raw_label() -> None:
    fig = go.Figure(go.Bar(x=["<b>x</b>"], y=[1]))
    with pytest.raises(AssertionError):
        assert_no_live_markup(fig)
