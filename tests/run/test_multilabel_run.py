"""Multi-label runs through the one runner, on our multi-label sample: the result keeps the
multi-label scores, thresholds chosen on validation, the co-occurrence and each text's labels;
the saved model answers the same; single-label methods and the unseen protocol say why not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from metacore.methods.base import load_method
from metacore.plan import DataSource, ExperimentPlan
from metacore.run import run
from metacore.runs import RunResult
from metacore.training.context import RunContext

SAMPLE = str(Path(__file__).resolve().parents[2] / "sample_data"
             / "support_tickets_multilabel.csv")


def test_a_multi_label_run_keeps_its_scores_and_model(tmp_path) -> None:
    plan = ExperimentPlan(methods={"tfidf-logreg": {}}, data=DataSource(path=SAMPLE),
                          backbone="tiny", shots=(8,), device="cpu", save_model=True,
                          out=str(tmp_path / "out"))
    result = run(plan)
    assert result.status == "completed", result.error
    saved = json.loads((tmp_path / "out" / "result.json").read_text())
    m = saved["metrics"]
    for key in ("micro_f1", "macro_f1", "samples_f1", "hamming_loss", "subset_accuracy"):
        assert 0.0 <= m[key] <= 1.0
    assert m["micro_f1"] > 0.4  # tf-idf reads these tickets well above chance
    assert saved["extra"]["multi_label"] and set(saved["per_class"]) == {
        "account", "billing", "bug", "feature_request", "refund", "shipping", "urgent"}
    thresholds = saved["extra"]["thresholds"]
    assert len(thresholds) == 7 and any(t != 0.5 for t in thresholds.values())  # chosen
    co = saved["extra"]["cooccurrence"]
    assert len(co["truth"]) == 7 and co["truth"][0][0] == saved["per_class"]["account"]["support"]
    first = saved["predictions"][0]
    assert isinstance(first["labels"], list) and isinstance(first["predicted_labels"], list)
    assert saved["data"]["multi_label"] and saved["data"]["short_labels"] == {}
    assert min(saved["data"]["train_per_label"].values()) >= 8
    # the saved model: the same thresholds, the same labels for the test texts
    ctx = RunContext(backbone=None, seed=0)
    model = load_method(tmp_path / "out" / "model", ctx=ctx)
    assert model.multi_label and model.thresholds == list(thresholds.values())
    texts = [p["text"] for p in saved["predictions"][:10]]
    proba = model.predict_proba(texts, ctx=ctx)
    assert np.allclose(proba, [p["proba"] for p in saved["predictions"][:10]], atol=1e-3)
    assert [list(x) for x in model.labels_of(proba)] == \
        [p["predicted_labels"] for p in saved["predictions"][:10]]
    assert RunResult.load(tmp_path / "out").to_dict() == saved


def test_a_single_label_method_fails_with_the_alternatives(tmp_path) -> None:
    plan = ExperimentPlan(methods={"protonet": {"meta_episodes": 1}},
                          data=DataSource(path=SAMPLE), backbone="tiny", shots=(2,),
                          device="cpu", out=str(tmp_path / "out"))
    result = run(plan)
    assert result.status == "failed"
    assert "several" in result.error and "linear-probe" in result.error


def test_one_label_per_row_when_asked(tmp_path) -> None:
    plan = ExperimentPlan(methods={"tfidf-logreg": {}},
                          data=DataSource(path=SAMPLE, label_format="none"), backbone="tiny",
                          shots=(2,), device="cpu", out=str(tmp_path / "out"))
    result = run(plan)
    assert result.status == "completed" and not result.extra.get("multi_label")
    assert "billing;refund" in result.data["classes"]  # each combination, a class


@pytest.mark.parametrize("bad", ["tabs"])
def test_a_bad_label_format_is_a_plan_error(bad: str) -> None:
    with pytest.raises(ValueError, match="label format"):
        ExperimentPlan(methods={"tfidf-logreg": {}},
                       data=DataSource(path=SAMPLE, label_format=bad)).check()
