"""Train & compare preselects the recommended method, labels it, and says why in one sentence
with the measured figures; a method whose optional package is missing is not offered, and the
page says how to add it instead of failing."""

from __future__ import annotations

import importlib.util

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
