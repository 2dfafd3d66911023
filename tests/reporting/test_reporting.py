"""Tables and figures from hand-made RunResults (no training, no streamlit)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from metacore.reporting import figures, tables
from metacore.runs.result import RunResult

LABELS = ["退款", "card_lost", "delivery"]


def make_result(method: str = "linear-probe", run_id: str = "r1", f1: float = 0.8,
                **extra) -> RunResult:
    preds = [
        {"text": "我要退款", "label": "退款", "predicted": "退款", "confidence": 0.9,
         "proba": [0.9, 0.05, 0.05]},
        {"text": "lost my card", "label": "card_lost", "predicted": "退款", "confidence": 0.6,
         "proba": [0.6, 0.3, 0.1]},
        {"text": "card gone", "label": "card_lost", "predicted": "退款", "confidence": 0.7,
         "proba": [0.7, 0.2, 0.1]},
        {"text": "where is it", "label": "delivery", "predicted": "delivery",
         "confidence": 0.8, "proba": [0.1, 0.1, 0.8]},
    ]
    per_class = {lab: {"precision": 0.5, "recall": 0.6, "f1": 0.55, "support": 2}
                 for lab in LABELS}
    return RunResult(
        run_id=run_id, method=method, backbone="minilm", protocol="adapt", status="completed",
        metrics={"accuracy": f1 + 0.05, "macro_f1": f1}, per_class=per_class,
        confusion={"labels": LABELS, "matrix": [[1, 0, 0], [2, 0, 0], [0, 0, 1]]},
        history={"steps": [{"step": 1, "epoch": 0, "loss": 1.2}, {"step": 2, "epoch": 0,
                                                                   "loss": 0.9}],
                 "evals": [{"step": 2, "epoch": 0, "val_loss": 1.0, "val_accuracy": 0.5}]},
        timing={"train_s": 1.5}, parameters={"trainable": 1234, "total": 5678},
        predictions=preds, extra={"proba_labels": LABELS, "projection": {
            "index": [0, 1, 2, 3], "labels": ["退款", "card_lost", "card_lost", "delivery"],
            "before": [[0, 0], [1, 1], [1, 2], [3, 3]], "after": [[0, 1], [2, 2], [2, 3], [4, 4]]},
            **extra},
        config={"run": {"seed": 3, "shots": 8}}, data={"shots": 8},
    )


def test_leaderboard_sorted_by_macro_f1() -> None:
    board = tables.leaderboard([make_result("a", "1", 0.5), make_result("b", "2", 0.9)])
    assert list(board["method"]) == ["b", "a"]
    assert {"accuracy", "macro_f1", "train_s", "trainable_params"} <= set(board.columns)
    assert board.loc[0, "trainable_params"] == 1234


def test_leaderboard_empty() -> None:
    assert tables.leaderboard([]).empty


def test_per_class_table_follows_matrix_order() -> None:
    table = tables.per_class_table(make_result())
    assert list(table["class"]) == LABELS
    assert table["support"].dtype.kind == "i"


def test_misclassified_cell() -> None:
    frame = tables.misclassified(make_result(), "card_lost", "退款")
    assert list(frame["text"]) == ["card gone", "lost my card"]  # most confident first
    assert frame.loc[0, "p_true"] == pytest.approx(0.2)
    assert frame.loc[0, "top"].startswith("退款 70%")
    assert tables.misclassified(make_result(), "delivery", "退款").empty


def test_class_counts_with_split() -> None:
    frame = pd.DataFrame({"text": list("abcd"), "label": ["x", "x", "y", "y"],
                          "split": ["train", "test", "train", "train"]})
    counts = tables.class_counts(frame)
    assert counts["count"].sum() == 4 and set(counts["split"]) == {"train", "test"}


@pytest.mark.parametrize("name", ["loss", "per_class", "confusion", "projection"])
def test_all_figures(name: str) -> None:
    figs = figures.all_figures(make_result())
    assert isinstance(figs[name], go.Figure)
    assert "Noto Sans CJK SC" in figs[name].layout.template.layout.font.family
    assert figs[name].data


def test_confusion_has_label_names_and_counts() -> None:
    fig = figures.confusion_heatmap(make_result())
    heat = fig.data[0]  # confused classes together: 退款 and card_lost first, as given
    assert list(fig.layout.xaxis.ticktext) == LABELS and list(fig.layout.yaxis.ticktext) == LABELS
    assert heat.text[1][0] == "2"


def test_inner_loop_curve_only_for_meta_learners() -> None:
    plain = make_result()
    assert "inner_loop" not in figures.all_figures(plain)
    meta = make_result("maml")
    meta.inner_loop = [{"step": 0, "loss": 1.1, "accuracy": 0.3},
                       {"step": 1, "loss": 0.7, "accuracy": 0.6}]
    fig = figures.all_figures(meta)["inner_loop"]
    assert len(fig.data) == 2
    # a flat trace stays flat: loss axis from zero, accuracy axis 0-100 %
    assert fig.layout.yaxis.rangemode == "tozero" and tuple(fig.layout.yaxis2.range) == (0, 1.05)


def test_live_loss_and_empty_states() -> None:
    assert figures.live_loss([], []).layout.annotations  # "waiting" message, no crash
    fig = figures.live_loss([{"step": 1, "loss": 1.0}],
                            [{"step": 1, "val_loss": 0.9, "val_accuracy": 0.5}], total_steps=10)
    assert len(fig.data) == 3
    low, high = fig.layout.xaxis.range  # the run's whole width, and the last step's marker
    assert low == 0 and 10 < high < 11  # drawn whole, not cut in half by the axis's end
    assert figures.loss_curves([]).layout.annotations
    episodic = figures.live_loss([{"step": 1, "loss": 1.0}], [
        {"step": 1, "val_loss": 0.9, "val_accuracy": 0.5, "val_way": 5.0, "val_shot": 1.0}])
    names = [trace.name for trace in episodic.data]
    assert "val accuracy (5-way 1-shot episodes)" in names  # not the test set's accuracy
    assert "验证准确率（5-way 1-shot 情景）" in [
        t.name for t in figures.live_loss([], [{"step": 1, "val_loss": 0.9, "val_accuracy": 0.5,
                                               "val_way": 5.0, "val_shot": 1.0}], lang="zh").data]


def test_class_distribution_and_probabilities() -> None:
    frame = pd.DataFrame({"text": ["a", "b", "c"], "label": ["退款", "退款", "x"]})
    fig = figures.class_distribution(frame)
    assert set(fig.data[0].y) == {"退款", "x"}
    probs = tables.probabilities_table([0.2, 0.8], ["a", "b"])
    assert probs.loc[0, "class"] == "b"
    assert figures.probability_bars(probs).data


def test_method_colors_are_stable() -> None:
    assert figures.method_color("protonet") == figures.method_color("protonet")
    assert figures.method_color("some-new-method").startswith("#")


def test_live_loss_reads_raw_events() -> None:
    evals = [{"kind": "Evaluated", "step": 2, "epoch": 0,
              "metrics": {"val_loss": 0.5, "val_accuracy": 0.7}}]
    fig = figures.live_loss([{"step": 1, "loss": 1.0, "metrics": {}}], evals)
    assert [t.name for t in fig.data] == ["train", "validation", "val accuracy"]


def make_episodic(method: str = "protonet", run_id: str = "e1", f1: float = 0.7) -> RunResult:
    res = make_result(method, run_id, f1, episodes=[{"classes": LABELS[:2], "accuracy": a,
                                                     "macro_f1": a} for a in (0.5, 0.7, 0.9)])
    res.protocol = "episodic"
    res.metrics = {"accuracy_mean": f1 + 0.01, "accuracy_ci95": 0.04, "macro_f1_mean": f1,
                   "macro_f1_ci95": 0.05, "episodes": 3, "n_test": 12}
    res.data = {"n_way": 2, "k_shot": 5, "n_query": 2}
    res.config = {"run": {"seed": 1, "n_way": 2, "k_shot": 5}}
    return res


def test_leaderboard_reads_episodic_means_and_intervals() -> None:
    board = tables.leaderboard([make_result("a", "1", 0.5), make_episodic(f1=0.7)])
    top = board.iloc[0]
    assert (top["method"], top["protocol"], top["shots"], top["ways"]) == ("protonet",
                                                                           "episodic", 5, 2)
    assert (top["macro_f1"], top["macro_f1_ci95"], top["episodes"]) == (0.7, 0.05, 3)
    assert board.iloc[1]["protocol"] == "adapt" and pd.isna(board.iloc[1]["macro_f1_ci95"])


def test_leaderboard_bars_have_error_bars_for_episodic_runs() -> None:
    fig = figures.leaderboard_bars([make_episodic(), make_result("linear-probe", "2", 0.6)])
    bar = fig.data[0]
    assert bar.error_x.visible and list(bar.error_x.array) == [0.0, 0.05]
    assert "95% CI" in fig.layout.title.text and "± 5.0%" in fig.data[1].text[-1]
    assert not figures.leaderboard_bars([make_result()]).data[0].error_x.visible


def test_episode_accuracy_histogram() -> None:
    fig = figures.episode_accuracy(make_episodic())
    assert list(fig.data[0].x) == [0.5, 0.7, 0.9]
    assert "episodes" in figures.all_figures(make_episodic())
    assert not figures.episode_accuracy(make_result()).data  # empty state
