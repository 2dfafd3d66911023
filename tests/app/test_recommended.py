"""Train & compare preselects the recommended method, labels it, and says why in one sentence
with the measured figures; a method whose optional package is missing is not offered, and the
page says how to add it instead of failing."""

from __future__ import annotations

import importlib.util

import pytest

from metacore.methods.recommend import EVIDENCE, RECOMMENDED


def _train(app):
    app.run()
    app.switch_page("app_pages/train.py")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_the_recommended_method_is_chosen_labelled_and_explained(app) -> None:
    at = _train(app)
    picker = at.multiselect(key="train_methods")
    assert picker.value[0] == RECOMMENDED
    assert "recommended" in picker.format_func(RECOMMENDED)
    assert "recommended" not in picker.format_func("linear-probe")
    why = [c.value for c in at.caption if c.value.startswith("Recommended:")]
    assert len(why) == 1
    assert f"{EVIDENCE['f1']:.1f} %" in why[0] and f"{EVIDENCE['setfit_f1']:.1f} %" in why[0]
    at.session_state["lang"] = "zh"
    at.run()
    assert any(c.value.startswith("推荐") for c in at.caption)


def test_a_missing_optional_package_is_said_not_raised(app, monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "setfit" else real(name, *a))
    at = _train(app)
    assert "setfit" not in at.multiselect(key="train_methods").options
    said = [c.value for c in at.caption if "Not offered here" in c.value]
    assert said and "setfit" in said[0] and "metacore[setfit]" in said[0]


@pytest.mark.parametrize("lang,start,word", [("en", f"What {RECOMMENDED} chose", "came first"),
                                             ("zh", f"{RECOMMENDED} 在这次运行", "优先")])
def test_the_results_page_says_what_the_recommended_method_chose(home, lang, start,
                                                                 word) -> None:
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from metacore.runs.store import RunStore
    from tests.reporting.test_confusion import many_result

    result = many_result(5, run_id="blend1")
    result.method, result.metrics = RECOMMENDED, {"accuracy": 0.9, "macro_f1": 0.9}
    result.extra["centroid_blend"] = {"label_weight": 0.0, "label_weight_nll": {"0": 2.1},
                                      "blend_weight": 1.0, "ngram_first": True,
                                      "tuned": {"skipped": "language"}}
    other = many_result(5, run_id="other1")  # tf-idf: nothing to explain
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"),
                           default_timeout=90)
    at.query_params.update({"lang": lang})
    at.run()
    for r in (result, other):
        RunStore(home).record_result(r, owner=at.session_state["owner"])
    at.switch_page("app_pages/results.py").run()  # the best run is looked at closer first
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="results_detail").value == result.run_id
    said = [c.value for c in at.caption if c.value.startswith(start)]
    assert len(said) == 1 and word in said[0], [c.value for c in at.caption]
    if lang == "zh":  # (AppTest formats a rerun's choices outside the page: in English)
        return
    at.selectbox(key="results_detail").set_value(other.run_id).run()  # nothing for tf-idf
    assert not at.exception and not any(c.value.startswith(start) for c in at.caption)
