"""The Playground says what it cannot do: an empty text gets a message, a text the run's
tokenizer cannot read gets a warning in the user's language, and an answer says whether its
numbers are probabilities (calibrated) or only scores.

The runs are real saved models (nearest-centroid on the tiny random BERT, which has MiniLM's
English tokenizer), written straight into the test's METACORE_HOME: no training through the
app, a second or two each.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from metacore.methods import create
from metacore.runs.result import RunResult
from metacore.runs.store import RunStore
from metacore.training.context import EmbeddingCache, RunContext
from tests.app.conftest import shown
from tests.conftest import make_texts

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(scope="module")
def tiny_module():
    from metacore.backbones import tiny_backbone

    return tiny_backbone()


def _saved_run(home: Path, owner: str, backbone, per_class: int = 6) -> RunResult:
    """A completed nearest-centroid run whose model is in the store's artifact folder."""
    train = make_texts(3, per_class, seed=1)
    method = create("nearest-centroid", {})
    method.fit(train, val=None, ctx=RunContext(backbone=backbone, seed=0, cache=EmbeddingCache()))
    store = RunStore(home)
    run_id = f"nc{per_class}"
    method.save(store.artifact_dir(run_id) / "model")
    result = RunResult(run_id=run_id, method="nearest-centroid", backbone="tiny",
                       protocol="adapt", status="completed",
                       metrics={"accuracy": 1.0, "macro_f1": 1.0},
                       confusion={"labels": train.classes, "matrix": [[1, 0, 0], [0, 1, 0],
                                                                      [0, 0, 1]]},
                       parameters=method.parameter_counts(), data={"classes": train.classes})
    store.record_result(result, owner=owner)
    return result


def _playground(home, backbone, lang: str | None = None):
    """The Playground with two saved runs: calibrated (6 texts a class) and not (1 a class)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=90)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    for per_class in (6, 1):
        _saved_run(home, at.session_state["owner"], backbone, per_class)
    at.switch_page("app_pages/playground.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="play_run").set_value("nc6").run()
    return at


def _predict(at, text: str):
    at.text_area(key="play_text").set_value(text).run()
    at.button(key="play_predict").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_empty_text_a_probability_an_unreadable_text_and_a_score(home, tiny_module) -> None:
    from tests.conftest import VOCAB

    at = _predict(_playground(home, tiny_module), "   \n  ")  # blank: a message, not nothing
    assert any("Type a text first" in i.value for i in at.info), [i.value for i in at.info]
    assert not at.metric and not at.warning

    first = list(VOCAB)[0]  # a normal prediction shows its (calibrated) probability
    at = _predict(at, " ".join(VOCAB[first].split()[:6]))
    assert at.metric[0].value == first
    [answer] = [c.value for c in at.caption if "runner-up" in c.value]
    assert "probability" in answer and int(answer.split("%")[0]) > 50, answer
    assert not at.warning  # English text on an English tokenizer

    at = _predict(at, "我的快递三天了还没到，能帮我查一下吗")  # Chinese, English tokenizer
    [warning] = [w.value for w in at.warning]
    assert "unknown to the backbone" in shown(warning) and "'tiny'" in shown(warning), warning
    assert at.metric  # the answer is still shown, with the warning beside it

    at.selectbox(key="play_run").set_value("nc1").run()  # one text a class: not calibrated
    at = _predict(at, "anything at all")
    captions = [c.value for c in at.caption]
    assert any(c.startswith("score ") for c in captions), captions
    assert any("not probabilities" in c for c in captions), captions


def test_the_warning_and_the_empty_message_in_chinese(home, tiny_module) -> None:
    at = _predict(_playground(home, tiny_module, lang="zh"), "我的快递三天了还没到，能帮我查一下吗")
    [warning] = [w.value for w in at.warning]
    assert "不认识" in warning and "词元" in warning, warning
    at = _predict(at, "")
    assert any("请先输入文本" in i.value for i in at.info)
