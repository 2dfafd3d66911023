"""Plotly figures from RunResults and tables: one template, one colour per method.

Every figure uses the module-level ``TEMPLATE`` (registered as plotly template "metacore"),
whose font stack includes CJK fonts so Chinese labels render everywhere.

Titles, axis titles, legend names and hover words are coded messages ``figure.<key>`` (English in
``metacore/locale/en.figures.toml``, other languages beside it); every figure takes ``lang``, so
an interface draws it, and the exported HTML, in its own language. A method's colour is the one
its file registered (``MethodSpec.colour``).

Every string that comes from data (class names, texts, split names, method names and run ids of
stored results) goes through ``metacore.text.plotly_literal`` before it reaches a figure, so a
label such as ``<a href=...>`` or ``<b>`` shows as those characters, never as a link or bold,
in the app and in the exported HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from metacore.messages import catalog, msg, render
from metacore.methods import registry
from metacore.reporting import tables
from metacore.reporting.palette import GREY, class_colours
from metacore.runs.result import RunResult
from metacore.text import plotly_literal, plotly_literals, short_labels

FONT_FAMILY = ("Inter, 'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', "
               "sans-serif")
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
PALETTE = list(registry.PALETTE)
METRIC_COLORS = {"precision": "#4f46e5", "recall": "#0ea5a4", "f1": "#f59e0b"}

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT_FAMILY, "size": 13, "color": INK},
        title={"font": {"size": 16, "color": INK}, "x": 0.0, "xanchor": "left"},
        colorway=PALETTE,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="white",
        margin={"l": 60, "r": 20, "t": 56, "b": 50},
        # namelength -1: a trace's name (a class) is never cut in the hover box
        hoverlabel={"font": {"family": FONT_FAMILY}, "namelength": -1},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        xaxis={"gridcolor": GRID, "zeroline": False, "linecolor": GRID, "automargin": True},
        yaxis={"gridcolor": GRID, "zeroline": False, "linecolor": GRID, "automargin": True},
    )
)
pio.templates["metacore"] = TEMPLATE

# The words of every figure are messages ``figure.<key>`` (English in
# metacore/locale/en.figures.toml, other languages beside it): every figure takes ``lang``.


def label(lang: str, key: str, **values: Any) -> str:
    """The word for ``key`` in ``lang`` (``figure.<key>``), with ``values`` filled in."""
    return render(msg(f"figure.{key}", **values), lang)


def method_color(name: str) -> str:
    """The colour a method's file registered; a stable one from its name for a method this
    install does not have (an old result)."""
    try:
        return registry.get(name).colour
    except ValueError:
        return registry.stable_colour(name)


def _figure(title: str, **layout: Any) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE, title=title, **layout)
    return fig


def _empty(title: str, message: str) -> go.Figure:
    fig = _figure(title, height=260)
    fig.add_annotation(text=message, showarrow=False, font={"color": MUTED, "size": 14},
                       xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


LABEL_WIDTH = 30  # columns of a class name on a tick or in a legend; the hover has it whole


def class_ticks(names: Iterable[Any], width: int = LABEL_WIDTH) -> dict[str, Any]:
    """An axis setting that writes each category (a class, escaped) shortened with
    ``short_labels``, every one of them (no skipped ticks): the bars keep the full names, so
    the hover shows them whole."""
    full = [str(n) for n in names]
    return {"tickmode": "array", "tickvals": plotly_literals(full),
            "ticktext": plotly_literals(short_labels(full, width))}


def class_chart_height(n: int) -> int:
    """Height of a chart with a bar per class: a row per class, thinner past 15."""
    return max(260, (28 if n <= 15 else 19) * n + 110)


def class_distribution(frame: pd.DataFrame, title: str | None = None, *,
                       lang: str = "en") -> go.Figure:
    """Horizontal bars of examples per class, stacked by split when the file has one; its
    height grows with the number of classes, long names are shortened on the axis and whole
    in the hover."""
    title = title or label(lang, "examples_per_class")
    counts = tables.class_counts(frame)
    if counts.empty:
        return _empty(title, label(lang, "no_labelled_rows"))
    raw = list(counts.groupby("label")["count"].sum().sort_values().index)
    order = plotly_literals(raw)
    many = len(order) > 15
    fig = _figure(title, barmode="stack", height=class_chart_height(len(order)),
                  # many rows: the axis on top (in view as the chart scrolls), no title there
                  # beside the figure's own
                  xaxis={"title": None if many else label(lang, "examples"),
                         "side": "top" if many else "bottom"},
                  yaxis={"categoryorder": "array", "categoryarray": order,
                         "tickfont": {"size": 11 if many else 13}, **class_ticks(raw)},
                  margin={"l": 60, "r": 20, "t": 90 if many else 56, "b": 30})
    for i, (split, part) in enumerate(counts.groupby("split", sort=True)):
        name = (label(lang, f"split_{split}") if f"figure.split_{split}" in catalog()
                else plotly_literal(split))
        fig.add_bar(y=plotly_literals(part["label"]), x=part["count"], orientation="h", name=name,
                    marker_color=PALETTE[i % len(PALETTE)],
                    hovertemplate="%{y}: %{x}<extra>" + name + "</extra>")
    fig.update_layout(showlegend=counts["split"].nunique() > 1)
    return fig


def _frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Records as a frame; a nested ``metrics`` dict (raw events) is flattened into columns."""
    rows = [{**{k: v for k, v in r.items() if k != "metrics"}, **(r.get("metrics") or {})}
            for r in records]
    return pd.DataFrame(rows) if rows else pd.DataFrame()


def _add_history(fig: go.Figure, steps: pd.DataFrame, evals: pd.DataFrame, *, name: str,
                 color: str, legendgroup: str | None = None, lang: str = "en") -> None:
    step = label(lang, "step")
    if not steps.empty and "loss" in steps.columns:
        # markers while there are few points: one point of a bare line draws nothing
        mode = "lines+markers" if len(steps) < 30 else "lines"
        fig.add_scatter(x=steps["step"], y=steps["loss"], mode=mode,
                        name=label(lang, "train_series", name=name).strip(),
                        line={"color": color, "width": 2}, marker={"size": 5},
                        legendgroup=legendgroup,
                        hovertemplate=f"{step} %{{x}}<br>{label(lang, 'loss_axis')} "
                        "%{y:.4f}<extra>" + name + "</extra>")
    if not evals.empty and "val_loss" in evals.columns:
        fig.add_scatter(x=evals["step"], y=evals["val_loss"], mode="lines+markers",
                        name=label(lang, "validation_series", name=name).strip(),
                        legendgroup=legendgroup,
                        line={"color": color, "width": 2, "dash": "dash"}, marker={"size": 7},
                        hovertemplate=f"{step} %{{x}}<br>{label(lang, 'val_loss')} "
                        "%{y:.4f}<extra>" + name + "</extra>")


def live_loss(steps: Sequence[Mapping[str, Any]], evals: Sequence[Mapping[str, Any]], *,
              method: str = "", total_steps: int | None = None,
              lang: str = "en") -> go.Figure:
    """Training loss per step and validation loss/accuracy per evaluation, while it trains."""
    steps_f, evals_f = _frame(steps), _frame(evals)
    if steps_f.empty and evals_f.empty:
        return _empty(label(lang, "loss"), label(lang, "waiting_first_step"))
    color = method_color(method) if method else PALETTE[0]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.update_layout(template=TEMPLATE, title=label(lang, "loss"), height=320,
                      xaxis_title=label(lang, "step"))
    _add_history(fig, steps_f, evals_f, name="", color=color,  # legend: train, validation
                 lang=lang)
    if not evals_f.empty and "val_accuracy" in evals_f.columns:
        val_accuracy = label(lang, "val_accuracy")
        if {"val_way", "val_shot"} <= set(evals_f.columns):  # scored on validation episodes
            last = evals_f.iloc[-1]
            val_accuracy = label(lang, "val_episode_accuracy", n=int(last["val_way"]),
                                 k=int(last["val_shot"]))
        fig.add_scatter(x=evals_f["step"], y=evals_f["val_accuracy"], mode="lines+markers",
                        name=val_accuracy, line={"color": "#16a34a", "width": 2},
                        secondary_y=True, hovertemplate=f"{label(lang, 'step')} %{{x}}"
                        "<br>%{y:.1%}<extra></extra>")
        fig.update_yaxes(title_text=val_accuracy, range=[0, 1.02], tickformat=".0%",
                         tickmode="linear", tick0=0, dtick=0.25,  # not synced to the loss's
                         secondary_y=True, showgrid=False)
    fig.update_yaxes(title_text=label(lang, "loss_axis"), secondary_y=False)
    if total_steps:  # the whole run's width from the start; a margin keeps the last markers
        fig.update_xaxes(range=[0, total_steps + max(0.5, 0.02 * total_steps)])
    return fig


def _label(result: RunResult, results: Sequence[RunResult]) -> str:
    """The method name, with the run id's tail when the same method appears twice (for a
    figure: escaped with ``plotly_literal``)."""
    if sum(r.method == result.method for r in results) > 1:
        return plotly_literal(f"{result.method} ·{result.run_id[-4:]}")
    return plotly_literal(result.method)


def loss_curves(results: Iterable[RunResult], *, lang: str = "en") -> go.Figure:
    """Training (solid) and validation (dashed) loss of several runs, overlaid."""
    results = [r for r in results if r.history.get("steps") or r.history.get("evals")]
    if not results:
        return _empty(label(lang, "loss_curves"), label(lang, "no_training_curve"))
    # legend below the plot: Plotly stacks a horizontal legend's groups, which on top would
    # run into the title
    fig = _figure(label(lang, "loss_curves"), height=380, xaxis_title=label(lang, "step"),
                  yaxis_title=label(lang, "loss_axis"),
                  legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0})
    for result in results:
        name = _label(result, results)
        _add_history(fig, _frame(result.history.get("steps", [])),
                     _frame(result.history.get("evals", [])), name=name,
                     color=method_color(result.method), legendgroup=name, lang=lang)
    return fig


def leaderboard_bars(results: Iterable[RunResult], *, lang: str = "en") -> go.Figure:
    """Macro-F1 of each run, best on top; episodic runs get 95% confidence-interval bars."""
    results = list(results)
    board = tables.leaderboard(results).dropna(subset=["macro_f1"])
    if board.empty:
        return _empty(label(lang, "macro_f1_title"), label(lang, "no_scored_runs"))
    board = board.iloc[::-1]  # plotly draws the first row at the bottom
    names = {r.run_id: _label(r, results) for r in results}
    ci = board["macro_f1_ci95"].fillna(0.0)
    text = [f"{f:.1%}" + (f" ± {c:.1%}" if c else "") for f, c in zip(board["macro_f1"], ci,
                                                                        strict=True)]
    episodic = bool((board["protocol"] == "episodic").any())
    macro_f1 = label(lang, "macro_f1")
    fig = _figure(label(lang, "macro_f1_title_episodic" if episodic else "macro_f1_title"),
                  height=max(200, 44 * len(board) + 110), margin={"l": 60, "r": 90, "t": 56},
                  xaxis={"range": [0, 1.0], "tickformat": ".0%", "title": macro_f1},
                  showlegend=False)
    rows = [names.get(r, plotly_literal(r)) for r in board["run_id"]]
    fig.add_bar(y=rows, x=board["macro_f1"], orientation="h",
                marker_color=[method_color(m) for m in board["method"]],
                error_x={"type": "data", "array": ci.tolist(), "visible": episodic,
                         "color": INK, "thickness": 1.5, "width": 6},
                customdata=[[a, plotly_literal(r)] for a, r in zip(
                    board["accuracy"], board["run_id"], strict=True)],
                hovertemplate=f"%{{y}}<br>{macro_f1} %{{x:.1%}}<br>{label(lang, 'accuracy')} "
                "%{customdata[0]:.1%}<extra>%{customdata[1]}</extra>")
    # the value right of the error bar, where the bar's own "outside" text would collide
    fig.add_scatter(y=rows, x=board["macro_f1"] + ci + 0.01, mode="text", text=text,
                    textposition="middle right", cliponaxis=False, hoverinfo="skip")
    return fig


def per_class_bars(result: RunResult, *, lang: str = "en") -> go.Figure:
    """Precision, recall and F1 per class as grouped horizontal bars, lowest F1 on top.

    Long class names are shortened on the axis (``short_labels``); the hover has the full one.
    The height grows with the number of classes, so every label stays readable.
    """
    table = tables.per_class_table(result)
    if table.empty:
        return _empty(label(lang, "per_class_scores"), label(lang, "no_per_class"))
    table = table.sort_values("f1", ascending=True, kind="stable").reset_index(drop=True)
    n = len(table)
    row = 34 if n <= 12 else 24
    ticks = plotly_literals(short_labels(table["class"], 30))
    full = plotly_literals(table["class"])
    fig = _figure(label(lang, "per_class_title"), barmode="group",
                  height=max(320, row * n + 130), bargap=0.25, bargroupgap=0.05,
                  margin={"l": 20, "r": 20, "t": 84, "b": 56},
                  xaxis={"range": [0, 1.05], "tickformat": ".0%", "side": "top"},
                  yaxis={"tickmode": "array", "tickvals": list(range(n)), "ticktext": ticks,
                         "autorange": "reversed", "tickfont": {"size": 12}},
                  # under the plot, from the figure's left edge: clear of the title and ticks
                  legend={"orientation": "h", "xref": "container", "yref": "container",
                          "x": 0.02, "y": 0.0, "xanchor": "left", "yanchor": "bottom"})
    for metric in ("precision", "recall", "f1"):
        name = label(lang, metric)
        fig.add_bar(y=list(range(n)), x=table[metric], name=name, orientation="h",
                    marker_color=METRIC_COLORS[metric], customdata=full,
                    hovertemplate="%{customdata}<br>" + name + " %{x:.1%}<extra></extra>")
    return fig


def confusion_cell_px(n_classes: int) -> int:
    """The height in pixels of one confusion-matrix row for ``n_classes`` classes."""
    if n_classes <= 12:
        return 44
    return max(16, min(34, 1000 // n_classes))


def confusion_heatmap(result: RunResult, *, normalize: bool = False,
                      lang: str = "en") -> go.Figure:
    """Gold class (rows) against predicted class (columns), counts written in the cells.

    Classes are ordered by ``tables.confusion_order`` (a hierarchical clustering of their
    confusions), so classes mixed up with each other stand together. The axes are positions
    ``0..n-1`` with the shortened names as tick text; the full names are in the hover of an
    invisible scatter of one point per cell (trace 1), which is also what a click selects: its
    point ``x`` is the predicted column and ``y`` the true row, in that order. The height grows
    with the number of classes (``confusion_cell_px``).
    """
    raw = list(result.confusion.get("labels") or [])
    matrix = result.confusion.get("matrix") or []
    if not raw or not matrix:
        return _empty(label(lang, "confusion_matrix"), label(lang, "no_confusion"))
    order = tables.confusion_order(matrix)
    names = [raw[i] for i in order]
    full = plotly_literals(names)
    n = len(names)
    counts = pd.DataFrame(matrix).iloc[order, order].to_numpy()
    shares = counts / counts.sum(axis=1, keepdims=True).clip(min=1)
    values = shares if normalize else counts
    cell = confusion_cell_px(n)
    many = n > 12
    ticks = plotly_literals(short_labels(names, 26 if n > 30 else 34))
    text = [[str(v) if (v or not many) else "" for v in row] for row in counts]
    true, predicted, texts = label(lang, "true"), label(lang, "predicted"), label(lang, "texts")
    tickfont = {"size": 10 if n > 40 else 11 if many else 13}
    axis = {"tickmode": "array", "tickvals": list(range(n)), "ticktext": ticks,
            "showgrid": False, "zeroline": False, "tickfont": tickfont}
    fig = _figure(label(lang, "confusion_matrix"), height=cell * n + (330 if many else 260),
                  margin={"l": 20, "r": 20, "t": 56, "b": 20}, hovermode="closest",
                  clickmode="event+select", dragmode=False, showlegend=False,
                  xaxis={**axis, "title": predicted, "side": "bottom",
                         "tickangle": -90 if many else -35, "range": [-0.5, n - 0.5]},
                  yaxis={**axis, "title": true, "range": [n - 0.5, -0.5]})
    fig.add_heatmap(z=values, x=list(range(n)), y=list(range(n)), colorscale="Blues",
                    text=text, texttemplate="%{text}", showscale=False, xgap=1, ygap=1,
                    textfont={"size": 9 if n > 40 else 11 if many else 13}, hoverinfo="skip")
    xs = [j for _ in range(n) for j in range(n)]
    ys = [i for i in range(n) for _ in range(n)]
    custom = [[full[i], full[j], int(counts[i][j])] for i, j in zip(ys, xs, strict=True)]
    fig.add_scatter(x=xs, y=ys, mode="markers", customdata=custom,
                    marker={"symbol": "square", "size": max(8, cell - 4),
                            "color": "rgba(0,0,0,0)"},
                    selected={"marker": {"color": "rgba(234,179,8,0.55)"}},
                    unselected={"marker": {"opacity": 1}},
                    hovertemplate=f"{true} %{{customdata[0]}}<br>{predicted} "
                    f"%{{customdata[1]}}<br>%{{customdata[2]}} {texts}<extra></extra>")
    return fig


def cooccurrence_heatmap(result: RunResult, *, which: str = "truth",
                         lang: str = "en") -> go.Figure:
    """Multi-label: how often two labels are on the same test text, in the gold labels
    (``which="truth"``) or the predicted ones ("predicted"); the diagonal is each label's
    count. Labels are ordered by ``tables.confusion_order`` of the gold counts, so labels that
    go together stand together in both views."""
    data = result.extra.get("cooccurrence") or {}
    raw, matrix = list(data.get("labels") or []), data.get(which) or []
    title = label(lang, f"cooccurrence_{which}")
    if not raw or not matrix:
        return _empty(title, label(lang, "no_cooccurrence"))
    order = tables.confusion_order(data.get("truth") or matrix)
    names = [raw[i] for i in order]
    n = len(names)
    counts = pd.DataFrame(matrix).iloc[order, order].to_numpy()
    cell = confusion_cell_px(n)
    many = n > 12
    ticks = plotly_literals(short_labels(names, 26 if n > 30 else 34))
    full = plotly_literals(names)
    axis = {"tickmode": "array", "tickvals": list(range(n)), "ticktext": ticks,
            "showgrid": False, "zeroline": False, "tickfont": {"size": 10 if many else 12}}
    fig = _figure(title, height=cell * n + (300 if many else 230),
                  margin={"l": 20, "r": 20, "t": 56, "b": 20}, hovermode="closest",
                  dragmode=False, showlegend=False,
                  xaxis={**axis, "tickangle": -90 if many else -35, "range": [-0.5, n - 0.5]},
                  yaxis={**axis, "range": [n - 0.5, -0.5]})
    text = [[str(v) if (v or not many) else "" for v in row] for row in counts]
    custom = [[[full[i], full[j]] for j in range(n)] for i in range(n)]
    texts = label(lang, "texts")
    fig.add_heatmap(z=counts, x=list(range(n)), y=list(range(n)), colorscale="Purples",
                    text=text, texttemplate="%{text}", showscale=False, xgap=1, ygap=1,
                    customdata=custom, textfont={"size": 9 if n > 40 else 11 if many else 13},
                    hovertemplate=f"%{{customdata[0]}} + %{{customdata[1]}}: %{{z}} {texts}"
                    "<extra></extra>")
    return fig


def episode_accuracy(result: RunResult, *, lang: str = "en") -> go.Figure:
    """Histogram of accuracy per test episode, with the mean and its 95% interval."""
    records = result.extra.get("episodes") or []
    if not records:
        return _empty(label(lang, "accuracy_per_episode"), label(lang, "no_episodes"))
    accs = [float(r["accuracy"]) for r in records]
    episodes = label(lang, "episodes")
    fig = _figure(label(lang, "accuracy_per_test_episode", n=len(accs)), height=360,
                  xaxis={"title": label(lang, "episode_accuracy"), "tickformat": ".0%",
                         "range": [0, 1.02]},
                  yaxis_title=episodes, showlegend=False, bargap=0.05)
    fig.add_histogram(x=accs, xbins={"start": 0, "end": 1.0001, "size": 0.05},
                      marker_color=method_color(result.method),
                      hovertemplate="%{x}: %{y} " + episodes + "<extra></extra>")
    mean, ci = result.metrics.get("accuracy_mean"), result.metrics.get("accuracy_ci95") or 0.0
    if mean is not None:
        fig.add_vrect(x0=mean - ci, x1=mean + ci, fillcolor=INK, opacity=0.12, line_width=0)
        fig.add_vline(x=mean, line={"color": INK, "width": 2},
                      annotation_text=label(lang, "mean_ci", mean=f"{mean:.1%}",
                                            ci=f"{ci:.1%}"),
                      annotation_position="top left")
    return fig


def inner_loop_curve(results: RunResult | Iterable[RunResult], *,
                     lang: str = "en") -> go.Figure:
    """Query loss (and accuracy, when recorded) after each inner-loop adaptation step."""
    results = [results] if isinstance(results, RunResult) else list(results)
    results = [r for r in results if r.inner_loop]
    if not results:
        return _empty(label(lang, "inner_loop"), label(lang, "no_inner_loop"))
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.update_layout(template=TEMPLATE, title=label(lang, "inner_loop"), height=340,
                      xaxis_title=label(lang, "inner_step"))
    for result in results:
        frame = _frame(result.inner_loop)
        x = frame["step"] if "step" in frame.columns else frame.index
        color, name = method_color(result.method), _label(result, results)
        loss = next((c for c in ("loss", "query_loss") if c in frame.columns), None)
        acc = next((c for c in ("accuracy", "query_accuracy") if c in frame.columns), None)
        if loss:
            fig.add_scatter(x=x, y=frame[loss], name=label(lang, "loss_series", name=name),
                            mode="lines+markers", line={"color": color})
        if acc:
            fig.add_scatter(x=x, y=frame[acc], name=label(lang, "accuracy_series", name=name),
                            mode="lines+markers", line={"color": color, "dash": "dot"},
                            secondary_y=True)
            fig.update_yaxes(title_text=label(lang, "query_accuracy"), tickformat=".0%",
                             secondary_y=True, showgrid=False, range=[0, 1.05])
    # from zero, so a loss that moves by 1e-7 (a 1-shot prototype head) draws flat, not steep
    fig.update_yaxes(title_text=label(lang, "query_loss"), secondary_y=False,
                     rangemode="tozero")
    return fig


def embedding_projection(result: RunResult, *, projection: Mapping[str, Any] | None = None,
                         method: str = "PCA", lang: str = "en",
                         highlight: str | None = None) -> go.Figure:
    """Test embeddings in 2-D before (frozen backbone) and after adaptation, by class: a
    colour per class (``palette.class_colours``, distinct for as many classes as there are),
    short names in the legend and the whole name in the hover. ``highlight`` (a class) draws
    that class in its colour and every other one grey, for more classes than colours can
    tell apart."""
    proj = projection or result.extra.get("projection") or {}
    views = [v for v in ("before", "after") if proj.get(v)]
    if not views:
        return _empty(label(lang, "embeddings_empty", method=method),
                      label(lang, "no_embeddings"))
    titles = {v: label(lang, f"{v}_adaptation") for v in views}
    fig = make_subplots(rows=1, cols=len(views), subplot_titles=[titles[v] for v in views],
                        horizontal_spacing=0.06)
    fig.update_layout(template=TEMPLATE, title=label(lang, "test_embeddings", method=method),
                      height=460,
                      margin={"t": 80, "b": 30},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.04, "x": 0})
    raw = [str(x) for x in proj.get("labels", [])]
    colours = class_colours(raw)
    classes = sorted(colours)
    if highlight not in colours:
        highlight = None
    short = dict(zip(classes, short_labels(classes, LABEL_WIDTH), strict=True))
    if len(classes) > 12:  # a long legend: one column on the right, scrolling
        fig.update_layout(legend={"orientation": "v", "yanchor": "top", "y": 1, "x": 1.02,
                                  "font": {"size": 11}}, margin={"t": 80, "b": 30, "r": 10})
    texts = _projection_texts(result, proj)
    # the highlighted class last, so it draws over the grey ones
    drawn = sorted(classes, key=lambda c: c == highlight)
    traces, cols = [], []
    for col, view in enumerate(views, start=1):
        coords = pd.DataFrame(proj[view], columns=["x", "y"])
        coords["label"], coords["text"] = raw[: len(coords)], texts[: len(coords)]
        groups = dict(tuple(coords.groupby("label", sort=False)))
        for cls in drawn:
            part = groups.get(cls, coords.iloc[:0])
            lit = plotly_literal(cls)
            faded = highlight is not None and cls != highlight
            traces.append({  # plain lists and one validation (add_traces): fast for 150
                "type": "scatter", "x": part["x"].tolist(), "y": part["y"].tolist(),
                "mode": "markers", "name": plotly_literal(short[cls]), "legendgroup": lit,
                "showlegend": col == 1, "customdata": part["text"].tolist(),
                "marker": {"color": GREY if faded else colours[cls],
                           "size": 6 if faded else 7, "opacity": 0.5 if faded else 0.85,
                           "line": {"width": 0.5, "color": "white"}},
                "hovertemplate": lit + "<br>%{customdata}<extra></extra>"})
            cols.append(col)
    fig.add_traces(traces, rows=[1] * len(traces), cols=cols)  # at once: 150 classes draw fast
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    return fig


def _projection_texts(result: RunResult, proj: Mapping[str, Any]) -> list[str]:
    preds = result.predictions
    out = []
    for i in proj.get("index", []):
        text = str(preds[i]["text"]) if 0 <= i < len(preds) else ""
        out.append(plotly_literal(text if len(text) <= 80 else text[:77] + "…"))
    return out


def probability_bars(probabilities: pd.DataFrame, title: str | None = None, *,
                     lang: str = "en") -> go.Figure:
    """Horizontal bars of a ``tables.probabilities_table``, the winner highlighted."""
    title = title or label(lang, "class_probabilities")
    frame = probabilities.iloc[::-1]
    colors = [PALETTE[0] if i == len(frame) - 1 else "#c7d2fe" for i in range(len(frame))]
    fig = _figure(title, height=max(220, 30 * len(frame) + 90),
                  xaxis={"range": [0, 1], "tickformat": ".0%"})
    fig.add_bar(y=plotly_literals(frame["class"]), x=frame["probability"], orientation="h",
                marker_color=colors,
                text=[f"{p:.1%}" for p in frame["probability"]], textposition="outside",
                cliponaxis=False, hovertemplate="%{y}: %{x:.1%}<extra></extra>")
    return fig


def all_figures(result: RunResult, *, lang: str = "en") -> dict[str, go.Figure]:
    """Every figure of one run, by name (the HTML export writes them all)."""
    figures = {
        "loss": loss_curves([result], lang=lang),
        "per_class": per_class_bars(result, lang=lang),
        "confusion": confusion_heatmap(result, lang=lang),
    }
    if result.inner_loop:
        figures["inner_loop"] = inner_loop_curve(result, lang=lang)
    if result.extra.get("episodes"):
        figures["episodes"] = episode_accuracy(result, lang=lang)
    if (result.extra.get("projection") or {}).get("before"):
        figures["projection"] = embedding_projection(result, lang=lang)
    return figures
