"""The workbench pages in Chinese: titles, the sidebar switch, findings and figure words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from metacore.data import Finding, Limits, load_dataset, validate
from metacore.data.episodes import episode_findings
from metacore.data.splits import Split
from metacore.data.validation import check_and_clean, cross_split_findings
from metacore.reporting import figures
from metacore.runs.result import RunResult
from tests.app.conftest import shown

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CJK = re.compile(r"[\u4e00-\u9fff]")
PAGES = {"data": "数据", "results": "结果", "playground": "试用", "history": "历史"}


def _app(home, **params):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update(params)
    return at


def _clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _result(run_id: str = "zh1") -> RunResult:
    labels = ["退款", "card_lost", "delivery"]
    preds = [{"text": "我要退款", "label": "退款", "predicted": "退款", "confidence": 0.9,
              "proba": [0.9, 0.05, 0.05]},
             {"text": "lost my card", "label": "card_lost", "predicted": "退款",
              "confidence": 0.6, "proba": [0.6, 0.3, 0.1]},
             {"text": "where is it", "label": "delivery", "predicted": "delivery",
              "confidence": 0.8, "proba": [0.1, 0.1, 0.8]}]
    return RunResult(
        run_id=run_id, method="linear-probe", backbone="minilm", protocol="adapt",
        status="completed", metrics={"accuracy": 0.7, "macro_f1": 0.6},
        per_class={c: {"precision": 0.5, "recall": 0.6, "f1": 0.55, "support": 1}
                   for c in labels},
        confusion={"labels": labels, "matrix": [[1, 0, 0], [1, 0, 0], [0, 0, 1]]},
        history={"steps": [{"step": 1, "epoch": 0, "loss": 1.2},
                           {"step": 2, "epoch": 0, "loss": 0.9}],
                 "evals": [{"step": 2, "epoch": 0, "val_loss": 1.0, "val_accuracy": 0.5}]},
        timing={"train_s": 1.5}, parameters={"trainable": 1234, "total": 5678},
        predictions=preds, extra={"proba_labels": labels, "projection": {
            "index": [0, 1, 2], "labels": ["退款", "card_lost", "delivery"],
            "before": [[0, 0], [1, 1], [3, 3]], "after": [[0, 1], [2, 2], [4, 4]]}},
        config={"run": {"seed": 3, "shots": 8}}, data={"shots": 8})


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders_in_chinese_from_the_url(home, page) -> None:
    at = _app(home, lang="zh")
    at.run()
    if page != "data":
        at.switch_page(f"app_pages/{page}.py").run()
    _clean(at)
    assert at.title[0].value == PAGES[page]
    assert CJK.search(at.caption[0].value)
    if page != "data":  # nothing run yet: the empty state explains itself in Chinese
        assert CJK.search(at.info[0].value)
    assert at.query_params["lang"] in ("zh", ["zh"])  # kept in the URL after a page switch


def test_device_line_follows_the_language(monkeypatch) -> None:
    import torch

    import ui.i18n
    from ui import state

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(ui.i18n, "language", lambda: "zh")
    assert state.device_label() == f"CPU（{torch.get_num_threads()} 个线程）"
    monkeypatch.setattr(ui.i18n, "language", lambda: "en")
    assert state.device_label() == f"cpu ({torch.get_num_threads()} threads)"


def test_sidebar_switch(home) -> None:
    # AppTest only shows the sidebar's elements after the first run: switch there
    at = _app(home)
    at.run()
    _clean(at)
    assert at.title[0].value == "Data"
    assert at.radio(key="data_source").value == "sample"
    switch = at.button_group(key="lang_sidebar")
    assert switch.value in ("en", ["en"])
    switch.set_value("zh").run()
    _clean(at)
    assert at.session_state["lang"] == "zh"
    assert at.title[0].value == "数据"
    source = at.radio(key="data_source__zh")  # its options are words of the language
    assert source.value == "sample" and "内置样例" in source.options
    assert at.metric[0].label == "样本数"
    at.switch_page("app_pages/history.py").run()  # the choice follows to the next page
    _clean(at)
    assert at.title[0].value == "历史"
    assert at.query_params["lang"] in ("zh", ["zh"])


def test_session_language(home) -> None:
    at = _app(home)
    at.session_state["lang"] = "zh"
    at.run()
    _clean(at)
    assert at.title[0].value == "数据"
    at.session_state["lang"] = "en"
    at.run()
    assert at.title[0].value == "Data"


def test_switching_language_keeps_the_data_source(home) -> None:
    at = _app(home)
    at.run()
    at.radio(key="data_source").set_value("upload").run()
    at.session_state["lang"] = "zh"
    at.run()
    _clean(at)
    assert at.radio(key="data_source__zh").value == "upload"
    at.session_state["lang"] = "en"  # and back, any number of times
    at.run()
    _clean(at)
    assert at.radio(key="data_source").value == "upload"


def test_teaching_switch_and_sidebar_switch_agree(home) -> None:
    at = _app(home)
    at.switch_page("app_pages/learn.py").run()
    at.button_group(key="lang_learn").set_value("zh").run()
    _clean(at)
    assert at.session_state["lang"] == "zh"
    at.run()  # the sidebar's own switch (still on English) must not pull the language back
    _clean(at)
    assert at.session_state["lang"] == "zh"
    assert at.title[0].value == "学习：元学习是怎样工作的"
    at.switch_page("app_pages/data.py").run()
    assert at.title[0].value == "数据"


def test_results_history_playground_with_a_run_in_chinese(home) -> None:
    from metacore.runs.store import RunStore

    at = _app(home, lang="zh")
    at.run()
    RunStore(home).record_result(_result(), owner=at.session_state["owner"])
    at.switch_page("app_pages/results.py").run()
    _clean(at)
    assert [h.value for h in at.subheader][:2] == ["排行榜", "训练曲线"]
    board = at.dataframe[0].value
    assert board["status"].tolist() == ["已完成"]
    assert at.selectbox(key="results_true").label == "真实类别"
    at.switch_page("app_pages/history.py").run()
    _clean(at)
    assert at.dataframe[0].value["status"].tolist() == ["已完成"]
    assert at.button(key="history_open").label == "在“结果”中打开"


def test_a_bad_upload_is_explained_in_chinese(home) -> None:
    bad = home / "uploads" / "bad.csv"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("text,label\nonly one,a\nanother,a\n", encoding="utf-8")
    at = _app(home, lang="zh")
    at.run()
    at.session_state["dataset"] = {**at.session_state["dataset"], "kind": "upload",
                                   "path": str(bad), "name": "bad.csv"}
    at.radio(key="data_source__zh").set_value("upload").run()
    _clean(at)
    assert shown(at.error[0].value).startswith("所有行的标签都相同（'a'）")


def _engine_findings() -> list[Finding]:
    """Findings of the codes the bad-file corpus does not reach, made by the engine itself."""
    import pandas as pd

    from metacore.data.dataset import TextSet
    from metacore.data.readers.encoding import too_large

    out: list[Finding] = [too_large(3 * 1024**2, Limits(max_file_bytes=1024**2))]
    frame = pd.DataFrame({"text": ["x" * 50, "b", "c", "d"], "label": ["a", "b", "c", "c"]},
                         index=[2, 3, 4, 5])
    out += check_and_clean(frame, Limits(max_text_chars=10, max_classes=2))[1]
    empty = pd.DataFrame({"text": ["", " "], "label": ["a", "b"]}, index=[2, 3])
    out += check_and_clean(empty, Limits(), text_column="body")[1]
    texts = [f"t{i}" for i in range(12)] + ["t0"]
    labels = ["a", "b", "c"] * 4 + ["a"]
    data = load_dataset(pd.DataFrame({"text": texts, "label": labels}).to_csv(
        index=False).encode(), filename="x.csv")
    out += validate(data, limits=Limits(max_rows=5, max_classes=2))
    split = Split(train=TextSet(("t1", "t2", "t3"), ("a", "a", "b")),
                  val=TextSet(("t1", "zz"), ("a", "a")),
                  test=TextSet(("t1", "t2", "new"), ("a", "a", "new")), strategy="stratified")
    out += cross_split_findings(split)
    tiny = TextSet(("a", "b", "c"), ("x", "y", "z"))
    out += episode_findings(tiny, n_way=1, k_shot=1, n_query=1)
    out += episode_findings(tiny, n_way=3, k_shot=2, n_query=1, part="the novel classes")
    out += _budget_findings()
    multi = b"text,a,b,c\nx y,1,1,0\nz w,0,1,1\nv u,1,0,0\nq r,0,0,0\ns t,0,1,0\n"
    out += validate(load_dataset(multi, filename="m.csv"), k_shot=4)  # 0/1 columns
    out += load_dataset(b"text,labels\nx,a;b\ny,a\nz,b;c\nw,c\n", filename="s.csv").findings
    return out


def _budget_findings() -> list[Finding]:
    """The readers' budgets (tests/reliability/hostile.py makes the files), each exceeded."""
    import io
    import sys
    import zipfile

    from metacore.data.loading import LoadedData
    from metacore.messages import MessageError

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
    import hostile

    def load(raw: bytes, name: str, **limits) -> list[Finding]:
        return list(load_dataset(raw, filename=name, limits=Limits(**limits)).findings)

    parts = io.BytesIO()
    with zipfile.ZipFile(parts, "w") as archive:
        for i in range(3_000):
            archive.writestr(f"part{i}.xml", "")
    try:
        Limits.from_env({"METACORE_MAX_ROWS": "1e400"})
    except MessageError as exc:
        out = list(LoadedData.bad_limit("x.csv", exc.message).findings)
    out += load(hostile.deep_json(100_000), "deep.json")
    out += load(b"text,label\n" + b"an ordinary text,x\n" * 600 + b"a\x00b,y\n", "nul.csv")
    out += load(hostile.csv_wide_header(2_000), "wide.csv")
    out += load(hostile.csv_wide_row(2_000), "row.csv", max_cells=1_000)
    out += load(hostile.shared_strings_bomb(2), "big.xlsx", max_unzipped_bytes=1024**2)
    out += load(hostile.shared_strings_bomb(2, text=b""), "slow.xlsx", max_parse_seconds=1e-6)
    out += load(parts.getvalue(), "parts.xlsx")
    return out


def test_every_finding_code_is_translated() -> None:
    """Every finding the engine makes says its sentence in Chinese, by code, in full."""
    import sys

    from metacore.messages import catalog
    from ui.i18n import say, strings

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
    from corpus import BAD, CASES

    findings = _engine_findings()
    for case in CASES:
        findings += validate(load_dataset(BAD / case.name, **case.load), k_shot=case.k_shot or 8)
    codes = {k.split(".")[1].split("-")[0] for k in catalog("en") if k.startswith("finding.")}
    assert codes <= {f.code for f in findings}, sorted(codes - {f.code for f in findings})
    zh = catalog("zh")
    for finding in findings:
        assert finding.as_message().code in zh, finding.as_message().code
        text = say(finding, lang="zh", markdown=False)
        assert text != finding.message and CJK.search(text), (finding.code, finding.message)
        assert "{" not in text.replace('{"', ""), text
        # the engine's sentence, but the form's words for a flag (a hint, or the app's own
        # wording of the code: its column picker where the command line names --text-col)
        english = say(finding, lang="en", markdown=False)
        assert english == finding.message or "hint" in finding.params or \
            f"msg.{finding.message_code}" in strings("en"), english


def test_findings_written_as_sentences_are_shown_as_they_are() -> None:
    from ui.i18n import say

    written = Finding("warning", "brand_new_code", "Something new happened.")
    assert say(written, lang="zh", markdown=False) == written.message == "Something new happened."
    stored = Finding.from_dict({"level": "warning", "code": "missing_labels",
                                "message": "3 rows have no label.", "rows": [4], "count": 3})
    # an old result: no parameters
    assert say(stored, lang="zh", markdown=False) == "3 rows have no label."
    known = Finding("warning", "missing_labels", {"n": 3}, (4, 5, 9), 3)
    assert say(known, lang="zh", markdown=False).startswith("3 行没有标签")


def test_figure_words_follow_the_language() -> None:
    """Figure words are engine messages (figure.*), drawn in the language asked for, with the
    live loss chart's as well; a translation that cannot be filled falls back to English."""
    from metacore.messages import catalog

    result = _result()
    titles = {name: fig.layout.title.text
              for name, fig in figures.all_figures(result, lang="zh").items()}
    assert titles["confusion"] == "混淆矩阵" and titles["loss"] == "损失曲线"
    assert all(CJK.search(t) for t in titles.values()), titles
    bars = figures.leaderboard_bars([result], lang="zh")
    assert bars.layout.xaxis.title.text == "宏平均 F1"
    live = figures.live_loss([{"step": 1, "epoch": 0, "loss": 0.5}], [], lang="zh")
    assert CJK.search(live.layout.title.text) and CJK.search(live.layout.xaxis.title.text)
    english = {name: fig.layout.title.text for name, fig in figures.all_figures(result).items()}
    assert not any(CJK.search(t) for t in english.values()), english
    assert catalog("zh")["figure.mean_ci"] != catalog("en")["figure.mean_ci"]
    assert figures.label("xx", "mean_ci", mean="1", ci="2") == "mean 1 ± 2"  # no such language


def test_unseen_class_feasibility_findings_in_chinese(monkeypatch) -> None:
    """Train & compare's episode checks are translated before the page adds its own words."""
    import pandas as pd

    import ui.i18n
    from ui import episodic_plan

    frame = pd.read_csv(Path(APP).parent / "sample_data" / "support_intents_en.csv")
    from metacore.plan import EpisodeShape
    from tests.app.conftest import train_form

    choice = train_form("episodic", split_kind="random", methods=["protonet"],
                        episodes=EpisodeShape(n_way=3, k_shot=30, n_query=10))
    monkeypatch.setattr(ui.i18n, "language", lambda: "zh")
    _, findings = episodic_plan.feasibility(choice, frame)
    assert findings and all(f.level == "error" for f in findings)
    assert all(CJK.search(f.message) and "fewer than" not in f.message for f in findings)
    assert all("--" not in f.message for f in findings)  # the form's words, not the flags
    monkeypatch.setattr(ui.i18n, "language", lambda: "en")
    _, findings = episodic_plan.feasibility(choice, frame)
    assert all(not CJK.search(f.message) for f in findings), [f.message for f in findings]
