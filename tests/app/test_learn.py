"""The teaching pages render, their widgets are found by key, and each view does its job.

Every test uses the tiny random backbone (``teach_backbone = "tiny"``), so the numbers are
meaningless but every code path runs in seconds.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.app.conftest import shown

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def at(home):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP, default_timeout=120)
    app.session_state["teach_backbone"] = "tiny"
    return app


def _open(at, page: str):
    at.switch_page(f"app_pages/{page}.py").run()
    _clean(at)
    return at


def _clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _charts(at) -> int:
    return len(at.get("plotly_chart"))


def _table(at, column: str):
    """The first data frame on the page with ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _keyed(at, prefix: str) -> list:
    return [c for c in at.get("plotly_chart") if prefix in str(c.proto.id)]


def _wait(at, done, seconds: float = 60) -> None:
    """Rerun the page until ``done()`` (a background task finished) or time runs out."""
    deadline = time.time() + seconds
    while not done() and time.time() < deadline:
        time.sleep(0.3)
        at.run()
        _clean(at)


def test_learn_page_draws_every_section(at) -> None:
    _open(at, "learn")
    assert at.title[0].value == "Learn: how meta-learning works"
    assert _charts(at) >= 6
    for key in ("learn_ft_k", "learn_fs_k"):
        assert at.select_slider(key=key)
    for key in ("learn_way", "learn_shot", "learn_query"):
        assert at.number_input(key=key)
    assert at.button(key="learn_next_episode")
    before = [m.value for m in at.markdown if "display:flex" in m.value][0]
    at.button(key="learn_next_episode").click().run()
    _clean(at)
    after = [m.value for m in at.markdown if "display:flex" in m.value][0]
    assert before != after  # another episode was drawn
    at.select_slider(key="learn_ft_k").set_value(8).run()
    _clean(at)


def test_learn_page_speaks_chinese(at) -> None:
    at.session_state["lang"] = "zh"
    _open(at, "learn")
    assert at.title[0].value == "学习：元学习是怎样工作的"


def test_inspector_steps_through_episodes(at) -> None:
    _open(at, "inspector")
    assert at.button(key="insp_train") and at.selectbox(key="insp_pick")
    assert _charts(at) >= 2  # the projection and the distance heatmap
    first = at.selectbox(key="insp_pick").options
    at.button(key="insp_next").click().run()
    _clean(at)
    assert at.session_state["insp_index"] == 1
    assert at.selectbox(key="insp_pick").options != first
    at.button(key="insp_prev").click().run()
    assert at.session_state["insp_index"] == 0
    assert at.selectbox(key="insp_pick").options == first


def test_inspector_shows_after_once_trained(at) -> None:
    _open(at, "inspector")
    at.number_input(key="insp_shot").set_value(1).run()
    at.button(key="insp_train").click().run()
    _wait(at, lambda: len(_keyed(at, "insp_heat")) == 2)
    assert len(_keyed(at, "insp_heat")) == 2  # before and after meta-training


def test_inner_loop_slider_changes_the_result(at) -> None:
    _open(at, "inner_loop")
    at.segmented_control(key="inner_method").set_value("anil").run()
    _clean(at)
    assert at.slider(key="inner_steps").value == 5
    loss = [m for m in at.metric if m.label.startswith("Support loss")][0].value
    at.slider(key="inner_steps").set_value(1).run()
    _clean(at)
    assert [m for m in at.metric if m.label.startswith("Support loss")][0].value != loss
    assert "predicted" in _table(at, "confidence").columns


def _tiny_sweep(at, seeds: int = 2) -> None:
    at.multiselect(key="sweep_methods").set_value(["nearest-centroid"])
    at.multiselect(key="sweep_shots").set_value([1, 2])
    at.number_input(key="sweep_seeds").set_value(seeds).run()
    _clean(at)


def _queue(home):
    """The app's one queue, as the pages of this test's home see it."""
    from ui import state

    return state._queue(str(home))


def _sweeps(queue) -> list:
    return [j for j in queue.jobs(kind="task") if j.label.startswith("K-shot sweep")]


def test_sweep_with_a_tiny_setting_produces_a_plot(at) -> None:
    _open(at, "sweep")
    assert at.button(key="sweep_run")
    _tiny_sweep(at)
    assert any("Expected: about" in c.value for c in at.caption)
    at.button(key="sweep_run").click().run()
    _wait(at, lambda: bool(_keyed(at, "sweep_fig")))
    assert _keyed(at, "sweep_fig")
    assert _table(at, "macro-F1")["method"].tolist() == ["nearest-centroid"] * 2


def test_sweep_waits_its_turn_in_the_shared_queue(at, home) -> None:
    """Behind a running job and a waiting one on the same device, the sweep is third: the
    page says two jobs are ahead (in English and in Chinese), then runs it when they end."""
    from streamlit.testing.v1 import AppTest

    _open(at, "sweep")
    queue, gate = _queue(home), threading.Event()
    for i in range(2):
        queue.submit_task(f"test-block-{i}", lambda report: gate.wait(60), label="block")
    try:
        _tiny_sweep(at, seeds=1)
        at.button(key="sweep_run").click().run()
        _clean(at)
        assert [j.position for j in _sweeps(queue)] == [2]
        assert any("2 jobs ahead of you" in i.value for i in at.info)
        other = AppTest.from_file(APP, default_timeout=120)  # another learner, same sweep
        settings = {"teach_backbone": "tiny", "lang": "zh", "sweep_methods": [
            "nearest-centroid"], "sweep_shots": [1, 2], "sweep_seeds": 1}
        for key, value in settings.items():  # set here: the widgets' labels are Chinese
            other.session_state[key] = value
        # the same data too (in Chinese a session starts on the Chinese sample)
        other.query_params["data"] = "sample:support_intents_en.csv"
        _open(other, "sweep")
        assert any("你前面还有 2 个任务" in i.value for i in other.info)
        assert other.button(key="sweep_run").disabled
    finally:
        gate.set()
    _wait(at, lambda: bool(_keyed(at, "sweep_fig")))
    assert len(_sweeps(queue)) == 1 and _sweeps(queue)[0].state == "completed"


def test_the_same_sweep_twice_is_one_task_shown_at_once(at, home) -> None:
    _open(at, "sweep")
    _tiny_sweep(at, seeds=1)
    at.button(key="sweep_run").click().run()
    _wait(at, lambda: bool(_keyed(at, "sweep_fig")))
    first = _sweeps(_queue(home))
    at.button(key="sweep_run").click().run()  # the same settings again
    _clean(at)
    assert _keyed(at, "sweep_fig")  # at once: the finished task is found, not queued again
    assert [j.job_id for j in _sweeps(_queue(home))] == [j.job_id for j in first]


def test_sweep_preset_fills_the_settings(at) -> None:
    _open(at, "sweep")
    at.selectbox(key="sweep_preset").set_value("sweep-1min").run()
    _clean(at)
    assert at.multiselect(key="sweep_methods").value == ["nearest-centroid", "linear-probe",
                                                         "tfidf-logreg"]
    assert at.number_input(key="sweep_seeds").value == 5


def test_add_a_class_shows_the_new_label(at) -> None:
    _open(at, "add_class")
    at.text_input(key="add_label_en").set_value("gift_cards")
    at.text_area(key="add_examples_en").set_value("buy a gift card\ngift card balance\n"
                                                  "my gift card does not work")
    at.select_slider(key="add_k").set_value(2)
    at.button(key="add_run").click().run()
    _clean(at)
    deadline = time.time() + 120  # a task of the one queue: the page polls until it ends
    while not any("gift_cards" in shown(s.value) for s in at.subheader):
        assert time.time() < deadline, "the add-a-class task never finished"
        time.sleep(0.5)
        at.run()
        _clean(at)
    table = _table(at, "new class (leave-one-out)")
    assert table["method"].tolist()[0] == "nearest-centroid"


def test_learn_preset_opens_the_sweep_with_its_settings(at) -> None:
    _open(at, "learn")
    at.button(key="learn_preset_sweep-1min").click().run()
    _clean(at)
    assert at.selectbox(key="sweep_preset").value == "sweep-1min"
    assert at.number_input(key="sweep_seeds").value == 5


def test_unreadable_data_falls_back_to_the_sample(at, home) -> None:
    bad = home / "uploads" / "bad.csv"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("text,label\nonly one,a\n", encoding="utf-8")
    at.run()
    at.session_state["dataset"] = {**at.session_state["dataset"], "kind": "upload",
                                   "path": str(bad), "name": "bad.csv"}
    _open(at, "add_class")
    assert at.warning and "support_intents_en.csv" in shown(at.warning[0].value)
