"""The Results page: leaderboard, curves, per-class scores, confusion, errors, embeddings."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from metacore.reporting import figures, palette, tables
from metacore.runs.result import RunResult
from metacore.text import markdown_literal
from ui import models, state
from ui.i18n import language, lkey, say, t

FINISHED = ("completed", "stopped", "failed", "interrupted")
STATUSES = (*FINISHED, "running", "queued")
_STATUS_KEYS = {f"run_status.{s}" for s in STATUSES}


def status_word(status: str) -> str:
    """A run's status in the interface language ("completed" -> "已完成")."""
    return t(f"run_status.{status}") if f"run_status.{status}" in _STATUS_KEYS else status


def _summary_label(summary: Any) -> str:
    score = f" · F1 {summary.macro_f1:.0%}" if summary.macro_f1 is not None else ""
    kind = f" · {t('results.unseen')}" if summary.protocol == "episodic" else ""
    return t("results.summary", method=summary.method, kind=kind, score=score,
             status=status_word(summary.status), run_id=summary.run_id)


def pick_runs(owner: str) -> list[RunResult]:
    """Runs to compare: the last comparison (or History's choice) by default."""
    runs = [s for s in state.store().list_runs(owner=owner) if s.status in FINISHED]
    by_id = {s.run_id: s for s in runs}
    wanted = st.session_state.get(state.RESULTS) or state.comparison()
    waiting = [r for r in state.comparison() if r not in by_id]
    if waiting:
        st.info(t("results.waiting", n=len(waiting)), icon=":material/hourglass_top:")
    default = [r for r in wanted if r in by_id] or ([] if waiting else list(by_id)[:3])
    chosen = st.multiselect(t("results.runs"), list(by_id), default=default,
                            key=lkey("results_runs"),
                            format_func=lambda r: _summary_label(by_id[r]),
                            help=t("results.runs_help"))
    st.session_state[state.RESULTS] = chosen
    return [models.result(state.home(), r, by_id[r].status) for r in chosen]


def leaderboard(results: list[RunResult]) -> None:
    board = tables.leaderboard(results)
    pct = {"format": "percent", "min_value": 0.0, "max_value": 1.0}
    protocols = set(board["protocol"].dropna())
    episodic = "episodic" in protocols
    order = ["method", "accuracy", "accuracy_ci95", "macro_f1", "macro_f1_ci95", "train_s",
             "trainable_params", "shots", "ways", "episodes", "seed", "backbone", "protocol",
             "status", "run_id"]
    if not episodic:
        order = [c for c in order if c not in ("accuracy_ci95", "macro_f1_ci95", "ways",
                                               "episodes", "protocol")]
    if len(protocols) > 1:
        st.warning(t("results.mixed_protocols"), icon=":material/compare_arrows:")
    board["status"] = board["status"].map(status_word)
    board["shots"] = board["shots"].map(lambda v: t("common.all") if v == "all" else v)
    text = {c: st.column_config.TextColumn(t(f"results.col_{c}"))
            for c in ("method", "backbone", "protocol", "status")}
    st.dataframe(board, hide_index=True, key="results_leaderboard", column_order=order,
                 column_config={
        **text,
        "run_id": st.column_config.TextColumn(t("results.col_run")),
        **{c: st.column_config.Column(t(f"results.col_{c}"))
           for c in ("shots", "ways", "episodes", "seed")},
        "accuracy": st.column_config.ProgressColumn(t("results.col_accuracy"), **pct),
        "accuracy_ci95": st.column_config.NumberColumn(
            t("results.col_ci"), format="percent", help=t("results.col_ci_help")),
        "macro_f1": st.column_config.ProgressColumn(t("results.col_macro_f1"), **pct),
        "macro_f1_ci95": st.column_config.NumberColumn(t("results.col_ci") + " ",
                                                       format="percent"),
        "train_s": st.column_config.NumberColumn(t("results.col_train_s"), format="%.1f"),
        "trainable_params": st.column_config.NumberColumn(t("results.col_trainable"),
                                                          format="localized"),
        "total_params": st.column_config.NumberColumn(t("results.col_total"),
                                                      format="localized"),
    })
    st.plotly_chart(figures.leaderboard_bars(results, lang=language()), theme=None,
                    key="results_bars")
    if episodic:
        st.caption(t("results.episodic_caption"))
    for res in results:
        if res.status == "failed":
            st.error(t("results.failed", method=markdown_literal(res.method),
                       run_id=markdown_literal(res.run_id), error=markdown_literal(res.error)),
                     icon=":material/error:")
        for warning in res.warnings[:3]:
            st.warning(t("results.run_warning", method=markdown_literal(res.method),
                         warning=say(warning)),
                       icon=":material/warning:")


FITTED_LOSS = 0.01  # a support loss this low before any inner step leaves nothing to adapt


def already_fitted(results: list[RunResult]) -> list[str]:
    """Methods whose prototype head fitted the support set before the first inner step (at 1
    shot each support text is its class's prototype), so their inner loop barely moved."""
    return [r.method for r in results
            if r.inner_loop and r.inner_loop[0].get("support_loss", 1.0) < FITTED_LOSS]


def curves(results: list[RunResult]) -> None:
    meta = [r for r in results if r.inner_loop]
    if not meta and not any(r.history.get("steps") for r in results):
        st.caption(t("results.no_curve"))
        return
    lang = language()
    cols = st.columns(2 if meta else 1, gap="large")
    cols[0].plotly_chart(figures.loss_curves(results, lang=lang), theme=None,
                         key="results_loss")
    if meta:
        cols[1].plotly_chart(figures.inner_loop_curve(meta, lang=lang), theme=None,
                             key="results_inner")
        cols[1].caption(t("results.inner_caption"))
        flat = already_fitted(meta)
        if flat:
            cols[1].caption(t("results.inner_flat", methods=markdown_literal(", ".join(flat))))
    if any(r.protocol == "episodic" for r in results):
        st.caption(t("results.episodic_loss") + ("" if meta else
                                                 " " + t("results.episodic_no_inner")))


def pick_detail(results: list[RunResult]) -> RunResult | None:
    scored = sorted((r for r in results if r.confusion.get("matrix")
                     or r.extra.get("multi_label")),
                    key=lambda r: -(r.metrics.get("macro_f1", r.metrics.get("macro_f1_mean"))
                                    or 0))
    if not scored:
        return None
    names = {r.run_id: f"{r.method} · {r.run_id}" for r in scored}
    run_id = st.selectbox(t("results.look_closer"), list(names), format_func=names.get,
                          key="results_detail")
    return next(r for r in scored if r.run_id == run_id)


def method_choices(res: RunResult) -> None:
    """What the run's method chose on its examples (``Method.explain_result``), in one
    caption; nothing for methods that say nothing, or one this version does not know."""
    from metacore.messages import MessageError
    from metacore.methods import registry

    try:
        said = registry.get(res.method).method_cls.explain_result(res.extra)
    except MessageError:  # a result of a method this version does not have
        return
    if said:
        st.caption(t("results.choices", method=res.method,
                     sentences=" ".join(say(m) for m in said)))


def per_class(res: RunResult) -> None:
    """Every column of the per-class table fits (fixed widths), sortable; the bars beside it."""
    table = tables.per_class_table(res)
    left, right = st.columns([6, 5], gap="medium")
    # fixed widths that add up to less than the column at 1400 px: no horizontal scroll
    config: dict[str, Any] = {c: st.column_config.NumberColumn(t(f"results.col_{c}"),
                                                               format="%.2f", width=68)
                              for c in ("precision", "recall", "f1")}
    config["class"] = st.column_config.TextColumn(t("results.col_class"), width=220,
                                                  help=t("matrix.class_help"))
    config["support"] = st.column_config.NumberColumn(t("results.col_support"), width=68)
    fig = figures.per_class_bars(res, lang=language())
    height = int(min(max(fig.layout.height or 320, 200), 35 * (len(table) + 1) + 3))
    with left.container(key="results_per_class_box"):
        st.dataframe(table, hide_index=True, key="results_per_class", column_config=config,
                     column_order=["class", "precision", "recall", "f1", "support"],
                     height=height)
        st.caption(t("matrix.per_class_caption"))
    right.plotly_chart(fig, theme=None, key="results_per_class_bars")


MANY_CLASSES = 12  # above this, the matrix gets a table of its most confused pairs


def confusion(res: RunResult) -> None:
    labels = list(res.confusion.get("labels") or [])
    episodic = res.protocol == "episodic"
    norm = st.toggle(t("results.row_shares"), key="results_normalize",
                     help=t("results.row_shares_help"))
    fig = figures.confusion_heatmap(res, normalize=norm, lang=language())
    if episodic or not labels:
        st.plotly_chart(fig, theme=None, key="results_confusion")
    else:
        event = st.plotly_chart(fig, theme=None, key="results_confusion", on_select="rerun",
                                selection_mode="points")
        order = tables.confusion_order(res.confusion["matrix"])
        _follow_click(event, [labels[i] for i in order])
    st.caption(t("matrix.order_caption"))
    if episodic:
        st.plotly_chart(figures.episode_accuracy(res, lang=language()), theme=None,
                        key="results_episodes")
        st.caption(t("results.episodes_caption"))
        return
    if len(labels) > MANY_CLASSES:
        left, right = st.columns([5, 4], gap="medium")
        with left:
            _pairs(res)
        with right:
            _errors(res)
    else:
        _errors(res)


def _follow_click(event: Any, ordered: list[str]) -> None:
    """A click on a matrix cell picks its true and predicted class (once per new click)."""
    points = list(((event or {}).get("selection") or {}).get("points") or [])
    cell = None
    if points:
        x, y = points[0].get("x"), points[0].get("y")
        if isinstance(x, int | float) and isinstance(y, int | float) \
                and 0 <= int(y) < len(ordered) and 0 <= int(x) < len(ordered):
            cell = (ordered[int(y)], ordered[int(x)])
    _pick_cell(cell, "_results_click_seen")


def _pick_cell(cell: tuple[str, str] | None, seen_key: str) -> None:
    if cell is not None and st.session_state.get(seen_key) != cell:
        st.session_state["results_true"], st.session_state["results_pred"] = cell
    st.session_state[seen_key] = cell


def _pairs(res: RunResult) -> None:
    st.markdown(f"**{t('matrix.pairs')}**")
    pairs = tables.confused_pairs(res)
    if pairs.empty:
        st.caption(t("matrix.no_pairs"))
        return
    event = st.dataframe(pairs, hide_index=True, key="results_pairs", on_select="rerun",
                         selection_mode="single-row", height=min(35 * (len(pairs) + 1) + 3,
                                                                 560),
                         column_config={
        "true": st.column_config.TextColumn(t("matrix.col_true"), width=160),
        "predicted": st.column_config.TextColumn(t("matrix.col_predicted"), width=160),
        "count": st.column_config.NumberColumn(t("matrix.col_count"), width=56),
        "share": st.column_config.NumberColumn(t("matrix.col_share"), format="percent",
                                               width=64, help=t("matrix.col_share_help"))})
    rows = list(((event or {}).get("selection") or {}).get("rows") or [])
    cell = None
    if rows and 0 <= rows[0] < len(pairs):
        cell = (pairs.loc[rows[0], "true"], pairs.loc[rows[0], "predicted"])
    _pick_cell(cell, "_results_pair_seen")
    st.caption(t("matrix.pairs_help"))


def _worst_cell(res: RunResult) -> tuple[int, int]:
    """The most confused cell (the first of ``tables.confused_pairs``), else the first class's
    diagonal cell."""
    labels = list(res.confusion["labels"])
    pairs = tables.confused_pairs(res, limit=1)
    if not pairs.empty:
        return labels.index(pairs.loc[0, "true"]), labels.index(pairs.loc[0, "predicted"])
    return 0, 0  # no confusion at all: the first class's correct texts


CELL_ROWS = 50  # texts listed for one cell, most confident first


def _errors(res: RunResult) -> None:
    labels = list(res.confusion["labels"])
    if st.session_state.get("results_true") not in labels \
            or st.session_state.get("results_pred") not in labels:
        i, j = _worst_cell(res)
        st.session_state["results_true"], st.session_state["results_pred"] = labels[i], labels[j]
    a, b = st.columns(2)
    true = a.selectbox(t("results.true_class"), labels, key="results_true")
    pred = b.selectbox(t("results.predicted_as"), labels, key="results_pred")
    with st.container(key="results_cell"):
        if true == pred:
            st.markdown(t("matrix.correct", label=markdown_literal(true)))
        else:
            st.markdown(t("matrix.confused", true=markdown_literal(true),
                          pred=markdown_literal(pred)))
        frame = tables.misclassified(res, true, pred)
        if frame.empty:
            st.caption(t("results.no_errors"))
            return
        if len(frame) > CELL_ROWS:
            st.caption(t("matrix.cell_first", k=CELL_ROWS, n=len(frame)))
        else:
            st.caption(t("matrix.cell_count", n=len(frame)))
        st.table(_cell_table(frame.head(CELL_ROWS), correct=true == pred), hide_index=True)


def _cell_table(frame: Any, *, correct: bool) -> Any:
    """The texts of one cell as Markdown-safe strings (``st.table`` wraps them, never clips)."""
    pct = lambda v: "" if v is None or v != v else f"{v:.0%}"  # noqa: E731 - NaN-safe
    columns = {"text": t("results.col_text"), "confidence": t("results.col_confidence")}
    if not correct:
        columns["p_true"] = t("results.col_p_true")
    columns["top"] = t("results.col_top")
    out = frame[list(columns)].copy()
    # a zero-width space after each "_" lets long snake_case labels wrap in the cell
    out["text"] = out["text"].map(lambda v: markdown_literal(v).replace("_", "_\u200b"))
    out["top"] = out["top"].map(lambda v: markdown_literal(v).replace("_", "_\u200b"))
    for col in ("confidence", "p_true"):
        if col in out:
            out[col] = out[col].map(pct)
    return out.rename(columns=columns)


def projection(res: RunResult) -> None:
    if not (res.extra.get("projection") or {}).get("before"):
        st.caption(t("results.no_embeddings"))
        return
    can_tsne = models.model_dir(res.run_id) is not None
    kind = st.radio(t("results.projection"), ["PCA", "t-SNE"] if can_tsne else ["PCA"],
                    horizontal=True, key="results_projection", help=t("results.projection_help"))
    proj = None
    if kind == "t-SNE":
        try:
            proj = models.tsne(state.home(), res.run_id)
        except Exception as exc:  # noqa: BLE001 - fall back to the stored PCA
            st.warning(t("results.tsne_failed", error=markdown_literal(exc)))
    fig = figures.embedding_projection(res, projection=proj, method=kind if proj else "PCA",
                                       lang=language(), highlight=_highlight(res))
    st.plotly_chart(fig, theme=None, key="results_projection_chart")


def _highlight(res: RunResult) -> str | None:
    """With many classes, a class to draw in colour (the rest grey); the page says when
    there are more classes than colours can tell apart."""
    classes = sorted({str(c) for c in (res.extra.get("projection") or {}).get("labels", [])})
    if len(classes) <= 10:
        return None
    if not palette.distinct(len(classes)):
        st.caption(t("results.colours_limit", n=len(classes), limit=palette.DISTINCT_LIMIT))
    return st.selectbox(t("results.highlight"), classes, index=None,
                        placeholder=t("results.highlight_none"), key="results_highlight",
                        help=t("results.highlight_help"))


MULTI_LABEL_METRICS = ("micro_f1", "macro_f1", "samples_f1", "hamming_loss", "subset_accuracy")


def multi_label_scores(results: list[RunResult]) -> None:
    """The multi-label scores of every finished multi-label run, one row each."""
    rows = [{"method": r.method, "shots": r.data.get("shots") or t("common.all"),
             "seed": (r.config.get("run") or {}).get("seed"),
             **{m: r.metrics.get(m) for m in MULTI_LABEL_METRICS}}
            for r in results if r.extra.get("multi_label") and r.status == "completed"]
    if not rows:
        return
    pct = {"format": "percent", "min_value": 0.0, "max_value": 1.0}
    config: dict[str, Any] = {m: st.column_config.ProgressColumn(t(f"results.col_{m}"),
                                                                 help=t(f"results.{m}_help"),
                                                                 **pct)
                              for m in MULTI_LABEL_METRICS}
    config["hamming_loss"] = st.column_config.NumberColumn(
        t("results.col_hamming_loss"), format="%.3f", help=t("results.hamming_loss_help"))
    config["method"] = st.column_config.TextColumn(t("results.col_method"))
    config.update({c: st.column_config.Column(t(f"results.col_{c}")) for c in ("shots", "seed")})
    with st.container(key="results_multi_label"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, column_config=config)
    st.caption(t("results.multi_label_caption"))


def cooccurrence(res: RunResult) -> None:
    """Gold and predicted label co-occurrence side by side, and each label's threshold."""
    lang = language()
    left, right = st.columns(2, gap="medium")
    left.plotly_chart(figures.cooccurrence_heatmap(res, which="truth", lang=lang), theme=None,
                      key="results_cooccurrence_truth")
    right.plotly_chart(figures.cooccurrence_heatmap(res, which="predicted", lang=lang),
                       theme=None, key="results_cooccurrence_predicted")
    thresholds = res.extra.get("thresholds") or {}
    if thresholds:
        st.caption(t("results.thresholds", values=", ".join(
            f"{markdown_literal(k)} {v:.2f}" for k, v in thresholds.items())))
