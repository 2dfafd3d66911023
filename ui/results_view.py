"""The Results page: leaderboard, curves, per-class scores, confusion, errors, embeddings."""

from __future__ import annotations

from typing import Any

import streamlit as st

from metacore.reporting import figures, tables
from metacore.runs.result import RunResult
from ui import models, state

FINISHED = ("completed", "stopped", "failed", "interrupted")


def _summary_label(summary: Any) -> str:
    score = f" · F1 {summary.macro_f1:.0%}" if summary.macro_f1 is not None else ""
    kind = " · unseen classes" if summary.protocol == "episodic" else ""
    return f"{summary.method}{kind}{score} · {summary.status} · {summary.run_id}"


def pick_runs(owner: str) -> list[RunResult]:
    """Runs to compare: the last comparison (or History's choice) by default."""
    runs = [s for s in state.store().list_runs(owner=owner) if s.status in FINISHED]
    by_id = {s.run_id: s for s in runs}
    wanted = st.session_state.get(state.RESULTS) or state.comparison()
    waiting = [r for r in state.comparison() if r not in by_id]
    if waiting:
        st.info(f"{len(waiting)} run(s) of your latest comparison are still running or waiting; "
                "they appear here when they finish (see Train & compare).",
                icon=":material/hourglass_top:")
    default = [r for r in wanted if r in by_id] or ([] if waiting else list(by_id)[:3])
    chosen = st.multiselect("Runs", list(by_id), default=default, key="results_runs",
                            format_func=lambda r: _summary_label(by_id[r]),
                            help="Your runs and shared ones; History lists them all.")
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
        st.warning("These runs mix the two protocols: adapt scores are on your own classes, "
                   "episodic ones on unseen classes, so compare within a protocol.",
                   icon=":material/compare_arrows:")
    st.dataframe(board, hide_index=True, key="results_leaderboard", column_order=order,
                 column_config={
        "run_id": st.column_config.TextColumn("run"),
        "accuracy": st.column_config.ProgressColumn("accuracy", **pct),
        "accuracy_ci95": st.column_config.NumberColumn(
            "± 95% CI", format="percent", help="Half-width of the 95% confidence interval of "
            "the mean over test episodes."),
        "macro_f1": st.column_config.ProgressColumn("macro-F1", **pct),
        "macro_f1_ci95": st.column_config.NumberColumn("± 95% CI ", format="percent"),
        "train_s": st.column_config.NumberColumn("training (s)", format="%.1f"),
        "trainable_params": st.column_config.NumberColumn("trainable params",
                                                          format="localized"),
        "total_params": st.column_config.NumberColumn("total params", format="localized"),
    })
    st.plotly_chart(figures.leaderboard_bars(results), theme=None, key="results_bars")
    if episodic:
        st.caption("Unseen-classes runs: means over the test episodes drawn from the novel "
                   "classes; the error bars are 95% confidence intervals. Overlapping "
                   "intervals mean the difference may be chance.")
    for res in results:
        if res.status == "failed":
            st.error(f"{res.method} ({res.run_id}) failed: {res.error}", icon=":material/error:")
        for warning in res.warnings[:3]:
            st.warning(f"{res.method}: {warning}", icon=":material/warning:")


def curves(results: list[RunResult]) -> None:
    meta = [r for r in results if r.inner_loop]
    if not meta and not any(r.history.get("steps") for r in results):
        st.caption("These runs have no training curve: they are fitted in closed form.")
        return
    cols = st.columns(2 if meta else 1, gap="large")
    cols[0].plotly_chart(figures.loss_curves(results), theme=None, key="results_loss")
    if meta:
        cols[1].plotly_chart(figures.inner_loop_curve(meta), theme=None, key="results_inner")
        cols[1].caption("How the query loss falls as a meta-learner adapts to a new task.")
    if any(r.protocol == "episodic" for r in results):
        st.caption("Unseen-classes runs: the loss is the meta-training query loss per "
                   "episode of the base classes. " + ("" if meta else "The inner-loop curve "
                   "appears for MAML, FOMAML, ANIL and Reptile; ProtoNet and nearest-centroid "
                   "adapt in one closed-form step (class prototypes)."))


def pick_detail(results: list[RunResult]) -> RunResult | None:
    scored = sorted((r for r in results if r.confusion.get("matrix")),
                    key=lambda r: -(r.metrics.get("macro_f1", r.metrics.get("macro_f1_mean"))
                                    or 0))
    if not scored:
        return None
    names = {r.run_id: f"{r.method} · {r.run_id}" for r in scored}
    run_id = st.selectbox("Look closer at", list(names), format_func=names.get,
                          key="results_detail")
    return next(r for r in scored if r.run_id == run_id)


def per_class(res: RunResult) -> None:
    left, right = st.columns([2, 3], gap="large")
    pct = st.column_config.NumberColumn(format="%.2f")
    left.dataframe(tables.per_class_table(res), hide_index=True, key="results_per_class",
                   column_config={"precision": pct, "recall": pct, "f1": pct})
    right.plotly_chart(figures.per_class_bars(res), theme=None, key="results_per_class_bars")


def confusion(res: RunResult) -> None:
    left, right = st.columns([1, 1], gap="large")
    with left:
        norm = st.toggle("Show row shares", key="results_normalize",
                         help="Colour by the share of each true class instead of counts.")
        st.plotly_chart(figures.confusion_heatmap(res, normalize=norm), theme=None,
                        key="results_confusion")
    with right:
        if res.protocol == "episodic":
            st.plotly_chart(figures.episode_accuracy(res), theme=None, key="results_episodes")
            st.caption("Episodic runs keep the labels of each query, not its text: the spread "
                       "of accuracy over episodes shows how much one episode can vary.")
        else:
            _errors(res)


def _worst_cell(res: RunResult) -> tuple[int, int]:
    matrix, best = res.confusion["matrix"], (0, 1 if len(res.confusion["labels"]) > 1 else 0)
    cells = [(v, i, j) for i, row in enumerate(matrix) for j, v in enumerate(row) if i != j]
    if cells and max(cells)[0] > 0:
        best = max(cells)[1:]
    return best


def _errors(res: RunResult) -> None:
    st.markdown("**Misclassified texts**")
    labels = list(res.confusion["labels"])
    i, j = _worst_cell(res)
    a, b = st.columns(2)
    true = a.selectbox("True class", labels, index=i, key="results_true")
    pred = b.selectbox("Predicted as", labels, index=j, key="results_pred")
    frame = tables.misclassified(res, true, pred)
    if frame.empty:
        st.caption("No test text of this class was predicted as that class.")
        return
    st.dataframe(frame[["text", "confidence", "p_true", "top"]], hide_index=True,
                 key="results_errors", column_config={
                     "text": st.column_config.TextColumn(width="medium"),
                     "confidence": st.column_config.NumberColumn(format="percent"),
                     "p_true": st.column_config.NumberColumn("p(true)", format="percent"),
                     "top": st.column_config.TextColumn("top probabilities")})


def projection(res: RunResult) -> None:
    if not (res.extra.get("projection") or {}).get("before"):
        st.caption("No embeddings for this run (it does not use a backbone).")
        return
    can_tsne = models.model_dir(res.run_id) is not None
    kind = st.radio("Projection", ["PCA", "t-SNE"] if can_tsne else ["PCA"], horizontal=True,
                    key="results_projection", help="t-SNE is computed on demand from the "
                    "saved model; it keeps neighbours together but distorts distances.")
    proj = None
    if kind == "t-SNE":
        try:
            proj = models.tsne(state.home(), res.run_id)
        except Exception as exc:  # noqa: BLE001 - fall back to the stored PCA
            st.warning(f"t-SNE could not be computed ({exc}); showing PCA.")
    fig = figures.embedding_projection(res, projection=proj, method=kind if proj else "PCA")
    st.plotly_chart(fig, theme=None, key="results_projection_chart")
