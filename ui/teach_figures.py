"""Plotly figures of the teaching views: the project's template, every word from ``t()``.

Pure functions from the teaching engine's data to figures (no ``st.*``): one colour per class
(in sorted order, the same in every figure of a page) and one per method
(``figures.method_color``). Class names and texts come from the user's file: every one is
escaped with ``metacore.text.plotly_literal`` where it enters a figure (``_lit``), so a label
like ``<b>x</b>`` or ``<a href=...>`` shows as written.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from metacore.reporting.figures import GRID, INK, LABEL_WIDTH, MUTED, TEMPLATE, method_color
from metacore.reporting.palette import class_colours
from metacore.teaching import EpisodeView, InnerTrace
from metacore.text import plotly_literal as _lit
from metacore.text import plotly_literals as _lits
from metacore.text import short_labels
from ui.i18n import t

# Classes get ``palette.class_colours`` (Tableau 10 first, then colours that stay apart for
# as many classes as the data has): method colours come from figures.method_color.
RIGHT = "#16a34a"
WRONG = "#dc2626"
SUPPORT_COLOR = "#4f46e5"
QUERY_COLOR = "#f59e0b"


def class_colors(classes: Sequence[str]) -> dict[str, str]:
    """One distinct colour per class, in sorted order (the same on every page)."""
    return class_colours(classes)


def _names(classes: Sequence[str]) -> dict[str, str]:
    """Each class's legend name: shortened (``short_labels``) and escaped; hovers have the
    full name."""
    names = [str(c) for c in classes]
    return dict(zip(names, _lits(short_labels(names, LABEL_WIDTH)), strict=True))


BELOW = {"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0, "title": None}


def _layout(fig: go.Figure, title: str, height: int = 400, **extra: object) -> go.Figure:
    """The template, a title, and the legend under the plot (never over subplot titles)."""
    settings: dict = {"legend": BELOW, "margin": {"t": 80, "b": 40}, **extra}
    fig.update_layout(template=TEMPLATE, title=title, height=height, **settings)
    return fig


def _plain_axes(fig: go.Figure) -> None:
    fig.update_xaxes(showticklabels=False, title=None, showgrid=True, gridcolor="#f1f5f9")
    fig.update_yaxes(showticklabels=False, title=None, showgrid=True, gridcolor="#f1f5f9")


def _short(text: str, limit: int = 70) -> str:
    """A user's text cut to ``limit`` characters, escaped for Plotly."""
    text = str(text)
    return _lit(text if len(text) <= limit else text[: limit - 1] + "…")


def class_map_figure(frame: pd.DataFrame, centres: np.ndarray, classes: Sequence[str], *,
                     labelled: np.ndarray | None = None, title: str = "") -> go.Figure:
    """Texts in 2-D by class; with ``labelled``, only those are coloured (the K-shot view)."""
    colors = class_colors(classes)
    fig = go.Figure()
    if labelled is not None:
        rest = frame[~labelled]
        fig.add_scatter(x=rest["x"], y=rest["y"], mode="markers", name=t("fig.unlabelled"),
                        marker={"color": "#cbd5e1", "size": 6},
                        customdata=rest["text"].map(_short),
                        hovertemplate="%{customdata}<extra></extra>")
    shown = frame if labelled is None else frame[labelled]
    size = 7 if labelled is None else 12
    legend = _names(classes)
    for name in classes:
        part = shown[shown["label"] == name]
        fig.add_scatter(x=part["x"], y=part["y"], mode="markers", name=legend[str(name)],
                        legendgroup=_lit(name),
                        marker={"color": colors[name], "size": size, "opacity": 0.85,
                                "line": {"width": 1, "color": "white"}},
                        customdata=part["text"].map(_short),
                        hovertemplate=_lit(name) + "<br>%{customdata}"
                        "<extra></extra>")
    if labelled is None:
        fig.add_scatter(x=[None], y=[None], mode="markers", name=t("fig.class_centre"),
                        marker={"symbol": "star", "size": 17, "color": MUTED,
                                "line": {"width": 1.5, "color": INK}})
        fig.add_scatter(x=centres[:, 0], y=centres[:, 1], mode="markers", showlegend=False,
                        name=t("fig.class_centre"),
                        marker={"symbol": "star", "size": 17, "color": [colors[c] for c in
                                                                       classes],
                                "line": {"width": 1.5, "color": INK}},
                        text=_lits(classes), hovertemplate="%{text}<extra></extra>")
    _layout(fig, title, 440, legend={**BELOW, "y": -0.04}, margin={"t": 50, "b": 10})
    _plain_axes(fig)
    return fig


def head_curve_figure(curve: pd.DataFrame, title: str) -> go.Figure:
    """Loss and accuracy per epoch of the training and the test texts."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[t("fig.loss"), t("fig.accuracy")],
                        horizontal_spacing=0.12)
    styles = {"train": (SUPPORT_COLOR, "solid"), "test": (QUERY_COLOR, "dash")}
    for part, (color, dash) in styles.items():
        rows = curve[curve["part"] == part]
        name = t(f"fig.{part}")
        for col, metric in ((1, "loss"), (2, "accuracy")):
            fig.add_scatter(x=rows["epoch"], y=rows[metric], mode="lines", name=name,
                            legendgroup=part, showlegend=col == 1,
                            line={"color": color, "dash": dash, "width": 2.5},
                            row=1, col=col)
    fig.update_xaxes(title_text=t("fig.epoch"))
    fig.update_yaxes(tickformat=".0%", range=[0, 1.04], row=1, col=2)
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    return _layout(fig, title, 380, legend={**BELOW, "y": -0.3}, margin={"t": 80, "b": 60})


def _episode_points(fig: go.Figure, view: EpisodeView, colors: dict[str, str], col: int,
                    legend: bool) -> None:
    names = _names(view.classes)
    for name in view.classes:
        idx = [i for i, y in enumerate(view.support_labels) if y == name]
        fig.add_scatter(x=view.support_xy[idx, 0], y=view.support_xy[idx, 1], mode="markers",
                        name=names[str(name)], legendgroup=_lit(name), showlegend=legend,
                        marker={"color": colors[name], "size": 11,
                                "line": {"width": 1, "color": "white"}},
                        customdata=[_short(view.support_texts[i]) for i in idx],
                        hovertemplate=_lit(name) + "<br>" + t("fig.support")
                        + ": %{customdata}<extra></extra>", row=1, col=col)
    right = [p == y for p, y in zip(view.predicted, view.query_labels)]
    if legend:
        _legend_marker(fig, t("fig.query"), {"symbol": "diamond", "size": 11, "color": "white",
                                             "line": {"width": 2.5, "color": MUTED}}, col)
    fig.add_scatter(x=view.query_xy[:, 0], y=view.query_xy[:, 1], mode="markers",
                    name=t("fig.query"), showlegend=False,
                    marker={"symbol": "diamond", "size": 11, "color": "white",
                            "line": {"width": 2.5, "color": [colors[y] for y in
                                                             view.query_labels]}},
                    customdata=[[_short(q), _lit(y), _lit(p)] for q, y, p in zip(
                        view.query_texts, view.query_labels, view.predicted)],
                    hovertemplate="%{customdata[0]}<br>" + t("fig.true") + ": %{customdata[1]}"
                    "<br>" + t("fig.predicted") + ": %{customdata[2]}<extra></extra>",
                    row=1, col=col)
    wrong = [i for i, ok in enumerate(right) if not ok]
    if wrong:
        fig.add_scatter(x=view.query_xy[wrong, 0], y=view.query_xy[wrong, 1], mode="markers",
                        name=t("fig.misclassified"), showlegend=legend,
                        marker={"symbol": "x-thin", "size": 16,
                                "line": {"width": 3, "color": INK}},
                        hoverinfo="skip", row=1, col=col)


def _episode_lines(fig: go.Figure, view: EpisodeView, col: int, selected: int | None) -> None:
    nearest = view.distances.argmin(axis=1)
    for ok in (True, False):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for i, j in enumerate(nearest):
            if (view.predicted[i] == view.query_labels[i]) != ok:
                continue
            xs += [view.query_xy[i, 0], view.prototype_xy[j, 0], None]
            ys += [view.query_xy[i, 1], view.prototype_xy[j, 1], None]
        fig.add_scatter(x=xs, y=ys, mode="lines", showlegend=False, hoverinfo="skip",
                        line={"color": RIGHT if ok else WRONG, "width": 1},
                        opacity=0.35 if selected is not None else 0.55, row=1, col=col)
    if selected is None:
        return
    q = view.query_xy[selected]
    for j in range(len(view.classes)):
        p = view.prototype_xy[j]
        best = j == nearest[selected]
        fig.add_scatter(x=[q[0], p[0]], y=[q[1], p[1]], mode="lines", showlegend=False,
                        hoverinfo="skip", row=1, col=col,
                        line={"color": INK, "width": 3 if best else 1.2,
                              "dash": "solid" if best else "dot"})
        fig.add_scatter(x=[(q[0] + p[0]) / 2], y=[(q[1] + p[1]) / 2], mode="text",
                        text=[f"d = {view.distances[selected, j]:.2f}"], showlegend=False,
                        hoverinfo="skip", textposition="middle center", row=1, col=col,
                        textfont={"size": 12, "color": INK if best else MUTED})


def _legend_marker(fig: go.Figure, name: str, marker: dict, col: int) -> None:
    """A legend entry in a neutral colour for a trace whose points are coloured by class."""
    fig.add_scatter(x=[None], y=[None], mode="markers", name=name, marker=marker,
                    hoverinfo="skip", row=1, col=col)


def _prototypes(fig: go.Figure, view: EpisodeView, colors: dict[str, str], col: int,
                legend: bool) -> None:
    if legend:
        _legend_marker(fig, t("fig.prototype"), {"symbol": "star", "size": 18, "color": MUTED,
                                                 "line": {"width": 1.5, "color": INK}}, col)
    fig.add_scatter(x=view.prototype_xy[:, 0], y=view.prototype_xy[:, 1], mode="markers",
                    name=t("fig.prototype"), showlegend=False,
                    marker={"symbol": "star", "size": 22,
                            "color": [colors[c] for c in view.classes],
                            "line": {"width": 1.5, "color": INK}},
                    text=_lits(view.classes), hovertemplate=t("fig.prototype") + ": %{text}"
                    "<extra></extra>", row=1, col=col)


def episode_figure(views: Sequence[tuple[str, EpisodeView]], *, title: str,
                   selected: int | None = None, height: int = 470,
                   all_classes: Sequence[str] | None = None) -> go.Figure:
    """Side-by-side 2-D views of one episode (for example before and after meta-training).

    ``all_classes`` (the data's classes) keeps each class's colour the same on every page.
    """
    colors = class_colors(all_classes or views[0][1].classes)
    titles = [f"{_lit(name)} · {t('fig.accuracy')} {view.accuracy:.0%}" for name, view in views]
    fig = make_subplots(rows=1, cols=len(views), subplot_titles=titles,
                        horizontal_spacing=0.05)
    for col, (_, view) in enumerate(views, start=1):
        _episode_lines(fig, view, col, selected)
        _episode_points(fig, view, colors, col, col == 1)
        _prototypes(fig, view, colors, col, col == 1)
    _layout(fig, title, height, margin={"t": 90, "b": 10}, legend={**BELOW, "y": -0.02})
    _plain_axes(fig)
    return fig


def distance_heatmap(view: EpisodeView, title: str) -> go.Figure:
    """Queries (rows) against prototypes (columns); the nearest in each row is outlined."""
    labels = [f"{i + 1}. {_short(q, 26)}" for i, q in enumerate(view.query_texts)]
    z = view.distances
    fig = go.Figure(go.Heatmap(z=z, x=_lits(view.classes), y=labels, colorscale="Blues_r",
                               text=np.round(z, 2), texttemplate="%{text}", showscale=False,
                               xgap=2, ygap=2, hovertemplate="%{y}<br>%{x}: %{z:.3f}"
                               "<extra></extra>"))
    nearest = z.argmin(axis=1)
    for i, j in enumerate(nearest):
        ok = view.classes[j] == view.query_labels[i]
        fig.add_shape(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5,
                      line={"color": RIGHT if ok else WRONG, "width": 3})
    _layout(fig, title, max(260, 26 * len(labels) + 110),
            yaxis={"autorange": "reversed", "tickfont": {"size": 11}},
            xaxis={"side": "top", "title": None, "tickfont": {"size": 11},
                   "tickangle": 0 if len(view.classes) <= 5 else -40,
                   "tickmode": "array", "tickvals": _lits(view.classes),
                   "ticktext": _lits(short_labels(view.classes, 22))},
            margin={"t": 80, "l": 10, "b": 10})
    return fig


def inner_figure(trace: InnerTrace, k: int, title: str) -> go.Figure:
    """Support and query loss and accuracy at each inner step; steps after ``k`` greyed."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[t("fig.loss"), t("fig.accuracy")],
                        horizontal_spacing=0.12)
    frame = trace.frame
    parts = (("support", SUPPORT_COLOR, "solid"), ("query", QUERY_COLOR, "dash"))
    for part, color, dash in parts:
        for col, metric in ((1, "loss"), (2, "accuracy")):
            y = frame[f"{part}_{metric}"]
            shown = frame["step"] <= k
            fig.add_scatter(x=frame["step"], y=y, mode="lines", showlegend=False,
                            line={"color": GRID, "width": 2, "dash": dash}, hoverinfo="skip",
                            row=1, col=col)
            fig.add_scatter(x=frame["step"][shown], y=y[shown], mode="lines+markers",
                            name=t(f"fig.{part}"), legendgroup=part, showlegend=col == 1,
                            line={"color": color, "width": 3, "dash": dash},
                            marker={"size": 8}, row=1, col=col,
                            hovertemplate=t("fig.step") + " %{x}: %{y:.3f}<extra>"
                            + t(f"fig.{part}") + "</extra>")
    for col in (1, 2):
        fig.add_vline(x=k, line={"color": MUTED, "width": 1.5, "dash": "dot"}, row=1, col=col)
    fig.update_xaxes(title_text=t("fig.inner_step"), dtick=1)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.04], row=1, col=2)
    return _layout(fig, title, 400, legend={**BELOW, "y": -0.25}, margin={"t": 80, "b": 60})


def loops_figure(inner: pd.DataFrame, outer: pd.DataFrame, title: str) -> go.Figure:
    """Left: the inner loop on new classes before and after meta-training. Right: the outer
    loop, the query loss of each training episode after its inner loop (smoothed)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=[
        t("learn.loops.inner_figure"), t("learn.loops.outer_figure")])
    for when, color in (("before", "#94a3b8"), ("after", SUPPORT_COLOR)):
        rows = inner[inner["when"] == when]
        for part, dash in (("support", "solid"), ("query", "dash")):
            fig.add_scatter(x=rows["step"], y=rows[f"{part}_loss"], mode="lines+markers",
                            name=t(f"fig.{when}"), legendgroup=when,
                            showlegend=part == "support",
                            line={"color": color, "width": 2.5, "dash": dash},
                            marker={"size": 6}, row=1, col=1,
                            hovertemplate=t(f"fig.{part}") + " %{y:.3f}<extra></extra>")
    smooth = outer["query_loss"].rolling(8, min_periods=1).mean()
    fig.add_scatter(x=outer["outer_step"], y=outer["query_loss"], mode="markers",
                    name=t("fig.per_episode"), marker={"color": "#c7d2fe", "size": 6},
                    row=1, col=2)
    fig.add_scatter(x=outer["outer_step"], y=smooth, mode="lines", name=t("fig.moving_mean"),
                    line={"color": QUERY_COLOR, "width": 3}, row=1, col=2)
    fig.update_xaxes(title_text=t("fig.inner_step"), dtick=1, row=1, col=1)
    fig.update_xaxes(title_text=t("fig.outer_step"), row=1, col=2)
    fig.update_yaxes(title_text=t("fig.loss"), rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text=t("fig.query_loss"), row=1, col=2)
    return _layout(fig, title, 400, legend={**BELOW, "y": -0.25}, margin={"t": 80, "b": 60})


def sweep_figure(summary: pd.DataFrame, title: str, *, height: int = 420) -> go.Figure:
    """Accuracy and macro-F1 against K, one line per method, 95% intervals as error bars.

    Scores are shares: the axes run from 0 to 100 %, and an interval (wide with 2 seeds) is
    cut at 0 and 1 rather than drawn past what a score can be."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=[t("fig.accuracy"), t("fig.macro_f1")],
                        horizontal_spacing=0.08)
    order = summary.drop_duplicates("shots").sort_values("order")["shots"].tolist()
    for method, rows in summary.groupby("method", sort=False):
        rows = rows.sort_values("order")
        color = method_color(str(method))
        for col, metric in ((1, "accuracy"), (2, "macro_f1")):
            mean = rows[f"{metric}_mean"].astype(float)
            ci = rows[f"{metric}_ci95"].astype(float).fillna(0.0)
            fig.add_scatter(x=rows["shots"], y=mean, mode="lines+markers",
                            name=_lit(method), legendgroup=_lit(method), showlegend=col == 1,
                            line={"color": color, "width": 2.5}, marker={"size": 8},
                            cliponaxis=False,  # a point at 100 % drawn whole
                            error_y={"type": "data", "symmetric": False,
                                     "array": (ci.clip(upper=(1 - mean).clip(lower=0))).tolist(),
                                     "arrayminus": ci.clip(upper=mean.clip(lower=0)).tolist(),
                                     "thickness": 1.5, "width": 5, "color": color},
                            customdata=rows[["n", f"{metric}_ci95"]].to_numpy(),
                            hovertemplate="K=%{x}: %{y:.1%} ± %{customdata[1]:.1%} (%{"
                            "customdata[0]} " + t("fig.seeds") + ")<extra>" + _lit(method)
                            + "</extra>", row=1, col=col)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=order,
                     title_text=t("fig.k_per_class"))
    fig.update_yaxes(tickformat=".0%", range=[0, 1], autorange=False)
    return _layout(fig, title, height, legend={**BELOW, "y": -0.28}, margin={"t": 80, "b": 70})


def absorb_figure(rows: pd.DataFrame, title: str) -> go.Figure:
    """Seconds to take in the new class (log scale) and accuracy afterwards, per method."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.16,
                        subplot_titles=[t("fig.seconds_log"), t("fig.accuracy_after")])
    colors = [method_color(m) for m in rows["method"]]
    pattern = ["/" if e else "" for e in rows["estimated"]]
    methods = _lits(rows["method"])
    fig.add_bar(y=methods, x=rows["seconds"].clip(lower=1e-3), orientation="h",
                marker={"color": colors, "pattern": {"shape": pattern}}, showlegend=False,
                text=_lits(rows["time_text"]), textposition="outside", cliponaxis=False,
                hovertemplate="%{y}: %{text}<extra></extra>", row=1, col=1)
    for name, column, color in ((t("fig.old_classes"), "old_accuracy", "#94a3b8"),
                                (t("fig.new_class"), "new_accuracy", QUERY_COLOR)):
        fig.add_bar(y=methods, x=rows[column], orientation="h", name=name,
                    marker_color=color, hovertemplate="%{y}: %{x:.0%}<extra>" + name
                    + "</extra>", row=1, col=2)
    fig.update_xaxes(type="log", row=1, col=1, title_text=t("fig.seconds"))
    fig.update_xaxes(tickformat=".0%", range=[0, 1.02], row=1, col=2)
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_yaxes(autorange="reversed", showticklabels=False, row=1, col=2)
    return _layout(fig, title, 190 + 60 * len(rows), barmode="group",
                   legend={**BELOW, "y": -0.22}, margin={"t": 80, "b": 50, "r": 70})


def new_class_figure(picture: pd.DataFrame, title: str) -> go.Figure:
    """Old classes (faint points, prototypes) and the new class arriving with its prototype."""
    old = picture[picture["kind"].isin(["example", "prototype"])]
    colors = class_colors(old["label"].unique())
    fig = go.Figure()
    for name, color in colors.items():
        part = old[(old["label"] == name) & (old["kind"] == "example")]
        fig.add_scatter(x=part["x"], y=part["y"], mode="markers", name=_lit(name),
                        showlegend=False, marker={"color": color, "size": 7, "opacity": 0.35},
                        customdata=part["text"].map(_short),
                        hovertemplate=_lit(name) + "<br>%{customdata}"
                        "<extra></extra>")
    protos = picture[picture["kind"] == "prototype"]
    fig.add_scatter(x=[None], y=[None], mode="markers", name=t("fig.prototype"),
                    marker={"symbol": "star", "size": 16, "color": MUTED,
                            "line": {"width": 1, "color": INK}})
    near = nearest_prototypes(picture)
    fig.add_scatter(x=protos["x"], y=protos["y"], mode="markers+text",
                    text=[_lit(short) if c in near else "" for c, short in
                          zip(protos["label"], short_labels(protos["label"], 24), strict=True)],
                    hovertext=_lits(protos["label"]),
                    textposition="top center", textfont={"size": 10, "color": MUTED},
                    name=t("fig.prototype"), hovertemplate="%{hovertext}<extra></extra>",
                    showlegend=False,
                    marker={"symbol": "star", "size": 16, "line": {"width": 1, "color": INK},
                            "color": [colors[c] for c in protos["label"]]})
    _new_class_marks(fig, picture)
    _layout(fig, title, 520, legend={**BELOW, "y": -0.03}, margin={"t": 50, "b": 10})
    _plain_axes(fig)
    return fig


NEIGHBOURS = 3  # old prototypes named on the add-a-class map: the new class's nearest


def nearest_prototypes(picture: pd.DataFrame, n: int = NEIGHBOURS) -> set[str]:
    """The old classes whose prototypes lie nearest the new one on the map: only these are
    written on it (the others in the hover), so names never pile up."""
    protos = picture[picture["kind"] == "prototype"]
    new = picture[picture["kind"] == "new prototype"]
    if new.empty or protos.empty:
        return set(protos["label"].astype(str)[:n])
    d = np.hypot(protos["x"] - new["x"].iloc[0], protos["y"] - new["y"].iloc[0])
    return set(protos["label"].astype(str).iloc[np.argsort(d.to_numpy())[:n]])


def _new_class_marks(fig: go.Figure, picture: pd.DataFrame) -> None:
    new = picture[picture["kind"] == "new example"]
    proto = picture[picture["kind"] == "new prototype"]
    fig.add_scatter(x=new["x"], y=new["y"], mode="markers", name=t("fig.new_examples"),
                    marker={"color": WRONG, "size": 12, "symbol": "circle",
                            "line": {"width": 1.5, "color": "white"}},
                    customdata=new["text"].map(_short),
                    hovertemplate="%{customdata}<extra></extra>")
    for _, row in new.iterrows():
        fig.add_scatter(x=[row["x"], proto["x"].iloc[0]], y=[row["y"], proto["y"].iloc[0]],
                        mode="lines", showlegend=False, hoverinfo="skip",
                        line={"color": WRONG, "width": 1, "dash": "dot"})
    fig.add_scatter(x=proto["x"], y=proto["y"], mode="markers", name=t("fig.new_prototype"),
                    text=_lits(proto["label"]),
                    marker={"symbol": "star", "size": 26, "color": WRONG,
                            "line": {"width": 2, "color": INK}},
                    hoverinfo="text")
    fig.add_annotation(x=proto["x"].iloc[0], y=proto["y"].iloc[0],
                       text=_lit(short_labels(proto["label"], 34)[0]),
                       showarrow=True, arrowhead=0, ax=-40, ay=-45, bgcolor="white",
                       bordercolor=WRONG, borderwidth=1.5, borderpad=4,
                       font={"size": 13, "color": WRONG})
    tried = picture[picture["kind"] == "tried"]
    if len(tried):
        fig.add_scatter(x=tried["x"], y=tried["y"], mode="markers", name=t("fig.tried"),
                        marker={"symbol": "diamond", "size": 12, "color": "white",
                                "line": {"width": 2.5, "color": INK}},
                        customdata=tried["text"].map(_short),
                        hovertemplate="%{customdata}<extra></extra>")
