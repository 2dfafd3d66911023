"""Every page renders, its widgets are found by key, and a small comparison reaches Results."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.app.conftest import shown, train_form

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "support_intents_en.csv"


@pytest.fixture
def at(home):
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    return app


def _clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_data_page_defaults_to_sample(at) -> None:
    _clean(at)
    assert at.radio(key="data_source").value == "sample"
    assert at.selectbox(key="data_sample").value == "support_intents_en.csv"
    assert at.slider(key="data_test_size").value == 0.2
    assert not at.error


def test_data_page_switches_sample_and_shows_chinese(at) -> None:
    at.selectbox(key="data_sample").set_value("support_intents_zh.csv").run()
    _clean(at)
    assert at.session_state["dataset"]["name"] == "support_intents_zh.csv"
    assert at.metric[1].value == "9"


def test_bad_upload_shows_message_not_traceback(at, home) -> None:
    bad = home / "uploads" / "bad.csv"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("text,label\nonly one,a\n", encoding="utf-8")
    at.session_state["dataset"] = {**at.session_state["dataset"], "kind": "upload",
                                   "path": str(bad), "name": "bad.csv"}
    at.radio(key="data_source").set_value("upload").run()
    _clean(at)
    # the finding itself, in its sentence, with the row it is about: not a traceback
    assert any("Every row has the same label ('a')" in shown(e.value) for e in at.error), \
        [e.value for e in at.error]


def test_train_page_widgets(at) -> None:
    at.switch_page("app_pages/train.py").run()
    _clean(at)
    assert at.selectbox(key="train_backbone").value == "minilm"  # an id, shown as its label
    assert "linear-probe" in at.multiselect(key="train_methods").value
    assert at.number_input(key="train_shots").value == 8
    assert at.button(key="train_start")
    table = at.dataframe[0].value  # the estimates: measured speed, counted work
    assert table["method"].tolist() == at.multiselect(key="train_methods").value
    assert "?" not in table["time per run"].tolist()
    assert all(text.startswith("~") for text in table["time per run"])
    assert any("runs: ~" in c.value for c in at.caption)  # the whole comparison's time


def test_train_settings_form_has_help(at) -> None:
    at.switch_page("app_pages/train.py").run()
    widget = at.number_input(key="cfg_linear-probe_c")
    assert widget.help


@pytest.mark.parametrize("page", ["results", "playground", "history"])
def test_empty_pages_explain_themselves(at, page) -> None:
    at.switch_page(f"app_pages/{page}.py").run()
    _clean(at)
    assert at.info


def _wait_for(at, key: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        at.run()
        _clean(at)
        if any(b.key == key for b in at.button):
            return
        time.sleep(0.5)
    raise AssertionError(f"{key} never appeared")


def test_comparison_reaches_results_playground_history(at) -> None:
    at.session_state["train_form"] = train_form(methods=["tfidf-logreg", "linear-probe"],
                                                backbone="tiny", shots=(4,))
    at.switch_page("app_pages/train.py").run()
    at.button(key="train_start").click().run()
    _clean(at)
    assert len(at.session_state["comparison"]) == 2
    _wait_for(at, "train_open_results")
    at.button(key="train_open_results").click().run()
    _clean(at)
    board = at.dataframe[0].value  # the leaderboard comes first
    assert set(board["method"]) == {"tfidf-logreg", "linear-probe"}
    assert board["accuracy"].notna().all()
    assert at.selectbox(key="results_true").value
    at.switch_page("app_pages/playground.py").run()
    at.text_area(key="play_text").set_value("where is my parcel").run()
    at.button(key="play_predict").click().run()
    _clean(at)
    assert at.metric[0].value
    at.switch_page("app_pages/history.py").run()
    _clean(at)
    assert len(at.dataframe[0].value) == 2


def test_data_choice_survives_a_reload(at, home) -> None:
    from streamlit.testing.v1 import AppTest

    at.selectbox(key="data_sample").set_value("support_intents_zh.csv").run()
    at.slider(key="data_test_size").set_value(0.3).run()
    at.switch_page("app_pages/train.py").run()  # a page switch clears the URL: it is put back
    _clean(at)
    params = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert params["data"] == "sample:support_intents_zh.csv"
    assert params["split"] == "0.3,0.1,0,0"  # no split column
    assert "owner" not in params  # the owner is in the browser's cookie, never the URL

    upload = home / "uploads" / "0123456789ab" / "my_intents.csv"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(SAMPLE.read_bytes())
    for given, kind, name in ((params, "sample", "support_intents_zh.csv"),
                              ({**params, "data": "upload:0123456789ab/my_intents.csv",
                                "text": "text", "label": "label"}, "upload", "my_intents.csv"),
                              ({**params, "data": "upload:../../etc/passwd"}, "sample",
                               "support_intents_en.csv")):
        fresh = AppTest.from_file(APP, default_timeout=90)  # a reload is a new session
        fresh.query_params.update(given)
        fresh.run()
        _clean(fresh)
        data = fresh.session_state["dataset"]
        assert (data["kind"], data["name"]) == (kind, name)
        if kind == "upload":
            assert data["path"] == str(upload) and data["label_col"] == "label"
            assert data["test_size"] == 0.3 and fresh.slider(key="data_test_size").value == 0.3


def test_reload_finds_a_running_comparison_again(at, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from ui import state

    at.session_state["train_form"] = train_form(methods=["tfidf-logreg"], backbone="tiny",
                                                shots=(4,))
    at.switch_page("app_pages/train.py").run()
    at.button(key="train_start").click().run()
    run_ids = list(at.session_state["comparison"])
    owner = at.session_state["owner"]
    fresh = AppTest.from_file(APP, default_timeout=90)  # a reload: a new session, same cookie
    monkeypatch.setattr(state, "_cookies", lambda: {state.OWNER_COOKIE: owner})
    fresh.run()
    fresh.switch_page("app_pages/train.py").run()
    _clean(fresh)
    assert fresh.session_state["comparison"] == run_ids
    _wait_for(fresh, "train_open_results")
    monkeypatch.setattr(state, "_cookies", lambda: {})
    stranger = AppTest.from_file(APP, default_timeout=90)  # another owner finds nothing
    stranger.run()
    stranger.switch_page("app_pages/train.py").run()
    assert stranger.session_state["comparison"] == []


def test_what_the_data_changes_is_shown_beside_the_setting(at) -> None:
    """protonet's settings say 100 meta-training episodes of 5-way 5-shot; on 8 examples of
    each of 9 classes the run trains fewer and smaller ones, and the form says so beside those
    very fields (what it shows is what runs)."""
    at.switch_page("app_pages/train.py").run()
    _clean(at)
    assert at.number_input(key="cfg_protonet_meta_episodes").value == 100
    notes = [c.value for c in at.caption if c.value.startswith(":material/info:")]
    assert any("meta-trains 18 episodes, not 100" in n and "adapt_passes" in n
               for n in notes), notes
    assert any("5-way 4-shot 4-query" in n for n in notes), notes
    at.number_input(key="train_shots").set_value(1).run()  # 1 per class: no episode at all
    notes = [c.value for c in at.caption if c.value.startswith(":material/info:")]
    assert any("no training episode can be drawn" in n for n in notes), notes


def test_the_unseen_form_shows_each_meta_learners_own_episodes(at) -> None:
    at.switch_page("app_pages/train.py").run()
    at.segmented_control(key="train_protocol").set_value("episodic").run()
    _clean(at)
    # the app's laptop-sized plan says 30 for protonet, in protonet's own settings
    assert at.number_input(key="cfg_ep_protonet_meta_episodes").value == 30
    keys = {w.key for w in at.number_input}
    assert not {"cfg_ep_protonet_n_way", "cfg_ep_protonet_k_shot"} & keys  # from the shape
