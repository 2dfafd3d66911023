"""Workshop presets and classroom links on Train & compare; the page in Chinese."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from metacore.plan import EpisodeShape, ExperimentPlan
from tests.app.conftest import shown
from ui import classroom
from ui.form import default_plan

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _open(home, params: dict[str, str] | None = None):
    """Train & compare as a browser opening ``/train?params`` would show it."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("app_pages/train.py")
    at.query_params.update(params or {})
    at.run()
    _clean(at)
    return at


def _clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _parse(query: str, base: ExperimentPlan | None = None):
    """(link, plan, notes) of a query, on the adapt form's default plan."""
    return classroom.parse(dict(parse_qsl(query.lstrip("?"))), base or default_plan("adapt"),
                           check_backbone=_allow)


def _allow(spec: str) -> str:
    from ui.state import check_backbone

    return check_backbone(spec)


# --- the link itself -------------------------------------------------------------------

ADAPT = ExperimentPlan(methods={"linear-probe": {}, "protonet": {
    "meta_episodes": 10, "lr": 5e-05, "distance": "cosine"}, "full-finetune": {"patience": 0}},
    shots=(8,), seeds=(0, 1), device="cpu")
UNSEEN = ExperimentPlan(methods={"nearest-centroid": {}, "anil": {
    "meta_episodes": 10, "learn_inner_lr": True}}, protocol="episodic", seeds=(2,),
    backbone="tiny", episodes=EpisodeShape(n_way=4, k_shot=3, n_query=2, test_episodes=40,
                                           meta_episodes=0))


@pytest.mark.parametrize("plan, page", [
    (ADAPT, {"lang": "zh"}),
    (ExperimentPlan(methods=["tfidf-logreg"], shots=(None,), seeds=(3,)),
     {"data": {"data": "sample:support_intents_zh.csv", "split": "0.3,0.1,0,0"}}),
    (UNSEEN, {"hide": ["advanced", "settings"]}),
])
def test_link_round_trips(plan: ExperimentPlan, page: dict) -> None:
    query = classroom.link_query(plan, **page)
    assert "owner" not in query
    link, parsed, notes = _parse(query)
    assert notes == [] and parsed == plan
    assert (link.lang, link.data, link.hide) == (page.get("lang"), page.get("data", {}),
                                                page.get("hide", []))


def test_a_preset_link_locks_what_the_preset_sets() -> None:
    query = classroom.link_query(default_plan("adapt"), preset=None, lock=True,
                                 hide=["advanced"])
    link, _, _ = _parse(query)
    assert link.lock and link.hides("advanced") and link.locks("methods")
    link, plan, notes = _parse("preset=compare-2min&lock=1&hide=advanced")
    assert not notes and link.preset == "compare-2min" and link.locks("settings")
    assert list(plan.methods) == ["tfidf-logreg", "linear-probe", "nearest-centroid",
                                  "protonet"]


def test_bad_parameters_are_noted_not_raised() -> None:
    link, plan, notes = _parse(
        "methods=nope,linear-probe&shots=abc&seeds=x&backbone=/etc&"
        "device=tpu&protonet.meta_episodes=-5&nosuch.x=1&lock=maybe&"
        "hide=everything&preset=sweep-1min&ways=3&linear-probe.c=big&"
        "backbone2=1&data=upload:../../etc/passwd")
    base = default_plan("adapt")
    assert list(plan.methods) == ["linear-probe"] and plan.methods["linear-probe"] == {}
    assert (plan.shots, plan.seeds, plan.backbone, plan.device) == (
        base.shots, base.seeds, base.backbone, base.device)
    assert link.preset is None and link.hide == [] and not link.lock and link.data == {}
    assert len(notes) == 13, [str(n) for n in notes]
    text = " ".join(str(n) for n in notes)
    for word in ("nope", "abc", "/etc", "tpu", "protonet.meta_episodes", "nosuch.x",
                 "maybe", "everything", "sweep-1min", "ways", "linear-probe.c", "backbone2"):
        assert word in text, word


def test_a_link_cannot_load_an_arbitrary_folder(tmp_path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    link, plan, notes = _parse(f"backbone={folder}&methods=linear-probe")
    assert plan.backbone == "minilm" and notes and list(plan.methods) == ["linear-probe"]
    link, plan, notes = _parse("backbone=random-init:minilm")
    assert plan.backbone == "random-init:minilm" and not notes


def test_preset_resolves_and_compacts() -> None:
    from metacore import presets

    link, plan, _ = _parse("preset=meta-5min&seeds=4", default_plan("episodic"))
    e = plan.episodes
    assert (plan.protocol, e.k_shot, e.n_way, e.test_episodes) == ("episodic", 3, 3, 50)
    assert plan.seeds == (4,) and plan.methods["anil"] == {"meta_episodes": 10}
    same = presets.get("compare-2min").plan
    assert classroom.link_query(same, preset="compare-2min") == "preset=compare-2min"
    import dataclasses

    changed = dataclasses.replace(same, seeds=(0, 1))
    assert "preset" not in classroom.link_query(changed, preset="compare-2min")


# --- the page --------------------------------------------------------------------------


def test_preset_picker_fills_the_form_and_shows_its_time(home) -> None:
    at = _open(home)
    at.selectbox(key="train_preset").set_value("compare-2min").run()
    _clean(at)
    assert at.multiselect(key="train_methods").value == ["tfidf-logreg", "linear-probe",
                                                         "nearest-centroid", "protonet"]
    assert at.number_input(key="train_shots").value == 8
    assert at.text_input(key="train_seeds").value == "0"
    assert at.number_input(key="cfg_protonet_meta_episodes").value == 10
    captions = " ".join(c.value for c in at.caption)
    assert "Measured once end to end: 40 s" in captions
    at.selectbox(key="train_preset").set_value("gpu-episodic").run()
    _clean(at)
    assert at.segmented_control(key="train_protocol").value == "episodic"
    assert at.number_input(key="ep_test_episodes").value == 600
    assert "Estimated" in " ".join(c.value for c in at.caption)
    at.selectbox(key="train_preset").set_value("meta-5min").run()
    assert at.number_input(key="ep_shots").value == 3
    # each meta-learner's own number of episodes, in its own settings: what the run uses
    assert at.number_input(key="cfg_ep_protonet_meta_episodes").value == 15
    assert at.number_input(key="cfg_ep_anil_meta_episodes").value == 10


def test_classroom_link_locks_and_hides(home) -> None:
    at = _open(home, {"preset": "compare-2min", "lock": "1", "hide": "advanced"})
    methods = at.multiselect(key="train_methods")
    assert methods.disabled and "protonet" in methods.value
    assert at.number_input(key="train_shots").disabled
    assert at.text_input(key="train_seeds").disabled
    assert at.selectbox(key="train_preset").disabled
    assert at.number_input(key="cfg_protonet_meta_episodes").disabled
    keys = {w.key for w in [*at.selectbox, *at.toggle, *at.text_input]}
    assert not {"train_backbone", "train_device", "train_backbone_id"} & keys
    assert not any(k.endswith("__advanced") for k in keys)
    assert at.info and not at.button(key="train_start").disabled
    # a visit to another page clears the URL: the link's settings come back with the page
    at.switch_page("app_pages/results.py").run()
    at.switch_page("app_pages/train.py").run()
    _clean(at)
    assert at.query_params["lock"] == ["1"] or at.query_params["lock"] == "1"
    assert at.multiselect(key="train_methods").disabled


def test_explicit_link_and_its_copy(home) -> None:
    at = _open(home, {"protocol": "adapt", "methods": "tfidf-logreg,linear-probe",
                      "shots": "4", "seeds": "0-2", "linear-probe.c": "2.5", "lock": "1"})
    assert at.multiselect(key="train_methods").value == ["tfidf-logreg", "linear-probe"]
    assert at.number_input(key="train_shots").value == 4
    assert at.text_input(key="train_seeds").value == "0, 1, 2"
    assert at.number_input(key="cfg_linear-probe_c").value == 2.5
    assert not at.selectbox(key="train_backbone").disabled  # the link leaves it free
    [query] = [c.value for c in at.code]
    assert "owner" not in query and "owner" not in at.query_params
    link, plan, notes = _parse(query)
    assert not notes and link.lock and list(plan.methods) == ["tfidf-logreg", "linear-probe"]
    assert plan.seeds == (0, 1, 2) and plan.methods == {"tfidf-logreg": {},
                                                        "linear-probe": {"c": 2.5}}


def test_invalid_parameters_show_a_note_not_a_traceback(home) -> None:
    at = _open(home, {"methods": "nope,linear-probe", "shots": "-3", "backbone": "../../x",
                      "preset": "none-such"})
    assert at.multiselect(key="train_methods").value == ["linear-probe"]
    note = shown(at.warning[0].value)  # the values, escaped for Markdown
    assert "nope" in note and "-3" in note and "../../x" in note and "none-such" in note


def test_unseen_link_and_learn_page_preset(home) -> None:
    at = _open(home, {"protocol": "unseen", "ways": "4", "shots": "2", "queries": "3",
                      "seeds": "5", "episodes": "0", "hide": "settings"})
    assert at.segmented_control(key="train_protocol").value == "episodic"
    assert (at.number_input(key="ep_ways").value, at.number_input(key="ep_shots").value,
            at.number_input(key="ep_queries").value) == (4, 2, 3)
    assert at.number_input(key="ep_seed").value == 5
    assert not at.expander or all("settings" not in e.label for e in at.expander[:-1])
    at = _open(home, {"preset": "meta-5min"})  # what the Learn page's link opens
    assert at.number_input(key="ep_test_episodes").value == 50
    assert not at.number_input(key="ep_ways").disabled  # no lock: the class may change it


def test_train_page_in_chinese(home) -> None:
    at = _open(home, {"lang": "zh"})
    assert at.title[0].value == "训练与比较"
    assert at.button(key="train_start").label == "开始比较"
    # widgets whose options are words of the language carry it in their key (ui.i18n.lkey)
    assert at.multiselect(key="train_methods__zh").label == "方法"
    assert "学习率" not in at.number_input(key="cfg_linear-probe_c").label
    assert "正则化" in at.number_input(key="cfg_linear-probe_c").help
    # AppTest formats options outside the page's run (in English), so no widget is changed in
    # Chinese here: a second page opens the other protocol
    at = _open(home, {"lang": "zh", "protocol": "unseen"})
    assert at.number_input(key="ep_ways").label == "N 类"
    assert at.button(key="ep_start").label == "开始回合式比较"
