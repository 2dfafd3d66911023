"""The unseen-classes (episodic) form on Train & compare: defaults, feasibility, a tiny run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.app.conftest import shown, train_form

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def at(home):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page("app_pages/train.py").run()
    return app


def _clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _episodic(at):
    at.segmented_control(key="train_protocol").set_value("episodic").run()
    _clean(at)
    return at


def test_form_defaults_work_on_the_english_sample(at) -> None:
    _episodic(at)
    assert (at.number_input(key="ep_ways").value, at.number_input(key="ep_shots").value) == (3, 5)
    assert at.number_input(key="ep_test_episodes").value == 100  # the CLI's 600 is too slow
    assert at.radio(key="ep_split").value == "random"  # the sample has no split column
    split = at.table[0].value  # the class split table
    assert list(split["texts"]) == [152, 76, 114]  # 4 base, 2 validation, 3 novel classes
    assert not at.error
    assert not at.button(key="ep_start").disabled


def test_infeasible_shape_is_explained_before_running(at) -> None:
    _episodic(at)
    at.number_input(key="ep_ways").set_value(5).run()
    _clean(at)
    messages = [shown(e.value) for e in at.error]
    assert any("5-way episodes need 5" in m and "N ways" in m for m in messages), messages
    assert at.button(key="ep_start").disabled
    at.number_input(key="ep_ways").set_value(3).run()
    at.number_input(key="ep_queries").set_value(40).run()  # 38 texts per class
    assert any("fewer than 45 examples" in e.value for e in at.error)


def test_picked_classes_must_not_overlap(at) -> None:
    _episodic(at)
    at.radio(key="ep_split").set_value("pick").run()
    _clean(at)
    novel = at.multiselect(key="ep_part_novel")
    base = at.multiselect(key="ep_part_meta_train").value
    assert len(novel.value) == 3 and len(base) == 4  # starts from the random split
    novel.set_value([*novel.value, base[0]]).run()
    _clean(at)
    assert any("in both meta_train and novel" in shown(e.value) for e in at.error)
    assert at.button(key="ep_start").disabled


def test_tiny_episodic_run_reaches_results(home) -> None:
    from streamlit.testing.v1 import AppTest

    from metacore.plan import EpisodeShape

    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["train_form"] = train_form(
        "episodic", methods={"nearest-centroid": {}, "protonet": {
            "val_episodes": 1, "max_length": 16, "meta_episodes": 2}}, backbone="tiny",
        episodes=EpisodeShape(n_way=3, k_shot=2, n_query=2, test_episodes=10))
    at.run()
    at.switch_page("app_pages/train.py").run()
    _clean(at)
    assert at.segmented_control(key="train_protocol").value == "episodic"
    assert at.number_input(key="cfg_ep_protonet_meta_episodes").value == 2
    at.button(key="ep_start").click().run()
    _clean(at)
    assert len(at.session_state["comparison"]) == 2
    deadline = time.time() + 180
    while not any(b.key == "train_open_results" for b in at.button):
        assert time.time() < deadline, "the episodic runs never finished"
        time.sleep(0.5)
        at.run()
        _clean(at)
    at.button(key="train_open_results").click().run()
    _clean(at)
    board = at.dataframe[0].value  # the leaderboard comes first
    assert set(board["method"]) == {"nearest-centroid", "protonet"}
    assert set(board["protocol"]) == {"episodic"} and set(board["episodes"]) == {10}
    assert board["accuracy"].between(0, 1).all() and board["accuracy_ci95"].notna().all()
    per_class = next(d.value for d in at.dataframe if "support" in d.value.columns)
    assert per_class["support"].sum() == 10 * 3 * 2  # pooled over every query of every episode
    assert all(s.key != "results_true" for s in at.selectbox)  # no texts kept per query


def test_plan_reads_a_split_column_and_builds_the_plan() -> None:
    import pandas as pd

    from metacore.plan import EpisodeShape
    from metacore.plan.command import to_command
    from ui import episodic_plan

    parts = {"a": "meta_train", "b": "meta_train", "c": "meta_val", "d": "meta_test",
             "e": "meta_test"}
    frame = pd.DataFrame([{"text": f"{c} {i}", "label": c, "split": p}
                          for c, p in parts.items() for i in range(6)])
    assert episodic_plan.column_split_usable(frame)
    assert not episodic_plan.column_split_usable(frame.assign(split="train"))
    form = train_form("episodic", split_kind="column", methods={"protonet": {"lr": 1e-4}},
                      backbone="tiny", device="cpu",
                      episodes=EpisodeShape(n_way=2, k_shot=2, n_query=2))
    split, findings = episodic_plan.feasibility(form, frame)
    assert split.novel == ("d", "e") and not [f for f in findings if f.level == "error"]
    data = {"path": "x.csv", "test_size": 0.2, "val_size": 0.1, "use_split_column": True}
    plan = form.to_run(data)
    assert plan.data.classes_split == "column" and plan.methods == {"protonet": {"lr": 1e-4}}
    assert plan.method_settings(plan.runs()[0])["n_way"] == 2  # the shape, for every method
    assert "--classes-split column" in to_command(plan)
    form.update(episodes=EpisodeShape(n_way=2, k_shot=5, n_query=2))  # 6 per class < 5 + 2
    errors = [f.message for f in episodic_plan.feasibility(form, frame)[1]
              if f.level == "error"]
    assert any("lower K shots or Q queries" in m for m in errors), errors


@pytest.mark.parametrize("support_loss, shown", [(0.0004, True), (0.9, False)])
def test_results_explain_a_flat_inner_loop(home, support_loss, shown) -> None:
    """At 1 shot the prototype head fits the support set before any inner step; Results says
    so beside the flat inner-loop lines, and only then."""
    from streamlit.testing.v1 import AppTest

    from metacore.runs.result import RunResult
    from metacore.runs.store import RunStore

    trace = [{"step": k, "support_loss": support_loss, "support_accuracy": 1.0,
              "query_loss": 0.4, "query_accuracy": 0.88} for k in range(3)]
    result = RunResult(run_id="flat1", method="fomaml", backbone="tiny", protocol="episodic",
                       status="completed", metrics={"accuracy_mean": 0.88,
                                                    "accuracy_ci95": 0.01},
                       inner_loop=trace, created="2026-11-30T08:00:00+00:00")
    RunStore(home).record_result(result, owner="owner1")
    app = AppTest.from_file(APP, default_timeout=90)
    app.session_state["owner"] = "owner1"
    app.run()
    app.switch_page("app_pages/results.py").run()
    _clean(app)
    captions = [c.value for c in app.caption]
    assert any("Flat lines for fomaml" in c for c in captions) is shown, captions
