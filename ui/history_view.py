"""The History page: every run kept on disk; reopen, compare, share, delete, export."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from metacore.runs import export
from ui import models, state


def table(owner: str) -> tuple[list[Any], list[str]]:
    """The run table with row selection; returns (summaries, selected run ids)."""
    runs = state.store().list_runs(owner=owner)
    if not runs:
        return [], []
    frame = pd.DataFrame([{
        "created": s.created.replace("T", " ")[:16], "method": s.method,
        "backbone": s.backbone or "—", "data": s.data_source, "status": s.status,
        "accuracy": s.accuracy, "macro_f1": s.macro_f1, "train_s": s.train_s,
        "trainable": s.trainable_params, "shared": s.shared, "run": s.run_id,
        "error": s.error or ""} for s in runs])
    pct = {"format": "percent"}
    event = st.dataframe(frame, hide_index=True, key="history_table", on_select="rerun",
                         selection_mode="multi-row", column_config={
                             "accuracy": st.column_config.NumberColumn(**pct),
                             "macro_f1": st.column_config.NumberColumn("macro-F1", **pct),
                             "train_s": st.column_config.NumberColumn("train (s)",
                                                                      format="%.1f"),
                             "trainable": st.column_config.NumberColumn(format="localized"),
                             "shared": st.column_config.CheckboxColumn()})
    rows = event.selection.rows if event is not None else []
    return runs, [runs[i].run_id for i in rows]


def actions(selected: list[str], runs: list[Any]) -> None:
    """Open in Results, share, delete for the selected rows."""
    a, b, c, _ = st.columns([1, 1, 1, 3])
    if a.button("Open in Results", key="history_open", type="primary",
                icon=":material/leaderboard:", disabled=not selected):
        st.session_state[state.RESULTS] = selected
        st.switch_page("pages/results.py")
    mine = {s.run_id: s for s in runs if s.owner == state.owner()}
    share = not selected or not all(mine[r].shared for r in selected if r in mine)
    if b.button("Share" if share else "Unshare", key="history_share",
                icon=":material/share:", disabled=not any(r in mine for r in selected),
                help="Shared runs show up for every session on this machine."):
        for run_id in (r for r in selected if r in mine):
            state.store().set_shared(run_id, share)
        st.rerun()
    if c.button("Delete", key="history_delete", icon=":material/delete:",
                disabled=not any(r in mine for r in selected)):
        _confirm_delete([r for r in selected if r in mine])


@st.dialog("Delete runs?")
def _confirm_delete(run_ids: list[str]) -> None:
    st.write(f"Delete {len(run_ids)} run(s) with their saved models? This cannot be undone.")
    if st.button("Delete", type="primary", key="history_delete_confirm"):
        for run_id in run_ids:
            state.store().delete(run_id)
        st.rerun()


def exports(run_id: str, status: str) -> None:
    """Downloads for one run; files are built only when their button is clicked."""
    res = models.result(state.home(), run_id, status)
    directory = models.model_dir(run_id)
    st.markdown(f"**Export `{run_id}`** · {res.method}")
    cols = st.columns(5)
    files = [("Result JSON", lambda: export.result_json(res), f"{run_id}.json"),
             ("Per-class CSV", lambda: export.per_class_csv(res), f"{run_id}-per-class.csv"),
             ("Figures HTML", lambda: export.figures_html(res), f"{run_id}-figures.html"),
             ("Predictions CSV", lambda: export.predictions_csv(res),
              f"{run_id}-predictions.csv")]
    for col, (label, build, name) in zip(cols, files, strict=False):
        col.download_button(label, build, file_name=name, key=f"history_dl_{name}",
                            icon=":material/download:", on_click="ignore")
    cols[4].download_button("Model (HF zip)", lambda: export.model_zip(directory),
                            file_name=f"{run_id}-model.zip", key="history_dl_model",
                            icon=":material/download:", disabled=directory is None,
                            on_click="ignore", help="The adapted model in Hugging Face format.")
    st.markdown("Reproduce it from a terminal:")
    st.code(export.reproduce_command(res), language="bash")
