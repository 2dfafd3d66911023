"""Plotly figures from RunResults and tables: one template, one colour per method.

Every figure uses the module-level ``TEMPLATE`` (registered as plotly template "metacore"),
whose font stack includes CJK fonts so Chinese labels render everywhere.

Titles, axis titles, legend names and hover words come from ``LABELS`` (English). Every figure
takes ``labels``, a mapping with any of the same keys, so an interface can pass its own language
(``{name}`` placeholders are filled in; a label that cannot be filled falls back to English).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from metacore.reporting import tables
from metacore.runs.result import RunResult

FONT_FAMILY = ("Inter, 'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', "
               "sans-serif")
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
PALETTE = ["#4f46e5", "#0ea5a4", "#f59e0b", "#e11d48", "#7c3aed", "#16a34a", "#0284c7",
           "#db2777", "#65a30d", "#ea580c", "#475569", "#9333ea"]
METHOD_COLORS = {
    "tfidf-logreg": "#64748b", "linear-probe": "#0ea5a4", "full-finetune": "#4f46e5",
    "lora": "#7c3aed", "protonet": "#f59e0b", "nearest-centroid": "#eab308",
    "maml": "#e11d48", "fomaml": "#f43f5e", "anil": "#db2777", "reptile": "#ea580c",
    "setfit": "#16a34a",
}
METRIC_COLORS = {"precision": "#4f46e5", "recall": "#0ea5a4", "f1": "#f59e0b"}

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT_FAMILY, "size": 13, "color": INK},
        title={"font": {"size": 16, "color": INK}, "x": 0.0, "xanchor": "left"},
        colorway=PALETTE,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="white",
        margin={"l": 60, "r": 20, "t": 56, "b": 50},
        hoverlabel={"font": {"family": FONT_FAMILY}},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "title": None},
        xaxis={"gridcolor": GRID, "zeroline": False, "linecolor": GRID, "automargin": True},
        yaxis={"gridcolor": GRID, "zeroline": False, "linecolor": GRID, "automargin": True},
    )
)
pio.templates["metacore"] = TEMPLATE

# The words of every figure, by key; ``labels=`` overrides any of them (same placeholders).
LABELS: dict[str, str] = {
    "examples_per_class": "Examples per class",
    "no_labelled_rows": "No labelled rows yet",
    "examples": "examples",
    "split_train": "train",
    "split_validation": "validation",
    "split_test": "test",
    "loss": "Loss",
    "waiting_first_step": "Waiting for the first training step…",
    "step": "step",
    "loss_axis": "loss",
    "val_loss": "val loss",
    "val_accuracy": "val accuracy",
    "train_series": "{name} train",
    "validation_series": "{name} validation",
    "loss_curves": "Loss curves",
    "no_training_curve": "These runs have no training curve (closed-form methods)",
    "macro_f1_title": "Macro-F1",
    "macro_f1_title_episodic": "Macro-F1 (mean over test episodes, 95% CI)",
    "no_scored_runs": "No scored runs",
    "macro_f1": "macro-F1",
    "accuracy": "accuracy",
    "per_class_scores": "Per-class scores",
    "no_per_class": "No per-class report",
    "per_class_title": "Per-class precision, recall and F1",
    "score": "score",
    "precision": "precision",
    "recall": "recall",
    "f1": "f1",
    "confusion_matrix": "Confusion matrix",
    "no_confusion": "No confusion matrix",
    "predicted": "predicted",
    "true": "true",
    "texts": "texts",
    "accuracy_per_episode": "Accuracy per episode",
    "no_episodes": "No episode record",
    "accuracy_per_test_episode": "Accuracy per test episode ({n} episodes)",
    "episode_accuracy": "episode accuracy",
    "episodes": "episodes",
    "mean_ci": "mean {mean} ± {ci}",
    "inner_loop": "Inner-loop adaptation",
    "no_inner_loop": "No inner-loop record for these runs",
    "inner_step": "inner step",
    "loss_series": "{name} loss",
    "accuracy_series": "{name} accuracy",
    "query_loss": "query loss",
    "query_accuracy": "query accuracy",
    "embeddings_empty": "Embeddings ({method})",
    "no_embeddings": "No embeddings for this run (no backbone)",
    "before_adaptation": "before adaptation",
    "after_adaptation": "after adaptation",
    "test_embeddings": "Test embeddings, {method}",
    "class_probabilities": "Class probabilities",
}

Labels = Mapping[str, str] | None


def label(labels: Labels, key: str, **values: Any) -> str:
    """The word for ``key``: from ``labels`` when given there, else English; filled in."""
    text = (labels or {}).get(key) or LABELS[key]
    try:
        return text.format(**values) if values else text
    except (KeyError, IndexError, ValueError):  # a translation with a wrong placeholder
        return LABELS[key].format(**values)


def method_color(name: str) -> str:
    """A stable colour per method: named ones fixed, others picked by a hash of the name."""
    return METHOD_COLORS.get(name) or PALETTE[zlib.crc32(name.encode()) % len(PALETTE)]


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


def class_distribution(frame: pd.DataFrame, title: str | None = None, *,
                       labels: Labels = None) -> go.Figure:
    """Horizontal bars of examples per class, stacked by split when the file has one."""
    title = title or label(labels, "examples_per_class")
    counts = tables.class_counts(frame)
    if counts.empty:
        return _empty(title, label(labels, "no_labelled_rows"))
    order = counts.groupby("label")["count"].sum().sort_values().index.tolist()
    fig = _figure(title, barmode="stack", height=max(260, 28 * len(order) + 110),
                  xaxis_title=label(labels, "examples"), yaxis={"categoryorder": "array",
                                                  "categoryarray": order})
    for i, (split, part) in enumerate(counts.groupby("split", sort=True)):
        name = label(labels, f"split_{split}") if f"split_{split}" in LABELS else str(split)
        fig.add_bar(y=part["label"], x=part["count"], orientation="h", name=name,
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
                 color: str, legendgroup: str | None = None, labels: Labels = None) -> None:
    step = label(labels, "step")
    if not steps.empty and "loss" in steps.columns:
        # markers while there are few points: one point of a bare line draws nothing
        mode = "lines+markers" if len(steps) < 30 else "lines"
        fig.add_scatter(x=steps["step"], y=steps["loss"], mode=mode,
                        name=label(labels, "train_series", name=name).strip(),
                        line={"color": color, "width": 2}, marker={"size": 5},
                        legendgroup=legendgroup,
                        hovertemplate=f"{step} %{{x}}<br>{label(labels, 'loss_axis')} "
                        "%{y:.4f}<extra>" + name + "</extra>")
    if not evals.empty and "val_loss" in evals.columns:
        fig.add_scatter(x=evals["step"], y=evals["val_loss"], mode="lines+markers",
                        name=label(labels, "validation_series", name=name).strip(),
                        legendgroup=legendgroup,
                        line={"color": color, "width": 2, "dash": "dash"}, marker={"size": 7},
                        hovertemplate=f"{step} %{{x}}<br>{label(labels, 'val_loss')} "
                        "%{y:.4f}<extra>" + name + "</extra>")


def live_loss(steps: Sequence[Mapping[str, Any]], evals: Sequence[Mapping[str, Any]], *,
              method: str = "", total_steps: int | None = None,
              labels: Labels = None) -> go.Figure:
    """Training loss per step and validation loss/accuracy per evaluation, while it trains."""
    steps_f, evals_f = _frame(steps), _frame(evals)
    if steps_f.empty and evals_f.empty:
        return _empty(label(labels, "loss"), label(labels, "waiting_first_step"))
    color = method_color(method) if method else PALETTE[0]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.update_layout(template=TEMPLATE, title=label(labels, "loss"), height=320,
                      xaxis_title=label(labels, "step"))
    _add_history(fig, steps_f, evals_f, name="", color=color,  # legend: train, validation
                 labels=labels)
    if not evals_f.empty and "val_accuracy" in evals_f.columns:
        val_accuracy = label(labels, "val_accuracy")
        fig.add_scatter(x=evals_f["step"], y=evals_f["val_accuracy"], mode="lines+markers",
                        name=val_accuracy, line={"color": "#16a34a", "width": 2},
                        secondary_y=True, hovertemplate=f"{label(labels, 'step')} %{{x}}"
                        "<br>%{y:.1%}<extra></extra>")
        fig.update_yaxes(title_text=val_accuracy, range=[0, 1.02], tickformat=".0%",
                         tickmode="linear", tick0=0, dtick=0.25,  # not synced to the loss's
                         secondary_y=True, showgrid=False)
    fig.update_yaxes(title_text=label(labels, "loss_axis"), secondary_y=False)
    if total_steps:
        fig.update_xaxes(range=[0, total_steps])
    return fig


def _label(result: RunResult, results: Sequence[RunResult]) -> str:
    """The method name, with the run id's tail when the same method appears twice."""
    if sum(r.method == result.method for r in results) > 1:
        return f"{result.method} ·{result.run_id[-4:]}"
    return result.method


def loss_curves(results: Iterable[RunResult], *, labels: Labels = None) -> go.Figure:
    """Training (solid) and validation (dashed) loss of several runs, overlaid."""
    results = [r for r in results if r.history.get("steps") or r.history.get("evals")]
    if not results:
        return _empty(label(labels, "loss_curves"), label(labels, "no_training_curve"))
    # legend below the plot: Plotly stacks a horizontal legend's groups, which on top would
    # run into the title
    fig = _figure(label(labels, "loss_curves"), height=380, xaxis_title=label(labels, "step"),
                  yaxis_title=label(labels, "loss_axis"),
                  legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0})
    for result in results:
        name = _label(result, results)
        _add_history(fig, _frame(result.history.get("steps", [])),
                     _frame(result.history.get("evals", [])), name=name,
                     color=method_color(result.method), legendgroup=name, labels=labels)
    return fig


def leaderboard_bars(results: Iterable[RunResult], *, labels: Labels = None) -> go.Figure:
    """Macro-F1 of each run, best on top; episodic runs get 95% confidence-interval bars."""
    results = list(results)
    board = tables.leaderboard(results).dropna(subset=["macro_f1"])
    if board.empty:
        return _empty(label(labels, "macro_f1_title"), label(labels, "no_scored_runs"))
    board = board.iloc[::-1]  # plotly draws the first row at the bottom
    names = {r.run_id: _label(r, results) for r in results}
    ci = board["macro_f1_ci95"].fillna(0.0)
    text = [f"{f:.1%}" + (f" ± {c:.1%}" if c else "") for f, c in zip(board["macro_f1"], ci,
                                                                        strict=True)]
    episodic = bool((board["protocol"] == "episodic").any())
    macro_f1 = label(labels, "macro_f1")
    fig = _figure(label(labels, "macro_f1_title_episodic" if episodic else "macro_f1_title"),
                  height=max(200, 44 * len(board) + 110), margin={"l": 60, "r": 90, "t": 56},
                  xaxis={"range": [0, 1.0], "tickformat": ".0%", "title": macro_f1},
                  showlegend=False)
    rows = [names.get(r, r) for r in board["run_id"]]
    fig.add_bar(y=rows, x=board["macro_f1"], orientation="h",
                marker_color=[method_color(m) for m in board["method"]],
                error_x={"type": "data", "array": ci.tolist(), "visible": episodic,
                         "color": INK, "thickness": 1.5, "width": 6},
                customdata=board[["accuracy", "run_id"]].values,
                hovertemplate=f"%{{y}}<br>{macro_f1} %{{x:.1%}}<br>{label(labels, 'accuracy')} "
                "%{customdata[0]:.1%}<extra>%{customdata[1]}</extra>")
    # the value right of the error bar, where the bar's own "outside" text would collide
    fig.add_scatter(y=rows, x=board["macro_f1"] + ci + 0.01, mode="text", text=text,
                    textposition="middle right", cliponaxis=False, hoverinfo="skip")
    return fig


def per_class_bars(result: RunResult, *, labels: Labels = None) -> go.Figure:
    """Precision, recall and F1 per class as grouped bars."""
    table = tables.per_class_table(result)
    if table.empty:
        return _empty(label(labels, "per_class_scores"), label(labels, "no_per_class"))
    fig = _figure(label(labels, "per_class_title"), barmode="group", height=360,
                  yaxis={"range": [0, 1.05], "tickformat": ".0%",
                         "title": label(labels, "score")})
    for metric in ("precision", "recall", "f1"):
        name = label(labels, metric)
        fig.add_bar(x=table["class"], y=table[metric], name=name,
                    marker_color=METRIC_COLORS[metric],
                    hovertemplate="%{x}<br>" + name + " %{y:.1%}<extra></extra>")
    return fig


def confusion_heatmap(result: RunResult, *, normalize: bool = False,
                      labels: Labels = None) -> go.Figure:
    """Gold class (rows) against predicted class (columns), counts written in the cells."""
    classes = list(result.confusion.get("labels") or [])
    matrix = result.confusion.get("matrix") or []
    if not classes or not matrix:
        return _empty(label(labels, "confusion_matrix"), label(labels, "no_confusion"))
    counts = pd.DataFrame(matrix, index=classes, columns=classes)
    values = counts.div(counts.sum(axis=1).replace(0, 1), axis=0) if normalize else counts
    size = max(360, 46 * len(classes) + 160)
    true, predicted = label(labels, "true"), label(labels, "predicted")
    fig = _figure(label(labels, "confusion_matrix"), height=size,
                  xaxis={"title": predicted, "side": "bottom", "tickangle": -35},
                  yaxis={"title": true, "autorange": "reversed"})
    fig.add_heatmap(z=values.values, x=classes, y=classes, colorscale="Blues",
                    text=counts.values, texttemplate="%{text}", showscale=False,
                    xgap=1, ygap=1,
                    hovertemplate=f"{true} %{{y}}<br>{predicted} %{{x}}<br>%{{text}} "
                    f"{label(labels, 'texts')}<extra></extra>")
    return fig


def episode_accuracy(result: RunResult, *, labels: Labels = None) -> go.Figure:
    """Histogram of accuracy per test episode, with the mean and its 95% interval."""
    records = result.extra.get("episodes") or []
    if not records:
        return _empty(label(labels, "accuracy_per_episode"), label(labels, "no_episodes"))
    accs = [float(r["accuracy"]) for r in records]
    episodes = label(labels, "episodes")
    fig = _figure(label(labels, "accuracy_per_test_episode", n=len(accs)), height=360,
                  xaxis={"title": label(labels, "episode_accuracy"), "tickformat": ".0%",
                         "range": [0, 1.02]},
                  yaxis_title=episodes, showlegend=False, bargap=0.05)
    fig.add_histogram(x=accs, xbins={"start": 0, "end": 1.0001, "size": 0.05},
                      marker_color=method_color(result.method),
                      hovertemplate="%{x}: %{y} " + episodes + "<extra></extra>")
    mean, ci = result.metrics.get("accuracy_mean"), result.metrics.get("accuracy_ci95") or 0.0
    if mean is not None:
        fig.add_vrect(x0=mean - ci, x1=mean + ci, fillcolor=INK, opacity=0.12, line_width=0)
        fig.add_vline(x=mean, line={"color": INK, "width": 2},
                      annotation_text=label(labels, "mean_ci", mean=f"{mean:.1%}",
                                            ci=f"{ci:.1%}"),
                      annotation_position="top left")
    return fig


def inner_loop_curve(results: RunResult | Iterable[RunResult], *,
                     labels: Labels = None) -> go.Figure:
    """Query loss (and accuracy, when recorded) after each inner-loop adaptation step."""
    results = [results] if isinstance(results, RunResult) else list(results)
    results = [r for r in results if r.inner_loop]
    if not results:
        return _empty(label(labels, "inner_loop"), label(labels, "no_inner_loop"))
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.update_layout(template=TEMPLATE, title=label(labels, "inner_loop"), height=340,
                      xaxis_title=label(labels, "inner_step"))
    for result in results:
        frame = _frame(result.inner_loop)
        x = frame["step"] if "step" in frame.columns else frame.index
        color, name = method_color(result.method), _label(result, results)
        loss = next((c for c in ("loss", "query_loss") if c in frame.columns), None)
        acc = next((c for c in ("accuracy", "query_accuracy") if c in frame.columns), None)
        if loss:
            fig.add_scatter(x=x, y=frame[loss], name=label(labels, "loss_series", name=name),
                            mode="lines+markers", line={"color": color})
        if acc:
            fig.add_scatter(x=x, y=frame[acc], name=label(labels, "accuracy_series", name=name),
                            mode="lines+markers", line={"color": color, "dash": "dot"},
                            secondary_y=True)
            fig.update_yaxes(title_text=label(labels, "query_accuracy"), tickformat=".0%",
                             secondary_y=True, showgrid=False, range=[0, 1.05])
    # from zero, so a loss that moves by 1e-7 (a 1-shot prototype head) draws flat, not steep
    fig.update_yaxes(title_text=label(labels, "query_loss"), secondary_y=False,
                     rangemode="tozero")
    return fig


def embedding_projection(result: RunResult, *, projection: Mapping[str, Any] | None = None,
                         method: str = "PCA", labels: Labels = None) -> go.Figure:
    """Test embeddings in 2-D before (frozen backbone) and after adaptation, by class."""
    proj = projection or result.extra.get("projection") or {}
    views = [v for v in ("before", "after") if proj.get(v)]
    if not views:
        return _empty(label(labels, "embeddings_empty", method=method),
                      label(labels, "no_embeddings"))
    titles = {v: label(labels, f"{v}_adaptation") for v in views}
    fig = make_subplots(rows=1, cols=len(views), subplot_titles=[titles[v] for v in views],
                        horizontal_spacing=0.06)
    fig.update_layout(template=TEMPLATE, title=label(labels, "test_embeddings", method=method),
                      height=460,
                      margin={"t": 80, "b": 30},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.04, "x": 0})
    labels = [str(x) for x in proj.get("labels", [])]
    classes = sorted(set(labels))
    texts = _projection_texts(result, proj)
    for col, view in enumerate(views, start=1):
        coords = pd.DataFrame(proj[view], columns=["x", "y"])
        coords["label"], coords["text"] = labels[: len(coords)], texts[: len(coords)]
        for i, cls in enumerate(classes):
            part = coords[coords["label"] == cls]
            fig.add_scatter(x=part["x"], y=part["y"], mode="markers", name=cls,
                            legendgroup=cls, showlegend=col == 1, customdata=part["text"],
                            marker={"color": PALETTE[i % len(PALETTE)], "size": 7,
                                    "opacity": 0.8, "line": {"width": 0.5, "color": "white"}},
                            hovertemplate="%{customdata}<extra>" + cls + "</extra>",
                            row=1, col=col)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    return fig


def _projection_texts(result: RunResult, proj: Mapping[str, Any]) -> list[str]:
    preds = result.predictions
    out = []
    for i in proj.get("index", []):
        text = str(preds[i]["text"]) if 0 <= i < len(preds) else ""
        out.append(text if len(text) <= 80 else text[:77] + "…")
    return out


def probability_bars(probabilities: pd.DataFrame, title: str | None = None, *,
                     labels: Labels = None) -> go.Figure:
    """Horizontal bars of a ``tables.probabilities_table``, the winner highlighted."""
    title = title or label(labels, "class_probabilities")
    frame = probabilities.iloc[::-1]
    colors = [PALETTE[0] if i == len(frame) - 1 else "#c7d2fe" for i in range(len(frame))]
    fig = _figure(title, height=max(220, 30 * len(frame) + 90),
                  xaxis={"range": [0, 1], "tickformat": ".0%"})
    fig.add_bar(y=frame["class"], x=frame["probability"], orientation="h", marker_color=colors,
                text=[f"{p:.1%}" for p in frame["probability"]], textposition="outside",
                cliponaxis=False, hovertemplate="%{y}: %{x:.1%}<extra></extra>")
    return fig


def all_figures(result: RunResult, *, labels: Labels = None) -> dict[str, go.Figure]:
    """Every figure of one run, by name (the HTML export writes them all)."""
    figures = {
        "loss": loss_curves([result], labels=labels),
        "per_class": per_class_bars(result, labels=labels),
        "confusion": confusion_heatmap(result, labels=labels),
    }
    if result.inner_loop:
        figures["inner_loop"] = inner_loop_curve(result, labels=labels)
    if result.extra.get("episodes"):
        figures["episodes"] = episode_accuracy(result, labels=labels)
    if (result.extra.get("projection") or {}).get("before"):
        figures["projection"] = embedding_projection(result, labels=labels)
    return figures
