"""Live progress says how long a run has taken and, once a few steps are done, about how long
it has left (elapsed / steps done × steps to go), in English and Chinese, on a fixed clock."""

from __future__ import annotations

import pytest

from ui import progress


@pytest.fixture
def lang(monkeypatch):
    def use(code: str) -> None:
        monkeypatch.setattr("ui.i18n.language", lambda: code)

    return use


def test_elapsed_and_time_left_in_english(lang) -> None:
    lang("en")
    assert progress.step_text("progress.step_of", 15, 30, 42.0) == \
        "step 15 of 30 · 0:42 elapsed · about 0:42 left"
    assert progress.step_text("progress.step_of", 10, 40, 125.0) == \
        "step 10 of 40 · 2:05 elapsed · about 6:15 left"  # 12.5 s a step, 30 to go
    # too few steps to guess from (the first include warm-up): elapsed only
    assert progress.step_text("progress.step_of", 2, 30, 9.0) == "step 2 of 30 · 0:09 elapsed"
    assert progress.step_text("progress.step_of", 30, 30, 60.0) == "step 30 of 30 · 1:00 elapsed"
    assert progress.step_text("progress.step_of", 3, 30, None) == "step 3 of 30"  # not started


def test_elapsed_and_time_left_in_chinese(lang) -> None:
    lang("zh")
    assert progress.step_text("progress.step_of", 15, 30, 42.0) == \
        "第 15 步，共 30 步 · 已用 0:42 · 约剩 0:42"
    assert progress.step_text("progress.episode_of", 5, 20, 3725.0) == \
        "元训练回合 5 / 20 · 已用 1:02:05 · 约剩 3:06:15"


def test_clock_text() -> None:
    assert [progress.clock_text(s) for s in (0, 0.4, 59.6, 61, 3599, 3600, 36000)] == \
        ["0:00", "0:00", "1:00", "1:01", "59:59", "1:00:00", "10:00:00"]
    assert progress.clock_text(-3) == "0:00"


def _card(lang: str) -> None:
    """A running job's card, drawn by the real ``_card`` on a clock 42 s after its start."""
    import types

    import streamlit as st

    from metacore.messages import msg
    from ui import progress

    st.session_state["lang"] = lang
    progress.clock = lambda: 1000.0 + 42
    steps = [{"kind": "StepEnded", "step": i, "total_steps": 30, "epoch": 0, "loss": 1 / i,
              "metrics": {}, "elapsed_s": i * 2.8} for i in range(1, 16)]
    job = types.SimpleNamespace(
        run_id="r1", method="protonet", run=types.SimpleNamespace(seed=0), state="running",
        testing={}, total_steps=30, steps=steps, evals=[], started=1000.0, error=None,
        error_message=None, plan=None, phase=msg("phase.training", texts=12, classes=3),
        position=0, result=None)
    progress._card(job, live=False)


@pytest.mark.parametrize("code, text", [
    ("en", "step 15 of 30 · 0:42 elapsed · about 0:42 left"),
    ("zh", "第 15 步，共 30 步 · 已用 0:42 · 约剩 0:42")])
def test_a_running_card_shows_the_time(monkeypatch, code, text) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setattr(progress, "clock", progress.clock)  # the script's clock is undone
    at = AppTest.from_function(_card, args=(code,), default_timeout=30)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    bars = at.get("progress")
    assert [b.proto.text for b in bars] == [text]
    assert bars[0].proto.value == 50  # 15 of 30
