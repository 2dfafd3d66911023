"""Long class names in every chart: shortened on ticks and legends, whole in the hover;
charts that grow with the class count; a sweep that stays within 0-100 % (issue 14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metacore.reporting import figures, palette
from metacore.runs.result import RunResult
from metacore.text import short_label, short_labels

LONG = "balance_not_updated_after_cheque_or_cash_deposit"


def _names(n: int) -> list[str]:
    return [f"card_payment_not_recognised_in_statement_{i:03d}_{'x' * (i % 7)}"
            for i in range(n)]


def test_short_label_keeps_start_and_end_within_the_width() -> None:
    assert short_label("card_arrival", 28) == "card_arrival"  # short: unchanged
    cut = short_label(LONG, 28)
    assert len(cut) == 28 and "…" in cut
    assert cut.startswith("balance_not_") and cut.endswith("cash_deposit")
    assert short_label("a\nb", 10) == "a b"  # one line


def test_short_label_counts_a_chinese_character_as_two_columns() -> None:
    name = "支票或现金存款后余额没有更新的问题"  # 17 characters, 34 columns
    cut = short_label(name, 20)
    assert "…" in cut and sum(2 if c != "…" else 1 for c in cut) <= 20
    assert cut[0] == name[0] and cut[-1] == name[-1]


def test_short_labels_never_merge_two_classes() -> None:
    names = ["x_" * 20 + "first_end", "x_" * 20 + "first_end_2", "x_" * 20 + "first_end"]
    out = short_labels(names, 12)
    assert out[0] == out[2] and out[0] != out[1]
    assert len(set(short_labels(_names(77), 24))) == 77


def _frame(n: int) -> pd.DataFrame:
    names = _names(n)
    return pd.DataFrame({"text": [f"t{i}" for i in range(3 * n)], "label": names * 3})


def test_class_chart_grows_with_the_classes_and_hovers_the_full_name() -> None:
    small, large = figures.class_distribution(_frame(15)), figures.class_distribution(_frame(77))
    assert large.layout.height > small.layout.height >= 15 * 28
    assert large.layout.height >= 77 * 19  # a row per class, never squeezed into overlap
    y = large.layout.yaxis
    assert len(y.tickvals) == 77 and len(y.ticktext) == 77  # every class labelled
    assert max(len(t) for t in y.ticktext) <= figures.LABEL_WIDTH
    assert set(large.data[0].y) == set(_names(77))  # the bars (and their hover) hold it whole
    assert "%{y}" in large.data[0].hovertemplate


def _result(n: int) -> RunResult:
    names = _names(n)
    labels = [names[i % n] for i in range(2 * n)]
    rng = np.random.default_rng(0)
    preds = [{"text": f"text {i}", "label": y, "predicted": y, "confidence": 1.0, "proba": []}
             for i, y in enumerate(labels)]
    xy = rng.normal(size=(len(labels), 2)).tolist()
    return RunResult(run_id="r", method="linear-probe", backbone="bb", protocol="adapt",
                     status="completed", predictions=preds,
                     extra={"projection": {"index": list(range(len(labels))), "labels": labels,
                                           "before": xy, "after": xy}})


def test_embedding_colours_are_distinct_and_a_class_can_be_highlighted() -> None:
    res = _result(40)
    fig = figures.embedding_projection(res)
    traces = [tr for tr in fig.data if tr.showlegend]
    assert len(traces) == 40 and len({tr.marker.color for tr in traces}) == 40
    assert all(len(tr.name) <= figures.LABEL_WIDTH for tr in traces)
    assert any(_names(40)[5] in tr.hovertemplate for tr in fig.data)  # full name on hover
    assert fig.layout.template.layout.hoverlabel.namelength == -1  # never cut in the hover
    chosen = _names(40)[5]
    lit = figures.embedding_projection(res, highlight=chosen)
    colours = {tr.legendgroup: tr.marker.color for tr in lit.data}
    assert colours[chosen] == palette.class_colours(_names(40))[chosen]
    assert {c for g, c in colours.items() if g != chosen} == {palette.GREY}
    assert lit.data[-1].legendgroup == chosen  # drawn on top
    # a name that is not a class changes nothing
    plain = figures.embedding_projection(res, highlight="nope")
    assert [tr.marker.color for tr in plain.data] == [tr.marker.color for tr in fig.data]


def _summary(ci: float) -> pd.DataFrame:
    return pd.DataFrame([{"method": m, "shots": s, "order": i, "n": 2,
                          "accuracy_mean": mean, "accuracy_ci95": ci,
                          "macro_f1_mean": mean, "macro_f1_ci95": ci}
                         for m, mean in (("protonet", 0.97), ("tfidf-logreg", 0.05))
                         for i, s in enumerate(["1", "2", "4"])])


def test_sweep_axes_and_intervals_stay_within_0_and_100_percent() -> None:
    from ui import teach_figures as figs

    fig = figs.sweep_figure(_summary(0.4), "t")
    for axis in (fig.layout.yaxis, fig.layout.yaxis2):
        assert tuple(axis.range) == (0, 1)
    for tr in fig.data:
        ys, up, down = np.array(tr.y), np.array(tr.error_y.array), np.array(tr.error_y.arrayminus)
        assert (ys + up <= 1 + 1e-9).all() and (ys - down >= -1e-9).all()
        assert (up > 0).all() and (down > 0).all()  # cut, not dropped


def _picture(n: int) -> pd.DataFrame:
    names = _names(n)
    rows = [{"x": float(i), "y": 0.0, "kind": "prototype", "label": c, "text": ""}
            for i, c in enumerate(names)]
    rows += [{"x": float(i), "y": 0.1, "kind": "example", "label": c, "text": "e"}
             for i, c in enumerate(names)]
    rows += [{"x": 10.2, "y": 0.0, "kind": "new example", "label": "new", "text": "n"},
             {"x": 10.4, "y": 0.0, "kind": "new prototype", "label": LONG, "text": ""}]
    return pd.DataFrame(rows)


def test_the_add_a_class_map_names_only_the_new_class_and_its_neighbours() -> None:
    from ui import teach_figures as figs

    fig = figs.new_class_figure(_picture(30), "t")
    protos = next(tr for tr in fig.data if tr.mode == "markers+text")
    written = [x for x in protos.text if x]
    assert len(written) == figs.NEIGHBOURS  # the rest are in the hover, not piled on the map
    assert {short_label(n, 24) for n in _names(30)[9:12]} == set(written)  # the nearest
    assert list(protos.hovertext) == _names(30)
    assert fig.layout.annotations[0].text == short_label(LONG, 34)


@pytest.mark.parametrize("n", [40])
def test_teaching_legends_are_short_and_hovers_whole(n) -> None:
    from ui import teach_figures as figs

    names = _names(n)
    frame = pd.DataFrame({"x": range(n), "y": range(n), "label": names, "text": ["t"] * n})
    fig = figs.class_map_figure(frame, np.zeros((n, 2)), names, title="t")
    per_class = [tr for tr in fig.data if tr.legendgroup in names]
    assert len({tr.marker.color for tr in per_class}) == n
    assert all(len(tr.name) <= figures.LABEL_WIDTH for tr in per_class)
    assert all(tr.legendgroup in tr.hovertemplate for tr in per_class)
