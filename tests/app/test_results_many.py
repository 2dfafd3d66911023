"""Results with 77 long-named classes: no exception, the pairs table, every per-class column."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reporting.test_confusion import many_result

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _results(home, lang: str = "en"):
    from streamlit.testing.v1 import AppTest

    from metacore.runs.store import RunStore

    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"lang": lang})
    at.run()
    RunStore(home).record_result(many_result(77), owner=at.session_state["owner"])
    at.switch_page("app_pages/results.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_results_with_77_classes(home, lang: str) -> None:
    at = _results(home, lang)
    per_class = next(f.value for f in at.dataframe
                     if list(f.value.columns) == ["class", "precision", "recall", "f1",
                                                  "support"])
    assert len(per_class) == 77
    pairs = next(f.value for f in at.dataframe
                 if list(f.value.columns) == ["true", "predicted", "count", "share"])
    assert len(pairs) == 20 and (pairs["true"] != pairs["predicted"]).all()
    # the most confused cell is picked and its texts are listed, titled as a confusion
    true, pred = at.selectbox(key="results_true").value, at.selectbox(key="results_pred").value
    assert true != pred and (true, pred) == tuple(pairs.iloc[0][["true", "predicted"]])
    assert at.table and len(at.table[0].value) >= 1
    word = "True" if lang == "en" else "真实类别"
    assert any(word in m.value for m in at.markdown)
    if lang == "zh":
        return
    # a diagonal cell: titled as correct, its texts without the p(true) column
    at.selectbox(key="results_pred").set_value(true).run()
    assert not at.exception
    assert any(m.value.startswith("**Correctly classified as") for m in at.markdown)
    texts = at.table[0].value
    result = many_result(77)
    labels = list(result.confusion["labels"])
    right = result.confusion["matrix"][labels.index(true)][labels.index(true)]
    assert len(texts) == right >= 1 and "p(true)" not in texts.columns
