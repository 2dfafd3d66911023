"""The confusion matrix and per-class figures at real sizes: 2 to 150 classes, long names."""

from __future__ import annotations

import random

import pytest

from metacore.reporting import figures, tables
from metacore.runs.result import RunResult

WORDS = ["balance", "cheque", "transfer", "card", "refund", "pin", "atm", "fee", "loan",
         "savings", "mortgage", "statement", "overdraft", "exchange", "wallet", "salary"]


def long_labels(n: int) -> list[str]:
    """``n`` distinct long class names that share their middle, like banking intents."""
    return [f"{WORDS[k % len(WORDS)]}_{k:03d}_not_updated_after_cheque_or_cash_deposit_"
            f"{WORDS[(k * 7) % len(WORDS)]}" for k in range(n)]


def many_result(n: int = 77, per_class: int = 3, seed: int = 0,
                run_id: str = "many1") -> RunResult:
    """A finished run over ``n`` long-named classes: most texts right, class 2k confused with
    class 2k+1 now and then (so the clustering has pairs to find)."""
    rng = random.Random(seed)
    labels = long_labels(n)
    matrix = [[0] * n for _ in range(n)]
    preds = []
    for i, lab in enumerate(labels):
        for k in range(per_class):
            j = i
            if k == 0 and i % 3 == 0 and i + 1 < n:
                j = i + 1
            elif k == 1 and i % 5 == 0:
                j = (i * 11 + 3) % n
            matrix[i][j] += 1
            proba = [rng.random() * 0.01 for _ in range(n)]
            proba[j] = 0.6 + 0.3 * rng.random()
            total = sum(proba)
            proba = [p / total for p in proba]
            preds.append({"text": f"text {k} about {lab.replace('_', ' ')}", "label": lab,
                          "predicted": labels[j], "confidence": max(proba), "proba": proba})
    per = {lab: {"precision": 0.5 + (i % 5) / 10, "recall": 0.6, "f1": 0.4 + (i % 7) / 12,
                 "support": per_class} for i, lab in enumerate(labels)}
    return RunResult(run_id=run_id, method="tfidf-logreg", backbone=None, protocol="adapt",
                     status="completed", metrics={"accuracy": 0.8, "macro_f1": 0.7},
                     per_class=per, confusion={"labels": labels, "matrix": matrix},
                     predictions=preds, extra={"proba_labels": labels},
                     config={"run": {"seed": 0}}, data={})


def test_order_puts_confused_classes_side_by_side() -> None:
    # 0<->4 and 1<->3 are confused; 2 is never confused
    matrix = [[5, 0, 0, 0, 3],
              [0, 5, 0, 2, 0],
              [0, 0, 5, 0, 0],
              [0, 1, 0, 5, 0],
              [2, 0, 0, 0, 5]]
    order = tables.confusion_order(matrix)
    assert sorted(order) == list(range(5))
    pos = {c: p for p, c in enumerate(order)}
    assert abs(pos[0] - pos[4]) == 1 and abs(pos[1] - pos[3]) == 1
    assert order[-1] == 2  # the unconfused class after the groups


def test_order_without_confusions_keeps_the_given_order() -> None:
    assert tables.confusion_order([[3, 0, 0], [0, 2, 0], [0, 0, 1]]) == [0, 1, 2]
    assert tables.confusion_order([[1, 1], [0, 1]]) == [0, 1]
    assert tables.confusion_order([]) == []


def test_order_is_a_permutation_at_150_classes() -> None:
    res = many_result(150, per_class=2)
    order = tables.confusion_order(res.confusion["matrix"])
    assert sorted(order) == list(range(150))


def test_confused_pairs_table() -> None:
    res = many_result(20)
    pairs = tables.confused_pairs(res, limit=5)
    assert list(pairs.columns) == ["true", "predicted", "count", "share"]
    assert len(pairs) == 5 and (pairs["true"] != pairs["predicted"]).all()
    assert list(pairs["count"]) == sorted(pairs["count"], reverse=True)
    labels = res.confusion["labels"]
    first = pairs.iloc[0]
    i, j = labels.index(first["true"]), labels.index(first["predicted"])
    row = res.confusion["matrix"][i]
    assert first["count"] == row[j] and first["share"] == pytest.approx(row[j] / sum(row))
    diagonal = RunResult(run_id="d", method="m", backbone=None, protocol="adapt",
                         status="completed", confusion={"labels": ["a", "b"],
                                                       "matrix": [[2, 0], [0, 3]]})
    assert tables.confused_pairs(diagonal).empty


@pytest.mark.parametrize("n", [2, 15, 77, 150])
def test_matrix_rows_grow_with_the_classes_and_every_label_is_a_tick(n: int) -> None:
    fig = figures.confusion_heatmap(many_result(n, per_class=2))
    heat, cells = fig.data[0], fig.data[1]
    assert fig.layout.height >= 16 * n + 250  # each row at least 16 px
    assert list(fig.layout.xaxis.tickvals) == list(range(n))  # no label skipped
    assert len(set(fig.layout.yaxis.ticktext)) == n  # shortened names stay distinct
    assert len(heat.z) == n and len(cells.x) == n * n


def test_long_names_are_short_on_the_axes_and_full_in_the_hover() -> None:
    res = many_result(77)
    fig = figures.confusion_heatmap(res)
    cells = fig.data[1]
    labels = res.confusion["labels"]
    assert all(len(tick) <= 26 for tick in fig.layout.xaxis.ticktext)
    assert {c[0] for c in cells.customdata} == set(labels)  # full names in the hover
    assert "%{customdata[0]}" in cells.hovertemplate
    # the point a click selects names its cell: x the predicted column, y the true row
    order = tables.confusion_order(res.confusion["matrix"])
    for x, y, (true, pred, count) in list(zip(cells.x, cells.y, cells.customdata,
                                              strict=True))[::97]:
        assert (true, pred) == (labels[order[y]], labels[order[x]])
        assert count == res.confusion["matrix"][order[y]][order[x]]


def test_matrix_order_keeps_confused_pairs_adjacent_in_the_figure() -> None:
    res = many_result(30)
    fig = figures.confusion_heatmap(res)
    z = fig.data[0].z
    # every class 3k is confused with 3k+1; after ordering they are neighbours
    labels = res.confusion["labels"]
    order = tables.confusion_order(res.confusion["matrix"])
    pos = {labels[c]: p for p, c in enumerate(order)}
    assert all(abs(pos[labels[i]] - pos[labels[i + 1]]) == 1 for i in range(0, 29, 3)
               if not i % 5 == 0)
    assert sum(map(sum, z)) == sum(map(sum, res.confusion["matrix"]))


def test_row_shares_sum_to_one() -> None:
    fig = figures.confusion_heatmap(many_result(15), normalize=True)
    assert all(sum(row) == pytest.approx(1.0) for row in fig.data[0].z)


def test_per_class_bars_horizontal_short_ticks_full_hover() -> None:
    res = many_result(77)
    fig = figures.per_class_bars(res)
    assert [bar.orientation for bar in fig.data] == ["h", "h", "h"]
    assert len(fig.layout.yaxis.ticktext) == 77
    assert all(len(tick) <= 30 for tick in fig.layout.yaxis.ticktext)
    assert set(fig.data[0].customdata) == set(res.confusion["labels"])
    assert fig.layout.height >= 24 * 77
    f1 = list(fig.data[2].x)
    assert f1 == sorted(f1)  # lowest F1 first (on top)
